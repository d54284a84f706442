// Meilisearch's task model as pure logic, shared by the dev node's queue and the proxy's task registry: the task
// record and its JSON shapes (full and summarized), ISO-8601 durations, GET /tasks filters and paging
// (`from`/`next`/`reverse`), and the filters that cancel/delete tasks.
import { MeiliError, type ErrorBody, type ErrorCode } from './errors.js';

export type TaskStatus = 'enqueued' | 'processing' | 'succeeded' | 'failed' | 'canceled';

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
  out.duration = t.startedAt !== null && t.finishedAt !== null ? isoDuration(t.durationMs ?? Date.parse(t.finishedAt) - Date.parse(t.startedAt)) : null;
  out.enqueuedAt = t.enqueuedAt;
  out.startedAt = t.startedAt;
  out.finishedAt = t.finishedAt;
  if (t.customMetadata !== undefined) out.customMetadata = t.customMetadata;
  return out;
}

export function summarizedTask(t: TaskRecord): Record<string, unknown> {
  const out: Record<string, unknown> = { taskUid: t.uid, indexUid: t.indexUid, status: t.status, type: t.type, enqueuedAt: t.enqueuedAt };
  if (t.customMetadata !== undefined) out.customMetadata = t.customMetadata;
  return out;
}

const STATUSES = ['enqueued', 'processing', 'succeeded', 'failed', 'canceled'];
const TYPES = [
  'documentAdditionOrUpdate', 'documentEdition', 'documentDeletion', 'settingsUpdate', 'indexCreation', 'indexDeletion', 'indexUpdate',
  'indexSwap', 'taskCancelation', 'taskDeletion', 'dumpCreation', 'snapshotCreation', 'export', 'upgradeDatabase', 'indexCompaction',
  'networkTopologyChange', 'dsrUpdate', 'dsrClear',
];
const DATE_FIELDS = ['beforeEnqueuedAt', 'afterEnqueuedAt', 'beforeStartedAt', 'afterStartedAt', 'beforeFinishedAt', 'afterFinishedAt'];
const FILTER_FIELDS = ['uids', 'batchUids', 'canceledBy', 'types', 'statuses', 'indexUids', ...DATE_FIELDS];

export interface TaskFilter {
  uids: Set<number> | null;
  batchUids: Set<number> | null;
  canceledBy: Set<number> | null;
  types: Set<string> | null;
  statuses: Set<string> | null;
  indexUids: string[] | null;
  dates: Array<{ field: 'enqueuedAt' | 'startedAt' | 'finishedAt'; before: boolean; at: number }>;
  /** The query string as given (for originalFilter). */
  original: string;
}

function codeOf(field: string): ErrorCode {
  return `invalid_task_${field.replace(/[A-Z]/g, (c) => '_' + c.toLowerCase())}` as ErrorCode;
}

function list(raw: string): string[] {
  return raw.split(',').map((s) => s.trim()).filter((s) => s !== '');
}

function numberSet(field: string, raw: string): Set<number> | null {
  const items = list(raw);
  if (items.includes('*')) return null;
  const out = new Set<number>();
  for (const item of items) {
    if (!/^\d+$/.test(item)) throw new MeiliError(codeOf(field), `Invalid value in parameter \`${field}\`: could not parse \`${item}\` as a positive integer`);
    out.add(Number(item));
  }
  return out;
}

function parseDate(field: string, raw: string): number {
  const t = Date.parse(/^\d{4}-\d{2}-\d{2}$/.test(raw) ? `${raw}T00:00:00Z` : raw);
  if (Number.isNaN(t)) {
    throw new MeiliError(codeOf(field), `Invalid value in parameter \`${field}\`: \`${raw}\` is an invalid date-time. It should follow the YYYY-MM-DD or RFC 3339 date-time format.`);
  }
  return t;
}

