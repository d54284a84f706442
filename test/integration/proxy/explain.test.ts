// POST /indexes/{uid}/explain (SPEC A20): the plan of a narrowable and a not narrowable search, the hedge trigger
// once armed, a settings broadcast in flight, `?execute=true` equal to a plain search; without `execute` no node
// is asked (counted on the dev nodes); the route needs the `search` action like search.
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { Meilisearch } from 'meilisearch';
import { startCluster, type TestCluster } from '../../support/cluster.js';
import { until } from '../../support/wait.js';

let cluster: TestCluster;
let client: Meilisearch;
const docs = Array.from({ length: 60 }, (_, i) => ({ id: i, title: `item ${i}`, cat: ['red', 'blue'][i % 2] }));

before(async () => {
  cluster = await startCluster({ nodes: 3, rf: 2, shards: 8 });
  client = new Meilisearch({ host: cluster.app.url, apiKey: cluster.masterKey });
  await client.createIndex('e', { primaryKey: 'id' }).waitTask();
  await client.index('e').updateFilterableAttributes(['id', 'cat']).waitTask();
  await client.index('e').addDocuments(docs).waitTask();
});
after(() => cluster.close());

interface Explained {
  resolved_uid: string;
  plan: Record<string, unknown>;
  warnings: Array<{ type: string; message: string }>;
  result?: Record<string, unknown>;
}

async function explain(
  body: object,
  qs = '',
  key = cluster.masterKey,
): Promise<{ status: number; headers: Headers; body: Explained }> {
  const res = await fetch(`${cluster.app.url}/indexes/e/explain${qs}`, {
    method: 'POST',
    headers: { authorization: `Bearer ${key}`, 'content-type': 'application/json' },
    body: JSON.stringify(body),
  });
  return { status: res.status, headers: res.headers, body: (await res.json()) as Explained };
}

/** Read requests the dev nodes served (searches, facet searches, document reads). */
function nodeReads(): number {
  let n = 0;
  for (const node of cluster.nodes)
    for (const [route, count] of node.requestCounts)
      if (/search|GET \/indexes\/:uid\/documents|documents\/fetch/.test(route)) n += count;
  return n;
}

async function faults(i: number, body: object): Promise<void> {
  await fetch(`${cluster.nodes[i]!.url}/_devnode/faults`, {
    method: 'POST',
    headers: { authorization: `Bearer ${cluster.nodeKey}`, 'content-type': 'application/json' },
    body: JSON.stringify(body),
  });
}

const PLAN_FIELDS = [
  'alias_resolution',
  'narrowed',
  'narrowing_reason',
  'target_shards',
  'chosen_group',
  'target_nodes',
  'hedging_armed',
  'hedge_trigger_ms',
  'coalescing_eligible',
  'cache_candidate',
  'tenant_affinity_pinned',
  'estimated_p95_ms',
  'settings_version',
];

test('narrowable and not narrowable plans, every A20 field, and no node asked without execute', async () => {
  const before = nodeReads();
  const one = await explain({ q: 'item', filter: 'id = 3' });
  assert.equal(one.status, 200);
  assert.equal(one.body.resolved_uid, 'e');
  for (const f of PLAN_FIELDS) assert.ok(f in one.body.plan, `plan.${f}`);
  assert.equal(one.body.plan.narrowed, true);
  assert.equal(one.body.plan.narrowing_reason, 'pk_equality');
  assert.equal((one.body.plan.target_shards as number[]).length, 1);
  assert.equal((one.body.plan.target_nodes as string[]).length, 1);
  assert.equal(typeof one.body.plan.settings_version, 'number');
  assert.ok(!one.body.warnings.some((w) => w.type === 'not_narrowable'));
  const wide = await explain({ filter: 'id = 3 OR cat = red' });
  assert.equal(wide.body.plan.narrowed, false);
  assert.equal(wide.body.plan.narrowing_reason, 'or_with_non_pk_branch');
  assert.equal((wide.body.plan.target_shards as number[]).length, 8);
  const w = wide.body.warnings.find((x) => x.type === 'not_narrowable');
  assert.ok(w !== undefined && /OR has a branch/.test(w.message), JSON.stringify(wide.body.warnings));
  assert.equal(nodeReads(), before, 'explain without execute asks no node');
});

test('hedging: not armed on a fresh proxy, armed with a trigger ≥ min_trigger_ms after reads', async () => {
  const fresh = await explain({ q: 'item' });
  if (fresh.body.plan.hedging_armed === false)
    assert.ok(fresh.body.warnings.some((w) => w.type === 'hedging_not_armed'));
  for (let i = 0; i < 12; i++) await client.index('e').search('item', { limit: 3 });
  const armed = await explain({ q: 'item' });
  assert.equal(armed.body.plan.hedging_armed, true);
  assert.ok((armed.body.plan.hedge_trigger_ms as number) >= 15);
  assert.equal(typeof armed.body.plan.estimated_p95_ms, 'number');
  assert.ok(!armed.body.warnings.some((x) => x.type.startsWith('hedging')));
});

test('execute=true runs the search: its result equals a plain search', async () => {
  const body = { q: 'item', filter: 'id IN [1, 2, 3, 40] AND cat = blue', facets: ['cat'] };
  const ran = await explain(body, '?execute=true');
  assert.equal(ran.status, 200);
  const plain = await client.index('e').search('item', { filter: body.filter, facets: ['cat'] });
  const r = ran.body.result!;
  assert.deepEqual(r.hits, plain.hits);
  assert.equal(r.estimatedTotalHits, plain.estimatedTotalHits);
  assert.deepEqual(r.facetDistribution, plain.facetDistribution);
  assert.equal((await explain(body, '?execute=maybe')).status, 400);
});

test('a settings broadcast in flight: broadcast_pending, a warning, X-Miroir-Settings-Pending when executing', async () => {
  for (let i = 0; i < 12; i++) await client.index('e').search('item', { limit: 1 }); // arm hedging
  await faults(0, { delay_ms: 2500 });
  try {
    const task = await client.index('e').updateSortableAttributes(['id']);
    const during = await explain({ q: 'item' });
    assert.equal(during.body.plan.broadcast_pending, true);
    assert.ok(during.body.warnings.some((w) => w.type === 'settings_broadcast_in_flight'));
    const ran = await explain({ q: 'item', limit: 5 }, '?execute=true');
    assert.equal(ran.headers.get('x-miroir-settings-pending'), 'true');
    assert.equal((ran.body.result!.hits as unknown[]).length, 5);
    await faults(0, { delay_ms: 0 });
    await client.tasks.waitForTask(task.taskUid, { timeout: 20_000 });
    await until(async () => (await explain({ q: 'item' })).body.plan.broadcast_pending === false, 'broadcast settled');
  } finally {
    await faults(0, { delay_ms: 0 });
  }
});

test('explain needs the search action', async () => {
  const key = await client.createKey({ actions: ['documents.get'], indexes: ['e'], expiresAt: null });
  const denied = await explain({ q: 'item' }, '', key.key);
  assert.equal(denied.status, 403);
  const ok = await client.createKey({ actions: ['search'], indexes: ['e'], expiresAt: null });
  assert.equal((await explain({ q: 'item' }, '', ok.key)).status, 200);
});
