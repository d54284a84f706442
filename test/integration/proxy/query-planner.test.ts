// The primary-key planner through the proxy (SPEC A4, A20): over seeded random filters with primary-key terms, a
// narrowed search, facet search and documents fetch answer exactly like the same read forced to every shard (hits,
// totals, facets), and the nodes asked are the ones explain's plan names (counted on the dev nodes).
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { Meilisearch } from 'meilisearch';
import { startCluster, type TestCluster } from '../../support/cluster.js';
import { pkDocs, pkFilter, rng } from '../../support/pk-filters.js';

let cluster: TestCluster;
let client: Meilisearch;
const rand = rng(2025);
const docs = pkDocs(160, rand);

before(async () => {
  cluster = await startCluster({ nodes: 3, rf: 1, shards: 16, config: { hedging: { enabled: false } } });
  client = new Meilisearch({ host: cluster.app.url, apiKey: cluster.masterKey });
  await client.createIndex('p', { primaryKey: 'id' }).waitTask();
  await client.index('p').updateFilterableAttributes(['id', 'cat', 'n']).waitTask();
  await client.index('p').addDocuments(docs).waitTask();
});
after(() => cluster.close());

/** One string for a filter in either form. */
function asString(f: string | Array<string | string[]>): string {
  if (typeof f === 'string') return f;
  return f.map((x) => (Array.isArray(x) ? `(${x.map((y) => `(${y})`).join(' OR ')})` : `(${x})`)).join(' AND ');
}

function searches(): number {
  return cluster.nodes.reduce((n, node) => n + (node.requestCounts.get('POST /indexes/:uid/search') ?? 0), 0);
}

async function explain(body: object): Promise<{ plan: Record<string, unknown>; warnings: Array<{ type: string }> }> {
  const res = await fetch(`${cluster.app.url}/indexes/p/explain`, {
    method: 'POST',
    headers: { authorization: `Bearer ${cluster.masterKey}`, 'content-type': 'application/json' },
    body: JSON.stringify(body),
  });
  assert.equal(res.status, 200);
  return (await res.json()) as { plan: Record<string, unknown>; warnings: Array<{ type: string }> };
}

const ids = (hits: Array<Record<string, unknown>>) => hits.map((h) => JSON.stringify(h.id)).sort();

test('property: narrowed reads equal full fan-out reads, and ask exactly the planned nodes (80 seeded filters)', async () => {
  let narrowed = 0;
  for (let i = 0; i < 80; i++) {
    const filter = pkFilter(rand, docs.length);
    const full = `(${asString(filter)}) OR cat = "none-such"`; // an OR with a non-key branch is never narrowed
    const plan = (await explain({ filter })).plan;
    if (plan.narrowed === true) narrowed++;
    const before = searches();
    const a = await client.index('p').search('', { filter, facets: ['cat', 'n'], limit: 500 });
    assert.equal(
      searches() - before,
      (plan.target_nodes as string[]).length,
      `nodes asked for ${JSON.stringify(filter)}`,
    );
    const b = await client.index('p').search('', { filter: full, facets: ['cat', 'n'], limit: 500 });
    const what = JSON.stringify(filter);
    assert.deepEqual(ids(a.hits), ids(b.hits), what);
    assert.equal(a.estimatedTotalHits, b.estimatedTotalHits, what);
    assert.deepEqual(a.facetDistribution, b.facetDistribution, what);
    assert.deepEqual(a.facetStats, b.facetStats, what);
    if (i % 4 === 0) {
      const fa = await client.index('p').searchForFacetValues({ facetName: 'cat', filter });
      const fb = await client.index('p').searchForFacetValues({ facetName: 'cat', filter: full });
      assert.deepEqual(fa.facetHits, fb.facetHits, what);
      const da = await client.index('p').getDocuments({ filter, limit: 500 });
      const db = await client.index('p').getDocuments({ filter: full, limit: 500 });
      assert.equal(da.total, db.total, what);
      assert.deepEqual(ids(da.results), ids(db.results), what);
    }
  }
  assert.ok(narrowed >= 20, `enough narrowed filters (${narrowed})`);
});

test('multi-search and federated search narrow too, with the same answers', async () => {
  const before = searches();
  const r = await client.multiSearch({
    queries: [
      { indexUid: 'p', filter: 'id = 42' },
      { indexUid: 'p', filter: 'id IN [50, 60] AND cat != none' },
    ],
  });
  assert.deepEqual(
    r.results[0]!.hits.map((h) => h.id),
    [42],
  );
  assert.deepEqual(ids(r.results[1]!.hits), ['50', '60']);
  const asked = searches() - before;
  assert.ok(asked <= 3, `one node for id = 42, at most two for [50, 60] (asked ${asked})`);
  const fed = await client.multiSearch({
    federation: {},
    queries: [
      { indexUid: 'p', filter: 'id = 70' },
      { indexUid: 'p', filter: 'id = 80' },
    ],
  });
  assert.deepEqual(ids(fed.hits), ['70', '80']);
});

test('explain warns that hedging is off when hedging.enabled is false', async () => {
  const { warnings, plan } = await explain({ filter: 'id = 1' });
  assert.equal(plan.hedging_armed, false);
  assert.ok(warnings.some((w) => w.type === 'hedging_disabled'));
});
