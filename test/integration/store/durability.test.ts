// Durability and recovery: what a SIGKILLed process awaited is in the LMDB store when a new process opens it, a
// newer schema refuses to open, and a Redis store survives redis-server being killed and restarted (failing fast
// with StoreUnavailableError meanwhile, never hanging, never corrupting).
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { after, describe, test } from 'node:test';
import { open } from 'lmdb';
import { LmdbStore } from '../../../src/store/lmdb.js';
import { RedisStore } from '../../../src/store/redis.js';
import { StoreUnavailableError } from '../../../src/store/store.js';
import { tempDir } from '../../support/devnode.js';
import { redisSkip, startRedis } from '../../support/redis.js';
import { until } from '../../support/wait.js';

const cleanups: Array<() => unknown> = [];
after(async () => {
  for (const c of cleanups.reverse()) await c();
});

const WRITER = `
const { LmdbStore } = await import(process.argv[1]);
const store = new LmdbStore({ path: process.argv[2] });
for (let i = 0; i < 200; i++) {
  const uid = await store.nextTaskUid();
  await store.putTask({ uid, indexUid: 'i', type: 'documentAdditionOrUpdate', status: 'enqueued', nodeTasks: { n: [uid] }, details: null, error: null, canceledBy: null, enqueuedAt: 'x', startedAt: null, finishedAt: null, queues: ['i'] });
  process.stdout.write('acked ' + uid + '\\n');
}
setInterval(() => {}, 1000);
`;

test('LMDB: everything a SIGKILLed writer awaited is there after reopening in a new process', async () => {
  const dir = tempDir('miroir-durable-');
  cleanups.push(dir.cleanup);
  const modulePath = fileURLToPath(new URL('../../../src/store/lmdb.js', import.meta.url));
  const child = spawn(process.execPath, ['--input-type=module', '-e', WRITER, modulePath, dir.dir], {
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  let acked = -1;
  await new Promise<void>((resolve) => {
    createInterface({ input: child.stdout! }).on('line', (line) => {
      acked = Number(line.split(' ')[1]);
      if (acked === 120) {
        child.kill('SIGKILL');
        resolve();
      }
    });
  });
  await new Promise((r) => child.once('exit', r));
  const store = new LmdbStore({ path: dir.dir });
  cleanups.push(() => store.close());
  for (let uid = 0; uid <= acked; uid++)
    assert.deepEqual((await store.getTask(uid))?.nodeTasks.n, [uid], `task ${uid} was acknowledged`);
  assert.ok((await store.nextTaskUid()) > acked, 'the sequence continues after the last acknowledged uid');
});

test('LMDB: task uids come from reserved blocks, a clean close gives the rest back (no gap), a reopen continues', async () => {
  const dir = tempDir('miroir-uids-');
  cleanups.push(dir.cleanup);
  let store = new LmdbStore({ path: dir.dir });
  const first = await Promise.all(Array.from({ length: 100 }, () => store.nextTaskUid()));
  assert.deepEqual(
    first,
    Array.from({ length: 100 }, (_, i) => i),
    'concurrent callers across a block boundary',
  );
  await store.close();
  store = new LmdbStore({ path: dir.dir });
  cleanups.push(() => store.close());
  assert.equal(await store.nextTaskUid(), 100);
});

test('LMDB: a store written by a newer schema refuses to open with a clear message', async () => {
  const dir = tempDir('miroir-schema-');
  cleanups.push(dir.cleanup);
  const env = open({ path: dir.dir, compression: false });
  await env.openDB({ name: 'meta' }).put('schema_version', 99);
  await env.close();
  assert.throws(() => new LmdbStore({ path: dir.dir }), /schema version 99, newer than this Miroir/);
});

describe('on a real redis-server', { skip: redisSkip() }, () => {
  test('Redis killed and restarted: calls fail fast meanwhile, then the same client recovers', async () => {
    const redis = await startRedis();
    cleanups.push(() => redis.stop());
    const store = await RedisStore.open({ url: redis.url });
    cleanups.push(() => store.close());
    assert.equal(await store.nextTaskUid(), 0);
    await redis.kill();
    // No offline queue: the call is refused at once instead of waiting for a reconnect.
    await assert.rejects(store.nextTaskUid(), (e: unknown) => e instanceof StoreUnavailableError);
    // A cached index read whose `indexes` subscription cannot be made yet fails fast as well (it does not wait for
    // the subscriber to reconnect).
    await assert.rejects(store.getIndexCached('movies'), (e: unknown) => e instanceof StoreUnavailableError);
    await redis.start();
    const deadline = Date.now() + 10_000;
    let uid: number | null = null;
    while (uid === null) {
      try {
        uid = await store.nextTaskUid();
      } catch (err) {
        assert.ok(err instanceof StoreUnavailableError);
        if (Date.now() > deadline) throw err;
        await new Promise((r) => setTimeout(r, 20));
      }
    }
    assert.equal(typeof uid, 'number', 'the client reconnected by itself');
  });

  test('Redis that stops answering with its sockets open: calls fail after the reply timeout, never hang', async () => {
    const redis = await startRedis();
    cleanups.push(() => redis.stop());
    const store = await RedisStore.open({ url: redis.url, replyTimeoutMs: 300 });
    cleanups.push(() => store.close());
    assert.equal(await store.nextTaskUid(), 0);
    redis.pause();
    try {
      // The connection stays open and silent: only the reply timeout ends the call.
      await assert.rejects(store.nextTaskUid(), (e: unknown) => e instanceof StoreUnavailableError);
      await assert.rejects(store.getTask(1), (e: unknown) => e instanceof StoreUnavailableError);
    } finally {
      redis.resume();
    }
    await until(
      async () => (await store.nextTaskUid().catch(() => null)) !== null,
      'the client back on the answering server',
      10_000,
      20,
    );
  });
});
