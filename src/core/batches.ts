// Meilisearch v1.50's batch model as pure logic, for the dev node and the proxy: the batch record and its JSON
// object (progress, details aggregated over its tasks, stats, duration, batchStrategy), Rust-style step durations
// for `progressTrace`, the strategy texts, and GET /batches filters and paging (same parameters as GET /tasks).
import { MeiliError } from './errors.js';
import {
  isoDuration,
  pageByUid,
  parseTasksQuery,
  parseU32,
  SINGLE_INDEX_TYPES,
  TASK_STATUSES,
  TASK_TYPES,
  type TaskFilter,
  type TaskRecord,
} from './tasks.js';

export interface ProgressStepView {
  currentStep: string;
  finished: number;
  total: number;
}

export interface ProgressView {
  steps: ProgressStepView[];
  percentage: number;
}

export interface BatchStats {
  totalNbTasks: number;
  status: Record<string, number>;
  types: Record<string, number>;
  indexUids: Record<string, number>;
  /** Step name (`outer > inner`) → Rust-formatted duration; left out when empty, like Meilisearch. */
  progressTrace?: Record<string, string>;
  writeChannelCongestion?: Record<string, unknown>;
  internalDatabaseSizes?: Record<string, unknown>;
  embedderRequests?: { total: number; failed: number; lastError?: string };
}

export interface BatchRecord {
  uid: number;
  /** Non-null only while the batch is processing. */
  progress: ProgressView | null;
  details: Record<string, unknown>;
  stats: BatchStats;
  startedAt: string;
  finishedAt: string | null;
  /** The oldest and newest `enqueuedAt` of its tasks (both answer `…EnqueuedAt` filters), once finished. */
  enqueuedAt: { oldest: string; newest: string } | null;
  batchStrategy: string;
  /** Measured processing time (sub-millisecond), for `duration`. */
  durationMs?: number;
}

// -------------------------------------------------------------------------------------------------------- details

/** Meilisearch's `DetailsView` fields in serialization order; settings fields are flattened where `SETTINGS` is. */
const DETAIL_ORDER = [
  'receivedDocuments',
  'indexedDocuments',
  'editedDocuments',
  'primaryKey',
  'providedIds',
  'deletedDocuments',
  'matchedTasks',
  'canceledTasks',
  'deletedTasks',
  'originalFilter',
  'dumpUid',
  'context',
  'function',
  'SETTINGS',
  'swaps',
  'upgradeFrom',
  'upgradeTo',
  'url',
  'apiKey',
  'payloadSize',
  'indexes',
  'oldIndexUid',
  'newIndexUid',
  'preCompactionSize',
  'postCompactionSize',
  'movedDocuments',
  'message',
  'rule',
  'updatedRules',
] as const;
const KNOWN = new Set<string>(DETAIL_ORDER);
const SUM = new Set(['receivedDocuments', 'providedIds', 'matchedTasks', 'movedDocuments', 'updatedRules']);
const NULLABLE_SUM = new Set([
  'indexedDocuments',
  'editedDocuments',
  'deletedDocuments',
  'canceledTasks',
  'deletedTasks',
]);
const NULLABLE_FIRST = new Set(['primaryKey', 'dumpUid', 'context']);
/** `Option<Option<_>>` fields: a stored (finished) batch loses their nulls, as Meilisearch's round trip does. */
const DOUBLE_OPTION = new Set([...NULLABLE_SUM, ...NULLABLE_FIRST, 'originalFilter']);

function mergeDetail(key: string, left: unknown, right: unknown): unknown {
  if (left === undefined) return right;
  if (right === undefined) return left;
  if (SUM.has(key)) return Number(left) + Number(right);
  if (NULLABLE_SUM.has(key)) return left === null ? right : right === null ? left : Number(left) + Number(right);
  if (NULLABLE_FIRST.has(key)) return left === null ? right : left;
  if (key === 'originalFilter')
    return left === null ? right : right === null ? left : `${String(left)}&${String(right)}`;
  if (key === 'swaps') return [...(Array.isArray(left) ? left : []), ...(Array.isArray(right) ? right : [])];
  if (key === 'upgradeTo') return right;
  if (key === 'rule') return undefined;
  if (KNOWN.has(key)) return left;
  return right; // a settings field: the later task's value wins (Settings::merge)
}

