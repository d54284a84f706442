// A resharded index through a later topology change (issue 26): the index has more shards than the cluster default,
// so a node addition must move its shards beyond the default too. After the change every document of both indexes is on exactly its owners for its own index's shard count.
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { DevNode } from '../../../src/devnode/node.js';
import { startCluster, type TestCluster } from '../../support/cluster.js';
import { adminCall, assertPlacement, seed, waitRebalanced } from '../../support/topology.js';
import { until } from '../../support/wait.js';

let cluster: TestCluster;
let extra: DevNode | null = null;

before(async () => {
  cluster = await startCluster({
    nodes: 2,
    shards: 4,
    rf: 1,
    config: { resharding: { enabled: true, retain_old_index_hours: 0, backfill_batch_size: 200 } },
  });
  await seed(cluster.app.url, cluster.masterKey, 'books', 1500);
  await seed(cluster.app.url, cluster.masterKey, 'films', 400);
});
after(async () => {
  await extra?.stop();
  await cluster.close();
});

test('a node added after a reshard 4 → 8 moves the resharded index by its own count; nothing lost', async () => {
  const url = cluster.app.url;
  const started = await adminCall(url, cluster.adminKey, 'POST', '/_miroir/indexes/books/reshard', { new_shards: 8 });
  assert.equal(started.status, 202, JSON.stringify(started.body));
  await until(
    async () => {
      const s = (await adminCall(url, cluster.adminKey, 'GET', '/_miroir/indexes/books/reshard/status')).body;
      if (s.phase === 'failed') throw new Error(`reshard failed: ${s.error}`);
      return s.phase === 'done';
    },
    'the reshard to finish (old copy dropped)',
    60_000,
    50,
  );

  extra = await DevNode.start({ port: 0, masterKey: cluster.nodeKey });
  const added = await adminCall(url, cluster.adminKey, 'POST', '/_miroir/nodes', {
    id: 'node-2',
    address: extra.url,
    replica_group: 0,
  });
  assert.equal(added.status, 202, JSON.stringify(added.body));
  const status = await waitRebalanced(url, cluster.adminKey);
  assert.equal(status.rebalance?.error ?? null, null, JSON.stringify(status));

  const nodes = [...cluster.nodes.map((n, i) => ({ id: `node-${i}`, url: n.url, group: 0 }))];
  nodes.push({ id: 'node-2', url: extra.url, group: 0 });
  // The resharded index sits under its copy's physical uid with 8 shards; the other keeps the cluster's 4.
  const books = await assertPlacement(nodes, cluster.nodeKey, 'books__reshard_8', 8, 1);
  assert.equal(books.size, 1500);
  const films = await assertPlacement(nodes, cluster.nodeKey, 'films', 4, 1);
  assert.equal(films.size, 400);

  // Clients see every document through the uid; explain plans on the index's own table (8 shards).
  const stats = await fetch(`${url}/indexes/books/stats`, {
    headers: { authorization: `Bearer ${cluster.masterKey}` },
  });
  assert.equal(stats.status, 200);
  assert.equal(((await stats.json()) as { numberOfDocuments: number }).numberOfDocuments, 1500);
  const explain = await fetch(`${url}/indexes/books/explain`, {
    method: 'POST',
    headers: { authorization: `Bearer ${cluster.masterKey}`, 'content-type': 'application/json' },
    body: JSON.stringify({ q: '', filter: 'id = 7' }),
  });
  assert.equal(explain.status, 200, await explain.clone().text());
});
