// The task/batch query validator against Meilisearch v1.50's answers (tests/tasks/errors.rs, tests/batches/errors.rs,
// routes/tasks.rs): parameter order, first error, `*` as "any", cancel/delete filters, dates, paging and totals.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { damerauLevenshtein, didYouMean } from '../../../src/core/did-you-mean.js';
import { MeiliError } from '../../../src/core/errors.js';
import { parseCalendarDate, parseRfc3339 } from '../../../src/core/rfc3339.js';
import {
  failedDetails,
  hasFilter,
  matches,
  pageTasks,
  parseCancelOrDeleteFilter,
  parseTaskFilter,
  parseTasksQuery,
  parseTaskUid,
  taskVisibility,
  type TaskRecord,
} from '../../../src/core/tasks.js';

function err(fn: () => unknown): { message: string; code: string; status: number } {
  try {
    fn();
  } catch (e) {
    assert.ok(e instanceof MeiliError, String(e));
    return { message: e.message, code: e.code, status: e.status };
  }
  assert.fail('no error');
}

const list = (q: string) => parseTasksQuery(new URLSearchParams(q));
const cancel = (q: string) => parseCancelOrDeleteFilter(new URLSearchParams(q), 'cancel');

const EXPECTED_LIST =
  '`limit`, `from`, `reverse`, `batchUids`, `uids`, `canceledBy`, `types`, `statuses`, `indexUids`, `afterEnqueuedAt`, `beforeEnqueuedAt`, `afterStartedAt`, `beforeStartedAt`, `afterFinishedAt`, `beforeFinishedAt`';
const EXPECTED_FILTER =
  '`uids`, `batchUids`, `canceledBy`, `types`, `statuses`, `indexUids`, `afterEnqueuedAt`, `beforeEnqueuedAt`, `afterStartedAt`, `beforeStartedAt`, `afterFinishedAt`, `beforeFinishedAt`';

test('messages and codes of Meilisearch for every bad parameter', () => {
  assert.deepEqual(
    err(() => list('uids=doggo')),
    {
      message: 'Invalid value in parameter `uids`: could not parse `doggo` as a positive integer',
      code: 'invalid_task_uids',
      status: 400,
    },
  );
  assert.equal(
    err(() => cancel('uids=1,dogo')).message,
    'Invalid value in parameter `uids[1]`: could not parse `dogo` as a positive integer',
  );
  assert.equal(err(() => list('canceledBy=doggo')).code, 'invalid_task_canceled_by');
  assert.deepEqual(
    err(() => list('batchUids=x')),
    {
      message: 'Invalid value in parameter `batchUids`: could not parse `x` as a positive integer',
      code: 'invalid_batch_uids',
      status: 400,
    },
  );
  assert.equal(
    err(() => list('types=doggo')).message,
    'Invalid value in parameter `types`: `doggo` is not a valid task type. Available types are `documentAdditionOrUpdate`, `documentEdition`, `documentDeletion`, `settingsUpdate`, `indexCreation`, `indexDeletion`, `indexUpdate`, `indexSwap`, `taskCancelation`, `taskDeletion`, `dumpCreation`, `snapshotCreation`, `export`, `upgradeDatabase`, `indexCompaction`, `networkTopologyChange`, `dsrUpdate`, `dsrClear`.',
  );
  assert.equal(
    err(() => list('statuses=doggo')).message,
    'Invalid value in parameter `statuses`: `doggo` is not a valid task status. Available statuses are `enqueued`, `processing`, `succeeded`, `failed`, `canceled`.',
  );
  assert.deepEqual(
    err(() => list('indexUids=the%20good%20doggo')),
    {
      message:
        'Invalid value in parameter `indexUids`: `the good doggo` is not a valid index uid. Index uid can be an integer or a string containing only alphanumeric characters, hyphens (-) and underscores (_), and can not be more than 512 bytes.',
      code: 'invalid_index_uid',
      status: 400,
    },
  );
  assert.equal(
    err(() => list('limit=doggo')).message,
    'Invalid value in parameter `limit`: could not parse `doggo` as a positive integer',
  );
  assert.equal(err(() => list('limit=4294967296')).code, 'invalid_task_limit');
  assert.equal(err(() => list('from=-1')).code, 'invalid_task_from');
  assert.equal(
    err(() => list('reverse=*')).message,
    'Invalid value in parameter `reverse`: could not parse `*` as a boolean, expected either `true` or `false`',
  );
  assert.deepEqual(
    err(() => cancel('limit=doggo')),
    { message: `Unknown parameter \`limit\`: expected one of ${EXPECTED_FILTER}`, code: 'bad_request', status: 400 },
  );
  assert.equal(err(() => list('lol=pied')).message, `Unknown parameter \`lol\`: expected one of ${EXPECTED_LIST}`);
  for (const [name, code] of [
    ['afterEnqueuedAt', 'invalid_task_after_enqueued_at'],
    ['beforeEnqueuedAt', 'invalid_task_before_enqueued_at'],
    ['afterStartedAt', 'invalid_task_after_started_at'],
    ['beforeStartedAt', 'invalid_task_before_started_at'],
    ['afterFinishedAt', 'invalid_task_after_finished_at'],
    ['beforeFinishedAt', 'invalid_task_before_finished_at'],
  ] as const) {
    assert.deepEqual(
      err(() => cancel(`${name}=doggo`)),
      {
        message: `Invalid value in parameter \`${name}\`: \`doggo\` is an invalid date-time. It should follow the YYYY-MM-DD or RFC 3339 date-time format.`,
        code,
        status: 400,
      },
    );
  }
  assert.deepEqual(
    err(() => parseTaskUid('abc')),
    {
      message: 'Task uid `abc` is invalid. It should only contain numeric characters.',
      code: 'invalid_task_uids',
      status: 400,
    },
  );
  assert.equal(parseTaskUid('+7'), 7, 'Rust u32 parsing takes a leading +');
});

