// Elastic topology under load (issue "Elastic topology"): node add, drain/remove, replica group add, recovery after
// a node outage. Real dev nodes behind a real proxy; a writer and a searcher run through every change and count
// failures; afterwards every document is exactly on its rendezvous owners with its last acknowledged version.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { DevNode } from '../../../src/devnode/node.js';
import { startCluster, type TestCluster } from '../../support/cluster.js';
import { startLoad, stopAllLoads } from '../../support/load.js';
import { adminCall, assertPlacement, nodeDocs, seed, waitRebalanced, waitTasks } from '../../support/topology.js';
import { until } from '../../support/wait.js';

const INDEX = 'items';

function members(cluster: TestCluster, extra: DevNode[], groups: (i: number) => number, skip: string[] = []) {
  const all = [...cluster.nodes, ...extra];
  return all.map((n, i) => ({ id: `node-${i}`, url: n.url, group: groups(i) })).filter((n) => !skip.includes(n.id));
}

describe('node add: 3 → 4 nodes with 10,000 documents under load', () => {
  let cluster: TestCluster;
  const extra: DevNode[] = [];
  before(async () => {
    cluster = await startCluster({
      nodes: 3,
      shards: 16,
      rf: 1,
      config: { health: { interval_ms: 200, unhealthy_threshold: 2, recovery_threshold: 1 } },
    });
  });
  after(async () => {
    await stopAllLoads();
    await Promise.all(extra.map((n) => n.stop()));
    await cluster.close();
  });

  test("moves only the new owner's shards, loses and duplicates nothing, fails no client request", async (t) => {
    const url = cluster.app.url;
    await seed(url, cluster.masterKey, INDEX, 10_000);
    const load = startLoad({ url, key: cluster.masterKey, index: INDEX, ids: 10_000 });
    const node = await DevNode.start({ port: 0, masterKey: cluster.nodeKey });
    extra.push(node);
    const added = await adminCall(url, cluster.adminKey, 'POST', '/_miroir/nodes', {
      id: 'node-3',
      address: node.url,
      replica_group: 0,
    });
    assert.equal(added.status, 202, JSON.stringify(added.body));
    assert.equal(added.body.operation.kind, 'node_add');
    assert.equal(added.body.rebalance.in_progress, true, 'in progress from the moment it answers');
    const again = await adminCall(url, cluster.adminKey, 'POST', '/_miroir/nodes', {
      id: 'node-3',
      address: node.url,
      replica_group: 0,
    });
    assert.equal(again.status, 409);
    assert.equal(again.body.code, 'miroir_node_exists');
    const status = await waitRebalanced(url, cluster.adminKey);
    const stats = await load.stop();
    await waitTasks(url, cluster.masterKey, stats.taskUids);
    assert.deepEqual(stats.failedWrites, []);
    assert.deepEqual(stats.failedSearches, []);
    assert.ok(stats.writes > 0 && stats.searches > 0, 'load ran during the change');

    const op = status.operations.at(-1);
    assert.equal(op.kind, 'node_add');
    assert.equal(op.phase, 'done');
    const topo = (await adminCall(url, cluster.adminKey, 'GET', '/_miroir/topology')).body;
    assert.deepEqual(
      topo.nodes.map((n: { id: string; state: string }) => [n.id, n.state]),
      [
        ['node-0', 'active'],
        ['node-1', 'active'],
        ['node-2', 'active'],
        ['node-3', 'active'],
      ],
    );
    const docs = await assertPlacement(
      members(cluster, extra, () => 0),
      cluster.nodeKey,
      INDEX,
      16,
      1,
    );
    const total = 10_000 + stats.writes; // each batch inserts one new id
    assert.equal(docs.size, total, 'no document lost');
    for (const [id, v] of stats.lastVersion)
      assert.equal(docs.get(id)!.v, v, `document ${id} holds its last acknowledged version`);
    assert.ok(op.documents_copied <= (total / 4) * 1.1, `moved ${op.documents_copied} ≤ ${(total / 4) * 1.1}`);
    t.diagnostic(
      `node add: ${op.shards_total} of 16 shards, ${op.documents_copied} of ${total} documents copied in ${Date.parse(op.finished_at) - Date.parse(op.started_at)} ms (incl. 2 s cleanup grace); ${stats.writes} writes and ${stats.searches} searches during the change, none failed`,
    );
    assert.ok(op.shards_total > 0 && op.shards_done === op.shards_total);
  });

  test('an addition whose node dies half way is cancelled by removing the node; nothing is lost', async () => {
    const url = cluster.app.url;
    const node = await DevNode.start({ port: 0, masterKey: cluster.nodeKey });
    extra.push(node);
    const faults = (body: unknown) =>
      fetch(`${node.url}/_devnode/faults`, {
        method: 'POST',
        headers: { authorization: `Bearer ${cluster.nodeKey}`, 'content-type': 'application/json' },
        body: JSON.stringify(body),
      });
    await faults({ delay_ms: 300 });
    const added = await adminCall(url, cluster.adminKey, 'POST', '/_miroir/nodes', {
      id: 'node-4',
      address: node.url,
      replica_group: 0,
    });
    assert.equal(added.status, 202);
    await until(
      async () =>
        (await adminCall(url, cluster.adminKey, 'GET', '/_miroir/topology')).body.nodes.some(
          (n: { id: string; state: string }) => n.id === 'node-4' && n.state === 'joining',
        ),
      'node-4 joining',
    );
    await faults({ hang: true }); // the node stops answering in the middle of its addition
    const drain = await adminCall(url, cluster.adminKey, 'POST', '/_miroir/nodes/node-4/drain');
    assert.equal(drain.body.code, 'miroir_topology_conflict', 'a joining node cannot be drained');
    const cancelled = await adminCall(url, cluster.adminKey, 'DELETE', '/_miroir/nodes/node-4');
    assert.equal(cancelled.status, 202);
    assert.equal(cancelled.body.operation.phase, 'failed');
    const status = await waitRebalanced(url, cluster.adminKey);
    assert.match(status.operations.at(-1).error, /cancelled/);
    const topo = (await adminCall(url, cluster.adminKey, 'GET', '/_miroir/topology')).body;
    assert.equal(topo.nodes.find((n: { id: string }) => n.id === 'node-4').state, 'removed');
    assert.equal(topo.fully_covered, true);
    const docs = await assertPlacement(
      members(cluster, extra.slice(0, 1), () => 0),
      cluster.nodeKey,
      INDEX,
      16,
      1,
    );
    assert.ok(docs.size >= 10_000);
    await fetch(`${node.url}/_devnode/faults/reset`, {
      method: 'POST',
      headers: { authorization: `Bearer ${cluster.nodeKey}` },
    });
  });
});

