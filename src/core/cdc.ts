// Change data capture as pure logic (SPEC A13, Round 2 decisions "CDC"): the event shape, which task becomes which
// operation, the settings version an event carries, the documents of a routed batch (each once, reserved fields
// dropped), the long-poll query and page, drop accounting against retention, webhook signatures and retry delays.
import { createHmac } from 'node:crypto';
import type { IndexRecord } from './index-state.js';
import { isReservedField } from './reserved.js';
import { SHARD_FIELD } from './shard-filter.js';
import { isObject, type JsonObject } from './types.js';

export type CdcOperation =
  | 'document_add'
  | 'document_update'
  | 'document_delete'
  | 'document_delete_by_filter'
  | 'document_delete_all'
  | 'settings_update'
  | 'index_create'
  | 'index_update'
  | 'index_delete'
  | 'index_swap';

/** Where a change came from: a client task, or an internal writer (suppressed unless `emit_internal_writes`). */
export type CdcOrigin = 'client' | 'shard_move' | 'antientropy' | 'ttl_expire' | 'reshard_backfill' | 'rollover';

export const INTERNAL_ORIGINS: readonly CdcOrigin[] = [
  'shard_move',
  'antientropy',
  'ttl_expire',
  'reshard_backfill',
  'rollover',
];

/** One change as the log keeps it and sinks deliver it; `event_id` is its log position (1, 2, ...). */
export interface CdcEvent {
  event_id: number;
  /** The Miroir task uid (null for an internal write). */
  mtask_id: number | null;
  index: string;
  operation: CdcOperation;
  /** The documents' primary keys; null when the write does not name them (delete by filter, delete all). */
  primary_keys: string[] | null;
  shard_ids: number[];
  settings_version: number | null;
  /** RFC 3339, when the change was accepted. */
  timestamp: string;
  /** Delete by filter: the filter as the client sent it. */
  filter?: unknown;
  /** Only when a sink asks `include_body`: the documents in `primary_keys` order (document writes), the settings
   * patch (settings_update). */
  document?: unknown;
  /** Present for internal writes only. */
  origin?: CdcOrigin;
}

export type CdcEventDraft = Omit<CdcEvent, 'event_id'>;

/** What a write knows of its change besides its task: keys, shards, the filter, the documents. */
export interface ChangeFacts {
  primary_keys?: string[] | null;
  shard_ids?: number[];
  filter?: unknown;
  document?: unknown;
  operation?: CdcOperation;
}

/** The operation of a client task, or null for tasks that change no index (task cancelation, deletion, ...). */
export function operationOf(type: string): CdcOperation | null {
  switch (type) {
    case 'documentAdditionOrUpdate':
      return 'document_add';
    case 'documentDeletion':
      // By ids unless the write says otherwise (ChangeFacts.operation: by filter, all).
      return 'document_delete';
    case 'settingsUpdate':
      return 'settings_update';
    case 'indexCreation':
      return 'index_create';
    case 'indexUpdate':
      return 'index_update';
    case 'indexDeletion':
      return 'index_delete';
    case 'indexSwap':
      return 'index_swap';
    default:
      return null;
  }
}

/** The settings version the index has once every task sent so far applied (committed + pending settings tasks). */
export function projectedSettingsVersion(record: IndexRecord | null): number | null {
  if (record === null) return null;
  let v = record.committed?.settingsVersion ?? 0;
  for (const p of record.pending) if (p.kind === 'settings' || p.kind === 'create') v++;
  return v;
}

/**
 * Which node body to read each shard's documents from: the first node (in `nodeShards` order) holding the shard, so
 * every document is read once although replicas got copies. Node id → the shards to take from its body.
 */
export function shardSources(nodeShards: Readonly<Record<string, readonly number[]>>): Map<string, Set<number>> {
  const taken = new Set<number>();
  const out = new Map<string, Set<number>>();
  for (const [node, shards] of Object.entries(nodeShards))
    for (const s of shards) {
      if (taken.has(s)) continue;
      taken.add(s);
      let set = out.get(node);
      if (set === undefined) out.set(node, (set = new Set()));
      set.add(s);
    }
  return out;
}

/** A document as the client sees it: without `_miroir_*` fields. */
export function clientDocument(doc: JsonObject): JsonObject {
  const out: JsonObject = {};
  for (const k in doc) if (!isReservedField(k)) out[k] = doc[k];
  return out;
}

/**
 * The primary keys (and documents when `withBodies`) of a routed batch: per node body chosen by `shardSources`, the
 * documents of the wanted shards. Documents sharing a key keep every occurrence (the last one wins on the nodes).
 */
