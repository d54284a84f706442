// Overlapping faults at RG=1, RF=2 (issue "Hardening", item 2): a replica hangs and recovers; while its recovery
// copies, the other replica answers errors for a while; both clear. Recovery must converge (no node left catching
// up, no change stuck), every acknowledged document must be readable by id, search totals exact — and while it all
// happens, a shard whose every replica is catching up is still served (degraded) instead of not at all. Then a
// random fault schedule over the same layout with a writer and a searcher.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { Meilisearch } from 'meilisearch';
import { startCluster, type TestCluster } from '../../support/cluster.js';
import { adminCall, seed, waitRebalanced } from '../../support/topology.js';
import { until } from '../../support/wait.js';

const INDEX = 'items';
/** Every id any writer of this file had acknowledged (the tests share one index). */
const allAcked = new Set<number>();

async function fault(c: TestCluster, i: number, body: Record<string, unknown> | null): Promise<void> {
  await fetch(`${c.nodes[i]!.url}/_devnode/faults${body === null ? '/reset' : ''}`, {
    method: 'POST',
    headers: { authorization: `Bearer ${c.nodeKey}`, 'content-type': 'application/json' },
    body: body === null ? undefined : JSON.stringify(body),
  });
}

async function topology(
  c: TestCluster,
): Promise<{ nodes: Array<{ id: string; health: string; catching_up?: boolean }> }> {
  return (await adminCall(c.app.url, c.adminKey, 'GET', '/_miroir/topology')).body;
}

/**
 * Writes batches of new ids until stopped, retrying a refused batch as a client would (a write refused with 503 after
 * some replica took it converges when retried); remembers every acknowledged id. Stopping finishes the batch in
 * hand, so nothing is left half-written.
 */
function writer(c: TestCluster, from: number): { acked: Set<number>; stop(): Promise<void> } {
  const acked = new Set<number>();
  let live = true;
  let next = from;
  const headers = { authorization: `Bearer ${c.masterKey}`, 'content-type': 'application/json' };
  const loop = (async () => {
    while (live) {
      const ids = Array.from({ length: 5 }, () => next++);
      const body = JSON.stringify(ids.map((id) => ({ id, title: `doc ${id}` })));
      for (;;) {
        const res = await fetch(`${c.app.url}/indexes/${INDEX}/documents`, { method: 'POST', headers, body }).catch(
          () => null,
        );
        if (res !== null && res.status === 202) break;
        await new Promise((r) => setTimeout(r, 20)); // refused (no quorum while a replica is down): the same batch again
      }
      for (const id of ids) {
        acked.add(id);
        allAcked.add(id);
      }
    }
  })();
  return {
    acked,
    async stop() {
      live = false;
      await loop;
    },
  };
}

async function converged(c: TestCluster, acked: Set<number>, seeded: number): Promise<void> {
  await until(
    async () => (await topology(c)).nodes.every((n) => n.health === 'healthy' && n.catching_up !== true),
    'every node healthy and caught up',
    90_000,
    100,
  );
  const status = await waitRebalanced(c.app.url, c.adminKey, 90_000);
  assert.equal(status.in_progress, false);
  const ms = new Meilisearch({ host: c.app.url, apiKey: c.masterKey });
  const expected = new Set([...Array.from({ length: seeded }, (_, i) => i), ...acked]);
  // Every batch was retried until acknowledged, so the index holds exactly what was acknowledged, on every replica.
  const count = (await ms.index(INDEX).getStats()).numberOfDocuments;
  assert.equal(count, expected.size, `${count} documents hold the ${expected.size} acknowledged`);
  const all = await ms.index(INDEX).getDocuments({ limit: 100_000, fields: ['id'] });
  assert.equal(all.total, count, 'the documents list agrees with the stats');
  assert.equal(new Set(all.results.map((d) => d.id)).size, count, 'every document exactly once');
  const res = await ms.index(INDEX).search('', { limit: 0 });
  assert.equal(
    res.estimatedTotalHits,
    Math.min(count, 1000),
    'search total is exact (capped at maxTotalHits like one node)',
  );
  for (const id of acked) {
    const doc = await ms.index(INDEX).getDocument(id);
    assert.equal(doc.title, `doc ${id}`, `acknowledged document ${id} is readable`);
  }
}

