// Task records in a v6 dump (tasks/queue.jsonl) as data: the API's task view ↔ Meilisearch's `TaskDump` (the
// `type` is its `KindDump` — camelCase variants, snake_case fields — and `details` its internal `Details` enum, e.g.
// `{"DocumentAdditionOrUpdate":{"received_documents":1,"indexed_documents":1}}`), batches/queue.jsonl records, and
// the RoaringBitmap bytes of cancel/delete tasks. Pure.
import { isObject } from '../core/types.js';
import type { ApiKeyRecord } from '../core/auth/keys.js';
import type { ErrorBody } from '../core/errors.js';
import type { TaskRecord } from '../core/tasks.js';
import { invalidDump, isRfc3339, keyFromDump, keyToDump } from './format.js';

/** A task as the API shows it. */
export type TaskLike = Omit<TaskRecord, 'durationMs'>;

/**
 * What only the task's request knew, for the content of the dump's `type` (Meilisearch needs it to run a task still
 * enqueued). Anything left out is derived from the details, as far as they tell.
 */
export interface TaskContent {
  primaryKey?: string | null;
  method?: 'ReplaceDocuments' | 'UpdateDocuments';
  allowIndexCreation?: boolean;
  documentIds?: string[];
  filter?: unknown;
  settings?: Record<string, unknown>;
  isDeletion?: boolean;
  newIndexUid?: string | null;
  swaps?: unknown[];
  query?: string;
  taskUids?: number[];
  keys?: ApiKeyRecord[];
  instanceUid?: string | null;
}

/** One tasks/queue.jsonl line. */
export interface TaskDump {
  uid: number;
  batchUid: number | null;
  indexUid: string | null;
  status: string;
  type: string | Record<string, unknown>;
  canceledBy?: number;
  details?: Record<string, unknown>;
  error?: ErrorBody;
  enqueuedAt: string;
  startedAt?: string;
  finishedAt?: string;
  customMetadata?: string;
}

// ------------------------------------------------------------------------------------------------ RoaringBitmap

const SERIAL_COOKIE_NO_RUNCONTAINER = 12346;

/**
 * A set of u32 in RoaringBitmap's portable format (array and bitmap containers, no run containers), as the bytes
 * serde_json writes for Meilisearch's `tasks` bitmaps: a JSON array of numbers.
 */
export function roaringBitmap(values: Iterable<number>): number[] {
  const sorted = [...new Set([...values].filter((v) => Number.isInteger(v) && v >= 0 && v <= 0xffffffff))].sort(
    (a, b) => a - b,
  );
  const containers: Array<{ key: number; lows: number[] }> = [];
  for (const v of sorted) {
    const key = Math.floor(v / 65536);
    const last = containers[containers.length - 1];
    if (last === undefined || last.key !== key) containers.push({ key, lows: [v % 65536] });
    else last.lows.push(v % 65536);
  }
  const n = containers.length;
  const sizes = containers.map((c) => (c.lows.length > 4096 ? 8192 : c.lows.length * 2));
  const buf = Buffer.alloc(8 + 8 * n + sizes.reduce((a, b) => a + b, 0));
  buf.writeUInt32LE(SERIAL_COOKIE_NO_RUNCONTAINER, 0);
  buf.writeUInt32LE(n, 4);
  let offset = 8 + 8 * n;
  containers.forEach((c, i) => {
    buf.writeUInt16LE(c.key, 8 + 4 * i);
    buf.writeUInt16LE(c.lows.length - 1, 10 + 4 * i);
    buf.writeUInt32LE(offset, 8 + 4 * n + 4 * i);
    if (c.lows.length > 4096) {
      for (const low of c.lows) buf[offset + (low >> 3)]! |= 1 << (low & 7);
    } else c.lows.forEach((low, j) => buf.writeUInt16LE(low, offset + 2 * j));
    offset += sizes[i]!;
  });
  return [...buf];
}

// ------------------------------------------------------------------------------------------------ view → dump

function num(v: unknown, dflt = 0): number {
  return typeof v === 'number' ? v : dflt;
}

function numOrNull(v: unknown): number | null {
  return typeof v === 'number' ? v : null;
}

function strOrNull(v: unknown): string | null {
  return typeof v === 'string' ? v : null;
}

function parseJsonOr(text: unknown): unknown {
  if (typeof text !== 'string') return null;
  try {
    return JSON.parse(text);
  } catch {
    return text;
  }
}

