// SIGKILL the Miroir process in the middle of a node addition and start it again: the change resumes from its
// persisted phase and the interrupted shard move from its cursor, and ends exact (every document on its owners).
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { after, before, test } from 'node:test';
import { DevNode } from '../../../src/devnode/node.js';
import { tempDir } from '../../support/devnode.js';
import { startMiroirProcess, type MiroirProcess } from '../../support/miroir-process.js';
import { adminCall, assertPlacement, seed, waitRebalanced } from '../../support/topology.js';
import { until } from '../../support/wait.js';

const nodeKey = randomBytes(8).toString('hex');
const master = `master-${randomBytes(6).toString('hex')}`;
const adminKey = 'admin-restart';
const data = tempDir('miroir-restart-');
let nodes: DevNode[] = [];
let proc: MiroirProcess | null = null;

before(async () => {
  nodes = await Promise.all([0, 1, 2, 3].map(() => DevNode.start({ port: 0, masterKey: nodeKey })));
});
after(async () => {
  await proc?.stop();
  await Promise.all(nodes.map((n) => n.stop()));
  data.cleanup();
});

test('a migration interrupted by SIGKILL resumes after restart and ends exact', async () => {
  proc = await startMiroirProcess(
    {
      shards: 64,
      replication_factor: 1,
      nodes: nodes.slice(0, 3).map((n, i) => ({ id: `node-${i}`, address: n.url })),
      master_key: master,
      node_master_key: nodeKey,
      admin: { api_key: adminKey },
      task_store: { backend: 'lmdb', path: data.dir },
      rebalancer: { max_concurrent_migrations: 1 },
      health: { interval_ms: 200 },
    },
    { POD_NAME: 'pod-restart' },
  );
  await seed(proc.url, master, 'items', 6000);
  // Slow the new node down so the change is caught in the middle.
  await fetch(`${nodes[3]!.url}/_devnode/faults`, {
    method: 'POST',
    headers: { authorization: `Bearer ${nodeKey}`, 'content-type': 'application/json' },
    body: JSON.stringify({ delay_ms: 15 }),
  });
  const added = await adminCall(proc.url, adminKey, 'POST', '/_miroir/nodes', {
    id: 'node-3',
    address: nodes[3]!.url,
    replica_group: 0,
  });
  assert.equal(added.status, 202);
  let doneBefore = 0;
  await until(
    async () => {
      const op = (await adminCall(proc!.url, adminKey, 'GET', '/_miroir/rebalance/status')).body.operations.at(-1);
      doneBefore = op.shards_done;
      // The pending moves are listed with the pod running them.
      const running = (op.moves_pending ?? []).some(
        (m: { state: string; owner: string | null }) => m.state === 'in_progress' && m.owner === 'pod-restart',
      );
      return op.phase === 'copying' && op.shards_done >= 1 && op.shards_done < op.shards_total - 1 && running;
    },
    'the migration to be half way',
    60_000,
    10,
  );
  await proc.kill();
  await fetch(`${nodes[3]!.url}/_devnode/faults/reset`, {
    method: 'POST',
    headers: { authorization: `Bearer ${nodeKey}` },
  });
  await proc.restart();
  const resumed = (await adminCall(proc.url, adminKey, 'GET', '/_miroir/rebalance/status')).body;
  assert.equal(resumed.in_progress, true, 'the change is still there after the restart');
  assert.ok(resumed.operations.at(-1).shards_done >= doneBefore, 'finished shard moves are not redone');
  const status = await waitRebalanced(proc.url, adminKey);
  const op = status.operations.at(-1);
  assert.equal(op.phase, 'done');
  assert.equal(op.shards_done, op.shards_total);
  const docs = await assertPlacement(
    nodes.map((n, i) => ({ id: `node-${i}`, url: n.url, group: 0 })),
    nodeKey,
    'items',
    64,
    1,
  );
  assert.equal(docs.size, 6000, 'no document lost or duplicated');
});