test('parameters are read in the order given; the first error wins; a repeated name keeps its last value', () => {
  assert.equal(err(() => list('statuses=nope&uids=x')).code, 'invalid_task_statuses');
  assert.equal(err(() => list('uids=x&statuses=nope')).code, 'invalid_task_uids');
  assert.equal(err(() => list('limit=x&lol=1')).code, 'invalid_task_limit');
  assert.equal(err(() => list('lol=1&limit=x')).code, 'bad_request');
  assert.equal(list('uids=x&limit=2&uids=3').filter.uids?.has(3), true);
});

test('unknown parameters get the did-you-mean hint', () => {
  assert.equal(
    err(() => list('statuss=failed')).message,
    `Unknown parameter \`statuss\`: did you mean \`statuses\`? expected one of ${EXPECTED_LIST}`,
  );
  assert.equal(
    err(() => cancel('uid=1')).message,
    `Unknown parameter \`uid\`: expected one of ${EXPECTED_FILTER}`,
    'three bytes or fewer: no hint',
  );
  assert.equal(
    didYouMean('attributes_to_highlight', ['q', 'attributesToHighlight']),
    'did you mean `attributesToHighlight`? ',
  );
  assert.equal(damerauLevenshtein('ca', 'abc'), 2);
});

test('`*` is "any" for every list and date filter, and counts as a filter for cancel/delete', () => {
  const q = list(
    'uids=*&batchUids=*&canceledBy=*&types=*,documentAdditionOrUpdate&statuses=*,failed&indexUids=test,*&afterEnqueuedAt=*&beforeFinishedAt=*',
  );
  assert.deepEqual(
    [q.filter.uids, q.filter.types, q.filter.statuses, q.filter.indexUids, q.filter.dates],
    [null, null, null, null, []],
  );
  for (const p of [
    'afterEnqueuedAt=*',
    'beforeEnqueuedAt=*',
    'afterStartedAt=*',
    'beforeStartedAt=*',
    'afterFinishedAt=*',
    'beforeFinishedAt=*',
    'uids=*',
    'batchUids=*',
    'statuses=*',
  ]) {
    assert.ok(hasFilter(cancel(p)), p);
  }
  assert.deepEqual(
    err(() => cancel('')),
    {
      message:
        'Query parameters to filter the tasks to cancel are missing. Available query parameters are: `uids`, `indexUids`, `statuses`, `types`, `canceledBy`, `beforeEnqueuedAt`, `afterEnqueuedAt`, `beforeStartedAt`, `afterStartedAt`, `beforeFinishedAt`, `afterFinishedAt`.',
      code: 'missing_task_filters',
      status: 400,
    },
  );
  assert.equal(
    err(() => parseCancelOrDeleteFilter(new URLSearchParams(), 'delete')).message.startsWith(
      'Query parameters to filter the tasks to delete are missing.',
    ),
    true,
  );
  assert.ok(hasFilter(parseTaskFilter(new URLSearchParams('statuses=*'))), 'the compatible parseTaskFilter agrees');
  assert.deepEqual([...cancel('uids=').uids!], [], '`uids=` is an empty list: it matches nothing');
  assert.deepEqual(
    [...list('types=IndexUpdate&statuses=FAILED').filter.types!, ...list('statuses=FAILED').filter.statuses!],
    ['indexUpdate', 'failed'],
    'case-insensitive, canonical names',
  );
});