function version(v: unknown): [number, number, number] {
  const m = typeof v === 'string' ? /^v?(\d+)\.(\d+)\.(\d+)/.exec(v) : null;
  return m === null ? [0, 0, 0] : [Number(m[1]), Number(m[2]), Number(m[3])];
}

type DeletionMode = 'ids' | 'filter' | 'all';

function deletionMode(d: Record<string, unknown>): DeletionMode {
  if (typeof d.originalFilter === 'string') return 'filter';
  return 'providedIds' in d ? 'ids' : 'all';
}

/** The dump's `type` (KindDump); null for a task type Meilisearch's dump has no kind for (it is left out). */
function kindToDump(t: TaskLike, c: TaskContent): string | Record<string, unknown> | null {
  const d = t.details ?? {};
  switch (t.type) {
    case 'documentAdditionOrUpdate':
      return {
        documentImport: {
          primary_key: c.primaryKey ?? null,
          method: c.method ?? 'ReplaceDocuments',
          documents_count: num(d.receivedDocuments),
          allow_index_creation: c.allowIndexCreation ?? true,
        },
      };
    case 'documentDeletion': {
      const mode = deletionMode(d);
      if (mode === 'filter') return { documentDeletionByFilter: { filter: c.filter ?? parseJsonOr(d.originalFilter) } };
      if (mode === 'ids') return { documentDeletion: { documents_ids: c.documentIds ?? [] } };
      return 'documentClear';
    }
    case 'documentEdition':
      return {
        documentEdition: {
          filter: c.filter ?? parseJsonOr(d.originalFilter),
          context: d.context ?? null,
          function: typeof d.function === 'string' ? d.function : '',
        },
      };
    case 'settingsUpdate':
      return {
        settings: {
          settings: c.settings ?? d,
          is_deletion: c.isDeletion ?? false,
          allow_index_creation: c.allowIndexCreation ?? true,
        },
      };
    case 'indexCreation':
      return { indexCreation: { primary_key: c.primaryKey !== undefined ? c.primaryKey : strOrNull(d.primaryKey) } };
    case 'indexUpdate':
      return {
        indexUpdate: {
          primary_key: c.primaryKey !== undefined ? c.primaryKey : strOrNull(d.primaryKey),
          uid: c.newIndexUid !== undefined ? c.newIndexUid : strOrNull(d.newIndexUid),
        },
      };
    case 'indexDeletion':
      return 'indexDeletion';
    case 'indexSwap':
      return { indexSwap: { swaps: c.swaps ?? (Array.isArray(d.swaps) ? d.swaps : []) } };
    case 'taskCancelation':
      return {
        taskCancelation: { query: c.query ?? String(d.originalFilter ?? ''), tasks: roaringBitmap(c.taskUids ?? []) },
      };
    case 'taskDeletion':
      return {
        tasksDeletion: { query: c.query ?? String(d.originalFilter ?? ''), tasks: roaringBitmap(c.taskUids ?? []) },
      };
    case 'dumpCreation':
      return { dumpCreation: { keys: (c.keys ?? []).map(keyToDump), instance_uid: c.instanceUid ?? null } };
    case 'snapshotCreation':
      return 'snapshotCreation';
    case 'upgradeDatabase':
      return { upgradeDatabase: { from: version(d.upgradeFrom) } };
    case 'indexCompaction':
      return { indexCompaction: { index_uid: t.indexUid ?? '' } };
  }
  return null;
}

