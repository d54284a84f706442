// The batch model against Meilisearch v1.50's batch snapshots (tests/batches/mod.rs): object shape and key order,
// details aggregated then stripped of nulls, stats order, strategy texts, Rust step durations, filters and paging.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import {
  accumulateDetails,
  batchMatches,
  batchView,
  formatStepDuration,
  loneTaskBatchStrategy,
  pageBatches,
  parseBatchUid,
  summarizeBatch,
} from '../../../src/core/batches.js';
import { MeiliError } from '../../../src/core/errors.js';
import { parseTasksQuery, type TaskRecord } from '../../../src/core/tasks.js';

function task(uid: number, over: Partial<TaskRecord> = {}): TaskRecord {
  return {
    uid,
    batchUid: 7,
    indexUid: 'movies',
    status: 'succeeded',
    type: 'indexCreation',
    canceledBy: null,
    details: { primaryKey: null },
    error: null,
    enqueuedAt: '2026-01-01T00:00:01.000Z',
    startedAt: '2026-01-01T00:00:02.000Z',
    finishedAt: '2026-01-01T00:00:03.000Z',
    ...over,
  };
}

const when = { startedAt: '2026-01-01T00:00:02.000Z', finishedAt: '2026-01-01T00:00:02.012Z' };

test('a finished batch: Meilisearch key order, details without their nulls, duration, strategy', () => {
  const b = summarizeBatch({
    uid: 7,
    tasks: [task(3)],
    ...when,
    batchStrategy:
      'created batch containing only task with id 3 of type `indexCreation` that cannot be batched with any other task.',
    progressTrace: { 'processing tasks': '1.20ms' },
  });
  const view = batchView(b);
  assert.deepEqual(Object.keys(view), [
    'uid',
    'progress',
    'details',
    'stats',
    'duration',
    'startedAt',
    'finishedAt',
    'batchStrategy',
  ]);
  assert.deepEqual(view, {
    uid: 7,
    progress: null,
    details: {},
    stats: {
      totalNbTasks: 1,
      status: { succeeded: 1 },
      types: { indexCreation: 1 },
      indexUids: { movies: 1 },
      progressTrace: { 'processing tasks': '1.20ms' },
    },
    duration: 'PT0.012S',
    startedAt: when.startedAt,
    finishedAt: when.finishedAt,
    batchStrategy:
      'created batch containing only task with id 3 of type `indexCreation` that cannot be batched with any other task.',
  });
  const running = batchView(
    summarizeBatch({
      uid: 8,
      tasks: [task(4, { status: 'processing' })],
      startedAt: when.startedAt,
      finishedAt: null,
      batchStrategy: 's',
    }),
  );
  assert.deepEqual(
    [running.progress, running.duration, running.finishedAt, running.details],
    [
      { steps: [{ currentStep: 'processing tasks', finished: 0, total: 2 }], percentage: 0 },
      null,
      null,
      { primaryKey: null },
    ],
  );
});

test('a cancelation batch aggregates its tasks: sums, statuses/types/indexUids in Meilisearch order', () => {
  const cancel = task(9, {
    type: 'taskCancelation',
    indexUid: null,
    details: { matchedTasks: 2, canceledTasks: 2, originalFilter: '?uids=1,2' },
  });
  const a = task(1, {
    type: 'documentAdditionOrUpdate',
    status: 'canceled',
    indexUid: 'zeta',
    details: { receivedDocuments: 3, indexedDocuments: 0 },
  });
  const b = task(2, {
    type: 'documentAdditionOrUpdate',
    status: 'canceled',
    indexUid: 'alpha',
    details: { receivedDocuments: 4, indexedDocuments: 0 },
  });
  const s = summarizeBatch({ uid: 7, tasks: [cancel, a, b], ...when, batchStrategy: 'x' });
  assert.deepEqual(s.stats, {
    totalNbTasks: 3,
    status: { succeeded: 1, canceled: 2 },
    types: { documentAdditionOrUpdate: 2, taskCancelation: 1 },
    indexUids: { alpha: 1, zeta: 1 },
  });
  assert.deepEqual(Object.entries(s.details), [
    ['receivedDocuments', 7],
    ['indexedDocuments', 0],
    ['matchedTasks', 2],
    ['canceledTasks', 2],
    ['originalFilter', '?uids=1,2'],
  ]);
  assert.deepEqual(
    accumulateDetails(
      { originalFilter: 'a', stopWords: ['x'] },
      { originalFilter: 'b', stopWords: null, primaryKey: 'id' },
    ),
    { primaryKey: 'id', originalFilter: 'a&b', stopWords: null },
  );
});

