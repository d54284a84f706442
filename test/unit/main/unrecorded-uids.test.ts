// UnrecordedUids (regression: a Redis failover left a task uid queued without a record while its pod lived on, and
// every later task of the index waited for it forever). The sweep dequeues only this process's uids that have no
// record and that no allocation or sending of this process can still produce.
import assert from 'node:assert/strict';
import { after, test } from 'node:test';
import { UnrecordedUids } from '../../../src/main/tasks/unrecorded.js';
import { LmdbStore } from '../../../src/store/lmdb.js';
import type { TaskRow } from '../../../src/store/store.js';
import { tempDir } from '../../support/devnode.js';
import { until } from '../../support/wait.js';

const dir = tempDir('miroir-unrecorded-');
const store = new LmdbStore({ path: dir.dir });
after(async () => {
  await store.close();
  dir.cleanup();
});

function row(uid: number): TaskRow {
  return {
    uid,
    indexUid: 'movies',
    type: 'documentAdditionOrUpdate',
    status: 'enqueued',
    nodeTasks: {},
    details: null,
    error: null,
    canceledBy: null,
    enqueuedAt: '2026-01-01T00:00:00Z',
    startedAt: null,
    finishedAt: null,
    queues: ['movies'],
  };
}

test('only own, unrecorded uids that nothing here can still record are swept', async () => {
  const me = 'proc-me';
  const u = new UnrecordedUids(store, me, null);
  const lost = await store.enqueueTask(['movies'], me); // allocated, but the reply never reached the process
  const sending = await u.allocate(() => store.enqueueTask(['movies'], me)); // still being sent
  const recorded = await u.allocate(() => store.enqueueTask(['movies'], me));
  await store.putTask(row(recorded));
  u.done(recorded);
  const theirs = await store.enqueueTask(['movies'], 'proc-other');
  // An allocation still pending when the sweep looks: the uid it returns must survive.
  let finish!: () => void;
  const gate = new Promise<void>((r) => (finish = r));
  const late = u.allocate(async () => {
    const uid = await store.enqueueTask(['movies'], me);
    await gate;
    return uid;
  });
  await new Promise((r) => setImmediate(r));
  const sweep = u.sweep();
  await new Promise((r) => setImmediate(r));
  finish();
  const lateUid = await late;
  assert.equal(await sweep, 1);
  assert.deepEqual(await store.queuedTasks('movies'), [sending, recorded, theirs, lateUid]);
  assert.ok(!(await store.queuedTasks('movies')).includes(lost), 'the lost uid no longer holds the queue back');
  u.done(sending);
  u.done(lateUid);
  assert.equal(await u.sweep(), 2, 'given up uids without a record go too');
  assert.deepEqual(await store.queuedTasks('movies'), [recorded, theirs]);
  u.stop();
});

test('a failed allocation schedules a sweep', async () => {
  const me = 'proc-sweeper';
  const u = new UnrecordedUids(store, me, null, 10);
  await assert.rejects(
    u.allocate(async () => {
      await store.enqueueTask(['books'], me);
      throw new Error('reply lost');
    }),
    /reply lost/,
  );
  await until(async () => (await store.queuedTasks('books')).length === 0, 'the sweep after the failure');
  assert.deepEqual(await store.queuedTasks('books'), []);
  u.stop();
});
