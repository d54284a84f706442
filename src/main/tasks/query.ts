// `GET /tasks` over the store without loading every task: the parameters validated with Meilisearch's errors, the
// candidates streamed in uid order (only the named indexes' listings when `indexUids` is given), filtered, one page
// kept, the rest only counted for `total`. Also the matching of `DELETE /tasks` and `POST /tasks/cancel`.
import { numberOf } from '../../core/types.js';
import { matches, parseCancelOrDeleteFilter, parseTasksQuery, taskView, type TaskFilter } from '../../core/tasks.js';
import type { Store, TaskRow } from '../../store/store.js';
import { batchMatches, batchView, type BatchRecord } from '../../core/batches.js';
import { meiliTask, taskBatch } from './registry.js';

export interface TaskPage {
  results: Array<Record<string, unknown>>;
  total: number;
  limit: number;
  from: number | null;
  next: number | null;
}

/** Streams the tasks a filter can match, in listing order. */
function candidates(store: Store, filter: TaskFilter, from: number | null, reverse: boolean): AsyncIterable<TaskRow> {
  if (filter.uids !== null) return byUids(store, [...filter.uids], from, reverse);
  return store.scanTasks({ from, reverse, indexUids: filter.indexUids });
}

async function* byUids(store: Store, uids: number[], from: number | null, reverse: boolean): AsyncIterable<TaskRow> {
  const ordered = uids
    .filter((u) => from === null || (reverse ? u >= from : u <= from))
    .sort((a, b) => (reverse ? a - b : b - a));
  for (let i = 0; i < ordered.length; i += 256)
    for (const row of await store.getTasks(ordered.slice(i, i + 256))) if (row !== null) yield row;
}

/** Whether a filter is as wide as no filter at all (every task matches; `*` values count as absent). */
function matchesEverything(f: TaskFilter): boolean {
  return (
    f.uids === null &&
    f.batchUids === null &&
    f.canceledBy === null &&
    f.types === null &&
    f.statuses === null &&
    f.indexUids === null &&
    f.dates.length === 0
  );
}

/**
 * One page of `GET /tasks`, newest first unless `reverse`, in Meilisearch's shape: `total` counts every task the
 * filters match (before paging and before leaving out what the caller may not see, as Meilisearch counts), `limit`
 * saturates at u32::MAX, `next` is the first uid of the next page.
 */
export async function queryTasks(
  store: Store,
  params: URLSearchParams,
  visible: (t: TaskRow) => boolean,
): Promise<TaskPage> {
  const q = parseTasksQuery(params);
  const fetch = Math.min(q.limit + 1, 4_294_967_295);
  const limit = fetch - 1;
  const results: Array<Record<string, unknown>> = [];
  let next: number | null = null;
  // With no filter the total is the store's count: the scan stops once the page and `next` are known.
  const countOnly = matchesEverything(q.filter);
  let total = 0;
  for await (const row of candidates(store, q.filter, null, q.reverse)) {
    const task = meiliTask(row);
    if (!matches(task, q.filter)) continue;
    total++;
    if (q.from !== null && (q.reverse ? row.uid < q.from : row.uid > q.from)) continue;
    if (!visible(row)) continue;
    if (results.length < limit) results.push(taskView(task));
    else if (next === null) {
      next = row.uid;
      if (countOnly && q.from === null) break;
    }
  }
  if (countOnly) total = await store.countTasks();
  return { results, total, limit, from: numberOf(results[0]?.uid) ?? null, next };
}

/** The tasks `POST /tasks/cancel` or `DELETE /tasks` matches right now (uids, ascending). */
export async function matchTasks(
  store: Store,
  params: URLSearchParams,
  visible: (t: TaskRow) => boolean,
  what: 'cancel' | 'delete',
): Promise<{ filter: TaskFilter; uids: number[] }> {
  const filter = parseCancelOrDeleteFilter(params, what);
  const uids: number[] = [];
  for await (const row of candidates(store, filter, null, true))
    if (visible(row) && matches(meiliTask(row), filter)) uids.push(row.uid);
  return { filter, uids };
}

/**
 * One page of `GET /batches`: Miroir runs one task per batch (the batch has its task's uid), so batches are the
 * started tasks, filtered with Meilisearch's batch rules and paged by uid like tasks.
 */
export async function queryBatches(
  store: Store,
  params: URLSearchParams,
  visible: (b: BatchRecord, t: TaskRow) => boolean,
): Promise<TaskPage> {
  const q = parseTasksQuery(params);
  const fetch = Math.min(q.limit + 1, 4_294_967_295);
  const limit = fetch - 1;
  const results: Array<Record<string, unknown>> = [];
  let next: number | null = null;
  let total = 0;
  const uids = q.filter.batchUids !== null ? new Set([...q.filter.batchUids]) : null;
  for await (const row of uids !== null
    ? byUids(store, [...uids], null, q.reverse)
    : store.scanTasks({ reverse: q.reverse, indexUids: q.filter.indexUids })) {
    if (row.status === 'enqueued') continue;
    const batch = taskBatch(row);
    if (!batchMatches(batch, [meiliTask(row)], q.filter)) continue;
    total++;
    if (q.from !== null && (q.reverse ? row.uid < q.from : row.uid > q.from)) continue;
    if (!visible(batch, row)) continue;
    if (results.length < limit) results.push(batchView(batch));
    else if (next === null) next = row.uid;
  }
  return { results, total, limit, from: numberOf(results[0]?.uid) ?? null, next };
}
