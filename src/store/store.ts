// The store interface: everything Miroir must keep across restarts and share between pods, as typed records.
// Two implementations pass one contract suite: lmdb.ts (one pod, embedded) and redis.ts (several pods). Later
// record kinds of SPEC C8 (aliases, sessions, idempotency, canaries, ...) are added here the same way.
import type { ApiKeyRecord } from '../core/auth/keys.js';
import type { ErrorBody } from '../core/errors.js';
import type { IndexRecord, IndexRecordDraft } from '../core/index-state.js';
import { defaultSettings } from '../core/settings.js';
import type { ShardMove } from '../core/topology-plan.js';
import type { SearchUiIndexConfig } from '../core/search-ui/page-model.js';
import type { WindowCounter } from '../core/search-ui/rate.js';
import type { ScopedKeyRecord } from '../core/search-ui/rotation.js';
import type { CanaryDefinition, CanaryRun } from '../core/canary.js';
import type { CdcEvent, CdcEventDraft } from '../core/cdc.js';
import type { ReshardRecord } from '../core/reshard.js';
import type { AliasTable } from '../core/aliases.js';
import type { IlmPolicyRecord } from '../core/ilm.js';

export type { IndexRecord, IndexRecordDraft } from '../core/index-state.js';
export type { SearchUiIndexConfig } from '../core/search-ui/page-model.js';
export type { WindowCounter } from '../core/search-ui/rate.js';
export type { ScopedKeyRecord } from '../core/search-ui/rotation.js';
export type { CanaryDefinition, CanaryRun } from '../core/canary.js';
export type { CdcEvent, CdcEventDraft } from '../core/cdc.js';
export type { ReshardRecord } from '../core/reshard.js';

export type TaskStatus = 'enqueued' | 'processing' | 'succeeded' | 'failed' | 'canceled';

/** One Miroir task: the client-facing record plus the node tasks that ACKed it. */
export interface TaskRow {
  uid: number;
  indexUid: string | null;
  type: string;
  status: TaskStatus;
  /** node id → that node's task uids for this task, in the order they were enqueued (the last is the main one). */
  nodeTasks: Record<string, number[]>;
  details: Record<string, unknown> | null;
  error: ErrorBody | null;
  canceledBy: number | null;
  enqueuedAt: string;
  startedAt: string | null;
  finishedAt: string | null;
  customMetadata?: string;
  /** The settlement queues the task waits in (index uids, or CONTROL_QUEUE); it settles in order within each. */
  queues: string[];
  /** A result Miroir decided when registering (content problems, existence checks), reported in task order. */
  outcome?: { status: 'succeeded' | 'failed'; error: ErrorBody | null };
  /** taskDeletion / taskCancelation: the tasks the filter matched when the task was registered. */
  matched?: number[];
  /** Document writes with several replica groups: the group that reached write quorum first (sessions pin it). */
  pinGroup?: number;
}

/** Queue of `taskCancelation` / `taskDeletion` (a name no index uid can take). */
export const CONTROL_QUEUE = ':control';

/** A page of tasks scanned in uid order (descending unless `reverse`), optionally only of some indexes. */
export interface TaskScan {
  from?: number | null;
  reverse?: boolean;
  /** Only tasks of these indexes (null: every task, index-less ones included). */
  indexUids?: readonly string[] | null;
}

export type NodeState = 'joining' | 'active' | 'draining' | 'removed';
export type GroupState = 'initializing' | 'active' | 'draining';

export interface StoredTopology {
  /** Incremented by every change; compare-and-set guards concurrent writers. */
  version: number;
  shards: number;
  replication_factor: number;
  groups: Array<{ id: number; state: GroupState }>;
  nodes: StoredNode[];
  /** Every node id ever used (ids are never reused). */
  retiredIds: string[];
  /** Topology changes: the first is running, the rest wait their turn (one change at a time). */
  operations?: TopologyOperation[];
  /** Rebalancer bookkeeping shown by `GET /_miroir/rebalance/status`. */
  rebalance?: RebalanceRecord;
}

export interface StoredNode {
  id: string;
  address: string;
  replica_group: number;
  state: NodeState;
  /** Missed writes (was unhealthy or did not ACK): gets writes but serves no reads until caught up. */
  catching_up?: boolean;
}