test('dates: RFC 3339 (any separator, offsets, fractions, leap second) and YYYY-MM-DD (after = next midnight)', () => {
  assert.equal(parseRfc3339('2024-08-08T16:37:09.971Z'), Date.parse('2024-08-08T16:37:09.971Z'));
  assert.equal(parseRfc3339('2024-08-08 18:37:09+02:00'), Date.parse('2024-08-08T16:37:09Z'));
  assert.equal(parseRfc3339('2024-08-08t16:37:09.5z'), Date.parse('2024-08-08T16:37:09.500Z'));
  assert.equal(parseRfc3339('2016-12-31T23:59:60Z'), Date.parse('2016-12-31T23:59:59.999Z') + 0.999999);
  for (const bad of [
    '2024-02-30T00:00:00Z',
    '2024-08-08T24:00:00Z',
    '2024-08-08T16:37:09',
    '2024-08-08T16:37:09.Z',
    '2016-12-30T23:59:60Z',
    '2024-08-08T16:37:09+24:00',
  ]) {
    assert.equal(parseRfc3339(bad), null, bad);
  }
  assert.equal(parseCalendarDate('2024-02-29'), Date.parse('2024-02-29T00:00:00Z'));
  assert.equal(parseCalendarDate('2023-02-29'), null);
  const day = Date.parse('2024-08-08T00:00:00Z');
  assert.deepEqual(list('afterEnqueuedAt=2024-08-08&beforeStartedAt=2024-08-08').filter.dates, [
    { field: 'enqueuedAt', before: false, at: day + 86_400_000 },
    { field: 'startedAt', before: true, at: day },
  ]);
});

function task(uid: number, over: Partial<TaskRecord> = {}): TaskRecord {
  return {
    uid,
    batchUid: uid,
    indexUid: 'movies',
    status: 'succeeded',
    type: 'documentAdditionOrUpdate',
    canceledBy: null,
    details: null,
    error: null,
    enqueuedAt: `2026-01-01T00:00:0${uid}.000Z`,
    startedAt: `2026-01-01T00:00:0${uid}.500Z`,
    finishedAt: `2026-01-01T00:00:0${uid}.900Z`,
    ...over,
  };
}

test('filters, paging (from/next/reverse/limit=0) and totals counted before visibility', () => {
  const tasks = [
    task(0, { type: 'indexCreation' }),
    task(1),
    task(2, { status: 'failed' }),
    task(3, { indexUid: 'books' }),
    task(4, { indexUid: null, type: 'taskDeletion' }),
  ];
  const page = (q: string, visible: (t: TaskRecord) => boolean = () => true) => {
    const r = pageTasks(tasks, new URLSearchParams(q), visible) as {
      results: Array<{ uid: number }>;
      total: number;
      limit: number;
      from: number | null;
      next: number | null;
    };
    return { uids: r.results.map((t) => t.uid), total: r.total, limit: r.limit, from: r.from, next: r.next };
  };
  assert.deepEqual(page('limit=2'), { uids: [4, 3], total: 5, limit: 2, from: 4, next: 2 });
  assert.deepEqual(page('limit=2&from=1'), { uids: [1, 0], total: 5, limit: 2, from: 1, next: null });
  assert.deepEqual(page('limit=2&from=3&reverse=true'), { uids: [3, 4], total: 5, limit: 2, from: 3, next: null });
  assert.deepEqual(page('limit=0'), { uids: [], total: 5, limit: 0, from: null, next: 4 });
  assert.deepEqual(
    page('limit=4294967295'),
    { uids: [4, 3, 2, 1, 0], total: 5, limit: 4294967294, from: 4, next: null },
    'limit + 1 saturates, as in Meilisearch',
  );
  assert.deepEqual(page('afterEnqueuedAt=2026-01-01T00:00:02Z&statuses=*').uids, [4, 3], 'after is strict');
  assert.deepEqual(page('beforeStartedAt=2026-01-01T00:00:01.500Z').uids, [0]);
  assert.deepEqual(page('indexUids=movies&types=documentAdditionOrUpdate').uids, [2, 1]);
  const moviesOnly = taskVisibility(false, (uid) => uid === 'movies');
  assert.deepEqual(
    page('', moviesOnly),
    { uids: [2, 1, 0], total: 5, limit: 20, from: 2, next: null },
    'index-less and other-index tasks hidden, total as Meilisearch',
  );
  assert.ok(matches(task(9, { canceledBy: 4 }), list('canceledBy=4').filter));
});

test('failed and canceled tasks report zero counts (Meilisearch to_failed)', () => {
  assert.deepEqual(failedDetails('documentAdditionOrUpdate', { receivedDocuments: 2, indexedDocuments: null }), {
    receivedDocuments: 2,
    indexedDocuments: 0,
  });
  assert.deepEqual(failedDetails('indexDeletion', { deletedDocuments: null }), { deletedDocuments: 0 });
  assert.deepEqual(failedDetails('indexCreation', { primaryKey: null }), { primaryKey: null });
});