describe('drain, then remove, under load', () => {
  let cluster: TestCluster;
  before(async () => {
    cluster = await startCluster({
      nodes: 4,
      shards: 16,
      rf: 2,
      config: { health: { interval_ms: 200, unhealthy_threshold: 2, recovery_threshold: 1 } },
    });
  });
  after(async () => {
    await stopAllLoads();
    await cluster.close();
  });

  test('draining node-1 and removing node-2 fail no client request and keep every document on its owners', async () => {
    const url = cluster.app.url;
    await seed(url, cluster.masterKey, INDEX, 4000);
    const load = startLoad({ url, key: cluster.masterKey, index: INDEX, ids: 4000 });
    const drained = await adminCall(url, cluster.adminKey, 'POST', '/_miroir/nodes/node-1/drain');
    assert.equal(drained.status, 202, JSON.stringify(drained.body));
    assert.equal(drained.body.operation.kind, 'node_drain');
    assert.equal(
      (await adminCall(url, cluster.adminKey, 'POST', '/_miroir/nodes/node-9/drain')).body.code,
      'miroir_node_not_found',
    );
    // Queued behind the drain: changes run one at a time.
    const removed = await adminCall(url, cluster.adminKey, 'DELETE', '/_miroir/nodes/node-2');
    assert.equal(removed.status, 202);
    assert.equal(removed.body.rebalance.operations.filter((o: { phase: string }) => o.phase !== 'done').length, 2);
    const last = await adminCall(url, cluster.adminKey, 'DELETE', '/_miroir/nodes/node-3');
    assert.equal(last.status, 202, 'node-0 and node-3 stay');
    const refused = await adminCall(url, cluster.adminKey, 'DELETE', '/_miroir/nodes/node-0');
    assert.equal(refused.status, 409, 'the last node of a group cannot be drained');
    assert.equal(refused.body.code, 'miroir_topology_conflict');
    const status = await waitRebalanced(url, cluster.adminKey);
    const stats = await load.stop();
    await waitTasks(url, cluster.masterKey, stats.taskUids);
    assert.deepEqual(stats.failedWrites, []);
    assert.deepEqual(stats.failedSearches, []);
    assert.deepEqual(
      status.operations.map((o: { kind: string; node_id: string; phase: string }) => [o.kind, o.node_id, o.phase]),
      [
        ['node_drain', 'node-1', 'done'],
        ['node_remove', 'node-2', 'done'],
        ['node_remove', 'node-3', 'done'],
      ],
    );
    const topo = (await adminCall(url, cluster.adminKey, 'GET', '/_miroir/topology')).body;
    assert.deepEqual(
      topo.nodes.map((n: { id: string; state: string }) => [n.id, n.state]),
      [
        ['node-0', 'active'],
        ['node-1', 'removed'],
        ['node-2', 'removed'],
        ['node-3', 'removed'],
      ],
    );
    const docs = await assertPlacement(
      members(cluster, [], () => 0, ['node-1', 'node-2', 'node-3']),
      cluster.nodeKey,
      INDEX,
      16,
      2,
    );
    assert.equal(docs.size, 4000 + stats.writes);
    for (const [id, v] of stats.lastVersion)
      assert.equal(docs.get(id)!.v, v, `document ${id} holds its last acknowledged version`);
    for (const i of [1, 2, 3])
      assert.equal(
        (await nodeDocs(cluster.nodes[i]!.url, cluster.nodeKey, INDEX)).length,
        0,
        `node-${i} was emptied after the cut-over`,
      );
    const reused = await adminCall(url, cluster.adminKey, 'POST', '/_miroir/nodes', {
      id: 'node-1',
      address: cluster.nodes[1]!.url,
      replica_group: 0,
    });
    assert.equal(reused.body.code, 'miroir_node_exists', 'ids are never reused');
  });
});