export type OperationKind =
  'node_add' | 'node_drain' | 'node_remove' | 'group_add' | 'group_remove' | 'recovery' | 'rebalance';
export type OperationPhase = 'queued' | 'provisioning' | 'copying' | 'cutover' | 'cleanup' | 'done' | 'failed';

/** One topology change as the rebalancer runs it (SPEC Decisions "Writes and health": the shard-move protocol). */
export interface TopologyOperation {
  id: string;
  kind: OperationKind;
  node_id?: string;
  group_id?: number;
  /** The node a `node_add` / `group_add` brings in (entered into `nodes` when the operation starts). */
  node?: { id: string; address: string; replica_group: number };
  phase: OperationPhase;
  created_at: string;
  started_at?: string;
  finished_at?: string;
  /** Nodes whose `catching_up` flag this operation clears at cut-over (fixed when it is planned). */
  catch_up_nodes?: string[];
  /** The shard copies to make (fixed when planned); each shard is one Mode C `shard_move` job. */
  plan?: ShardMove[];
  /** node id → shards to delete there after the cut-over (fixed at cut-over). */
  deletes?: Record<string, number[]>;
  /** Wall-clock ms after which cleanup may delete (every pod has adopted the cut-over by then). */
  cleanup_after?: number;
  shards_total?: number;
  shards_done?: number;
  documents_copied?: number;
  error?: string | null;
}

export interface RebalanceRecord {
  started_at: string | null;
  finished_at: string | null;
  last_error: string | null;
  /** The last finished operations, newest last (at most 10). */
  recent: TopologyOperation[];
}

export type JobState = 'queued' | 'in_progress' | 'completed' | 'failed';

export interface Job {
  id: string;
  type: string;
  payload: unknown;
  state: JobState;
  owner: string | null;
  /** Wall-clock ms when the claim lapses without a heartbeat. */
  leaseExpiresAt: number | null;
  /** Progress to resume from (opaque to the store). */
  cursor: unknown;
  attempts: number;
  error: string | null;
  createdAt: number;
  updatedAt: number;
}

export interface Lease {
  scope: string;
  owner: string;
  expiresAt: number;
}

export type StoreChannel =
  | 'topology'
  | 'settings'
  | 'keys'
  | 'tasks'
  | 'admin_session_revoked'
  | 'indexes'
  | 'search_ui'
  | 'canaries'
  | 'changes'
  | 'aliases';

/** An admin console session (SPEC A19, C8 `admin_sessions`): kept until `expires_at`, revoked on logout. */
export interface AdminSessionRecord {
  /** HMAC of the cookie's secret (never the cookie value itself). */
  id: string;
  csrf_token: string;
  /** SHA-256 of the admin key the session was opened with: a rotated admin key ends its sessions. */
  admin_key_hash: string;
  /** Wall-clock ms. */
  created_at: number;
  /** Wall-clock ms; the store forgets the session after it. */
  expires_at: number;
  revoked: boolean;
}

/** Consecutive failed console logins from one address and the backoff they earned. */
export interface AdminLoginFailures {
  failures: number;
  /** Wall-clock ms until which logins are refused (null: no backoff in force). */
  backoff_until: number | null;
}

/**
 * A delete through Miroir (SPEC A8 tombstones): which documents the task `taskUid` deleted — by ids (the primary
 * keys), by filter (the filter as the client sent it) or all of them — kept `anti_entropy.tombstone_retention_s`, so
 * anti-entropy deletes a copy it covers instead of copying it back.
 */
export interface Tombstone {
  index: string;
  taskUid: number;
  /** `epoch`: the index's documents were swapped with another index's (or renamed) by this task — the
   * index's earlier tombstones are about documents it no longer holds. */
  kind: 'ids' | 'filter' | 'all' | 'epoch';
  ids?: string[];
  filter?: unknown;
  /** Wall-clock ms when the delete was registered. */
  at: number;
}

/** A per-index TTL policy (`POST /_miroir/indexes/{uid}/ttl-policy`); absent members take the `ttl` config. */
export interface TtlPolicy {
  enabled?: boolean;
  sweep_interval_s?: number;
  max_deletes_per_sweep?: number;
}

