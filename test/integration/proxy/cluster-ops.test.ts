// The rest of the cluster operations through Miroir: index update and rename, swaps, task cancelation and
// deletion, logical stats that count every document once at RF=2, and a task that outlives a SIGKILLed proxy.
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { after, before, test } from 'node:test';
import { Meilisearch } from 'meilisearch';
import { shardForKey } from '../../../src/core/hash.js';
import { assignShard } from '../../../src/core/rendezvous.js';
import { startCluster, type TestCluster } from '../../support/cluster.js';
import { cliPath, startDevNode, tempDir } from '../../support/devnode.js';

let cluster: TestCluster;
const client = () => new Meilisearch({ host: cluster.app.url, apiKey: cluster.masterKey });
const cleanups: Array<() => unknown> = [];

before(async () => {
  cluster = await startCluster({ nodes: 3, rf: 2, shards: 8 });
});
after(async () => {
  for (const c of cleanups.reverse()) await c();
  await cluster.close();
});

test('index update sets the primary key; rename and swap keep Miroir’s view and every node in step', async () => {
  await client().createIndex('a').waitTask();
  const pk = await client().index('a').update({ primaryKey: 'code' }).waitTask();
  assert.equal(pk.status, 'succeeded');
  assert.equal((await client().index('a').getRawInfo()).primaryKey, 'code');
  await client().createIndex('b', { primaryKey: 'id' }).waitTask();
  const swap = await client()
    .swapIndexes([{ indexes: ['a', 'b'], rename: false }])
    .waitTask();
  assert.equal(swap.status, 'succeeded');
  assert.equal(swap.indexUid, null);
  assert.equal((await client().index('a').getRawInfo()).primaryKey, 'id');
  assert.equal((await client().index('b').getRawInfo()).primaryKey, 'code');
  const rename = await client()
    .index('b')
    .update({ uid: 'c' } as never)
    .waitTask();
  assert.equal(rename.status, 'succeeded');
  assert.deepEqual(
    (await client().getIndexes()).results.map((i) => i.uid),
    ['a', 'c'],
  );
  for (const n of cluster.nodes) {
    const res = await fetch(`${n.url}/indexes/c`, { headers: { authorization: `Bearer ${cluster.nodeKey}` } });
    assert.equal(((await res.json()) as { primaryKey: string }).primaryKey, 'code');
  }
});

test('task deletion forgets finished tasks; cancelation needs a filter and reports its counts', async () => {
  const del = await client().tasks.deleteTasks({ types: ['indexSwap'] });
  const done = await client().tasks.waitForTask(del.taskUid);
  assert.equal(done.type, 'taskDeletion');
  assert.equal(done.details?.deletedTasks, 1);
  assert.equal((await client().tasks.getTasks({ types: ['indexSwap'] })).results.length, 0);
  const cancel = await client().tasks.cancelTasks({ statuses: ['enqueued', 'processing'] });
  const canceled = await client().tasks.waitForTask(cancel.taskUid);
  assert.equal(canceled.status, 'succeeded');
  assert.equal(typeof canceled.details?.canceledTasks, 'number');
  const res = await fetch(`${cluster.app.url}/tasks/cancel`, {
    method: 'POST',
    headers: { authorization: `Bearer ${cluster.masterKey}` },
  });
  assert.equal(((await res.json()) as { code: string }).code, 'missing_task_filters');
});

test('stats count every document once at RF=2 and hide reserved fields', async () => {
  await client().createIndex('movies', { primaryKey: 'id' }).waitTask();
  const ids = cluster.config.nodes.map((n) => n.id);
  const perNode = new Map<number, Array<Record<string, unknown>>>();
  for (let i = 0; i < 30; i++) {
    const shard = shardForKey(String(i), 8);
    for (const owner of assignShard(shard, ids, 2)) {
      const idx = ids.indexOf(owner);
      perNode.set(idx, [...(perNode.get(idx) ?? []), { id: i, title: `t${i}`, _miroir_shard: shard }]);
    }
  }
  for (const [idx, docs] of perNode) {
    const res = await fetch(`${cluster.nodes[idx]!.url}/indexes/movies/documents`, {
      method: 'POST',
      headers: { authorization: `Bearer ${cluster.nodeKey}`, 'content-type': 'application/json' },
      body: JSON.stringify(docs),
    });
    assert.equal(res.status, 202);
    await cluster.nodes[idx]!.idle();
  }
  const stats = await client().index('movies').getStats();
  assert.equal(stats.numberOfDocuments, 30);
  assert.deepEqual(stats.fieldDistribution, { id: 30, title: 30 });
  const global = await client().getStats();
  assert.equal(global.indexes.movies!.numberOfDocuments, 30);
});

test('a task outlives a SIGKILLed proxy: its uid and final status are readable after restart', async () => {
  const dir = tempDir();
  cleanups.push(dir.cleanup);
  const node = await startDevNode({ masterKey: 'node-key-kill-0001' });
  cleanups.push(() => node.stop());
  const file = join(dir.dir, 'miroir.yaml');
  writeFileSync(
    file,
    `shards: 4\nreplication_factor: 1\nmaster_key: kill-master-key\nnode_master_key: node-key-kill-0001\nadmin: {api_key: a}\ntask_store: {path: ${JSON.stringify(join(dir.dir, 'store'))}}\nserver: {port: 0, bind: 127.0.0.1}\nmetrics: {port: 0, bind: 127.0.0.1}\nlog: {level: error}\nnodes: [{id: node-0, address: "${node.url}"}]\n`,
  );
  const start = async () => {
    const child = spawn(process.execPath, [cliPath(), 'serve', '--config', file], {
      stdio: ['ignore', 'pipe', 'inherit'],
    });
    cleanups.push(() => child.exitCode === null && child.signalCode === null && child.kill('SIGKILL'));
    const url = await new Promise<string>((resolve) =>
      createInterface({ input: child.stdout! }).on(
        'line',
        (l) => l.includes('"listening"') && resolve((JSON.parse(l) as { url: string }).url),
      ),
    );
    return { child, url };
  };
  const first = await start();
  const c1 = new Meilisearch({ host: first.url, apiKey: 'kill-master-key' });
  const enqueued = await c1.createIndex('durable');
  first.child.kill('SIGKILL');
  await new Promise((r) => first.child.once('exit', r));
  const second = await start();
  const c2 = new Meilisearch({ host: second.url, apiKey: 'kill-master-key' });
  const task = await c2.tasks.waitForTask(enqueued.taskUid);
  assert.equal(task.uid, enqueued.taskUid);
  assert.equal(task.status, 'succeeded');
  const next = await c2.createIndex('after').waitTask();
  assert.ok(next.uid > enqueued.taskUid, 'uids keep increasing');
  second.child.kill('SIGTERM');
  await new Promise((r) => second.child.once('exit', r));
});
