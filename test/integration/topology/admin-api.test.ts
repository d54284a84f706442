// The topology admin API's refusals and idle paths: Meilisearch-shaped errors for bad bodies, unreachable nodes,
// unknown or last groups, missing admin keys; a rebalance with nothing pending runs and finishes.
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { startCluster, type TestCluster } from '../../support/cluster.js';
import { adminCall, waitRebalanced } from '../../support/topology.js';

let cluster: TestCluster;
before(async () => {
  cluster = await startCluster({ nodes: 2, shards: 8, rf: 1 });
});
after(() => cluster.close());

const call = (method: string, path: string, body?: unknown) =>
  adminCall(cluster.app.url, cluster.adminKey, method, path, body);

function assertError(res: { status: number; body: any }, status: number, code: string): void {
  assert.equal(res.status, status, JSON.stringify(res.body));
  assert.equal(res.body.code, code);
  assert.equal(typeof res.body.message, 'string');
  assert.ok(['invalid_request', 'auth', 'system'].includes(res.body.type));
  assert.match(res.body.link, new RegExp(`${code}$`));
}

test('POST /_miroir/nodes refuses bad bodies and nodes that do not answer, naming the problem', async () => {
  const noId = await call('POST', '/_miroir/nodes', { address: 'http://127.0.0.1:1', replica_group: 0 });
  assertError(noId, 400, 'bad_request');
  assert.match(noId.body.message, /`id`/);
  const badAddress = await call('POST', '/_miroir/nodes', { id: 'node-9', address: 'ftp://x', replica_group: 0 });
  assertError(badAddress, 400, 'bad_request');
  assert.match(badAddress.body.message, /`address`/);
  const badGroup = await call('POST', '/_miroir/nodes', {
    id: 'node-9',
    address: 'http://127.0.0.1:1',
    replica_group: -1,
  });
  assertError(badGroup, 400, 'bad_request');
  const unknownField = await call('POST', '/_miroir/nodes', {
    id: 'node-9',
    address: 'http://127.0.0.1:1',
    replica_group: 0,
    weight: 2,
  });
  assertError(unknownField, 400, 'bad_request');
  const down = await call('POST', '/_miroir/nodes', { id: 'node-9', address: 'http://127.0.0.1:1', replica_group: 0 });
  assertError(down, 400, 'bad_request');
  assert.match(down.body.message, /did not answer `GET \/health`/);
  const exists = await call('POST', '/_miroir/nodes', {
    id: 'node-0',
    address: cluster.nodes[0]!.url,
    replica_group: 0,
  });
  assertError(exists, 409, 'miroir_node_exists');
  const sameAddress = await call('POST', '/_miroir/nodes', {
    id: 'node-5',
    address: `${cluster.nodes[1]!.url}/`,
    replica_group: 0,
  });
  assertError(sameAddress, 409, 'miroir_topology_conflict');
  assert.match(sameAddress.body.message, /already node `node-1`/);
  const topo = (await call('GET', '/_miroir/topology')).body;
  assert.equal(topo.nodes.length, 2, 'nothing was added');
});

test('groups and nodes that do not exist, the last group and a missing admin key', async () => {
  assertError(await call('DELETE', '/_miroir/groups/7'), 404, 'miroir_group_not_found');
  assertError(await call('DELETE', '/_miroir/groups/abc'), 404, 'miroir_group_not_found');
  assertError(await call('DELETE', '/_miroir/groups/0'), 409, 'miroir_topology_conflict');
  assertError(await call('DELETE', '/_miroir/nodes/node-7'), 404, 'miroir_node_not_found');
  const res = await fetch(`${cluster.app.url}/_miroir/nodes/node-0/drain`, { method: 'POST' });
  assert.equal(res.status, 401);
  assert.equal(((await res.json()) as { code: string }).code, 'miroir_invalid_auth');
});

test('a rebalance with nothing pending runs through and is listed as done', async () => {
  const started = await call('POST', '/_miroir/rebalance');
  assert.equal(started.status, 202);
  assert.equal(started.body.operation.kind, 'rebalance');
  const status = await waitRebalanced(cluster.app.url, cluster.adminKey);
  const op = status.operations.at(-1);
  assert.equal(op.kind, 'rebalance');
  assert.equal(op.phase, 'done');
  assert.equal(op.shards_total, 0);
  assert.equal(status.last_error, null);
  assert.equal(typeof status.finished_at, 'string');
});
