// Reads under node faults and tenant tokens: a slow node never turns into an error below node_timeout_ms; past it
// the read moves to a replica (counted as a retry); tenant-token search rules filter every search and multi-search.
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { Meilisearch } from 'meilisearch';
import { generateTenantToken } from 'meilisearch/token';
import { startCluster, type TestCluster } from '../../support/cluster.js';

let cluster: TestCluster;
const docs = Array.from({ length: 60 }, (_, i) => ({ id: i, title: `item ${i}`, tenant: ['a', 'b', 'c'][i % 3] }));

before(async () => {
  cluster = await startCluster({ nodes: 3, rf: 2, shards: 8, config: { scatter: { node_timeout_ms: 300 } } });
  const m = new Meilisearch({ host: cluster.app.url, apiKey: cluster.masterKey });
  await m.createIndex('t', { primaryKey: 'id' }).waitTask();
  await m.index('t').updateFilterableAttributes(['tenant']).waitTask();
  await m.index('t').addDocuments(docs).waitTask();
});
after(() => cluster.close());

async function faults(i: number, body: object): Promise<void> {
  await fetch(`${cluster.nodes[i]!.url}/_devnode/faults`, {
    method: 'POST',
    headers: { authorization: `Bearer ${cluster.nodeKey}`, 'content-type': 'application/json' },
    body: JSON.stringify(body),
  });
}

const metric = async (name: string) => {
  const text = await (await fetch(`http://127.0.0.1:${cluster.app.metricsPort}/metrics`)).text();
  const m = new RegExp(`^${name} (\\d+)`, 'm').exec(text);
  return m === null ? 0 : Number(m[1]);
};

test('a node slower than usual but within node_timeout_ms delays answers, never fails them', async () => {
  await faults(0, { delay_ms: 100 });
  try {
    const m = new Meilisearch({ host: cluster.app.url, apiKey: cluster.masterKey });
    const before = await metric('miroir_scatter_retries_total');
    for (let i = 0; i < 3; i++) assert.equal((await m.index('t').search('', { limit: 0 })).estimatedTotalHits, 60);
    assert.equal(await metric('miroir_scatter_retries_total'), before, 'no retry below the deadline');
  } finally {
    await faults(0, { delay_ms: 0 });
  }
});

test('past node_timeout_ms the shards move to a replica: full answers, a counted retry', async () => {
  await faults(1, { delay_ms: 1000 });
  try {
    const m = new Meilisearch({ host: cluster.app.url, apiKey: cluster.masterKey });
    const before = await metric('miroir_scatter_retries_total');
    for (let i = 0; i < 3; i++) assert.equal((await m.index('t').search('', { limit: 0 })).estimatedTotalHits, 60);
    assert.ok((await metric('miroir_scatter_retries_total')) > before);
  } finally {
    await faults(1, { delay_ms: 0 });
  }
});

test('tenant tokens: searchRules filter searches and multi-searches through Miroir', async () => {
  const m = new Meilisearch({ host: cluster.app.url, apiKey: cluster.masterKey });
  const key = (await m.getKeys()).results.find((k) => k.name === 'Default Search API Key')!;
  const token = await generateTenantToken({
    apiKey: key.key,
    apiKeyUid: key.uid,
    searchRules: { t: { filter: 'tenant = b' } },
  });
  const tenant = new Meilisearch({ host: cluster.app.url, apiKey: token });
  const r = await tenant.index('t').search('', { limit: 100 });
  assert.equal(r.estimatedTotalHits, 20);
  assert.ok(r.hits.every((h) => h.tenant === 'b'));
  const multi = await tenant.multiSearch({ queries: [{ indexUid: 't', q: 'item', filter: 'tenant != c' }] });
  assert.equal(multi.results[0]!.estimatedTotalHits, 20);
  const denied = await tenant.getKeys().then(
    () => 200,
    (e: { response: Response }) => e.response.status,
  );
  assert.equal(denied, 403);
});