/** Meilisearch's `DetailsView::accumulate` of one more task's details into a batch's, in `DetailsView` order. */
export function accumulateDetails(
  acc: Record<string, unknown>,
  next: Record<string, unknown>,
): Record<string, unknown> {
  const merged: Record<string, unknown> = {};
  for (const key of new Set([...Object.keys(acc), ...Object.keys(next)])) {
    const v = mergeDetail(key, acc[key], next[key]);
    if (v !== undefined) merged[key] = v;
  }
  const settings = Object.keys(merged).filter((k) => !KNOWN.has(k));
  const out: Record<string, unknown> = {};
  for (const key of DETAIL_ORDER) {
    if (key === 'SETTINGS') for (const k of settings) out[k] = merged[k];
    else if (key in merged) out[key] = merged[key];
  }
  return out;
}

function storedDetails(details: Record<string, unknown>): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(details)) if (!(v === null && DOUBLE_OPTION.has(k))) out[k] = v;
  return out;
}

// ---------------------------------------------------------------------------------------------------------- stats

function ordered(counts: Map<string, number>, order: readonly string[] | null): Record<string, number> {
  const keys =
    order === null
      ? [...counts.keys()].sort((a, b) => (a < b ? -1 : a > b ? 1 : 0))
      : order.filter((k) => counts.has(k));
  const out: Record<string, number> = {};
  for (const k of keys) out[k] = counts.get(k)!;
  return out;
}

function bump(m: Map<string, number>, k: string): void {
  m.set(k, (m.get(k) ?? 0) + 1);
}

export interface BatchSummaryInput {
  uid: number;
  /** The batch's tasks in the order it took them. */
  tasks: TaskRecord[];
  startedAt: string;
  finishedAt: string | null;
  batchStrategy: string;
  progressTrace?: Record<string, string>;
  durationMs?: number;
  progress?: ProgressView | null;
}

/** The batch record of a set of tasks: stats and details aggregated as Meilisearch does. */
export function summarizeBatch(input: BatchSummaryInput): BatchRecord {
  const status = new Map<string, number>();
  const types = new Map<string, number>();
  const indexUids = new Map<string, number>();
  let details: Record<string, unknown> = {};
  let oldest: string | null = null;
  let newest: string | null = null;
  for (const t of input.tasks) {
    bump(status, t.status);
    bump(types, t.type);
    if (t.indexUid !== null) bump(indexUids, t.indexUid);
    if (t.details !== null) details = accumulateDetails(details, t.details);
    if (oldest === null || Date.parse(t.enqueuedAt) < Date.parse(oldest)) oldest = t.enqueuedAt;
    if (newest === null || Date.parse(t.enqueuedAt) > Date.parse(newest)) newest = t.enqueuedAt;
  }
  const finished = input.finishedAt !== null;
  const stats: BatchStats = {
    totalNbTasks: input.tasks.length,
    status: ordered(status, TASK_STATUSES),
    types: ordered(types, TASK_TYPES),
    indexUids: ordered(indexUids, null),
  };
  if (input.progressTrace !== undefined && Object.keys(input.progressTrace).length > 0)
    stats.progressTrace = input.progressTrace;
  const record: BatchRecord = {
    uid: input.uid,
    progress: finished ? null : (input.progress ?? processingProgress()),
    details: finished ? storedDetails(details) : details,
    stats,
    startedAt: input.startedAt,
    finishedAt: input.finishedAt,
    enqueuedAt: finished && oldest !== null && newest !== null ? { oldest, newest } : null,
    batchStrategy: input.batchStrategy,
  };
  if (input.durationMs !== undefined) record.durationMs = input.durationMs;
  return record;
}

/** The progress Meilisearch shows when a batch starts: its first step, `processing tasks`, of two. */
export function processingProgress(): ProgressView {
  return { steps: [{ currentStep: 'processing tasks', finished: 0, total: 2 }], percentage: 0 };
}

