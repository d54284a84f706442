// Tenant affinity (issue 29, SPEC A15) over RG=3 with 2 nodes per group: each of 20 tenants (X-Miroir-Tenant) has
// its reads served by one group only (counted from Miroir's per-node search requests); reads without a tenant
// rotate; a dedicated group serves only its mapped tenants, and when it is lost they fall back per the policy while
// writes keep reaching every group.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { Meilisearch } from 'meilisearch';
import { startCluster, type TestCluster } from '../../support/cluster.js';
import { until } from '../../support/wait.js';

const PER_GROUP = 2;

/** Search requests Miroir sent to each node so far. */
async function searchCounts(c: TestCluster): Promise<Map<string, number>> {
  const out = new Map<string, number>();
  const m = await c.app.metrics.nodeRequestDuration.get();
  for (const v of m.values)
    if (v.metricName?.endsWith('_count') && v.labels.operation === 'search')
      out.set(String(v.labels.node_id), (out.get(String(v.labels.node_id)) ?? 0) + v.value);
  return out;
}

/** The groups whose nodes received searches between two counts. */
function groupsHit(before: Map<string, number>, afterCounts: Map<string, number>): number[] {
  const groups = new Set<number>();
  for (const [node, n] of afterCounts)
    if (n > (before.get(node) ?? 0)) groups.add(Math.floor(Number(node.slice('node-'.length)) / PER_GROUP));
  return [...groups].sort();
}

async function search(c: TestCluster, tenant: string | null, q = 'doc'): Promise<number> {
  const res = await fetch(`${c.app.url}/indexes/docs/search`, {
    method: 'POST',
    headers: {
      'content-type': 'application/json',
      authorization: `Bearer ${c.masterKey}`,
      ...(tenant === null ? {} : { 'x-miroir-tenant': tenant }),
    },
    body: JSON.stringify({ q, limit: 5 }),
  });
  assert.equal(res.status, 200, await res.clone().text());
  return ((await res.json()) as { estimatedTotalHits: number }).estimatedTotalHits;
}

async function load(c: TestCluster): Promise<void> {
  const ms = new Meilisearch({ host: c.app.url, apiKey: c.masterKey });
  await ms.createIndex('docs', { primaryKey: 'id' }).waitTask();
  const docs = Array.from({ length: 200 }, (_, id) => ({ id, title: `doc ${id}` }));
  const t = await ms.index('docs').addDocuments(docs).waitTask();
  assert.equal(t.status, 'succeeded');
}

const TENANTS = Array.from({ length: 20 }, (_, i) => `tenant-${i}`);

describe('tenant affinity: header mode over RG=3', () => {
  let c: TestCluster;
  before(async () => {
    c = await startCluster({
      nodes: PER_GROUP,
      replicaGroups: 3,
      shards: 8,
      // Hedges off: under load a hedge that lost (aborted at the proxy, already on the wire) reaches its node after
      // the next tenant's count started, and would read as that tenant's group. Hedging has its own tests.
      config: { tenant_affinity: { enabled: true, mode: 'header' }, hedging: { enabled: false } },
    });
    await load(c);
  });
  after(() => c.close());

  test("each of 20 tenants' reads hit one group; the tenants spread over the groups; reads without one rotate", async () => {
    const seen = new Set<number>();
    for (const tenant of TENANTS) {
      const before = await searchCounts(c);
      for (let i = 0; i < 6; i++) assert.equal(await search(c, tenant), 200);
      const groups = groupsHit(before, await searchCounts(c));
      if (groups.length !== 1) {
        const retries = (await c.app.metrics.scatterRetries.get()).values[0]?.value ?? 0;
        const errors = (await c.app.metrics.nodeErrors.get()).values.map(
          (v) => `${v.labels.node_id}/${v.labels.error_type}=${v.value}`,
        );
        assert.fail(
          `${tenant}: groups ${groups.join(',')} (scatter retries ${retries}; node errors ${errors.join(' ')})`,
        );
      }
      seen.add(groups[0]!);
      // Again later: the same group.
      const again = await searchCounts(c);
      await search(c, tenant);
      assert.deepEqual(groupsHit(again, await searchCounts(c)), groups, `${tenant}: pinned`);
    }
    assert.equal(seen.size, 3, 'the tenants use every group');
    const before = await searchCounts(c);
    for (let i = 0; i < 6; i++) await search(c, null);
    assert.deepEqual(groupsHit(before, await searchCounts(c)), [0, 1, 2], 'reads without a tenant rotate');
    const m = await c.app.metrics.tenantQueries.get();
    assert.equal(new Set(m.values.map((v) => v.labels.tenant)).size, 20);
  });
});

describe('tenant affinity: a dedicated group and its loss', () => {
  let c: TestCluster;
  before(async () => {
    c = await startCluster({
      nodes: PER_GROUP,
      replicaGroups: 3,
      shards: 8,
      config: {
        health: { interval_ms: 100, timeout_ms: 200, unhealthy_threshold: 1, recovery_threshold: 1 },
        tenant_affinity: { enabled: true, mode: 'header', fallback: 'hash', dedicated_groups: { '2': ['vip'] } },
      },
    });
    await load(c);
  });
  after(() => c.close());

  test('the dedicated group serves only its tenant; other tenants and reads without one never reach it', async () => {
    let before = await searchCounts(c);
    for (let i = 0; i < 5; i++) await search(c, 'vip');
    assert.deepEqual(groupsHit(before, await searchCounts(c)), [2]);
    before = await searchCounts(c);
    for (const tenant of TENANTS) await search(c, tenant);
    for (let i = 0; i < 6; i++) await search(c, null);
    assert.deepEqual(groupsHit(before, await searchCounts(c)), [0, 1]);
  });

  test("its loss: the tenant's reads fall back to one shared group (hash policy); writes still reach every group", async () => {
    await c.stopNode(4);
    await c.stopNode(5);
    await until(() => !c.app.topology.routing.canServe(2), 'group 2 seen as lost');
    const before = await searchCounts(c);
    for (let i = 0; i < 5; i++) assert.equal(await search(c, 'vip'), 200);
    const groups = groupsHit(before, await searchCounts(c));
    assert.equal(groups.length, 1);
    assert.notEqual(groups[0], 2);
    const fallbacks = await c.app.metrics.tenantFallback.get();
    assert.ok(fallbacks.values.some((v) => v.labels.reason === 'group_unavailable' && v.value >= 5));
    // A write still goes to every group: the live groups have it.
    const ms = new Meilisearch({ host: c.app.url, apiKey: c.masterKey });
    await ms
      .index('docs')
      .addDocuments([{ id: 1000, title: 'late arrival' }])
      .waitTask();
    const hitsOn = async (i: number): Promise<number> => {
      const res = await fetch(`${c.nodes[i]!.url}/indexes/docs/search`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', authorization: `Bearer ${c.nodeKey}` },
        body: JSON.stringify({ q: 'late arrival', limit: 1 }),
      });
      assert.equal(res.status, 200);
      return ((await res.json()) as { estimatedTotalHits: number }).estimatedTotalHits;
    };
    assert.equal((await hitsOn(0)) + (await hitsOn(1)), 1, 'group 0 has the new document');
    assert.equal((await hitsOn(2)) + (await hitsOn(3)), 1, 'group 1 has the new document');
  });
});
