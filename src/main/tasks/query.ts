// `GET /tasks` over the store without loading every task: the parameters validated with Meilisearch's errors, the
// candidates streamed in uid order (only the named indexes' listings when `indexUids` is given), filtered, one page
// kept, the rest only counted for `total`. Also the matching of `DELETE /tasks` and `POST /tasks/cancel`.
import { MeiliError } from '../../core/errors.js';
import { hasFilter, matches, pageTasks, parseTaskFilter, taskView, type TaskFilter } from '../../core/tasks.js';
import type { Store, TaskRow } from '../../store/store.js';
import { meiliTask } from './registry.js';

export interface TaskPage {
  results: Array<Record<string, unknown>>;
  total: number;
  limit: number;
  from: number | null;
  next: number | null;
}

function uintParam(params: URLSearchParams, name: string, dflt: number | null): number | null {
  const raw = params.get(name);
  return raw === null ? dflt : Number(raw);
}

/** Streams the tasks a filter can match, in listing order. */
function candidates(store: Store, filter: TaskFilter, from: number | null, reverse: boolean): AsyncIterable<TaskRow> {
  if (filter.uids !== null) return byUids(store, [...filter.uids], from, reverse);
  return store.scanTasks({ from, reverse, indexUids: filter.indexUids });
}

async function* byUids(store: Store, uids: number[], from: number | null, reverse: boolean): AsyncIterable<TaskRow> {
  const ordered = uids.filter((u) => from === null || (reverse ? u >= from : u <= from)).sort((a, b) => (reverse ? a - b : b - a));
  for (let i = 0; i < ordered.length; i += 256) for (const row of await store.getTasks(ordered.slice(i, i + 256))) if (row !== null) yield row;
}

/** One page of `GET /tasks`, newest first unless `reverse`, with Meilisearch's `total`, `from` and `next`. */
export async function queryTasks(store: Store, params: URLSearchParams, visible: (t: TaskRow) => boolean, allVisible: boolean): Promise<TaskPage> {
  pageTasks([], params, () => true); // validates every parameter with Meilisearch's errors
  const filter = parseTaskFilter(params, ['limit', 'from', 'reverse']);
  const limit = uintParam(params, 'limit', 20)!;
  const from = uintParam(params, 'from', null);
  const reverse = params.get('reverse') === 'true';
  const results: Array<Record<string, unknown>> = [];
  let next: number | null = null;
  // Without a filter the total is the store's count: the scan stops once the page and `next` are known.
  const countOnly = !hasFilter(filter) && allVisible;
  let total = 0;
  for await (const row of candidates(store, filter, from, reverse)) {
    if (!visible(row) || !matches(meiliTask(row), filter)) continue;
    total++;
    if (results.length < limit) results.push(taskView(meiliTask(row)));
    else if (next === null) {
      next = row.uid;
      if (countOnly) break;
    }
  }
  if (countOnly) total = await store.countTasks();
  return { results, total, limit, from: (results[0]?.uid as number | undefined) ?? null, next };
}

/** The tasks `POST /tasks/cancel` or `DELETE /tasks` matches right now (uids, ascending). */
export async function matchTasks(store: Store, params: URLSearchParams, visible: (t: TaskRow) => boolean, what: 'cancel' | 'delete'): Promise<{ filter: TaskFilter; uids: number[] }> {
  const filter = parseTaskFilter(params);
  if (!hasFilter(filter)) throw missingFilters(what);
  const uids: number[] = [];
  for await (const row of candidates(store, filter, null, true)) if (visible(row) && matches(meiliTask(row), filter)) uids.push(row.uid);
  return { filter, uids };
}

export function missingFilters(what: 'cancel' | 'delete'): MeiliError {
  return new MeiliError(
    'missing_task_filters',
    `Query parameters to filter the tasks to ${what} are missing. Available query parameters are: \`uids\`, \`indexUids\`, \`statuses\`, \`types\`, \`canceledBy\`, \`beforeEnqueuedAt\`, \`afterEnqueuedAt\`, \`beforeStartedAt\`, \`afterStartedAt\`, \`beforeFinishedAt\`, \`afterFinishedAt\`.`,
  );
}