/** The last anti-entropy pass over one shard of one index (`GET /_miroir/antientropy/status`). */
export interface AntiEntropyShardStatus {
  index: string;
  shard: number;
  /** Wall-clock ms. */
  finished_at: number;
  duration_ms: number;
  documents: number;
  mismatched_buckets: number;
  mismatches: number;
  repaired: number;
  /** Whether repairs were applied (auto_repair) or only reported. */
  repair: boolean;
  /** Passes in a row that found mismatches (the runbook's "3 in a row"). */
  consecutive_with_mismatches: number;
  /** Replicas that could not be read. */
  skipped_nodes: string[];
  /** Up to 20 of the mismatches found: primary key, what differed, what was done. */
  samples: Array<{ id: string; kind: string; action: string }>;
  error: string | null;
}

/** Kinds of record that expire by themselves (SPEC C8 tables 4 and 5): `idemp` → `miroir:idemp:<key>`, `session` →
 * `miroir:session:<id>`, `settings_frozen` → `miroir:settings_frozen:<key>` (indexes whose writes are frozen). Values
 * are opaque strings (the owners serialize them); keys never equal `_index` (the Redis listing's name). */
export type ExpiringKind = 'idemp' | 'session' | 'settings_frozen';

export class StoreUnavailableError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'StoreUnavailableError';
  }
}

export interface Store {
  readonly backend: 'lmdb' | 'redis';

  // ---- task sequence, settlement queues and tasks (C7, Round 2 "Task order")
  /** Next cluster-wide task uid: 0, 1, 2, ... unique and increasing across processes. */
  nextTaskUid(): Promise<number>;
  /**
   * Allocates the next task uid and appends it to each queue in one atomic step, so a queue always holds every
   * uid allocated for it (in uid order) — a task never settles before an earlier one another pod is still sending.
   * `owner` names the allocating process, so a uid whose process died before recording the task can be skipped.
   */
  enqueueTask(queues: readonly string[], owner: string): Promise<number>;
  /** Who allocated a queued uid (the process that is sending its writes), until it is dequeued. */
  taskOwner(uid: number): Promise<string | null>;
  /** The uids waiting in a queue, ascending. */
  queuedTasks(queue: string): Promise<number[]>;
  /** Queues that hold at least one uid. */
  activeQueues(): Promise<string[]>;
  /** Removes a settled task from its queues. */
  dequeueTask(queues: readonly string[], uid: number): Promise<void>;
  /** Writes a task's final record and removes it from its queues in one step. */
  finishTask(task: TaskRow): Promise<void>;
  /** Resolves once the record is durable. */
  putTask(task: TaskRow): Promise<void>;
  getTask(uid: number): Promise<TaskRow | null>;
  getTasks(uids: readonly number[]): Promise<Array<TaskRow | null>>;
  /** Streams tasks in uid order without holding them all (chunks read as the consumer advances). */
  scanTasks(scan: TaskScan): AsyncIterable<TaskRow>;
  /** How many tasks exist (of these indexes when given). */
  countTasks(indexUids?: readonly string[] | null): Promise<number>;
  deleteTasks(uids: readonly number[]): Promise<number>;
  /** Deletes finished tasks that finished before `beforeMs`; returns how many. */
  pruneTasks(beforeMs: number): Promise<number>;

  // ---- API keys (Miroir is the key authority)
  putKey(key: ApiKeyRecord): Promise<void>;
  getKey(uid: string): Promise<ApiKeyRecord | null>;
  listKeys(): Promise<ApiKeyRecord[]>;
  deleteKey(uid: string): Promise<boolean>;

  // ---- per-index state (one record per index; every change is a compare-and-set on its version)
  getIndex(uid: string): Promise<IndexRecord | null>;
  /**
   * getIndex through a short-lived cache, for the search path: exact after this process's own writes, at most
   * `INDEX_STATE_TTL_MS` stale after another pod's write whose `indexes` message was lost (index-state-cache.ts).
   * Never for read-modify-write decisions.
   */
  getIndexCached(uid: string): Promise<IndexRecord | null>;
  listIndexes(): Promise<IndexRecord[]>;
  /**
   * Writes every change at once only if each record's stored version equals `expected` (0 = no record yet); `next`
   * null deletes the record (and its node settings versions). Returns the written records (deleted ones left out),
   * or null when any version differed and nothing was written.
   */
  casIndexes(
    changes: ReadonlyArray<{ uid: string; expected: number; next: IndexRecordDraft | null }>,
  ): Promise<IndexRecord[] | null>;
  setNodeSettingsVersion(indexUid: string, nodeId: string, version: number): Promise<void>;
  getNodeSettingsVersions(indexUid: string): Promise<Record<string, number>>;

