// Meilisearch v1.50's task model as pure logic, shared by the dev node's queue and the proxy's task registry: the
// task record and its JSON shapes (full and summarized), ISO-8601 durations, and THE validator of the task/batch
// query parameters (GET /tasks, GET /batches, POST /tasks/cancel, DELETE /tasks) with Meilisearch's order and errors.
import { didYouMean } from './did-you-mean.js';
import { MeiliError, type ErrorBody, type ErrorCode } from './errors.js';
import { parseCalendarDate, parseRfc3339 } from './rfc3339.js';
import { TASK_STATUSES, TASK_TYPES, type TaskStatus } from './task-kinds.js';

export { TASK_STATUSES, TASK_TYPES, type TaskStatus };

export interface TaskRecord {
  uid: number;
  batchUid: number | null;
  indexUid: string | null;
  status: TaskStatus;
  type: string;
  canceledBy: number | null;
  details: Record<string, unknown> | null;
  error: ErrorBody | null;
  enqueuedAt: string;
  startedAt: string | null;
  finishedAt: string | null;
  customMetadata?: string;
  /** Measured processing time (sub-millisecond), for `duration`. */
  durationMs?: number;
}

/** Types tied to exactly one index (`Kind::related_to_one_index`); the others are hidden from index-restricted keys. */
export const SINGLE_INDEX_TYPES: ReadonlySet<string> = new Set([
  'documentAdditionOrUpdate',
  'documentEdition',
  'documentDeletion',
  'settingsUpdate',
  'indexCreation',
  'indexDeletion',
  'indexUpdate',
  'indexCompaction',
  'dsrUpdate',
  'dsrClear',
]);

/** Meilisearch's ISO-8601 duration, e.g. `PT0.012S` (shortest exact fraction of ms/µs/ns). */
export function isoDuration(ms: number): string {
  const totalSeconds = Math.max(0, ms) / 1000;
  const days = Math.floor(totalSeconds / 86400);
  const secs = totalSeconds - days * 86400;
  let s = secs.toFixed(9).replace(/0+$/, '').replace(/\.$/, '');
  const frac = s.split('.')[1];
  if (frac !== undefined) s = secs.toFixed(frac.length <= 3 ? 3 : frac.length <= 6 ? 6 : 9);
  return `P${days > 0 ? `${days}D` : ''}T${s}S`;
}

export function taskView(t: TaskRecord): Record<string, unknown> {
  const out: Record<string, unknown> = {
    uid: t.uid,
    batchUid: t.batchUid,
    indexUid: t.indexUid,
    status: t.status,
    type: t.type,
    canceledBy: t.canceledBy,
  };
  if (t.details !== null) out.details = t.details;
  out.error = t.error;
  out.duration =
    t.startedAt !== null && t.finishedAt !== null
      ? isoDuration(t.durationMs ?? Date.parse(t.finishedAt) - Date.parse(t.startedAt))
      : null;
  out.enqueuedAt = t.enqueuedAt;
  out.startedAt = t.startedAt;
  out.finishedAt = t.finishedAt;
  if (t.customMetadata !== undefined) out.customMetadata = t.customMetadata;
  return out;
}

export function summarizedTask(t: TaskRecord): Record<string, unknown> {
  const out: Record<string, unknown> = {
    taskUid: t.uid,
    indexUid: t.indexUid,
    status: t.status,
    type: t.type,
    enqueuedAt: t.enqueuedAt,
  };
  if (t.customMetadata !== undefined) out.customMetadata = t.customMetadata;
  return out;
}

/** The details of a task that failed or was canceled (Meilisearch's `Details::to_failed`): counts become 0. */
export function failedDetails(type: string, details: Record<string, unknown> | null): Record<string, unknown> | null {
  if (details === null) return null;
  const out = { ...details };
  switch (type) {
    case 'documentAdditionOrUpdate':
      out.indexedDocuments = 0;
      break;
    case 'documentEdition':
      out.editedDocuments = 0;
      break;
    case 'documentDeletion':
    case 'indexDeletion':
      out.deletedDocuments = 0;
      break;
    case 'taskCancelation':
      out.canceledTasks = 0;
      break;
    case 'taskDeletion':
      out.deletedTasks = 0;
      break;
  }
  return out;
}

// ---------------------------------------------------------------------------------------------- query parameters

const DATE_PARAMS = [
  'afterEnqueuedAt',
  'beforeEnqueuedAt',
  'afterStartedAt',
  'beforeStartedAt',
  'afterFinishedAt',
  'beforeFinishedAt',
] as const;
type DateParam = (typeof DATE_PARAMS)[number];

function isDateParam(name: string): name is DateParam {
  return DATE_PARAMS.some((p) => p === name);
}

