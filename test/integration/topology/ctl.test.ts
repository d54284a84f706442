// `miroir ctl` as an operator runs it: the compiled CLI against a live proxy — tables and --json, node add followed
// to the end with `rebalance status --watch`, shards, tasks, and clear errors (bad key, used node id) with exit 1.
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { after, before, test } from 'node:test';
import { promisify } from 'node:util';
import { DevNode } from '../../../src/devnode/node.js';
import { startCluster, type TestCluster } from '../../support/cluster.js';
import { cliPath } from '../../support/devnode.js';
import { seed } from '../../support/topology.js';

const run = promisify(execFile);
let cluster: TestCluster;
let extra: DevNode;

async function ctl(
  args: string[],
  env: Record<string, string> = {},
): Promise<{ code: number; stdout: string; stderr: string }> {
  try {
    const { stdout, stderr } = await run(process.execPath, [cliPath(), 'ctl', '--url', cluster.app.url, ...args], {
      env: { ...process.env, MIROIR_ADMIN_API_KEY: cluster.adminKey, ...env },
    });
    return { code: 0, stdout, stderr };
  } catch (err) {
    const e = err as { code: number; stdout: string; stderr: string };
    return { code: e.code, stdout: e.stdout, stderr: e.stderr };
  }
}

before(async () => {
  cluster = await startCluster({ nodes: 2, shards: 8, rf: 1 });
  extra = await DevNode.start({ port: 0, masterKey: cluster.nodeKey });
  await seed(cluster.app.url, cluster.masterKey, 'items', 500);
});
after(async () => {
  await extra.stop();
  await cluster.close();
});

test('status and shards: a table for people, JSON for scripts', async () => {
  const table = await ctl(['status']);
  assert.equal(table.code, 0, table.stderr);
  assert.match(table.stdout, /node-0.*active.*healthy/);
  assert.match(table.stdout, /fully covered: yes/);
  assert.match(table.stdout, /idempotency keys: \d+; sessions: off; indexes with frozen writes: 0/);
  const json = await ctl(['--json', 'status']);
  const parsed = JSON.parse(json.stdout) as {
    topology: { nodes: unknown[] };
    rebalance: { in_progress: boolean };
    consistency: { idempotency: { enabled: boolean; keys: number } };
  };
  assert.equal(parsed.topology.nodes.length, 2);
  assert.equal(parsed.rebalance.in_progress, false);
  assert.equal(parsed.consistency.idempotency.enabled, true);
  const shards = JSON.parse((await ctl(['--json', 'shards'])).stdout) as {
    shards: number;
    groups: Array<{ assignments: Record<string, string[]> }>;
  };
  assert.equal(Object.keys(shards.groups[0]!.assignments).length, 8);
  assert.match((await ctl(['shards'])).stdout, /group 0/);
});

test('node add, then rebalance status --watch follows it to the end', async () => {
  const added = await ctl(['node', 'add', '--id', 'node-2', '--address', extra.url, '--group', '0']);
  assert.equal(added.code, 0, added.stderr);
  assert.match(added.stdout, /node_add queued as op-/);
  const watched = await ctl(['rebalance', 'status', '--watch', '--interval', '50']);
  assert.equal(watched.code, 0, watched.stderr);
  assert.match(watched.stdout, /shards \d+\/\d+/, 'a progress bar');
  assert.match(watched.stdout, /node_add.*done/);
  const status = JSON.parse((await ctl(['--json', 'status'])).stdout) as {
    topology: { nodes: Array<{ id: string; state: string }> };
  };
  assert.deepEqual(
    status.topology.nodes.map((n) => n.state),
    ['active', 'active', 'active'],
  );
  const again = await ctl(['node', 'add', '--id', 'node-2', '--address', extra.url]);
  assert.equal(again.code, 1);
  assert.match(again.stderr, /miroir ctl: .*miroir_node_exists/);
});

test('tasks through the client API; a wrong admin key is a clear error', async () => {
  const list = JSON.parse(
    (await ctl(['--json', '--api-key', cluster.masterKey, 'task', 'list', '--limit', '5'])).stdout,
  ) as { results: Array<{ uid: number }> };
  assert.ok(list.results.length > 0);
  const one = await ctl(['--api-key', cluster.masterKey, 'task', 'get', String(list.results[0]!.uid)]);
  assert.equal(one.code, 0, one.stderr);
  assert.match(one.stdout, /succeeded/);
  const bad = await ctl(['status'], { MIROIR_ADMIN_API_KEY: 'wrong' });
  assert.equal(bad.code, 1);
  assert.match(bad.stderr, /miroir_invalid_auth/);
  const noKey = await ctl(['task', 'list'], { MIROIR_MASTER_KEY: '', MIROIR_API_KEY: '' });
  assert.equal(noKey.code, 1);
  assert.match(noKey.stderr, /no API key/);
});