  // ---- topology
  getTopology(): Promise<StoredTopology | null>;
  /** Writes `next` (with version = expected + 1) only if the stored version is `expectedVersion` (0 = none yet). */
  casTopology(expectedVersion: number, next: Omit<StoredTopology, 'version'>): Promise<StoredTopology | null>;

  // ---- aliases (SPEC A7): one table, changed whole by compare-and-set; each change is published on `aliases`
  getAliases(): Promise<AliasTable>;
  /** Writes `next` (version = expected + 1) only if the stored version is `expectedVersion` (0 = none yet). */
  casAliases(expectedVersion: number, next: Omit<AliasTable, 'version'>): Promise<AliasTable | null>;

  // ---- ILM rollover policies (SPEC A17), by name; `null` deletes
  listIlmPolicies(): Promise<IlmPolicyRecord[]>;
  getIlmPolicy(name: string): Promise<IlmPolicyRecord | null>;
  putIlmPolicy(policy: IlmPolicyRecord): Promise<void>;
  deleteIlmPolicy(name: string): Promise<boolean>;

  // ---- jobs (Mode C)
  enqueueJob(job: { id: string; type: string; payload: unknown }): Promise<Job>;
  /** Atomically claims the oldest queued job (or one whose lease lapsed) of the given types. */
  claimJob(owner: string, leaseMs: number, types?: readonly string[]): Promise<Job | null>;
  /** Extends the claim and records progress; false when `owner` no longer holds the job. */
  heartbeatJob(id: string, owner: string, leaseMs: number, cursor?: unknown): Promise<boolean>;
  completeJob(id: string, owner: string): Promise<boolean>;
  failJob(id: string, owner: string, error: string): Promise<boolean>;
  getJob(id: string): Promise<Job | null>;
  listJobs(): Promise<Job[]>;
  deleteJob(id: string): Promise<boolean>;

  // ---- leases (Mode B)
  /** Acquires the lease, or renews it when `owner` holds it; false when someone else holds a live lease. */
  acquireLease(scope: string, owner: string, ttlMs: number): Promise<boolean>;
  releaseLease(scope: string, owner: string): Promise<boolean>;
  getLease(scope: string): Promise<Lease | null>;

  // ---- search UI (SPEC A21; C8 table 13 and its Redis-only keys)
  getSearchUiConfig(index: string): Promise<SearchUiIndexConfig | null>;
  putSearchUiConfig(index: string, config: SearchUiIndexConfig): Promise<void>;
  getScopedKey(index: string): Promise<ScopedKeyRecord | null>;
  listScopedKeys(): Promise<Array<{ index: string; record: ScopedKeyRecord }>>;
  /** Writes `next` (null deletes) only if the stored record equals `expected` (null = none); false otherwise. */
  casScopedKey(index: string, expected: ScopedKeyRecord | null, next: ScopedKeyRecord | null): Promise<boolean>;
  /** A pod's beacon: the scoped-key generation it uses for `index`, kept for `ttlMs`. */
  putScopedKeyObserved(pod: string, index: string, generation: number, ttlMs: number): Promise<void>;
  /** The live beacons of these pods for `index` (pods without one are left out). */
  getScopedKeyObserved(index: string, pods: readonly string[]): Promise<Record<string, number>>;
  /**
   * Counts one hit on a fixed-window rate-limit counter (`bucket`, e.g. `searchui:<ip>`) and answers it. The LMDB
   * store counts in this process's memory (one pod); Redis counts for every pod. Idle counters go after `idleTtlMs`.
   */
  hitRateLimit(bucket: string, windowMs: number, idleTtlMs: number): Promise<WindowCounter>;