export function routedDocuments(
  bodies: Readonly<Record<string, Uint8Array>>,
  nodeShards: Readonly<Record<string, readonly number[]>>,
  primaryKey: string,
  withBodies: boolean,
): { primary_keys: string[]; shard_ids: number[]; documents: JsonObject[] | null } {
  const keys: string[] = [];
  const docs: JsonObject[] | null = withBodies ? [] : null;
  const shards: number[] = [];
  for (const [node, wanted] of shardSources(nodeShards)) {
    const body = bodies[node];
    if (body === undefined) continue;
    for (const s of wanted) shards.push(s);
    const parsed: unknown = JSON.parse(Buffer.from(body.buffer, body.byteOffset, body.byteLength).toString('utf8'));
    if (!Array.isArray(parsed)) continue;
    for (const d of parsed) {
      if (!isObject(d)) continue;
      const s = d[SHARD_FIELD];
      if (typeof s !== 'number' || !wanted.has(s)) continue;
      keys.push(String(d[primaryKey]));
      if (docs !== null) docs.push(clientDocument(d));
    }
  }
  shards.sort((a, b) => a - b);
  return { primary_keys: keys, shard_ids: shards, documents: docs };
}

export interface ChangesQuery {
  since: number;
  index: string | null;
  limit: number;
  timeoutMs: number;
}

export const CHANGES_MAX_LIMIT = 10_000;
export const CHANGES_MAX_TIMEOUT_MS = 60_000;

/** Parses `GET /_miroir/changes` parameters; a message naming the bad one, or the query. */
export function parseChangesQuery(q: Readonly<Record<string, string | undefined>>): ChangesQuery | string {
  const int = (name: string, dflt: number, max: number): number | string => {
    const raw = q[name];
    if (raw === undefined || raw === '') return dflt;
    if (!/^\d+$/.test(raw)) return `\`${name}\` must be a non-negative integer, got \`${raw}\`.`;
    return Math.min(Number(raw), max);
  };
  const since = int('since', 0, Number.MAX_SAFE_INTEGER);
  if (typeof since === 'string') return since;
  const limit = int('limit', 100, CHANGES_MAX_LIMIT);
  if (typeof limit === 'string') return limit;
  if (limit === 0) return '`limit` must be at least 1.';
  const timeoutMs = int('timeout_ms', 0, CHANGES_MAX_TIMEOUT_MS);
  if (typeof timeoutMs === 'string') return timeoutMs;
  const index = q.index === undefined || q.index === '' ? null : q.index;
  return { since, index, limit, timeoutMs };
}

/** The answer of one long-poll read: the events after `since` and the id to ask from next. */
export function changesPage(
  events: readonly CdcEvent[],
  since: number,
  scannedTo: number,
): { events: CdcEvent[]; next: number } {
  const last = events.length > 0 ? events[events.length - 1]!.event_id : since;
  return { events: [...events], next: Math.max(last, Math.min(scannedTo, Number.MAX_SAFE_INTEGER), since) };
}

/** Events a sink never read because retention trimmed them: the gap between its cursor and the first kept id. */
export function droppedBefore(cursor: number, firstKept: number | null): number {
  if (firstKept === null) return 0;
  return Math.max(0, firstKept - cursor - 1);
}

/** An event as a sink sends it (the document only when the sink asked for bodies). */
export function forSink(e: CdcEvent, includeBody: boolean): CdcEvent {
  if (includeBody || e.document === undefined) return e;
  const { document: _omit, ...rest } = e;
  return rest;
}

/** `X-Miroir-Signature` of a webhook body. */
export function webhookSignature(secret: string, body: string | Uint8Array): string {
  return `sha256=${createHmac('sha256', secret).update(body).digest('hex')}`;
}

/** Backoff before retry `attempt` (0-based): 200 ms doubling, capped at 30 s. */
export function retryDelayMs(attempt: number): number {
  return Math.min(30_000, 200 * 2 ** Math.min(attempt, 20));
}

/** The JetStream subject of an index's events. */
export function natsSubject(prefix: string, index: string): string {
  return `${prefix}.${index}`;
}

/** Approximate bytes of events waiting in a sink's buffer (their JSON length). */
export function eventsBytes(events: readonly CdcEvent[]): number {
  let n = 0;
  for (const e of events) n += JSON.stringify(e).length;
  return n;
}

/** Whether a stored value has an event's shape (the store's guard when reading the log back). */
export function isCdcEventDraft(v: unknown): v is CdcEventDraft {
  return (
    isObject(v) &&
    typeof v.index === 'string' &&
    typeof v.operation === 'string' &&
    typeof v.timestamp === 'string' &&
    Array.isArray(v.shard_ids)
  );
}