/** The dump's `details` (the internal `Details` enum), or undefined when the task has none. */
function detailsToDump(t: TaskLike): Record<string, unknown> | undefined {
  const d = t.details;
  if (d === null) return undefined;
  switch (t.type) {
    case 'documentAdditionOrUpdate':
      return {
        DocumentAdditionOrUpdate: {
          received_documents: num(d.receivedDocuments),
          indexed_documents: numOrNull(d.indexedDocuments),
        },
      };
    case 'documentDeletion': {
      const mode = deletionMode(d);
      if (mode === 'filter')
        return {
          DocumentDeletionByFilter: {
            original_filter: d.originalFilter,
            deleted_documents: numOrNull(d.deletedDocuments),
          },
        };
      if (mode === 'ids')
        return {
          DocumentDeletion: { provided_ids: num(d.providedIds), deleted_documents: numOrNull(d.deletedDocuments) },
        };
      return { ClearAll: { deleted_documents: numOrNull(d.deletedDocuments) } };
    }
    case 'documentEdition':
      return {
        DocumentEdition: {
          deleted_documents: numOrNull(d.deletedDocuments),
          edited_documents: numOrNull(d.editedDocuments),
          original_filter: strOrNull(d.originalFilter),
          context: d.context ?? null,
          function: typeof d.function === 'string' ? d.function : '',
        },
      };
    case 'settingsUpdate':
      return { SettingsUpdate: { settings: d } };
    case 'indexCreation':
    case 'indexUpdate':
      return {
        IndexInfo: {
          primary_key: strOrNull(d.primaryKey),
          new_index_uid: strOrNull(d.newIndexUid),
          old_index_uid: strOrNull(d.oldIndexUid),
        },
      };
    case 'indexDeletion':
      return { ClearAll: { deleted_documents: numOrNull(d.deletedDocuments) } };
    case 'indexSwap':
      return { IndexSwap: { swaps: Array.isArray(d.swaps) ? d.swaps : [] } };
    case 'taskCancelation':
      return {
        TaskCancelation: {
          matched_tasks: num(d.matchedTasks),
          canceled_tasks: numOrNull(d.canceledTasks),
          original_filter: String(d.originalFilter ?? ''),
        },
      };
    case 'taskDeletion':
      return {
        TaskDeletion: {
          matched_tasks: num(d.matchedTasks),
          deleted_tasks: numOrNull(d.deletedTasks),
          original_filter: String(d.originalFilter ?? ''),
        },
      };
    case 'dumpCreation':
      return { Dump: { dump_uid: strOrNull(d.dumpUid) } };
    case 'upgradeDatabase':
      return { UpgradeDatabase: { from: version(d.upgradeFrom), to: version(d.upgradeTo) } };
    case 'indexCompaction':
      return {
        IndexCompaction: { index_uid: t.indexUid ?? '', pre_compaction_size: null, post_compaction_size: null },
      };
  }
  return undefined;
}

/**
 * A task as Meilisearch writes it in tasks/queue.jsonl (optional fields left out when empty, as serde's
 * `skip_serializing_if`), or null for a task type Meilisearch has no dump kind for (e.g. Miroir's own tasks).
 */
export function taskToDump(t: TaskLike, content: TaskContent = {}): TaskDump | null {
  const type = kindToDump(t, content);
  if (type === null) return null;
  // Built field by field so the keys come in Meilisearch's order.
  const out = { uid: t.uid, batchUid: t.batchUid, indexUid: t.indexUid, status: t.status, type } as TaskDump;
  if (t.canceledBy !== null) out.canceledBy = t.canceledBy;
  const details = detailsToDump(t);
  if (details !== undefined) out.details = details;
  if (t.error !== null) out.error = t.error;
  out.enqueuedAt = t.enqueuedAt;
  if (t.startedAt !== null) out.startedAt = t.startedAt;
  if (t.finishedAt !== null) out.finishedAt = t.finishedAt;
  if (t.customMetadata !== undefined) out.customMetadata = t.customMetadata;
  return out;
}

// ------------------------------------------------------------------------------------------------ dump → view

const KIND_TYPES: Readonly<Record<string, string>> = Object.freeze({
  documentImport: 'documentAdditionOrUpdate',
  documentDeletion: 'documentDeletion',
  documentDeletionByFilter: 'documentDeletion',
  documentClear: 'documentDeletion',
  documentEdition: 'documentEdition',
  settings: 'settingsUpdate',
  indexDeletion: 'indexDeletion',
  indexCreation: 'indexCreation',
  indexUpdate: 'indexUpdate',
  indexSwap: 'indexSwap',
  taskCancelation: 'taskCancelation',
  tasksDeletion: 'taskDeletion',
  dumpCreation: 'dumpCreation',
  snapshotCreation: 'snapshotCreation',
  export: 'export',
  upgradeDatabase: 'upgradeDatabase',
  indexCompaction: 'indexCompaction',
  networkTopologyChange: 'networkTopologyChange',
  dsrUpdate: 'dsrUpdate',
  dsrClear: 'dsrClear',
});

const STATUSES = new Set(['enqueued', 'processing', 'succeeded', 'failed', 'canceled']);