/** `GET /tasks` and `GET /batches` parameters, in Meilisearch's order (the order its "expected one of" lists). */
export const TASKS_QUERY_PARAMS: readonly string[] = Object.freeze([
  'limit',
  'from',
  'reverse',
  'batchUids',
  'uids',
  'canceledBy',
  'types',
  'statuses',
  'indexUids',
  ...DATE_PARAMS,
]);
/** `POST /tasks/cancel` and `DELETE /tasks` parameters, in Meilisearch's order. Any of them present counts as a filter. */
export const TASK_FILTER_PARAMS: readonly string[] = Object.freeze([
  'uids',
  'batchUids',
  'canceledBy',
  'types',
  'statuses',
  'indexUids',
  ...DATE_PARAMS,
]);

const CODES: Readonly<Record<string, ErrorCode>> = Object.freeze({
  limit: 'invalid_task_limit',
  from: 'invalid_task_from',
  reverse: 'invalid_task_reverse',
  uids: 'invalid_task_uids',
  batchUids: 'invalid_batch_uids',
  canceledBy: 'invalid_task_canceled_by',
  types: 'invalid_task_types',
  statuses: 'invalid_task_statuses',
  indexUids: 'invalid_index_uid',
  afterEnqueuedAt: 'invalid_task_after_enqueued_at',
  beforeEnqueuedAt: 'invalid_task_before_enqueued_at',
  afterStartedAt: 'invalid_task_after_started_at',
  beforeStartedAt: 'invalid_task_before_started_at',
  afterFinishedAt: 'invalid_task_after_finished_at',
  beforeFinishedAt: 'invalid_task_before_finished_at',
});

export interface TaskDateFilter {
  field: 'enqueuedAt' | 'startedAt' | 'finishedAt';
  before: boolean;
  /** Epoch milliseconds (fractional: sub-millisecond precision is kept). */
  at: number;
}

export interface TaskFilter {
  /** null = no filter (absent or `*`); an empty set matches nothing (e.g. `uids=`). */
  uids: Set<number> | null;
  batchUids: Set<number> | null;
  canceledBy: Set<number> | null;
  types: Set<string> | null;
  statuses: Set<string> | null;
  indexUids: string[] | null;
  dates: TaskDateFilter[];
  /** The query string as given (for originalFilter). */
  original: string;
  /** Every filter parameter given, `*` included: Meilisearch counts them for cancel/delete ("any" is a filter). */
  present: string[];
}

export interface TasksQuery {
  limit: number;
  from: number | null;
  reverse: boolean;
  filter: TaskFilter;
}

const U32_MAX = 4_294_967_295;

/** Rust's `str::parse::<u32>()`: optional `+`, decimal digits, at most u32::MAX. */
export function parseU32(raw: string): number | null {
  if (!/^\+?\d+$/.test(raw)) return null;
  const n = Number(raw);
  return n <= U32_MAX ? n : null;
}

function invalidValue(code: ErrorCode, location: string, message: string): MeiliError {
  return new MeiliError(code, `Invalid value in parameter \`${location}\`: ${message}`);
}

/** The query's parameters as Meilisearch reads them: each name once, at its first position, with its last value. */
function entriesOf(params: URLSearchParams): Array<[string, string]> {
  const map = new Map<string, string>();
  for (const [k, v] of params) map.set(k, v);
  return [...map];
}

type Parsed<T> = { ok: T } | { error: string };

function parseList<T>(name: string, raw: string, parse: (item: string) => Parsed<T>): T[] | null {
  const items = raw.split(',').filter((s) => s !== '');
  let star = false;
  const out: T[] = [];
  items.forEach((item, i) => {
    if (item === '*') {
      star = true;
      return;
    }
    const v = parse(item);
    if ('error' in v) throw invalidValue(CODES[name]!, items.length > 1 ? `${name}[${i}]` : name, v.error);
    out.push(v.ok);
  });
  return star ? null : out;
}

const notU32 = (item: string) => `could not parse \`${item}\` as a positive integer`;
const LOWER_TYPES = new Map(TASK_TYPES.map((t) => [t.toLowerCase(), t]));

function parseU32Item(item: string): Parsed<number> {
  const n = parseU32(item);
  return n === null ? { error: notU32(item) } : { ok: n };
}

