// Elastic topology under load (issue "Elastic topology"): node add, drain/remove, replica group add, recovery after
// a node outage. Real dev nodes behind a real proxy; a writer and a searcher run through every change and count
// failures; afterwards every document is exactly on its rendezvous owners with its last acknowledged version.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { DevNode } from '../../../src/devnode/node.js';
import { startCluster, type TestCluster } from '../../support/cluster.js';
import { startLoad } from '../../support/load.js';
import { adminCall, assertPlacement, seed, waitRebalanced, waitTasks } from '../../support/topology.js';

const INDEX = 'items';

function members(cluster: TestCluster, extra: DevNode[], groups: (i: number) => number, skip: string[] = []) {
  const all = [...cluster.nodes, ...extra];
  return all.map((n, i) => ({ id: `node-${i}`, url: n.url, group: groups(i) })).filter((n) => !skip.includes(n.id));
}

describe('node add: 3 → 4 nodes with 10,000 documents under load', () => {
  let cluster: TestCluster;
  const extra: DevNode[] = [];
  before(async () => {
    cluster = await startCluster({ nodes: 3, shards: 16, rf: 1, config: { health: { interval_ms: 200, unhealthy_threshold: 2, recovery_threshold: 1 } } });
  });
  after(async () => {
    await Promise.all(extra.map((n) => n.stop()));
    await cluster.close();
  });

  test('moves only the new owner\'s shards, loses and duplicates nothing, fails no client request', async () => {
    const url = cluster.app.url;
    await seed(url, cluster.masterKey, INDEX, 10_000);
    const load = startLoad({ url, key: cluster.masterKey, index: INDEX, ids: 10_000 });
    const node = await DevNode.start({ port: 0, masterKey: cluster.nodeKey });
    extra.push(node);
    const added = await adminCall(url, cluster.adminKey, 'POST', '/_miroir/nodes', { id: 'node-3', address: node.url, replica_group: 0 });
    assert.equal(added.status, 202, JSON.stringify(added.body));
    assert.equal(added.body.operation.kind, 'node_add');
    assert.equal(added.body.rebalance.in_progress, true, 'in progress from the moment it answers');
    const again = await adminCall(url, cluster.adminKey, 'POST', '/_miroir/nodes', { id: 'node-3', address: node.url, replica_group: 0 });
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
    assert.deepEqual(topo.nodes.map((n: { id: string; state: string }) => [n.id, n.state]), [['node-0', 'active'], ['node-1', 'active'], ['node-2', 'active'], ['node-3', 'active']]);
    const docs = await assertPlacement(members(cluster, extra, () => 0), cluster.nodeKey, INDEX, 16, 1);
    const total = 10_000 + stats.writes; // each batch inserts one new id
    assert.equal(docs.size, total, 'no document lost');
    for (const [id, v] of stats.lastVersion) assert.equal(docs.get(id)!.v, v, `document ${id} holds its last acknowledged version`);
    assert.ok(op.documents_copied <= (total / 4) * 1.1, `moved ${op.documents_copied} ≤ ${(total / 4) * 1.1}`);
    assert.ok(op.shards_total > 0 && op.shards_done === op.shards_total);
  });
});