/** The batch object of Meilisearch v1.50 (field order as Meilisearch). */
export function batchView(b: BatchRecord): Record<string, unknown> {
  const stats: Record<string, unknown> = {
    totalNbTasks: b.stats.totalNbTasks,
    status: b.stats.status,
    types: b.stats.types,
    indexUids: b.stats.indexUids,
  };
  if (b.stats.progressTrace !== undefined && Object.keys(b.stats.progressTrace).length > 0)
    stats.progressTrace = b.stats.progressTrace;
  if (b.stats.writeChannelCongestion !== undefined) stats.writeChannelCongestion = b.stats.writeChannelCongestion;
  if (b.stats.internalDatabaseSizes !== undefined && Object.keys(b.stats.internalDatabaseSizes).length > 0)
    stats.internalDatabaseSizes = b.stats.internalDatabaseSizes;
  const er = b.stats.embedderRequests;
  if (er !== undefined && (er.total !== 0 || er.failed !== 0 || er.lastError !== undefined))
    stats.embedderRequests = er;
  return {
    uid: b.uid,
    progress: b.progress,
    details: b.details,
    stats,
    duration:
      b.finishedAt === null ? null : isoDuration(b.durationMs ?? Date.parse(b.finishedAt) - Date.parse(b.startedAt)),
    startedAt: b.startedAt,
    finishedAt: b.finishedAt,
    batchStrategy: b.batchStrategy,
  };
}

// ------------------------------------------------------------------------------------------------ progress trace

/** A duration as Rust prints `{:.2?}` (`12.35µs`, `4.10ms`, `1.00s`, `120.00ns`), from milliseconds. */
export function formatStepDuration(ms: number): string {
  const totalNs = Math.max(0, Math.round(ms * 1e6));
  const secs = Math.floor(totalNs / 1e9);
  const nanos = totalNs % 1e9;
  let integer: number;
  let fraction: number;
  let divisor: number;
  let unit: string;
  if (secs > 0) [integer, fraction, divisor, unit] = [secs, nanos, 100_000_000, 's'];
  else if (nanos >= 1_000_000)
    [integer, fraction, divisor, unit] = [Math.floor(nanos / 1_000_000), nanos % 1_000_000, 100_000, 'ms'];
  else if (nanos >= 1_000)
    [integer, fraction, divisor, unit] = [Math.floor(nanos / 1_000), nanos % 1_000, 100, '\u00b5s'];
  else [integer, fraction, divisor, unit] = [nanos, 0, 1, 'ns'];
  const digits = [0, 0];
  let pos = 0;
  while (fraction > 0 && pos < 2) {
    digits[pos] = Math.floor(fraction / divisor);
    fraction %= divisor;
    divisor = Math.floor(divisor / 10);
    pos++;
  }
  if (fraction > 0 && fraction >= divisor * 5) {
    let carry = true;
    for (let i = pos - 1; carry && i >= 0; i--) {
      if (digits[i]! < 9) {
        digits[i]!++;
        carry = false;
      } else digits[i] = 0;
    }
    if (carry) integer++;
  }
  return `${integer}.${digits[0]}${digits[1]}${unit}`;
}

// ------------------------------------------------------------------------------------------------------ strategy

const CANNOT_BE_BATCHED = new Set([
  'taskCancelation',
  'indexCreation',
  'indexUpdate',
  'indexSwap',
  'dumpCreation',
  'export',
  'indexCompaction',
  'documentEdition',
]);
const KIND_CANNOT_BE_BATCHED = new Set(['taskDeletion', 'snapshotCreation', 'upgradeDatabase']);

export interface LoneBatchContext {
  /** Enqueued tasks when the batch is made, this one included. */
  enqueuedTotal: number;
  /** Enqueued tasks of this task's index, this one included. */
  enqueuedForIndex: number;
  /** The index's primary key, when the index exists and has one. */
  indexPrimaryKey: string | null;
  /** The primary key the task asks for (document additions). */
  taskPrimaryKey: string | null;
}

/**
 * `batchStrategy` of a batch holding one task, worded as Meilisearch does when it may batch at most one task
 * (`--experimental-max-number-of-batched-tasks 1`): the texts of its autobatcher and batch maker.
 */
export function loneTaskBatchStrategy(
  task: Pick<TaskRecord, 'uid' | 'type' | 'indexUid'>,
  ctx: LoneBatchContext,
): string {
  const { uid, type } = task;
  if (CANNOT_BE_BATCHED.has(type))
    return `created batch containing only task with id ${uid} of type \`${type}\` that cannot be batched with any other task.`;
  if (KIND_CANNOT_BE_BATCHED.has(type))
    return `stopped after the last task of type \`${type}\` because they cannot be batched with tasks of any other type.`;
  if (type === 'indexDeletion') return `stopped after task with id ${uid} because it deletes the index`;
  if (
    type === 'documentAdditionOrUpdate' &&
    ctx.indexPrimaryKey !== null &&
    ctx.taskPrimaryKey !== null &&
    ctx.indexPrimaryKey !== ctx.taskPrimaryKey
  ) {
    return `stopped batching before task with id ${uid} because its primary key \`${ctx.taskPrimaryKey}\` is different from the primary key of the index \`${ctx.indexPrimaryKey}\``;
  }
  if (ctx.enqueuedForIndex > 1) return 'batched up to configured batch limit of 1 tasks';
  if (ctx.enqueuedTotal <= 1 || task.indexUid === null) return 'batched all enqueued tasks';
  return `batched all enqueued tasks for index \`${task.indexUid}\``;
}