async function searchesByNode(cluster: TestCluster): Promise<Map<string, number>> {
  const out = new Map<string, number>();
  for (const v of (await cluster.app.metrics.nodeRequestDuration.get()).values) {
    if (v.metricName?.endsWith('_count') && v.labels.operation === 'search') out.set(String(v.labels.node_id), v.value);
  }
  return out;
}

describe('a node that dies for good while it is drained', () => {
  let cluster: TestCluster;
  before(async () => {
    cluster = await startCluster({
      nodes: 3,
      shards: 16,
      rf: 1,
      config: {
        health: { interval_ms: 100, unhealthy_threshold: 2, recovery_threshold: 1 },
        rebalancer: { max_concurrent_migrations: 1 },
      },
    });
  });
  after(() => cluster.close());

  test('is removed with force: the drain is planned again without it and the cluster takes every write again', async () => {
    const url = cluster.app.url;
    await seed(url, cluster.masterKey, INDEX, 3000);
    await fetch(`${cluster.nodes[2]!.url}/_devnode/faults`, {
      method: 'POST',
      headers: { authorization: `Bearer ${cluster.nodeKey}`, 'content-type': 'application/json' },
      body: JSON.stringify({ delay_ms: 40 }),
    });
    assert.equal((await adminCall(url, cluster.adminKey, 'POST', '/_miroir/nodes/node-2/drain')).status, 202);
    await until(
      async () => {
        const op = (await adminCall(url, cluster.adminKey, 'GET', '/_miroir/rebalance/status')).body.operations.at(-1);
        return op.phase === 'copying' && op.shards_done >= 1 && op.shards_done < op.shards_total;
      },
      'the drain half way',
      60_000,
      10,
    );
    await cluster.stopNode(2); // gone for good
    await until(
      async () => {
        const op = (await adminCall(url, cluster.adminKey, 'GET', '/_miroir/rebalance/status')).body.operations.at(-1);
        return (op.moves_pending ?? []).some((m: { error?: string }) => m.error !== undefined);
      },
      'a move failing on the dead node',
      30_000,
    );
    assertBadForce(await adminCall(url, cluster.adminKey, 'DELETE', '/_miroir/nodes/node-2?force=maybe'));
    const forced = await adminCall(url, cluster.adminKey, 'DELETE', '/_miroir/nodes/node-2?force=true');
    assert.equal(forced.status, 202);
    const status = await waitRebalanced(url, cluster.adminKey, 60_000);
    assert.equal(status.operations.at(-1).phase, 'done');
    const topo = (await adminCall(url, cluster.adminKey, 'GET', '/_miroir/topology')).body;
    assert.equal(topo.nodes.find((n: { id: string }) => n.id === 'node-2').state, 'removed');
    assert.equal(topo.fully_covered, true);
    // Every shard takes writes again, on its new owner.
    const docs = Array.from({ length: 200 }, (_, i) => ({ id: 100_000 + i, title: 'after', v: 1 }));
    const res = await fetch(`${url}/indexes/${INDEX}/documents`, {
      method: 'POST',
      headers: { authorization: `Bearer ${cluster.masterKey}`, 'content-type': 'application/json' },
      body: JSON.stringify(docs),
    });
    assert.equal(res.status, 202);
    assert.equal(res.headers.get('x-miroir-degraded'), null);
    await waitTasks(url, cluster.masterKey, [((await res.json()) as { taskUid: number }).taskUid]);
    const placed = await assertPlacement(
      members(cluster, [], () => 0, ['node-2']),
      cluster.nodeKey,
      INDEX,
      16,
      1,
    );
    assert.ok(
      placed.size >= 200 + 1 && placed.size <= 3200,
      `the shards that had moved kept their documents (${placed.size})`,
    );
  });
});

