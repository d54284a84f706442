// One node holding every shard: a search that needs no merge is passed to it and its answer passed back as bytes
// (reserved fields cut out), and still answers like one dev node — hits, `_formatted`, tenant-token rules; searches
// with facets take the merge path.
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { Meilisearch } from 'meilisearch';
import { generateTenantToken } from 'meilisearch/token';
import { startCluster, type TestCluster } from '../../support/cluster.js';
import { startDevNode, type StartedNode } from '../../support/devnode.js';

const docs = Array.from({ length: 60 }, (_, i) => ({
  id: i,
  title: `quick brown fox ${i % 6}`,
  color: ['red', 'blue'][i % 2],
  note: `"_miroir_shard":${i}`,
}));

let cluster: TestCluster;
let single: StartedNode;
let miroir: Meilisearch;
let one: Meilisearch;

before(async () => {
  cluster = await startCluster({ nodes: 1, rf: 1, shards: 8 });
  single = await startDevNode({ masterKey: cluster.masterKey });
  miroir = new Meilisearch({ host: cluster.app.url, apiKey: cluster.masterKey });
  one = new Meilisearch({ host: single.url, apiKey: cluster.masterKey });
  for (const c of [miroir, one]) {
    await c.createIndex('items', { primaryKey: 'id' }).waitTask();
    await c
      .index('items')
      .updateSettings({ filterableAttributes: ['color'], searchableAttributes: ['id', 'title', 'color', 'note'] })
      .waitTask();
    await c.index('items').addDocuments(docs).waitTask();
  }
});
after(async () => {
  await cluster.close();
  await single.stop();
});

const strip = (r: Record<string, unknown>) => ({ ...r, processingTimeMs: 0, requestUid: '' });

test('searches without facets answer like one node, with no reserved field anywhere', async () => {
  for (const params of [
    {},
    { filter: 'color = red', limit: 7 },
    { attributesToHighlight: ['*'], limit: 3 },
    { hitsPerPage: 5, page: 2 },
    { showRankingScore: true },
  ]) {
    const [a, b] = await Promise.all([
      miroir.index('items').search('fox', params),
      one.index('items').search('fox', params),
    ]);
    assert.deepEqual(strip(a as never), strip(b as never), JSON.stringify(params));
    assert.ok(
      !JSON.stringify(a.hits).includes('"_miroir_shard":') || JSON.stringify(a.hits).includes('\\"_miroir_shard\\"'),
      'no reserved member in hits',
    );
    for (const h of a.hits) {
      assert.equal('_miroir_shard' in h, false);
      if (h._formatted !== undefined) assert.equal('_miroir_shard' in h._formatted, false);
    }
  }
});

test('facets take the merge path; tenant-token rules still apply on the direct path', async () => {
  const [a, b] = await Promise.all([
    miroir.index('items').search('', { facets: ['color'] }),
    one.index('items').search('', { facets: ['color'] }),
  ]);
  assert.deepEqual(a.facetDistribution, b.facetDistribution);
  const key = await miroir.createKey({ actions: ['search'], indexes: ['items'], expiresAt: null });
  const token = await generateTenantToken({
    apiKey: key.key,
    apiKeyUid: key.uid,
    searchRules: { items: { filter: 'color = blue' } },
  });
  const res = await new Meilisearch({ host: cluster.app.url, apiKey: token })
    .index('items')
    .search('fox', { limit: 100 });
  assert.ok(res.hits.length > 0);
  assert.ok(
    res.hits.every((h) => h.color === 'blue'),
    'the tenant filter is ANDed in',
  );
});
