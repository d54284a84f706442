// Type guards for the records a store reads back as JSON (the Redis backend). Each requires a record's identity (its
// key members) and rejects any member of the wrong type; a member that is absent passes, as it always did, so every
// shape earlier versions of Miroir wrote still reads (round-1 task rows and index records are normalized after).
import type { ApiKeyRecord } from '../core/auth/keys.js';
import type { CanaryDefinition, CanaryRun } from '../core/canary.js';
import type { IndexRecord } from '../core/index-state.js';
import type { ReshardRecord } from '../core/reshard.js';
import type { SearchUiIndexConfig } from '../core/search-ui/page-model.js';
import type { ScopedKeyRecord } from '../core/search-ui/rotation.js';
import { isObject, isStringArray } from '../core/types.js';
import type {
  AntiEntropyShardStatus,
  JobState,
  LegacyIndexState,
  StoredTaskRow,
  StoredTopology,
  TaskStatus,
  Tombstone,
  TtlPolicy,
} from './store.js';

const TASK_STATUSES: ReadonlySet<unknown> = new Set<TaskStatus>([
  'enqueued',
  'processing',
  'succeeded',
  'failed',
  'canceled',
]);
const JOB_STATES: ReadonlySet<unknown> = new Set<JobState>(['queued', 'in_progress', 'completed', 'failed']);
const TOMBSTONE_KINDS: ReadonlySet<unknown> = new Set<Tombstone['kind']>(['ids', 'filter', 'all', 'epoch']);

function stringOrNull(v: unknown): v is string | null {
  return v === null || typeof v === 'string';
}

function objectOrNull(v: unknown): v is Record<string, unknown> | null {
  return v === null || isObject(v);
}

function numberOrNull(v: unknown): v is number | null {
  return v === null || typeof v === 'number';
}

function optional<T>(v: unknown, is: (x: unknown) => x is T): v is T | undefined {
  return v === undefined || is(v);
}

function isNumber(v: unknown): v is number {
  return typeof v === 'number';
}

function isString(v: unknown): v is string {
  return typeof v === 'string';
}

function isBoolean(v: unknown): v is boolean {
  return typeof v === 'boolean';
}

export function isTaskStatus(v: unknown): v is TaskStatus {
  return TASK_STATUSES.has(v);
}

export function isJobState(v: unknown): v is JobState {
  return JOB_STATES.has(v);
}

/** A task row of any version (round 1: one node task per node, no queues). */
export function isStoredTaskRow(v: unknown): v is StoredTaskRow {
  return (
    isObject(v) &&
    isNumber(v.uid) &&
    stringOrNull(v.indexUid) &&
    isString(v.type) &&
    isTaskStatus(v.status) &&
    isObject(v.nodeTasks) &&
    optional(v.details, objectOrNull) &&
    optional(v.error, objectOrNull) &&
    optional(v.enqueuedAt, isString) &&
    optional(v.startedAt, stringOrNull) &&
    optional(v.finishedAt, stringOrNull) &&
    optional(v.queues, isStringArray)
  );
}

export function isApiKeyRecord(v: unknown): v is ApiKeyRecord {
  return (
    isObject(v) &&
    isString(v.uid) &&
    optional(v.name, stringOrNull) &&
    optional(v.description, stringOrNull) &&
    optional(v.actions, isStringArray) &&
    optional(v.indexes, isStringArray) &&
    optional(v.expiresAt, stringOrNull) &&
    optional(v.createdAt, isString) &&
    optional(v.updatedAt, isString)
  );
}

/** An index record of any version: today's (with `pending`) or round 1's (settings at the top level). */
export function isStoredIndex(v: unknown): v is IndexRecord | LegacyIndexState {
  if (!isObject(v) || !isString(v.uid)) return false;
  if (Array.isArray(v.pending))
    return optional(v.version, isNumber) && optional(v.committed, objectOrNull) && optional(v.shards, isNumber);
  return optional(v.settings, isObject) && optional(v.primaryKey, stringOrNull);
}