function assertBadForce(res: { status: number; body: { code: string } }): void {
  assert.equal(res.status, 400);
  assert.equal(res.body.code, 'bad_request');
}

describe('a second replica group under load', () => {
  let cluster: TestCluster;
  const extra: DevNode[] = [];
  before(async () => {
    cluster = await startCluster({
      nodes: 2,
      shards: 16,
      rf: 1,
      config: { health: { interval_ms: 200, unhealthy_threshold: 2, recovery_threshold: 1 } },
    });
  });
  after(async () => {
    await stopAllLoads();
    await Promise.all(extra.map((n) => n.stop()));
    await cluster.close();
  });

  test('gets writes but no reads while initializing; afterwards reads alternate between the groups', async () => {
    const url = cluster.app.url;
    await seed(url, cluster.masterKey, INDEX, 3000);
    const load = startLoad({ url, key: cluster.masterKey, index: INDEX, ids: 3000 });
    for (const id of ['node-2', 'node-3']) {
      const node = await DevNode.start({ port: 0, masterKey: cluster.nodeKey });
      extra.push(node);
      const res = await adminCall(url, cluster.adminKey, 'POST', '/_miroir/nodes', {
        id,
        address: node.url,
        replica_group: 1,
      });
      assert.equal(res.status, 202, JSON.stringify(res.body));
      assert.equal(res.body.operation.kind, id === 'node-2' ? 'group_add' : 'node_add');
    }
    // Sample while the change runs: no search may reach group 1 before it is active.
    let sawInitializing = false;
    await until(
      async () => {
        const topo = (await adminCall(url, cluster.adminKey, 'GET', '/_miroir/topology')).body;
        const group1 = topo.groups.find((g: { id: number }) => g.id === 1);
        const searches = await searchesByNode(cluster);
        if (group1?.state === 'initializing') {
          sawInitializing = true;
          assert.equal(searches.get('node-2') ?? 0, 0, 'no read reaches an initializing group');
        }
        return group1?.state === 'active';
      },
      'group 1 active',
      60_000,
      5,
    );
    assert.ok(sawInitializing, 'the group was seen initializing');
    const status = await waitRebalanced(url, cluster.adminKey);
    assert.deepEqual(
      status.operations.map((o: { kind: string }) => o.kind),
      ['group_add', 'node_add'],
    );
    const before = await searchesByNode(cluster);
    for (let i = 0; i < 20; i++) {
      const res = await fetch(`${url}/indexes/${INDEX}/search`, {
        method: 'POST',
        headers: { authorization: `Bearer ${cluster.masterKey}`, 'content-type': 'application/json' },
        body: JSON.stringify({ q: 'doc' }),
      });
      assert.equal(res.status, 200);
    }
    const afterCounts = await searchesByNode(cluster);
    const grew = (ids: string[]) => ids.reduce((n, id) => n + (afterCounts.get(id) ?? 0) - (before.get(id) ?? 0), 0);
    assert.ok(
      grew(['node-0', 'node-1']) >= 10 && grew(['node-2', 'node-3']) >= 10,
      `reads alternate: group 0 +${grew(['node-0', 'node-1'])}, group 1 +${grew(['node-2', 'node-3'])}`,
    );
    const stats = await load.stop();
    await waitTasks(url, cluster.masterKey, stats.taskUids);
    assert.deepEqual(stats.failedWrites, []);
    assert.deepEqual(stats.failedSearches, []);
    const docs = await assertPlacement(
      members(cluster, extra, (i) => (i < 2 ? 0 : 1)),
      cluster.nodeKey,
      INDEX,
      16,
      1,
    );
    assert.equal(docs.size, 3000 + stats.writes);
    for (const [id, v] of stats.lastVersion) assert.equal(docs.get(id)!.v, v);
  });
});