  // ---- admin console sessions and login backoff (SPEC A19; C8 `admin_sessions`, `ratelimit:adminlogin:backoff`;
  // its 10-a-minute window is a `hitRateLimit` bucket `adminlogin:<ip>`)
  /** Writes a session; it expires at its `expires_at`. */
  putAdminSession(session: AdminSessionRecord): Promise<void>;
  /** The session, or null when unknown or expired (a revoked one is returned with `revoked: true`). */
  getAdminSession(id: string): Promise<AdminSessionRecord | null>;
  /** Marks a session revoked (kept until it expires); false when it is unknown or expired. */
  revokeAdminSession(id: string): Promise<boolean>;
  /** Consecutive failed logins from `ip` and the backoff in force (0 and null when none). */
  getAdminLoginFailures(ip: string): Promise<AdminLoginFailures>;
  /** Adds one failed login from `ip` (forgotten `keepMs` after the last one); the consecutive failures so far. */
  recordAdminLoginFailure(ip: string, keepMs: number): Promise<number>;
  /** Refuses logins from `ip` until `untilMs`, unless a later backoff is already in force. */
  extendAdminLoginBackoff(ip: string, untilMs: number): Promise<void>;
  /** A successful login: forgets the failures and the backoff of `ip`. */
  clearAdminLoginFailures(ip: string): Promise<void>;

  // ---- canaries (SPEC A18, C8 `canaries`): definitions every pod sees, and each canary's bounded run history
  /** Creates or replaces a canary definition. */
  putCanary(def: CanaryDefinition): Promise<void>;
  getCanary(name: string): Promise<CanaryDefinition | null>;
  /** Every canary, by name. */
  listCanaries(): Promise<CanaryDefinition[]>;
  /** Deletes a canary and its history; false when it did not exist. */
  deleteCanary(name: string): Promise<boolean>;
  /** Adds a run to the canary's history, keeping the newest `keep`. */
  appendCanaryRun(name: string, run: CanaryRun, keep: number): Promise<void>;
  /** The canary's newest runs, newest first (at most `limit`). */
  getCanaryRuns(name: string, limit: number): Promise<CanaryRun[]>;
  // ---- integrity over time (SPEC A8 anti-entropy tombstones and pass status, A14 TTL policies)
  putTombstone(t: Tombstone): Promise<void>;
  /** The index's tombstones, oldest task first. */
  listTombstones(index: string): Promise<Tombstone[]>;
  /** Forgets tombstones registered before `beforeMs`; returns how many. */
  pruneTombstones(beforeMs: number): Promise<number>;
  /** Sets (null: removes) an index's TTL policy. */
  putTtlPolicy(index: string, policy: TtlPolicy | null): Promise<void>;
  listTtlPolicies(): Promise<Record<string, TtlPolicy>>;
  /** Online reshard (issue 26): one record per index, written by the leader and the start route; null removes. */
  putReshard(index: string, record: ReshardRecord | null): Promise<void>;
  listReshards(): Promise<ReshardRecord[]>;
  putAntiEntropyStatus(status: AntiEntropyShardStatus): Promise<void>;
  getAntiEntropyStatus(index: string, shard: number): Promise<AntiEntropyShardStatus | null>;
  listAntiEntropyStatus(): Promise<AntiEntropyShardStatus[]>;
  // ---- records that expire (idempotency keys, read-your-writes sessions)
  /** The live value under `kind`/`key`, or null when there is none or it expired. */
  getExpiring(kind: ExpiringKind, key: string): Promise<string | null>;
  /**
   * Compare-and-set: writes `next` (null deletes) with a lifetime of `ttlMs` only if the live value equals `expected`
   * (null = none or expired). True when written.
   */
  casExpiring(
    kind: ExpiringKind,
    key: string,
    expected: string | null,
    next: string | null,
    ttlMs: number,
  ): Promise<boolean>;
  /** How many live records of `kind` exist (expired ones are evicted on the way). */
  countExpiring(kind: ExpiringKind): Promise<number>;