function parseType(item: string): Parsed<string> {
  const t = LOWER_TYPES.get(item.toLowerCase());
  if (t !== undefined) return { ok: t };
  return {
    error: `\`${item}\` is not a valid task type. Available types are ${TASK_TYPES.map((x) => `\`${x}\``).join(', ')}.`,
  };
}

function parseStatus(item: string): Parsed<string> {
  const lower = item.toLowerCase();
  if (TASK_STATUSES.some((s) => s === lower)) return { ok: lower };
  return {
    error: `\`${item}\` is not a valid task status. Available statuses are ${TASK_STATUSES.map((s) => `\`${s}\``).join(', ')}.`,
  };
}

const INDEX_UID_RE = /^[A-Za-z0-9_-]{1,400}$/;

function parseIndexUid(item: string): Parsed<string> {
  if (INDEX_UID_RE.test(item)) return { ok: item };
  return {
    error: `\`${item}\` is not a valid index uid. Index uid can be an integer or a string containing only alphanumeric characters, hyphens (-) and underscores (_), and can not be more than 512 bytes.`,
  };
}

function parseDate(name: DateParam, raw: string): TaskDateFilter | null {
  if (raw === '*') return null;
  const m = /^(before|after)(Enqueued|Started|Finished)At$/.exec(name)!;
  const before = m[1] === 'before';
  const field: TaskDateFilter['field'] =
    m[2] === 'Enqueued' ? 'enqueuedAt' : m[2] === 'Started' ? 'startedAt' : 'finishedAt';
  const at = parseRfc3339(raw);
  if (at !== null) return { field, before, at };
  const day = parseCalendarDate(raw);
  if (day !== null) return { field, before, at: before ? day : day + 86_400_000 };
  throw invalidValue(
    CODES[name]!,
    name,
    `\`${raw}\` is an invalid date-time. It should follow the YYYY-MM-DD or RFC 3339 date-time format.`,
  );
}

function emptyFilter(original: string): TaskFilter {
  return {
    uids: null,
    batchUids: null,
    canceledBy: null,
    types: null,
    statuses: null,
    indexUids: null,
    dates: [],
    original,
    present: [],
  };
}

/**
 * Reads a task/batch query in Meilisearch's way: parameters in the order they appear, each checked as it comes,
 * the first error answered. `accepted` is the ordered list of allowed names (the "expected one of" list).
 */
function readQuery(params: URLSearchParams, accepted: readonly string[]): TasksQuery {
  const q: TasksQuery = { limit: 20, from: null, reverse: false, filter: emptyFilter(params.toString()) };
  const f = q.filter;
  for (const [name, raw] of entriesOf(params)) {
    if (!accepted.includes(name)) {
      throw new MeiliError(
        'bad_request',
        `Unknown parameter \`${name}\`: ${didYouMean(name, accepted)}expected one of ${accepted.map((k) => `\`${k}\``).join(', ')}`,
      );
    }
    switch (name) {
      case 'limit':
      case 'from': {
        const n = parseU32(raw);
        if (n === null) throw invalidValue(CODES[name]!, name, notU32(raw));
        if (name === 'limit') q.limit = n;
        else q.from = n;
        continue;
      }
      case 'reverse':
        if (raw !== 'true' && raw !== 'false')
          throw invalidValue(
            'invalid_task_reverse',
            name,
            `could not parse \`${raw}\` as a boolean, expected either \`true\` or \`false\``,
          );
        q.reverse = raw === 'true';
        continue;
      case 'uids':
      case 'batchUids':
      case 'canceledBy': {
        const list = parseList(name, raw, parseU32Item);
        f[name] = list === null ? null : new Set(list);
        break;
      }
      case 'types': {
        const list = parseList(name, raw, parseType);
        f.types = list === null ? null : new Set(list);
        break;
      }
      case 'statuses': {
        const list = parseList(name, raw, parseStatus);
        f.statuses = list === null ? null : new Set(list);
        break;
      }
      case 'indexUids': {
        const list = parseList(name, raw, parseIndexUid);
        f.indexUids = list;
        break;
      }
      default: {
        if (!isDateParam(name)) continue; // an extra name the caller allowed
        const d = parseDate(name, raw);
        if (d !== null) f.dates.push(d);
      }
    }
    f.present.push(name);
  }
  return q;
}

/** Parses `GET /tasks` / `GET /batches` parameters (paging and filters), with Meilisearch's errors. */
export function parseTasksQuery(params: URLSearchParams): TasksQuery {
  return readQuery(params, TASKS_QUERY_PARAMS);
}

/**
 * Parses task filters from a query string. Without `allowed`: the `POST /tasks/cancel` / `DELETE /tasks` parameter
 * set. With paging names in `allowed` (`limit`, `from`, `reverse`): the `GET /tasks` set, paging validated too.
 */
export function parseTaskFilter(params: URLSearchParams, allowed: string[] = []): TaskFilter {
  const paging = allowed.some((a) => a === 'limit' || a === 'from' || a === 'reverse');
  const accepted = paging
    ? TASKS_QUERY_PARAMS
    : [...TASK_FILTER_PARAMS, ...allowed.filter((a) => !TASK_FILTER_PARAMS.includes(a))];
  return readQuery(params, accepted).filter;
}