/** An externally tagged serde enum value: `"unit"` or `{"variant": content}`. */
function variant(v: unknown, where: string): [string, Record<string, unknown>] {
  if (typeof v === 'string') return [v, {}];
  if (isObject(v) && Object.keys(v).length === 1) {
    const [name, content] = Object.entries(v)[0]!;
    return [name, isObject(content) ? content : { value: content }];
  }
  throw invalidDump(`${where}: ${JSON.stringify(v)} is not a task kind.`);
}

function contentFromKind(kind: string, k: Record<string, unknown>, where: string): TaskContent {
  switch (kind) {
    case 'documentImport':
      return {
        primaryKey: strOrNull(k.primary_key),
        method: k.method === 'UpdateDocuments' ? 'UpdateDocuments' : 'ReplaceDocuments',
        allowIndexCreation: k.allow_index_creation !== false,
      };
    case 'documentDeletion':
      return { documentIds: Array.isArray(k.documents_ids) ? k.documents_ids.map(String) : [] };
    case 'documentDeletionByFilter':
      return { filter: k.filter ?? null };
    case 'settings':
      return {
        settings: isObject(k.settings) ? k.settings : {},
        isDeletion: k.is_deletion === true,
        allowIndexCreation: k.allow_index_creation !== false,
      };
    case 'indexCreation':
      return { primaryKey: strOrNull(k.primary_key) };
    case 'indexUpdate':
      return { primaryKey: strOrNull(k.primary_key), newIndexUid: strOrNull(k.uid) };
    case 'indexSwap':
      return { swaps: Array.isArray(k.swaps) ? k.swaps : [] };
    case 'taskCancelation':
    case 'tasksDeletion':
      return { query: typeof k.query === 'string' ? k.query : '' };
    case 'dumpCreation':
      return {
        keys: Array.isArray(k.keys) ? k.keys.map((key, i) => keyFromDump(key, `${where} keys[${i}]`)) : [],
        instanceUid: strOrNull(k.instance_uid),
      };
  }
  return {};
}

function versionString(v: unknown): string | null {
  return Array.isArray(v) && v.length === 3 ? `v${v.join('.')}` : null;
}

/** The API's details (DetailsView, keys in its order) of a dump's `Details` value. */
function detailsFromDump(v: unknown, where: string): Record<string, unknown> | null {
  if (v === undefined || v === null) return null;
  const [name, d] = variant(v, where);
  switch (name) {
    case 'DocumentAdditionOrUpdate':
      return { receivedDocuments: num(d.received_documents), indexedDocuments: numOrNull(d.indexed_documents) };
    case 'SettingsUpdate':
      return isObject(d.settings) ? { ...d.settings } : {};
    case 'IndexInfo': {
      const out: Record<string, unknown> = { primaryKey: strOrNull(d.primary_key) };
      if (typeof d.old_index_uid === 'string') out.oldIndexUid = d.old_index_uid;
      if (typeof d.new_index_uid === 'string') out.newIndexUid = d.new_index_uid;
      return out;
    }
    case 'DocumentDeletion':
      return {
        providedIds: num(d.provided_ids),
        deletedDocuments: numOrNull(d.deleted_documents),
        originalFilter: null,
      };
    case 'DocumentDeletionByFilter':
      return {
        providedIds: 0,
        deletedDocuments: numOrNull(d.deleted_documents),
        originalFilter: strOrNull(d.original_filter),
      };
    case 'DocumentEdition':
      return {
        editedDocuments: numOrNull(d.edited_documents),
        deletedDocuments: numOrNull(d.deleted_documents),
        originalFilter: strOrNull(d.original_filter),
        context: d.context ?? null,
        function: d.function ?? '',
      };
    case 'ClearAll':
      return { deletedDocuments: numOrNull(d.deleted_documents) };
    case 'TaskCancelation':
      return {
        matchedTasks: num(d.matched_tasks),
        canceledTasks: numOrNull(d.canceled_tasks),
        originalFilter: strOrNull(d.original_filter),
      };
    case 'TaskDeletion':
      return {
        matchedTasks: num(d.matched_tasks),
        deletedTasks: numOrNull(d.deleted_tasks),
        originalFilter: strOrNull(d.original_filter),
      };
    case 'Dump':
      return { dumpUid: strOrNull(d.dump_uid) };
    case 'IndexSwap':
      return { swaps: Array.isArray(d.swaps) ? d.swaps : [] };
    case 'UpgradeDatabase':
      return { upgradeFrom: versionString(d.from), upgradeTo: versionString(d.to) };
    case 'NetworkTopologyChange':
      return { movedDocuments: num(d.moved_documents), message: strOrNull(d.message) };
  }
  return {};
}