describe('overlapping faults on both replicas of a shard', () => {
  let cluster: TestCluster;
  before(async () => {
    cluster = await startCluster({
      nodes: 4,
      rf: 2,
      shards: 16,
      config: {
        health: { interval_ms: 100, timeout_ms: 300, unhealthy_threshold: 2, recovery_threshold: 1 },
        scatter: { node_timeout_ms: 1000 },
      },
    });
  });
  after(() => cluster.close());

  test('a hung replica, then errors on the other during its recovery copy: recovery converges, nothing acknowledged is lost', async () => {
    await seed(cluster.app.url, cluster.masterKey, INDEX, 2100);
    const w = writer(cluster, 100_000);
    try {
      await fault(cluster, 3, { hang: true });
      await until(
        async () => (await topology(cluster)).nodes.find((n) => n.id === 'node-3')!.catching_up === true,
        'node-3 catching up',
        15_000,
        50,
      );
      await fault(cluster, 3, null);
      await fault(cluster, 3, { delay_ms: 15 }); // back, and slow enough that its recovery copy takes a while
      await until(
        async () => {
          const s = (await adminCall(cluster.app.url, cluster.adminKey, 'GET', '/_miroir/rebalance/status')).body;
          return s.operations.some(
            (o: { kind: string; phase: string }) => o.kind === 'recovery' && o.phase === 'copying',
          );
        },
        'node-3 recovery copying',
        30_000,
        20,
      );
      await fault(cluster, 0, { error_rate: 1 });
      await until(
        async () => (await topology(cluster)).nodes.find((n) => n.id === 'node-0')!.catching_up === true,
        'node-0 catching up',
        15_000,
        50,
      );
      // Shards whose two replicas are both catching up are still answered (degraded), not refused.
      await fault(cluster, 0, null);
      const res = await fetch(`${cluster.app.url}/indexes/${INDEX}/search`, {
        method: 'POST',
        headers: { authorization: `Bearer ${cluster.masterKey}`, 'content-type': 'application/json' },
        body: '{"q":"","limit":0}',
      });
      assert.equal(res.status, 200);
      await fault(cluster, 3, null);
    } finally {
      await w.stop();
      await fault(cluster, 0, null);
      await fault(cluster, 3, null);
    }
    await converged(cluster, allAcked, 2100);
  });

  test('a random fault schedule over RF=2 with a writer and a searcher: no search fails while a copy is alive, nothing acknowledged is lost', async () => {
    const w = writer(cluster, 200_000);
    const failedSearches: string[] = [];
    let live = true;
    const searcher = (async () => {
      while (live) {
        const res = await fetch(`${cluster.app.url}/indexes/${INDEX}/search`, {
          method: 'POST',
          headers: { authorization: `Bearer ${cluster.masterKey}`, 'content-type': 'application/json' },
          body: '{"q":"doc","limit":3}',
        }).catch((e: unknown) => String(e));
        if (typeof res === 'string' || res.status !== 200)
          failedSearches.push(typeof res === 'string' ? res : `${res.status} ${await res.text()}`);
      }
    })();
    // Seeded schedule: at most one node faulty at a time, so every shard keeps one live copy throughout.
    let seedValue = 7;
    const next = () => (seedValue = (seedValue * 1103515245 + 12345) % 2147483648) / 2147483648;
    try {
      for (let step = 0; step < 6; step++) {
        const node = Math.floor(next() * 4);
        const kind = next() < 0.5 ? { error_rate: 1 } : { hang: true };
        await fault(cluster, node, kind);
        await until(
          async () => (await topology(cluster)).nodes.find((n) => n.id === `node-${node}`)!.health === 'unhealthy',
          `node-${node} unhealthy`,
          15_000,
          50,
        );
        await fault(cluster, node, null);
        await until(
          async () => (await topology(cluster)).nodes.every((n) => n.health === 'healthy'),
          'every node healthy again',
          15_000,
          50,
        );
      }
    } finally {
      live = false;
      await searcher;
      await w.stop();
      for (let i = 0; i < 4; i++) await fault(cluster, i, null);
    }
    assert.deepEqual(failedSearches, [], 'no search failed while every shard had a live copy');
    await converged(cluster, allAcked, 2100);
  });
});