describe('a new node that restarts empty in the middle of its addition', () => {
  let cluster: TestCluster;
  let node: DevNode | null = null;
  before(async () => {
    // Health checks never notice (1,000 failures needed): only the final check before the cut-over can.
    cluster = await startCluster({
      nodes: 2,
      shards: 32,
      rf: 1,
      config: {
        health: { interval_ms: 100, unhealthy_threshold: 1000, recovery_threshold: 1 },
        rebalancer: { max_concurrent_migrations: 1 },
      },
    });
  });
  after(async () => {
    await node?.stop();
    await cluster.close();
  });

  test('is re-provisioned and its finished moves are copied again before the cut-over: nothing is lost', async () => {
    const url = cluster.app.url;
    await seed(url, cluster.masterKey, INDEX, 3000);
    node = await DevNode.start({ port: 0, masterKey: cluster.nodeKey });
    const port = node.port;
    await fetch(`${node.url}/_devnode/faults`, {
      method: 'POST',
      headers: { authorization: `Bearer ${cluster.nodeKey}`, 'content-type': 'application/json' },
      body: JSON.stringify({ delay_ms: 20 }),
    });
    assert.equal(
      (
        await adminCall(url, cluster.adminKey, 'POST', '/_miroir/nodes', {
          id: 'node-2',
          address: node.url,
          replica_group: 0,
        })
      ).status,
      202,
    );
    await until(
      async () => {
        const op = (await adminCall(url, cluster.adminKey, 'GET', '/_miroir/rebalance/status')).body.operations.at(-1);
        return op.phase === 'copying' && op.shards_done >= 2 && op.shards_done < op.shards_total;
      },
      'two shard moves finished',
      60_000,
      10,
    );
    await node.stop();
    node = await DevNode.start({ port, masterKey: cluster.nodeKey }); // same address, empty, no delay
    const status = await waitRebalanced(url, cluster.adminKey, 60_000);
    assert.equal(status.operations.at(-1).phase, 'done');
    const docs = await assertPlacement(
      members(cluster, [node], () => 0),
      cluster.nodeKey,
      INDEX,
      32,
      1,
    );
    assert.equal(docs.size, 3000, 'every document is on its owner after the cut-over');
    const settings = await fetch(`${node.url}/indexes/${INDEX}/settings`, {
      headers: { authorization: `Bearer ${cluster.nodeKey}` },
    });
    assert.ok(
      ((await settings.json()) as { filterableAttributes: string[] }).filterableAttributes.includes('_miroir_shard'),
      're-provisioned',
    );
  });
});

