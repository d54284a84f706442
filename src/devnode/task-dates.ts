// Task query parameters where the dev node answers more exactly than the shared task model (src/core/tasks.ts):
// unknown parameters named in Meilisearch's order, and date filters (`beforeEnqueuedAt`, `afterStartedAt`, …) at
// nanosecond precision (both bounds exclusive; a bare `YYYY-MM-DD` means midnight, plus one day for `after`).
import { MeiliError, type ErrorCode } from '../core/errors.js';
import type { TaskRecord } from '../core/tasks.js';
import { parseDay, parseRfc3339 } from './clock.js';

const DATE_PARAM = /^(before|after)(Enqueued|Started|Finished)At$/;
const FILTER_PARAMS = ['uids', 'batchUids', 'canceledBy', 'types', 'statuses', 'indexUids', 'afterEnqueuedAt', 'beforeEnqueuedAt', 'afterStartedAt', 'beforeStartedAt', 'afterFinishedAt', 'beforeFinishedAt'];
/** The parameters of `GET /tasks` (paging first, then the filters), and of cancel/delete (the filters only). */
export const LIST_TASK_PARAMS = ['limit', 'from', 'reverse', 'batchUids', ...FILTER_PARAMS.filter((p) => p !== 'batchUids')];
export const FILTER_TASK_PARAMS = FILTER_PARAMS;

/** Throws Meilisearch's `bad_request` for the first parameter not in `allowed` (listed in Meilisearch's order). */
export function checkTaskParams(params: URLSearchParams, allowed: readonly string[]): void {
  for (const key of params.keys()) {
    if (!allowed.includes(key)) throw new MeiliError('bad_request', `Unknown parameter \`${key}\`: expected one of ${allowed.map((k) => `\`${k}\``).join(', ')}`);
  }
}
const DAY_NS = 86_400n * 1_000_000_000n;

export interface DateBound {
  field: 'enqueuedAt' | 'startedAt' | 'finishedAt';
  before: boolean;
  ns: bigint;
}

/** Takes the date filters out of `params` (validated, as Meilisearch parses them); the rest is returned as is. */
export function splitDateFilters(params: URLSearchParams): { rest: URLSearchParams; dates: DateBound[] } {
  const rest = new URLSearchParams();
  const dates: DateBound[] = [];
  for (const [key, raw] of params) {
    const m = DATE_PARAM.exec(key);
    if (m === null) {
      rest.append(key, raw);
      continue;
    }
    const before = m[1] === 'before';
    if (raw === '*') continue;
    const exact = parseRfc3339(raw);
    const day = exact === null ? parseDay(raw) : null;
    if (exact === null && day === null) {
      const code = `invalid_task_${m[1]}_${m[2]!.toLowerCase()}_at` as ErrorCode;
      throw new MeiliError(code, `Invalid value in parameter \`${key}\`: \`${raw}\` is an invalid date-time. It should follow the YYYY-MM-DD or RFC 3339 date-time format.`);
    }
    dates.push({ field: `${m[2]!.toLowerCase()}At` as DateBound['field'], before, ns: exact ?? day! + (before ? 0n : DAY_NS) });
  }
  return { rest, dates };
}

/** Whether a task's dates fall strictly inside every bound (a task without that date never matches). */
export function matchesDates(t: TaskRecord, dates: readonly DateBound[]): boolean {
  for (const d of dates) {
    const v = t[d.field];
    if (v === null) return false;
    const ns = parseRfc3339(v);
    if (ns === null || (d.before ? !(ns < d.ns) : !(ns > d.ns))) return false;
  }
  return true;
}