test('strategy texts: Meilisearch autobatcher and batch maker wording for a one-task batch', () => {
  const ctx = { enqueuedTotal: 1, enqueuedForIndex: 1, indexPrimaryKey: null, taskPrimaryKey: null };
  const t = (type: string, indexUid: string | null = 'movies') => ({ uid: 5, type, indexUid });
  assert.equal(loneTaskBatchStrategy(t('documentAdditionOrUpdate'), ctx), 'batched all enqueued tasks');
  assert.equal(
    loneTaskBatchStrategy(t('settingsUpdate'), { ...ctx, enqueuedTotal: 3 }),
    'batched all enqueued tasks for index `movies`',
  );
  assert.equal(
    loneTaskBatchStrategy(t('documentDeletion'), { ...ctx, enqueuedTotal: 3, enqueuedForIndex: 2 }),
    'batched up to configured batch limit of 1 tasks',
  );
  assert.equal(
    loneTaskBatchStrategy(t('indexSwap', null), ctx),
    'created batch containing only task with id 5 of type `indexSwap` that cannot be batched with any other task.',
  );
  assert.equal(
    loneTaskBatchStrategy(t('taskDeletion', null), ctx),
    'stopped after the last task of type `taskDeletion` because they cannot be batched with tasks of any other type.',
  );
  assert.equal(
    loneTaskBatchStrategy(t('indexDeletion'), ctx),
    'stopped after task with id 5 because it deletes the index',
  );
  assert.equal(
    loneTaskBatchStrategy(t('documentAdditionOrUpdate'), { ...ctx, indexPrimaryKey: 'id', taskPrimaryKey: 'sku' }),
    'stopped batching before task with id 5 because its primary key `sku` is different from the primary key of the index `id`',
  );
});

test('progressTrace durations print as Rust `{:.2?}`', () => {
  assert.equal(formatStepDuration(0.00012), '120.00ns');
  assert.equal(formatStepDuration(0.0123456), '12.35\u00b5s');
  assert.equal(formatStepDuration(4.1), '4.10ms');
  assert.equal(formatStepDuration(1000), '1.00s');
  assert.equal(formatStepDuration(0.999996), '1000.00\u00b5s', 'rounding carries into the integer, no unit change');
  assert.equal(formatStepDuration(61_500), '61.50s');
});

test('GET /batches filters (task uids, canceledBy, statuses of remaining tasks, dates) and paging', () => {
  const mk = (uid: number, t: TaskRecord[], startedAt = `2026-01-01T00:00:0${uid}.000Z`) =>
    summarizeBatch({ uid, tasks: t, startedAt, finishedAt: `2026-01-01T00:00:0${uid}.500Z`, batchStrategy: 's' });
  const members: Record<number, TaskRecord[]> = {
    0: [task(0, { batchUid: 0 })],
    1: [task(1, { batchUid: 1, status: 'failed', enqueuedAt: '2026-01-01T00:00:00.500Z' })],
    2: [
      task(2, { batchUid: 2, type: 'taskCancelation', indexUid: null }),
      task(5, { batchUid: 2, status: 'canceled', type: 'documentAdditionOrUpdate', canceledBy: 2 }),
    ],
  };
  const batches = [mk(0, members[0]!), mk(1, members[1]!), mk(2, members[2]!)];
  const q = (s: string) => parseTasksQuery(new URLSearchParams(s)).filter;
  const ids = (s: string) => batches.filter((b) => batchMatches(b, members[b.uid]!, q(s))).map((b) => b.uid);
  assert.deepEqual(ids('uids=5'), [2], 'uids are task uids');
  assert.deepEqual(ids('canceledBy=2'), [2]);
  assert.deepEqual(ids('canceledBy=5'), []);
  assert.deepEqual(ids('statuses=failed,canceled'), [1, 2]);
  assert.deepEqual(ids('statuses=enqueued'), []);
  assert.deepEqual(ids('indexUids=movies&types=documentAdditionOrUpdate'), [2]);
  assert.deepEqual(ids('afterStartedAt=2026-01-01T00:00:00.500Z'), [1, 2]);
  assert.deepEqual(ids('beforeEnqueuedAt=2026-01-01T00:00:00.600Z'), [1]);
  const page = pageBatches(
    batches,
    new URLSearchParams('limit=2&reverse=true'),
    (b) => members[b.uid]!,
    () => true,
  ) as { results: Array<{ uid: number }>; total: number; next: number | null };
  assert.deepEqual([page.results.map((b) => b.uid), page.total, page.next], [[0, 1], 3, 2]);
  assert.throws(
    () => parseBatchUid('x'),
    (e: unknown) =>
      e instanceof MeiliError &&
      e.code === 'invalid_batch_uids' &&
      e.message === 'Batch uid `x` is invalid. It should only contain numeric characters.',
  );
});