describe('a node restarted empty before any health check noticed', () => {
  let cluster: TestCluster;
  before(async () => {
    // Health checks would need 1,000 failures to notice: only the data check can find the loss.
    cluster = await startCluster({
      nodes: 2,
      shards: 8,
      rf: 2,
      config: { health: { interval_ms: 100, unhealthy_threshold: 1000, recovery_threshold: 1 } },
    });
  });
  after(() => cluster.close());

  test('is recognised by holding no index (two checks in a row) and refilled from its replica', async () => {
    const url = cluster.app.url;
    await seed(url, cluster.masterKey, INDEX, 1000);
    await cluster.stopNode(1);
    await cluster.startNode(1); // same address, empty
    await until(
      async () => {
        const t = (await adminCall(url, cluster.adminKey, 'GET', '/_miroir/rebalance/status')).body;
        return t.operations.some(
          (o: { kind: string; node_id: string; phase: string }) =>
            o.kind === 'recovery' && o.node_id === 'node-1' && o.phase === 'done',
        );
      },
      'a recovery of node-1',
      30_000,
    );
    const docs = await assertPlacement(
      members(cluster, [], () => 0),
      cluster.nodeKey,
      INDEX,
      8,
      2,
    );
    assert.equal(docs.size, 1000);
    assert.equal(
      (await nodeDocs(cluster.nodes[1]!.url, cluster.nodeKey, INDEX)).length,
      1000,
      'node-1 holds every document again',
    );
  });
});

describe('recovery: a node down during writes comes back', () => {
  let cluster: TestCluster;
  before(async () => {
    cluster = await startCluster({
      nodes: 3,
      shards: 16,
      rf: 3,
      config: { health: { interval_ms: 100, unhealthy_threshold: 2, recovery_threshold: 1 } },
    });
  });
  after(async () => {
    await stopAllLoads();
    await cluster.close();
  });

  test('RF=3: writes stay available while node-2 is down; back (empty), it is re-provisioned and holds what its replicas hold', async () => {
    const url = cluster.app.url;
    await seed(url, cluster.masterKey, INDEX, 2000);
    await cluster.stopNode(2);
    const load = startLoad({ url, key: cluster.masterKey, index: INDEX, ids: 2000, batch: 10 });
    await until(() => load.stats.writes >= 500, '500 writes while node-2 is down', 60_000);
    const topo = (await adminCall(url, cluster.adminKey, 'GET', '/_miroir/topology')).body;
    assert.equal(topo.nodes.find((n: { id: string }) => n.id === 'node-2').catching_up, true, 'it missed writes');
    await cluster.startNode(2); // a fresh, empty node on the same address: its disk was lost
    await until(
      async () => {
        const t = (await adminCall(url, cluster.adminKey, 'GET', '/_miroir/topology')).body;
        return t.nodes.every(
          (n: { health: string; catching_up?: boolean }) => n.health === 'healthy' && n.catching_up !== true,
        );
      },
      'node-2 caught up',
      60_000,
    );
    const stats = await load.stop();
    await waitTasks(url, cluster.masterKey, stats.taskUids);
    assert.deepEqual(stats.failedWrites, [], 'RF=3 keeps writes available through one loss');
    assert.deepEqual(
      stats.failedSearches.filter((f) => !f.startsWith('200')),
      [],
    );
    const status = await waitRebalanced(url, cluster.adminKey);
    assert.ok(
      status.operations.some((o: { kind: string; node_id: string }) => o.kind === 'recovery' && o.node_id === 'node-2'),
    );
    const settings = await fetch(`${cluster.nodes[2]!.url}/indexes/${INDEX}/settings`, {
      headers: { authorization: `Bearer ${cluster.nodeKey}` },
    });
    assert.ok(
      ((await settings.json()) as { filterableAttributes: string[] }).filterableAttributes.includes('_miroir_shard'),
      'physical settings re-provisioned',
    );
    // Every copy of every document is identical on all three nodes (per-document hashes compared).
    const docs = await assertPlacement(
      members(cluster, [], () => 0),
      cluster.nodeKey,
      INDEX,
      16,
      3,
    );
    assert.equal(docs.size, 2000 + stats.writes);
    for (const [id, v] of stats.lastVersion) assert.equal(docs.get(id)!.v, v);
  });
});