/** Parses task filters from a query string; `allowed` adds paging parameters for GET /tasks. */
export function parseTaskFilter(params: URLSearchParams, allowed: string[] = []): TaskFilter {
  const f: TaskFilter = { uids: null, batchUids: null, canceledBy: null, types: null, statuses: null, indexUids: null, dates: [], original: params.toString() };
  for (const [key, raw] of params) {
    if (!FILTER_FIELDS.includes(key) && !allowed.includes(key)) {
      throw new MeiliError('bad_request', `Unknown parameter \`${key}\`: expected one of ${[...allowed, ...FILTER_FIELDS].map((k) => `\`${k}\``).join(', ')}`);
    }
    switch (key) {
      case 'uids':
      case 'batchUids':
      case 'canceledBy':
        f[key] = numberSet(key, raw);
        break;
      case 'types': {
        const items = list(raw);
        if (!items.includes('*')) {
          for (const t of items) if (!TYPES.includes(t)) throw new MeiliError('invalid_task_types', `Invalid value in parameter \`types\`: \`${t}\` is not a valid task type. Available types are ${TYPES.map((x) => `\`${x}\``).join(', ')}.`);
          f.types = new Set(items);
        }
        break;
      }
      case 'statuses': {
        const items = list(raw);
        if (!items.includes('*')) {
          for (const s of items) if (!STATUSES.includes(s)) throw new MeiliError('invalid_task_statuses', `Invalid value in parameter \`statuses\`: \`${s}\` is not a valid task status. Available statuses are ${STATUSES.map((x) => `\`${x}\``).join(', ')}.`);
          f.statuses = new Set(items);
        }
        break;
      }
      case 'indexUids': {
        const items = list(raw);
        if (!items.includes('*')) {
          for (const u of items) if (!/^[A-Za-z0-9_-]{1,400}$/.test(u)) throw new MeiliError('invalid_index_uid', `Invalid value in parameter \`indexUids\`: \`${u}\` is not a valid index uid. Index uid can be an integer or a string containing only alphanumeric characters, hyphens (-) and underscores (_), and can not be more than 512 bytes.`);
          f.indexUids = items;
        }
        break;
      }
      default:
        if (DATE_FIELDS.includes(key)) {
          const m = /^(before|after)(Enqueued|Started|Finished)At$/.exec(key)!;
          f.dates.push({ field: `${m[2]!.toLowerCase()}At` as 'enqueuedAt', before: m[1] === 'before', at: parseDate(key, raw) });
        }
    }
  }
  return f;
}

export function hasFilter(f: TaskFilter): boolean {
  return f.uids !== null || f.batchUids !== null || f.canceledBy !== null || f.types !== null || f.statuses !== null || f.indexUids !== null || f.dates.length > 0;
}

export function matches(t: TaskRecord, f: TaskFilter): boolean {
  if (f.uids && !f.uids.has(t.uid)) return false;
  if (f.batchUids && (t.batchUid === null || !f.batchUids.has(t.batchUid))) return false;
  if (f.canceledBy && (t.canceledBy === null || !f.canceledBy.has(t.canceledBy))) return false;
  if (f.types && !f.types.has(t.type)) return false;
  if (f.statuses && !f.statuses.has(t.status)) return false;
  if (f.indexUids && (t.indexUid === null || !f.indexUids.includes(t.indexUid))) return false;
  for (const d of f.dates) {
    const v = t[d.field];
    if (v === null) return false;
    const ms = Date.parse(v);
    if (d.before ? !(ms < d.at) : !(ms > d.at)) return false;
  }
  return true;
}

/** GET /tasks paging over records sorted by uid (descending unless reverse). */
export function pageTasks(all: TaskRecord[], params: URLSearchParams, visible: (t: TaskRecord) => boolean): Record<string, unknown> {
  const limitRaw = params.get('limit');
  const fromRaw = params.get('from');
  const reverseRaw = params.get('reverse');
  const limit = limitRaw === null ? 20 : Number(limitRaw);
  if (limitRaw !== null && !/^\d+$/.test(limitRaw)) throw new MeiliError('invalid_task_limit', `Invalid value in parameter \`limit\`: could not parse \`${limitRaw}\` as a positive integer`);
  if (fromRaw !== null && !/^\d+$/.test(fromRaw)) throw new MeiliError('invalid_task_from', `Invalid value in parameter \`from\`: could not parse \`${fromRaw}\` as a positive integer`);
  if (reverseRaw !== null && reverseRaw !== 'true' && reverseRaw !== 'false') {
    throw new MeiliError('invalid_task_reverse', `Invalid value in parameter \`reverse\`: could not parse \`${reverseRaw}\` as a boolean, expected either \`true\` or \`false\``);
  }
  const reverse = reverseRaw === 'true';
  const filter = parseTaskFilter(params, ['limit', 'from', 'reverse']);
  const selected = all.filter((t) => visible(t) && matches(t, filter)).sort((a, b) => (reverse ? a.uid - b.uid : b.uid - a.uid));
  const from = fromRaw === null ? null : Number(fromRaw);
  const startIdx = from === null ? 0 : selected.findIndex((t) => (reverse ? t.uid >= from : t.uid <= from));
  const page = startIdx < 0 ? [] : selected.slice(startIdx, startIdx + limit);
  const after = startIdx < 0 ? undefined : selected[startIdx + limit];
  return { results: page.map(taskView), total: selected.length, limit, from: page.length > 0 ? page[0]!.uid : null, next: after === undefined ? null : after.uid };
}