// ------------------------------------------------------------------------------------------- filters and paging

function inRange(ms: number, constraints: TaskFilter['dates']): boolean {
  for (const d of constraints) if (d.before ? !(ms < d.at) : !(ms > d.at)) return false;
  return true;
}

/**
 * Whether a batch answers GET /batches filters (Meilisearch's `get_batch_ids`): `uids` are task uids, statuses,
 * types and index uids are those of its remaining tasks, `canceledBy` names the cancelation task it ran.
 */
export function batchMatches(b: BatchRecord, tasks: readonly TaskRecord[], f: TaskFilter): boolean {
  if (f.batchUids && !f.batchUids.has(b.uid)) return false;
  if (f.statuses && !tasks.some((t) => f.statuses!.has(t.status))) return false;
  if (f.uids && !tasks.some((t) => f.uids!.has(t.uid))) return false;
  if (
    f.canceledBy &&
    !tasks.some((t) => t.type === 'taskCancelation' && t.status === 'succeeded' && f.canceledBy!.has(t.uid))
  )
    return false;
  if (f.types && !tasks.some((t) => f.types!.has(t.type))) return false;
  if (f.indexUids && !tasks.some((t) => t.indexUid !== null && f.indexUids!.includes(t.indexUid))) return false;
  const started = f.dates.filter((d) => d.field === 'startedAt');
  if (started.length > 0 && !inRange(Date.parse(b.startedAt), started)) return false;
  const finished = f.dates.filter((d) => d.field === 'finishedAt');
  if (finished.length > 0 && (b.finishedAt === null || !inRange(Date.parse(b.finishedAt), finished))) return false;
  const enqueued = f.dates.filter((d) => d.field === 'enqueuedAt');
  if (enqueued.length > 0) {
    if (b.enqueuedAt === null) return false;
    if (!inRange(Date.parse(b.enqueuedAt.oldest), enqueued) && !inRange(Date.parse(b.enqueuedAt.newest), enqueued))
      return false;
  }
  return true;
}

/**
 * What a caller may see of the batch list (Meilisearch's rule): everything when every index is authorized,
 * otherwise the batches holding a single-index task of at least one authorized index.
 */
export function batchVisibility(
  allIndexes: boolean,
  allowsIndex: (uid: string) => boolean,
): (b: BatchRecord, tasks: readonly TaskRecord[]) => boolean {
  if (allIndexes) return () => true;
  return (_b, tasks) =>
    tasks.some((t) => t.indexUid !== null && SINGLE_INDEX_TYPES.has(t.type) && allowsIndex(t.indexUid));
}

/** GET /batches: the same parameters and errors as GET /tasks; `total` counts every batch matching the filters. */
export function pageBatches(
  all: readonly BatchRecord[],
  params: URLSearchParams,
  tasksOf: (b: BatchRecord) => readonly TaskRecord[],
  visible: (b: BatchRecord, tasks: readonly TaskRecord[]) => boolean,
): Record<string, unknown> {
  const q = parseTasksQuery(params);
  const matched = all.filter((b) => batchMatches(b, tasksOf(b), q.filter));
  return pageByUid(
    matched.filter((b) => visible(b, tasksOf(b))),
    matched.length,
    q,
    batchView,
  );
}

/** `GET /batches/{uid}`: the uid as Meilisearch parses it, or its `invalid_batch_uids` error. */
export function parseBatchUid(raw: string): number {
  const n = parseU32(raw);
  if (n === null)
    throw new MeiliError(
      'invalid_batch_uids',
      `Batch uid \`${raw}\` is invalid. It should only contain numeric characters.`,
    );
  return n;
}

export function batchNotFound(uid: number): MeiliError {
  return new MeiliError('batch_not_found', `Batch \`${uid}\` not found.`);
}
