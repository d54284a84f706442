// Task date filters (`beforeEnqueuedAt`, `afterStartedAt`, …) at nanosecond precision, where the shared task model
// (src/core/tasks.ts) compares milliseconds: both bounds exclusive; a bare `YYYY-MM-DD` means midnight, plus one
// day for `after`. The shared parser validates the query first; this only re-reads the dates exactly.
import { MeiliError, type ErrorCode } from '../core/errors.js';
import type { TaskRecord } from '../core/tasks.js';
import { parseDay, parseRfc3339 } from './clock.js';

const DATE_PARAM = /^(before|after)(Enqueued|Started|Finished)At$/;
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
  // Each name once, with its last value (as Meilisearch and the shared parser read a query).
  for (const [key, raw] of new Map(params)) {
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
      throw new MeiliError(
        code,
        `Invalid value in parameter \`${key}\`: \`${raw}\` is an invalid date-time. It should follow the YYYY-MM-DD or RFC 3339 date-time format.`,
      );
    }
    dates.push({
      field: `${m[2]!.toLowerCase()}At` as DateBound['field'],
      before,
      ns: exact ?? day! + (before ? 0n : DAY_NS),
    });
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