function errorFromDump(v: unknown, where: string): ErrorBody | null {
  if (v === undefined || v === null) return null;
  if (
    !isObject(v) ||
    typeof v.message !== 'string' ||
    typeof v.code !== 'string' ||
    typeof v.type !== 'string' ||
    typeof v.link !== 'string'
  ) {
    throw invalidDump(
      `${where}: \`error\` must be an object with \`message\`, \`code\`, \`type\` and \`link\` strings.`,
    );
  }
  return { message: v.message, code: v.code, type: v.type, link: v.link };
}

function splitFraction(rfc3339: string): [number, number] {
  const m = /\.(\d+)/.exec(rfc3339);
  return m === null ? [Date.parse(rfc3339), 0] : [Date.parse(rfc3339.replace(m[0], '')), Number(`0.${m[1]}`) * 1000];
}

/** Milliseconds between two RFC 3339 dates, keeping the sub-millisecond digits Meilisearch's dates carry. */
export function durationBetween(start: string, end: string): number {
  const [s, sf] = splitFraction(start);
  const [e, ef] = splitFraction(end);
  return Math.max(0, e - s + (ef - sf));
}

export interface TaskFromDump {
  task: TaskLike;
  /** Processing time with the precision the dates carry (for `duration`), null unless started and finished. */
  durationMs: number | null;
  content: TaskContent;
}

/** One tasks/queue.jsonl line → the task as the API shows it, plus what its kind says (to run it if enqueued). */
export function taskFromDump(v: unknown, where: string): TaskFromDump {
  if (!isObject(v)) throw invalidDump(`${where}: a task must be a JSON object.`);
  if (typeof v.uid !== 'number' || !Number.isInteger(v.uid) || v.uid < 0)
    throw invalidDump(`${where}: the task \`uid\` must be a non-negative integer.`);
  const at = `${where} (task ${v.uid})`;
  if (typeof v.status !== 'string' || !STATUSES.has(v.status))
    throw invalidDump(`${at}: unknown \`status\` ${JSON.stringify(v.status ?? null)}.`);
  if (!isRfc3339(v.enqueuedAt)) throw invalidDump(`${at}: \`enqueuedAt\` must be an RFC 3339 date.`);
  for (const f of ['startedAt', 'finishedAt'] as const) {
    if (v[f] !== undefined && v[f] !== null && !isRfc3339(v[f]))
      throw invalidDump(`${at}: \`${f}\` must be an RFC 3339 date.`);
  }
  const [kind, k] = variant(v.type, at);
  const type = KIND_TYPES[kind] ?? kind;
  const task: TaskLike = {
    uid: v.uid,
    batchUid: numOrNull(v.batchUid),
    indexUid: strOrNull(v.indexUid),
    status: v.status as TaskLike['status'],
    type,
    canceledBy: numOrNull(v.canceledBy),
    details: detailsFromDump(v.details, at),
    error: errorFromDump(v.error, at),
    enqueuedAt: v.enqueuedAt,
    startedAt: strOrNull(v.startedAt),
    finishedAt: strOrNull(v.finishedAt),
  };
  if (typeof v.customMetadata === 'string') task.customMetadata = v.customMetadata;
  const durationMs =
    task.startedAt !== null && task.finishedAt !== null ? durationBetween(task.startedAt, task.finishedAt) : null;
  return { task, durationMs, content: contentFromKind(kind, k, at) };
}

// ------------------------------------------------------------------------------------------------ batches

/** One batches/queue.jsonl record (Meilisearch's `Batch`) for a batch of one task. */
export function batchOfOneTask(t: TaskLike): Record<string, unknown> | null {
  if (t.startedAt === null) return null;
  return {
    uid: t.batchUid ?? t.uid,
    details: t.details ?? {},
    stats: {
      totalNbTasks: 1,
      status: { [t.status]: 1 },
      types: { [t.type]: 1 },
      indexUids: t.indexUid === null ? {} : { [t.indexUid]: 1 },
    },
    startedAt: t.startedAt,
    finishedAt: t.finishedAt,
    enqueuedAt: { earliest: t.enqueuedAt, oldest: t.enqueuedAt },
    stopReason: `created batch containing only task with id ${t.uid} of type \`${t.type}\` that cannot be batched with any other task.`,
  };
}
