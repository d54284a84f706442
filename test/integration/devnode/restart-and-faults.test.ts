// The dev node as a process: `--data` persistence across SIGKILL, body limits, and the fault-injection controls
// later tests rely on (delay, hang, fail_after_enqueue).
import assert from 'node:assert/strict';
import { after, test } from 'node:test';
import { Meilisearch } from 'meilisearch';
import { startDevNode, tempDir } from '../../support/devnode.js';

const MASTER = 'restart-master-key-000001';
const cleanups: Array<() => void | Promise<void>> = [];
after(async () => {
  for (const c of cleanups.reverse()) await c();
});

test('a SIGKILLed node restarted on the same data keeps indexes, documents, settings, keys and tasks', async () => {
  const data = tempDir();
  cleanups.push(data.cleanup);
  const node = await startDevNode({ masterKey: MASTER, dataDir: data.dir, childProcess: true });
  cleanups.push(() => node.stop());
  const client = new Meilisearch({ host: node.url, apiKey: MASTER });
  await client
    .index('movies')
    .addDocuments([
      { id: 1, title: 'Carol' },
      { id: 2, title: 'Moana' },
    ])
    .waitTask();
  const settingsTask = await client.index('movies').updateFilterableAttributes(['title']).waitTask();
  const key = await client.createKey({ actions: ['search'], indexes: ['movies'], expiresAt: null, name: 'kept' });
  const keysBefore = (await client.getKeys()).results.map((k) => k.key).sort();
  await node.kill();
  await node.restart();
  const again = new Meilisearch({ host: node.url, apiKey: MASTER });
  assert.equal((await again.index('movies').getStats()).numberOfDocuments, 2);
  assert.deepEqual(await again.index('movies').getFilterableAttributes(), ['title']);
  assert.equal((await again.tasks.getTask(settingsTask.uid)).status, 'succeeded');
  assert.deepEqual(
    (await again.getKeys()).results.map((k) => k.key).sort(),
    keysBefore,
    'keys and their derived values survive',
  );
  const searcher = new Meilisearch({ host: node.url, apiKey: key.key });
  assert.equal((await searcher.index('movies').search('carol')).hits.length, 1);
  const next = await again
    .index('movies')
    .addDocuments([{ id: 3, title: 'Up' }])
    .waitTask();
  assert.ok(next.uid > settingsTask.uid, 'task uids keep increasing after a restart');
});

test('payload too large answers 413 payload_too_large and the node keeps serving', async () => {
  const node = await startDevNode({ masterKey: MASTER });
  cleanups.push(() => node.stop());
  const big = JSON.stringify([{ id: 1, blob: 'x'.repeat(110 * 1024 * 1024) }]);
  const res = await fetch(`${node.url}/indexes/big/documents`, {
    method: 'POST',
    headers: { authorization: `Bearer ${MASTER}`, 'content-type': 'application/json' },
    body: big,
  });
  assert.equal(res.status, 413);
  assert.equal(((await res.json()) as { code: string }).code, 'payload_too_large');
  assert.equal((await fetch(`${node.url}/health`)).status, 200);
});

test('fault injection: delay, hang and fail_after_enqueue behave as documented', async () => {
  const node = await startDevNode({ masterKey: MASTER });
  cleanups.push(() => node.stop());
  const auth = { authorization: `Bearer ${MASTER}`, 'content-type': 'application/json' };
  const set = (faults: object) =>
    fetch(`${node.url}/_devnode/faults`, { method: 'POST', headers: auth, body: JSON.stringify(faults) });
  assert.equal(
    (
      await fetch(`${node.url}/_devnode/faults`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: '{}',
      })
    ).status,
    401,
    'the control route needs the master key',
  );
  assert.equal((await set({ fail_after_enqueue: 1 })).status, 200);
  const failed = await fetch(`${node.url}/indexes/f/documents`, { method: 'POST', headers: auth, body: '[{"id":1}]' });
  assert.equal(failed.status, 500, 'the write enqueued its task, then the answer failed');
  const tasks = (await (await fetch(`${node.url}/tasks?indexUids=f`, { headers: auth })).json()) as {
    results: Array<{ type: string }>;
  };
  assert.equal(tasks.results.length, 1, 'exactly one task was enqueued');
  const ok = await fetch(`${node.url}/indexes/f/documents`, { method: 'POST', headers: auth, body: '[{"id":2}]' });
  assert.equal(ok.status, 202, 'the count ran out');
  await set({ hang: true });
  const controller = AbortSignal.timeout(300);
  await assert.rejects(fetch(`${node.url}/health`, { signal: controller }), /abort|timeout/i);
  await fetch(`${node.url}/_devnode/faults/reset`, { method: 'POST', headers: auth });
  await set({ delay_ms: 50 });
  const t0 = performance.now();
  assert.equal((await fetch(`${node.url}/health`)).status, 200);
  assert.ok(performance.now() - t0 >= 45, 'answers are delayed');
});