  // ---- change data capture (SPEC A13, Round 2 "CDC"): an ordered log whose positions are the event ids
  /** Appends events in order, durable when it resolves; their ids (1, 2, ... across the log's life, never reused). */
  appendChanges(events: readonly CdcEventDraft[]): Promise<number[]>;
  /** Up to `limit` events with id > `since`, ascending (of `index` only when given); `scannedTo` is the last id
   * looked at (a filtered read may skip past events of other indexes). */
  readChanges(since: number, limit: number, index?: string | null): Promise<{ events: CdcEvent[]; scannedTo: number }>;
  /** The first kept and the last appended id (null when the log is empty / never written). */
  changesBounds(): Promise<{ first: number | null; last: number }>;
  /** Retention: keeps at most `maxEvents` (the newest) and removes events timestamped before `beforeMs`. */
  trimChanges(maxEvents: number, beforeMs: number): Promise<number>;
  /** A sink's delivery cursor: the last event id it delivered (0 when none). */
  getChangeCursor(sink: string): Promise<number>;
  putChangeCursor(sink: string, eventId: number): Promise<void>;

  // ---- change notification
  publish(channel: StoreChannel, message: string): Promise<void>;
  subscribe(channel: StoreChannel, handler: (message: string) => void): Promise<() => Promise<void>>;

  close(): Promise<void>;
}

/** A scoped-key record as stored (fixed key order, so a compare-and-set can compare the serialized form). */
export function scopedKeyJson(r: ScopedKeyRecord): string {
  return JSON.stringify({
    primary_uid: r.primary_uid,
    previous_uid: r.previous_uid,
    rotated_at: r.rotated_at,
    generation: r.generation,
  });
}

export function newJob(job: { id: string; type: string; payload: unknown }, now: number): Job {
  return {
    id: job.id,
    type: job.type,
    payload: job.payload,
    state: 'queued',
    owner: null,
    leaseExpiresAt: null,
    cursor: null,
    attempts: 0,
    error: null,
    createdAt: now,
    updatedAt: now,
  };
}

export function isClaimable(job: Job, now: number, types?: readonly string[]): boolean {
  if (types !== undefined && !types.includes(job.type)) return false;
  return (
    job.state === 'queued' || (job.state === 'in_progress' && job.leaseExpiresAt !== null && job.leaseExpiresAt <= now)
  );
}

export function isFinished(task: TaskRow): boolean {
  return task.status === 'succeeded' || task.status === 'failed' || task.status === 'canceled';
}

/** A task record as stored by any version of Miroir (round 1 kept one node task per node and no queues). */
export type StoredTaskRow = Omit<TaskRow, 'nodeTasks' | 'queues'> & {
  nodeTasks: Record<string, number | number[]>;
  queues?: string[];
};

function isCurrentTaskRow(raw: StoredTaskRow): raw is TaskRow {
  if (!Array.isArray(raw.queues)) return false;
  for (const v of Object.values(raw.nodeTasks)) if (typeof v === 'number') return false;
  return true;
}

export function normalizeTaskRow(raw: StoredTaskRow): TaskRow {
  if (isCurrentTaskRow(raw)) return raw;
  const fixed: Record<string, number[]> = {};
  for (const [node, v] of Object.entries(raw.nodeTasks)) fixed[node] = typeof v === 'number' ? [v] : v;
  return {
    ...raw,
    nodeTasks: fixed,
    queues: Array.isArray(raw.queues) ? raw.queues : raw.indexUid === null ? [] : [raw.indexUid],
  };
}

function isCurrentIndexRecord(raw: IndexRecord | LegacyIndexState): raw is IndexRecord {
  return 'pending' in raw && Array.isArray(raw.pending);
}

/** An index record as stored by any version of Miroir (round 1 kept the committed fields at the top level). */
export function normalizeIndexRecord(raw: IndexRecord | LegacyIndexState, shards: number): IndexRecord {
  if (isCurrentIndexRecord(raw)) return raw;
  const old = raw;
  return {
    uid: old.uid,
    version: 1,
    committed: {
      primaryKey: old.primaryKey,
      settings: { ...defaultSettings(), ...old.settings },
      settingsVersion: old.settingsVersion,
      createdAt: old.createdAt,
      updatedAt: old.updatedAt,
    },
    fields: old.fields ?? [],
    shards,
    pending: [],
  };
}

/** Round 1's index record. */
export interface LegacyIndexState {
  uid: string;
  primaryKey: string | null;
  settings: Record<string, unknown>;
  settingsVersion: number;
  fields: string[];
  createdAt: string;
  updatedAt: string;
}