export function isStoredTopology(v: unknown): v is StoredTopology {
  return (
    isObject(v) &&
    isNumber(v.version) &&
    optional(v.shards, isNumber) &&
    optional(v.replication_factor, isNumber) &&
    optional(v.groups, Array.isArray) &&
    optional(v.nodes, Array.isArray) &&
    optional(v.retiredIds, isStringArray) &&
    optional(v.operations, Array.isArray) &&
    optional(v.rebalance, isObject)
  );
}

export function isTombstone(v: unknown): v is Tombstone {
  return (
    isObject(v) &&
    isString(v.index) &&
    isNumber(v.taskUid) &&
    TOMBSTONE_KINDS.has(v.kind) &&
    optional(v.ids, isStringArray) &&
    optional(v.at, isNumber)
  );
}

export function isTtlPolicy(v: unknown): v is TtlPolicy {
  return (
    isObject(v) &&
    optional(v.enabled, isBoolean) &&
    optional(v.sweep_interval_s, isNumber) &&
    optional(v.max_deletes_per_sweep, isNumber)
  );
}

export function isAntiEntropyShardStatus(v: unknown): v is AntiEntropyShardStatus {
  return (
    isObject(v) &&
    isString(v.index) &&
    isNumber(v.shard) &&
    optional(v.finished_at, isNumber) &&
    optional(v.duration_ms, isNumber) &&
    optional(v.documents, isNumber) &&
    optional(v.mismatches, isNumber) &&
    optional(v.repair, isBoolean) &&
    optional(v.skipped_nodes, isStringArray) &&
    optional(v.samples, Array.isArray) &&
    optional(v.error, stringOrNull)
  );
}

export function isSearchUiIndexConfig(v: unknown): v is SearchUiIndexConfig {
  return (
    isObject(v) &&
    optional(v.title, isString) &&
    optional(v.title_attribute, isString) &&
    optional(v.displayed_attributes, isStringArray) &&
    optional(v.url_attribute, isString) &&
    optional(v.facets, isStringArray) &&
    optional(v.hits_per_page, isNumber)
  );
}

export function isScopedKeyRecord(v: unknown): v is ScopedKeyRecord {
  return (
    isObject(v) &&
    isString(v.primary_uid) &&
    optional(v.previous_uid, stringOrNull) &&
    optional(v.rotated_at, isString) &&
    optional(v.generation, isNumber)
  );
}

export function isCanaryDefinition(v: unknown): v is CanaryDefinition {
  return (
    isObject(v) &&
    isString(v.name) &&
    optional(v.index, isString) &&
    optional(v.interval_s, isNumber) &&
    optional(v.query, isObject) &&
    optional(v.assertions, Array.isArray) &&
    optional(v.created_at, isString)
  );
}

export function isCanaryRun(v: unknown): v is CanaryRun {
  return (
    isObject(v) &&
    optional(v.at, isString) &&
    optional(v.passed, isBoolean) &&
    optional(v.latency_ms, isNumber) &&
    optional(v.settings_version, numberOrNull) &&
    optional(v.failures, Array.isArray)
  );
}

export function isReshardRecord(v: unknown): v is ReshardRecord {
  return (
    isObject(v) &&
    isString(v.index) &&
    isString(v.live) &&
    isString(v.shadow) &&
    optional(v.old_shards, isNumber) &&
    optional(v.new_shards, isNumber) &&
    optional(v.phase, isString)
  );
}

/** Parses a stored JSON record and checks it is a `what`; a record of another shape is an error, never trusted. */
export function decodeRecord<T>(raw: string, is: (v: unknown) => v is T, what: string): T {
  const v: unknown = JSON.parse(raw);
  if (!is(v)) throw new Error(`the store holds a malformed ${what} record: ${raw.slice(0, 200)}`);
  return v;
}