export function missingTaskFilters(what: 'cancel' | 'delete'): MeiliError {
  return new MeiliError(
    'missing_task_filters',
    `Query parameters to filter the tasks to ${what} are missing. Available query parameters are: \`uids\`, \`indexUids\`, \`statuses\`, \`types\`, \`canceledBy\`, \`beforeEnqueuedAt\`, \`afterEnqueuedAt\`, \`beforeStartedAt\`, \`afterStartedAt\`, \`beforeFinishedAt\`, \`afterFinishedAt\`.`,
  );
}

/** `POST /tasks/cancel` / `DELETE /tasks`: the filter, or Meilisearch's error when no filter parameter is given. */
export function parseCancelOrDeleteFilter(params: URLSearchParams, what: 'cancel' | 'delete'): TaskFilter {
  const filter = parseTaskFilter(params);
  if (!hasFilter(filter)) throw missingTaskFilters(what);
  return filter;
}

/** Whether any filter parameter was given (a `*` counts, as for Meilisearch). */
export function hasFilter(f: TaskFilter): boolean {
  return f.present.length > 0;
}

function dateOk(v: string | null, d: TaskDateFilter): boolean {
  if (v === null) return false;
  const ms = Date.parse(v);
  return d.before ? ms < d.at : ms > d.at;
}

export function matches(t: TaskRecord, f: TaskFilter): boolean {
  if (f.uids && !f.uids.has(t.uid)) return false;
  if (f.batchUids && (t.batchUid === null || !f.batchUids.has(t.batchUid))) return false;
  if (f.canceledBy && (t.canceledBy === null || !f.canceledBy.has(t.canceledBy))) return false;
  if (f.types && !f.types.has(t.type)) return false;
  if (f.statuses && !f.statuses.has(t.status)) return false;
  if (f.indexUids && (t.indexUid === null || !f.indexUids.includes(t.indexUid))) return false;
  for (const d of f.dates) if (!dateOk(t[d.field], d)) return false;
  return true;
}

/**
 * What a caller may see of the task list (Meilisearch's rule): everything when every index is authorized,
 * otherwise only single-index tasks of authorized indexes.
 */
export function taskVisibility(allIndexes: boolean, allowsIndex: (uid: string) => boolean): (t: TaskRecord) => boolean {
  if (allIndexes) return () => true;
  return (t) => t.indexUid !== null && SINGLE_INDEX_TYPES.has(t.type) && allowsIndex(t.indexUid);
}

/**
 * One page of uid-ordered items (descending unless reverse), Meilisearch's `{results, total, limit, from, next}`:
 * it fetches `limit + 1` (saturating at u32::MAX) and pops the extra one as `next`.
 */
export function pageByUid<T extends { uid: number }>(
  matched: T[],
  total: number,
  q: TasksQuery,
  view: (item: T) => unknown,
): Record<string, unknown> {
  const sorted = [...matched].sort((a, b) => (q.reverse ? a.uid - b.uid : b.uid - a.uid));
  const from = q.from;
  const selected = from === null ? sorted : sorted.filter((t) => (q.reverse ? t.uid >= from : t.uid <= from));
  const fetch = Math.min(q.limit + 1, U32_MAX);
  const page = selected.slice(0, fetch);
  const next = page.length === fetch ? page.pop()!.uid : null;
  return { results: page.map(view), total, limit: fetch - 1, from: page.length > 0 ? page[0]!.uid : null, next };
}

/**
 * GET /tasks over records: filters, then paging by uid. `total` counts every task matching the filters, like
 * Meilisearch (before `from`/`limit` and before leaving out what the caller may not see).
 */
export function pageTasks(
  all: TaskRecord[],
  params: URLSearchParams,
  visible: (t: TaskRecord) => boolean,
): Record<string, unknown> {
  const q = parseTasksQuery(params);
  const matched = all.filter((t) => matches(t, q.filter));
  return pageByUid(matched.filter(visible), matched.length, q, taskView);
}

/** `GET /tasks/{uid}`: the uid as Meilisearch parses it, or its `invalid_task_uids` error. */
export function parseTaskUid(raw: string): number {
  const n = parseU32(raw);
  if (n === null)
    throw new MeiliError(
      'invalid_task_uids',
      `Task uid \`${raw}\` is invalid. It should only contain numeric characters.`,
    );
  return n;
}

export function taskNotFound(uid: number): MeiliError {
  return new MeiliError('task_not_found', `Task \`${uid}\` not found.`);
}

/** The raw query string of a request URL (what Meilisearch echoes in `originalFilter`, after a `?`). */
export function rawQueryOf(url: string | undefined): string {
  if (url === undefined) return '';
  const i = url.indexOf('?');
  return i < 0 ? '' : url.slice(i + 1);
}
