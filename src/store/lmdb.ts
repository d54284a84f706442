// The single-pod store on LMDB (`task_store.backend: lmdb`): one environment at `task_store.path` with a database
// per record kind. Every compare-and-set runs inside one write transaction; awaited writes are committed to disk;
// expired leases and job claims are swept lazily on read and by an unref'd timer. Refuses a newer schema.
import { EventEmitter } from 'node:events';
import { mkdirSync } from 'node:fs';
import { open, type Database, type RootDatabase } from 'lmdb';
import type { ApiKeyRecord } from '../core/auth/keys.js';
import { normalizeAliasTable, type AliasTable } from '../core/aliases.js';
import { isPolicyRecord, type IlmPolicyRecord } from '../core/ilm.js';
import { IndexStateCache } from './index-state-cache.js';
import { MemoryRateLimits } from './memory-rate-limit.js';
import {
  isClaimable,
  isFinished,
  newJob,
  normalizeIndexRecord,
  normalizeTaskRow,
  type IndexRecord,
  type IndexRecordDraft,
  type AdminLoginFailures,
  type AdminSessionRecord,
  type CanaryDefinition,
  type CanaryRun,
  type ExpiringKind,
  type Job,
  type Lease,
  type LegacyIndexState,
  type ScopedKeyRecord,
  type SearchUiIndexConfig,
  type Store,
  type StoreChannel,
  type StoredTopology,
  type TaskRow,
  type TaskScan,
  type WindowCounter,
  type Tombstone,
  type TtlPolicy,
  type ReshardRecord,
  type AntiEntropyShardStatus,
  type CdcEvent,
  type CdcEventDraft,
  scopedKeyJson,
} from './store.js';

/** 2: index records with pending changes, task queues and the per-index task listing (round 2). */
export const LMDB_SCHEMA_VERSION = 2;

/** Tasks read per chunk when scanning. */
const SCAN_CHUNK = 256;

export interface LmdbStoreOptions {
  path: string;
  now?: () => number;
  sweepIntervalMs?: number;
}

/** Console login failures from one address (key ['login', ip] of the `admin_ui` database). */
interface AdminLoginRow {
  failures: number;
  /** When the failures are forgotten. */
  failures_until: number;
  backoff_until: number;
}

/** Task uids reserved per durable write (see nextTaskUid). */
const UID_BLOCK = 64;

export class LmdbStore implements Store {
  readonly backend = 'lmdb' as const;
  private readonly root: RootDatabase;
  /** The numeric entries of `meta` (schema version, sequences, counts); the topology record has a view of its own. */
  private readonly meta: Database<number, string>;
  private readonly topologyRecord: Database<StoredTopology, string>;
  /** Views of `meta` for the alias table (`aliases`) and the ILM policies (`ilm:<name>`). */
  private readonly aliasTable: Database<AliasTable, string>;
  private readonly ilmPolicies: Database<IlmPolicyRecord, string>;
  private readonly tasks: Database<TaskRow, number>;
  private readonly keys: Database<ApiKeyRecord, string>;
  private readonly indexes: Database<IndexRecord | LegacyIndexState, string>;
  /** [index uid, task uid] → 1: the tasks of each index, for filtered listings. */
  private readonly tasksByIndex: Database<number, [string, number]>;
  /** [queue, task uid] → 1: tasks waiting to settle, per queue. */
  private readonly queue: Database<number, [string, number]>;
  /** task uid → the process that allocated it, while queued. */
  private readonly queueOwners: Database<string, number>;
  /** queue → number of waiting tasks (the active queues without a scan). */
  private readonly queueSizes: Database<number, string>;
  private readonly nodeVersions: Database<number, [string, string]>;
  private readonly jobs: Database<Job, string>;
  private readonly leases: Database<Lease, string>;
  /** Search UI records (views over the `search_ui` database): ['config', index] and ['scoped_key', index]. */
  private readonly searchUiConfigs: Database<SearchUiIndexConfig, [string, string]>;
  private readonly scopedKeys: Database<ScopedKeyRecord, [string, string]>;
  /** Beacons and rate limits only matter while this process runs (one pod), so they stay in memory. */
  private readonly observed = new Map<string, { generation: number; until: number }>();
  private readonly rateLimits: MemoryRateLimits;
  /** Admin console records (views over the `admin_ui` database): ['session', id] and ['login', ip]. */
  private readonly adminSessions: Database<AdminSessionRecord, [string, string]>;
  private readonly adminLogins: Database<AdminLoginRow, [string, string]>;
  /** Canaries (issue 30; views over the `canaries` database): ['def', name] and ['runs', name] (newest first). */
  private readonly canaryDefs: Database<CanaryDefinition, [string, string]>;
  private readonly canaryRuns: Database<CanaryRun[], [string, string]>;
  /** Views over the `integrity` database: ['tomb', index, taskUid], ['ttl', index, 0], ['ae', index, shard]. */
  private readonly tombstones: Database<Tombstone, [string, string, number]>;
  private readonly ttlPolicies: Database<TtlPolicy, [string, string, number]>;
  private readonly antiEntropy: Database<AntiEntropyShardStatus, [string, string, number]>;
  private readonly reshards: Database<ReshardRecord, [string, string, number]>;
  /** [kind, key] → value and expiry (idempotency keys, sessions, frozen indexes). */
  private readonly expiring: Database<ExpiringRow, [string, string]>;
  /** [expires_at, kind, key] → 1: the sweep reads only what expired (never every record). */
  private readonly expiringByTime: Database<number, [number, string, string]>;
  /** The change log: event id → event (ids from meta `cdc_seq`). */
  private readonly changes: Database<CdcEvent, number>;
  /** Sink name → the last event id it delivered. */
  private readonly changeCursors: Database<number, string>;
  private readonly events = new EventEmitter();
  private readonly indexCache = new IndexStateCache();
  /** The reserved block of task uids: next to hand out, and one past the last. */
  private uidNext = 0;
  private uidEnd = 0;
  private uidRefill: Promise<void> | null = null;
  /** Queue entries written but not committed yet (enqueueTask does not wait for its commit). */
  private readonly enqueuing = new Map<number, { queues: string[]; owner: string }>();
  /** Uids dequeued while their queue entry was still in the overlay (they must not reappear). */
  private readonly dequeued = new Set<number>();
  private readonly now: () => number;
  private readonly sweeper: NodeJS.Timeout;

  constructor(opts: LmdbStoreOptions) {
    mkdirSync(opts.path, { recursive: true });
    this.now = opts.now ?? Date.now;
    this.root = open({ path: opts.path, compression: false, maxDbs: 64 }); // maxDbs: room for more record kinds (search UI, issue 32)
    // One record kind per key prefix of a named database: each kind is read through its own typed handle (lmdb
    // opens the same database again; the on-disk layout is unchanged).
    this.meta = this.root.openDB({ name: 'meta' });
    this.topologyRecord = this.root.openDB({ name: 'meta' });
    this.aliasTable = this.root.openDB({ name: 'meta' });
    this.ilmPolicies = this.root.openDB({ name: 'meta' });
    const version = this.meta.get('schema_version');
    if (version !== undefined && version > LMDB_SCHEMA_VERSION) {
      void this.root.close();
      throw new Error(
        `task_store.path ${opts.path} holds schema version ${version}, newer than this Miroir (${LMDB_SCHEMA_VERSION}); upgrade Miroir or point task_store.path elsewhere`,
      );
    }
    this.tasks = this.root.openDB({ name: 'tasks' });
    this.keys = this.root.openDB({ name: 'keys' });
    this.indexes = this.root.openDB({ name: 'indexes' });
    this.tasksByIndex = this.root.openDB({ name: 'tasks_by_index' });
    this.queue = this.root.openDB({ name: 'task_queues' });
    this.queueSizes = this.root.openDB({ name: 'task_queue_sizes' });
    this.queueOwners = this.root.openDB({ name: 'task_queue_owners' });
    if (version !== LMDB_SCHEMA_VERSION) this.migrate(version ?? null);
    this.nodeVersions = this.root.openDB({ name: 'node_settings_version' });
    this.jobs = this.root.openDB({ name: 'jobs' });
    this.leases = this.root.openDB({ name: 'leader_lease' });
    this.searchUiConfigs = this.root.openDB({ name: 'search_ui' });
    this.scopedKeys = this.root.openDB({ name: 'search_ui' });
    this.rateLimits = new MemoryRateLimits(this.now);
    this.adminSessions = this.root.openDB({ name: 'admin_ui' });
    this.adminLogins = this.root.openDB({ name: 'admin_ui' });
    this.canaryDefs = this.root.openDB({ name: 'canaries' });
    this.canaryRuns = this.root.openDB({ name: 'canaries' });
    this.tombstones = this.root.openDB({ name: 'integrity' });
    this.ttlPolicies = this.root.openDB({ name: 'integrity' });
    this.antiEntropy = this.root.openDB({ name: 'integrity' });
    this.reshards = this.root.openDB({ name: 'integrity' });
    this.expiring = this.root.openDB({ name: 'expiring' });
    this.expiringByTime = this.root.openDB({ name: 'expiring_by_time' });
    this.changes = this.root.openDB({ name: 'cdc_log' });
    this.changeCursors = this.root.openDB({ name: 'cdc_cursors' });
    this.sweeper = setInterval(() => void this.sweep(), opts.sweepIntervalMs ?? 5000).unref();
  }

  /** Brings a round-1 store (schema 1) to this schema: index records, task rows and the per-index listing. */
  private migrate(from: number | null): void {
    this.root.transactionSync(() => {
      if (from !== null && from < 2) {
        const shards = this.topologyRecord.get('topology')?.shards ?? 64;
        for (const { key, value } of this.indexes.getRange())
          this.indexes.putSync(key, normalizeIndexRecord(value, shards));
        for (const { key, value } of this.tasks.getRange()) {
          const row = normalizeTaskRow(value);
          // Round 1 tasks were settled in place; an unfinished one is settled again from its queue.
          this.tasks.putSync(key, row);
          if (row.indexUid !== null) this.tasksByIndex.putSync([row.indexUid, row.uid], 1);
          if (!isFinished(row)) for (const q of row.queues) this.addToQueue(q, row.uid);
        }
      }
      this.meta.putSync('schema_version', LMDB_SCHEMA_VERSION);
    });
  }

  private addToQueue(queue: string, uid: number): void {
    if (this.queue.get([queue, uid]) !== undefined) return;
    this.queue.putSync([queue, uid], 1);
    this.queueSizes.putSync(queue, (this.queueSizes.get(queue) ?? 0) + 1);
  }

  private async sweep(): Promise<void> {
    const now = this.now();
    await this.root.transaction(() => {
      for (const { key, value } of this.leases.getRange()) if (value.expiresAt <= now) this.leases.remove(key);
      for (const { key, value } of this.adminSessions.getRange({ start: ['session'], end: ['session', '\uffff'] }))
        if (value.expires_at <= now) this.adminSessions.remove(key);
      for (const { key, value } of this.adminLogins.getRange({ start: ['login'], end: ['login', '\uffff'] }))
        if (value.failures_until <= now && value.backoff_until <= now) this.adminLogins.remove(key);
      this.sweepExpiring(now);
    });
  }

  /**
   * Task uids come from blocks of UID_BLOCK reserved with one durable write (the stored `task_seq` is the end of
   * the block), so a write does not wait for a commit of its own just to get a uid. One process owns an LMDB store,
   * so uids stay unique and increasing; a crash skips the rest of the block (a gap, never a reuse), a clean close
   * stores the exact next uid.
   */
  async nextTaskUid(): Promise<number> {
    while (this.uidNext >= this.uidEnd) {
      this.uidRefill ??= this.reserveUids().finally(() => {
        this.uidRefill = null;
      });
      await this.uidRefill;
    }
    return this.uidNext++;
  }

  private async reserveUids(): Promise<void> {
    const start = await this.root.transaction(() => {
      const next = this.meta.get('task_seq') ?? 0;
      this.meta.put('task_seq', next + UID_BLOCK);
      return next;
    });
    this.uidNext = start;
    this.uidEnd = start + UID_BLOCK;
  }

  /**
   * One process owns an LMDB store, and it writes the task's record only after this: the queue entry commits before
   * the record (commits keep their order), so it is not awaited — a crash before the record leaves an entry the
   * settler skips (its owner is gone).
   */
  async enqueueTask(queues: readonly string[], owner: string): Promise<number> {
    const uid = await this.nextTaskUid();
    // Visible at once through the overlay until the commit lands.
    this.enqueuing.set(uid, { queues: [...queues], owner });
    void this.root
      .transaction(() => {
        this.queueOwners.put(uid, owner);
        for (const q of queues) this.addToQueue(q, uid);
      })
      .catch(() => undefined)
      .finally(() => this.enqueuing.delete(uid));
    return uid;
  }

  async taskOwner(uid: number): Promise<string | null> {
    return this.enqueuing.get(uid)?.owner ?? this.queueOwners.get(uid) ?? null;
  }

  async queuedTasks(queue: string): Promise<number[]> {
    const out: number[] = [];
    for (const key of this.queue.getKeys({ start: [queue, -1], end: [queue, Number.MAX_SAFE_INTEGER] }))
      out.push(key[1]);
    let merged = false;
    for (const [uid, e] of this.enqueuing) {
      if (e.queues.includes(queue) && !out.includes(uid) && !this.dequeued.has(uid)) {
        out.push(uid);
        merged = true;
      }
    }
    return merged ? out.sort((a, b) => a - b) : out;
  }

  async activeQueues(): Promise<string[]> {
    const out = new Set<string>();
    for (const { key, value } of this.queueSizes.getRange()) if (value > 0) out.add(key);
    for (const [uid, e] of this.enqueuing) if (!this.dequeued.has(uid)) for (const q of e.queues) out.add(q);
    return [...out];
  }

  async dequeueTask(queues: readonly string[], uid: number): Promise<void> {
    await this.settleEnqueue(uid);
    await this.root.transaction(() => {
      this.queueOwners.removeSync(uid);
      for (const q of queues) this.removeFromQueue(q, uid);
    });
  }

  /** Waits for the queue entry of `uid` to commit (a dequeue must come after it). */
  private async settleEnqueue(uid: number): Promise<void> {
    if (!this.enqueuing.has(uid)) return;
    this.dequeued.add(uid);
    try {
      await this.root.transaction(() => undefined);
    } finally {
      this.dequeued.delete(uid);
    }
  }

  async finishTask(task: TaskRow): Promise<void> {
    await this.settleEnqueue(task.uid);
    await this.root.transaction(() => {
      this.tasks.put(task.uid, task);
      if (task.indexUid !== null) this.tasksByIndex.put([task.indexUid, task.uid], 1);
      this.queueOwners.removeSync(task.uid);
      for (const q of task.queues) this.removeFromQueue(q, task.uid);
    });
  }

  private removeFromQueue(q: string, uid: number): void {
    if (!this.queue.removeSync([q, uid])) return;
    const left = (this.queueSizes.get(q) ?? 1) - 1;
    if (left > 0) this.queueSizes.putSync(q, left);
    else this.queueSizes.removeSync(q);
  }

  async putTask(task: TaskRow): Promise<void> {
    await this.root.transaction(() => {
      this.tasks.put(task.uid, task);
      if (task.indexUid !== null) this.tasksByIndex.put([task.indexUid, task.uid], 1);
    });
  }

  async getTask(uid: number): Promise<TaskRow | null> {
    const row = this.tasks.get(uid);
    return row === undefined ? null : normalizeTaskRow(row);
  }

  async getTasks(uids: readonly number[]): Promise<Array<TaskRow | null>> {
    return uids.map((uid) => {
      const row = this.tasks.get(uid);
      return row === undefined ? null : normalizeTaskRow(row);
    });
  }

  async *scanTasks(scan: TaskScan): AsyncIterable<TaskRow> {
    const reverse = scan.reverse === true;
    if (scan.indexUids === undefined || scan.indexUids === null) {
      const range = reverse
        ? this.tasks.getRange({ start: scan.from ?? 0 })
        : this.tasks.getRange({ start: scan.from ?? Number.MAX_SAFE_INTEGER, reverse: true });
      for (const { value } of range) yield normalizeTaskRow(value);
      return;
    }
    // Merge the per-index listings in uid order, a chunk of uids at a time.
    const cursors = scan.indexUids.map((index) => this.indexUids(index, scan.from ?? null, reverse)[Symbol.iterator]());
    const heads = cursors.map((c) => headOf(c.next()));
    for (;;) {
      let best = -1;
      let uid = 0;
      for (let i = 0; i < heads.length; i++) {
        const h = heads[i] ?? null;
        if (h === null) continue;
        if (best < 0 || (reverse ? h < uid : h > uid)) {
          best = i;
          uid = h;
        }
      }
      if (best < 0) return;
      heads[best] = headOf(cursors[best]!.next());
      const row = this.tasks.get(uid);
      if (row !== undefined) yield normalizeTaskRow(row);
    }
  }

  private *indexUids(index: string, from: number | null, reverse: boolean): Iterable<number> {
    const range = reverse
      ? this.tasksByIndex.getKeys({ start: [index, from ?? -1], end: [index, Number.MAX_SAFE_INTEGER] })
      : this.tasksByIndex.getKeys({ start: [index, from ?? Number.MAX_SAFE_INTEGER], end: [index, -1], reverse: true });
    for (const key of range) yield key[1];
  }

  async countTasks(indexUids?: readonly string[] | null): Promise<number> {
    if (indexUids === undefined || indexUids === null) return this.tasks.getCount();
    let n = 0;
    for (const index of indexUids)
      n += this.tasksByIndex.getKeysCount({ start: [index, -1], end: [index, Number.MAX_SAFE_INTEGER] });
    return n;
  }

  async deleteTasks(uids: readonly number[]): Promise<number> {
    return this.root.transaction(() => {
      let n = 0;
      for (const uid of uids) n += this.removeTask(uid) ? 1 : 0;
      return n;
    });
  }

  private removeTask(uid: number): boolean {
    const row = this.tasks.get(uid);
    if (row === undefined) return false;
    if (row.indexUid !== null) this.tasksByIndex.removeSync([row.indexUid, uid]);
    return this.tasks.removeSync(uid);
  }

  async pruneTasks(beforeMs: number): Promise<number> {
    let pruned = 0;
    let from = 0;
    for (;;) {
      // Bounded write transactions, so a large prune never holds the writer for long.
      const n = await this.root.transaction(() => {
        let seen = 0;
        for (const { key, value } of this.tasks.getRange({ start: from, limit: SCAN_CHUNK })) {
          seen++;
          from = key + 1;
          if (
            isFinished(value) &&
            value.finishedAt !== null &&
            Date.parse(value.finishedAt) < beforeMs &&
            this.removeTask(key)
          )
            pruned++;
        }
        return seen;
      });
      if (n < SCAN_CHUNK) return pruned;
    }
  }

  async putKey(key: ApiKeyRecord): Promise<void> {
    await this.keys.put(key.uid, key);
  }

  async getKey(uid: string): Promise<ApiKeyRecord | null> {
    return this.keys.get(uid) ?? null;
  }

  async listKeys(): Promise<ApiKeyRecord[]> {
    return [...this.keys.getRange()].map((e) => e.value);
  }

  async deleteKey(uid: string): Promise<boolean> {
    return this.keys.remove(uid);
  }

  private readIndex(uid: string): IndexRecord | null {
    const raw = this.indexes.get(uid);
    return raw === undefined ? null : normalizeIndexRecord(raw, this.topologyRecord.get('topology')?.shards ?? 64);
  }

  async getIndex(uid: string): Promise<IndexRecord | null> {
    return this.readIndex(uid);
  }

  getIndexCached(uid: string): Promise<IndexRecord | null> {
    return this.indexCache.get(uid, () => this.getIndex(uid));
  }

  async listIndexes(): Promise<IndexRecord[]> {
    return [...this.indexes.getKeys()].map((uid) => this.readIndex(uid)!).filter((r) => r !== null);
  }

  async casIndexes(
    changes: ReadonlyArray<{ uid: string; expected: number; next: IndexRecordDraft | null }>,
  ): Promise<IndexRecord[] | null> {
    const written = await this.root.transaction(() => {
      for (const c of changes) if ((this.readIndex(c.uid)?.version ?? 0) !== c.expected) return null;
      const out: IndexRecord[] = [];
      // Versions come from one store-wide sequence, so a deleted and re-created record never repeats a version.
      let seq = this.meta.get('index_version_seq') ?? 0;
      for (const c of changes) {
        if (c.next === null) {
          this.indexes.removeSync(c.uid);
          for (const { key } of this.nodeVersions.getRange({ start: [c.uid], end: [c.uid, '\uffff'] }))
            this.nodeVersions.removeSync(key);
        } else {
          const record: IndexRecord = { ...c.next, uid: c.uid, version: ++seq };
          this.indexes.putSync(c.uid, record);
          out.push(record);
        }
      }
      this.meta.putSync('index_version_seq', seq);
      return out;
    });
    if (written !== null) for (const c of changes) this.indexCache.forget(c.uid);
    return written;
  }

  async setNodeSettingsVersion(indexUid: string, nodeId: string, version: number): Promise<void> {
    await this.nodeVersions.put([indexUid, nodeId], version);
  }

  async getNodeSettingsVersions(indexUid: string): Promise<Record<string, number>> {
    const out: Record<string, number> = {};
    for (const { key, value } of this.nodeVersions.getRange({ start: [indexUid], end: [indexUid, '\uffff'] }))
      out[key[1]] = value;
    return out;
  }

  async getTopology(): Promise<StoredTopology | null> {
    return this.topologyRecord.get('topology') ?? null;
  }

  async casTopology(expectedVersion: number, next: Omit<StoredTopology, 'version'>): Promise<StoredTopology | null> {
    const written = await this.root.transaction(() => {
      const cur = this.topologyRecord.get('topology');
      if ((cur?.version ?? 0) !== expectedVersion) return null;
      const value: StoredTopology = { ...next, version: expectedVersion + 1 };
      this.topologyRecord.put('topology', value);
      return value;
    });
    if (written !== null) this.events.emit('topology', String(written.version));
    return written;
  }

  async getAliases(): Promise<AliasTable> {
    return normalizeAliasTable(this.aliasTable.get('aliases'));
  }

  async casAliases(expectedVersion: number, next: Omit<AliasTable, 'version'>): Promise<AliasTable | null> {
    const written = await this.root.transaction(() => {
      if (normalizeAliasTable(this.aliasTable.get('aliases')).version !== expectedVersion) return null;
      const value: AliasTable = { ...next, version: expectedVersion + 1 };
      this.aliasTable.put('aliases', value);
      return value;
    });
    if (written !== null) this.events.emit('aliases', String(written.version));
    return written;
  }

  async listIlmPolicies(): Promise<IlmPolicyRecord[]> {
    const out: IlmPolicyRecord[] = [];
    for (const { value } of this.ilmPolicies.getRange({ start: 'ilm:', end: 'ilm:\uffff' }))
      if (isPolicyRecord(value)) out.push(value);
    return out;
  }

  async getIlmPolicy(name: string): Promise<IlmPolicyRecord | null> {
    const v: unknown = this.ilmPolicies.get(`ilm:${name}`);
    return isPolicyRecord(v) ? v : null;
  }

  async putIlmPolicy(policy: IlmPolicyRecord): Promise<void> {
    await this.ilmPolicies.put(`ilm:${policy.name}`, policy);
  }

  async deleteIlmPolicy(name: string): Promise<boolean> {
    return this.root.transaction(() => {
      const existed = this.ilmPolicies.get(`ilm:${name}`) !== undefined;
      if (existed) this.ilmPolicies.removeSync(`ilm:${name}`);
      return existed;
    });
  }

  async enqueueJob(job: { id: string; type: string; payload: unknown }): Promise<Job> {
    const value = newJob(job, this.now());
    await this.jobs.put(job.id, value);
    return value;
  }

  async claimJob(owner: string, leaseMs: number, types?: readonly string[]): Promise<Job | null> {
    return this.root.transaction(() => {
      const now = this.now();
      let best: Job | null = null;
      for (const { value } of this.jobs.getRange()) {
        if (isClaimable(value, now, types) && (best === null || value.createdAt < best.createdAt)) best = value;
      }
      if (best === null) return null;
      const claimed: Job = {
        ...best,
        state: 'in_progress',
        owner,
        leaseExpiresAt: now + leaseMs,
        attempts: best.attempts + 1,
        updatedAt: now,
      };
      this.jobs.put(claimed.id, claimed);
      return claimed;
    });
  }

  private async updateOwned(id: string, owner: string, change: (job: Job, now: number) => Job): Promise<boolean> {
    return this.root.transaction(() => {
      const job = this.jobs.get(id);
      const now = this.now();
      if (job === undefined || job.owner !== owner || job.state !== 'in_progress') return false;
      this.jobs.put(id, { ...change(job, now), updatedAt: now });
      return true;
    });
  }

  heartbeatJob(id: string, owner: string, leaseMs: number, cursor?: unknown): Promise<boolean> {
    return this.updateOwned(id, owner, (job, now) => ({
      ...job,
      leaseExpiresAt: now + leaseMs,
      cursor: cursor === undefined ? job.cursor : cursor,
    }));
  }

  completeJob(id: string, owner: string): Promise<boolean> {
    return this.updateOwned(id, owner, (job) => ({ ...job, state: 'completed', leaseExpiresAt: null }));
  }

  failJob(id: string, owner: string, error: string): Promise<boolean> {
    return this.updateOwned(id, owner, (job) => ({ ...job, state: 'failed', leaseExpiresAt: null, error }));
  }

  async getJob(id: string): Promise<Job | null> {
    return this.jobs.get(id) ?? null;
  }

  async listJobs(): Promise<Job[]> {
    return [...this.jobs.getRange()].map((e) => e.value);
  }

  async deleteJob(id: string): Promise<boolean> {
    return this.root.transaction(() => (this.jobs.get(id) === undefined ? false : (this.jobs.removeSync(id), true)));
  }

  async acquireLease(scope: string, owner: string, ttlMs: number): Promise<boolean> {
    return this.root.transaction(() => {
      const now = this.now();
      const cur = this.leases.get(scope);
      if (cur !== undefined && cur.expiresAt > now && cur.owner !== owner) return false;
      this.leases.put(scope, { scope, owner, expiresAt: now + ttlMs });
      return true;
    });
  }

  async releaseLease(scope: string, owner: string): Promise<boolean> {
    return this.root.transaction(() => {
      const cur = this.leases.get(scope);
      if (cur === undefined || cur.owner !== owner) return false;
      this.leases.remove(scope);
      return true;
    });
  }

  async getLease(scope: string): Promise<Lease | null> {
    const cur = this.leases.get(scope);
    return cur === undefined || cur.expiresAt <= this.now() ? null : cur;
  }

  async putTombstone(t: Tombstone): Promise<void> {
    await this.tombstones.put(['tomb', t.index, t.taskUid], t);
  }

  async listTombstones(index: string): Promise<Tombstone[]> {
    const out: Tombstone[] = [];
    for (const { value } of this.tombstones.getRange({ start: ['tomb', index, 0], end: ['tomb', index, Infinity] }))
      out.push(value);
    return out;
  }

  async pruneTombstones(beforeMs: number): Promise<number> {
    const old: Array<[string, string, number]> = [];
    for (const { key, value } of this.tombstones.getRange({ start: ['tomb'], end: ['tomb', '\uffff'] }))
      if (value.at < beforeMs) old.push(key);
    if (old.length > 0) await this.tombstones.transaction(() => old.forEach((k) => this.tombstones.remove(k)));
    return old.length;
  }

  async putTtlPolicy(index: string, policy: TtlPolicy | null): Promise<void> {
    if (policy === null) await this.ttlPolicies.remove(['ttl', index, 0]);
    else await this.ttlPolicies.put(['ttl', index, 0], policy);
  }

  async listTtlPolicies(): Promise<Record<string, TtlPolicy>> {
    const out: Record<string, TtlPolicy> = {};
    for (const { key, value } of this.ttlPolicies.getRange({ start: ['ttl'], end: ['ttl', '\uffff'] }))
      out[key[1]] = value;
    return out;
  }

  async putReshard(index: string, record: ReshardRecord | null): Promise<void> {
    if (record === null) await this.reshards.remove(['reshard', index, 0]);
    else await this.reshards.put(['reshard', index, 0], record);
  }

  async listReshards(): Promise<ReshardRecord[]> {
    const out: ReshardRecord[] = [];
    for (const { value } of this.reshards.getRange({ start: ['reshard'], end: ['reshard', '\uffff'] })) out.push(value);
    return out;
  }

  async putAntiEntropyStatus(status: AntiEntropyShardStatus): Promise<void> {
    await this.antiEntropy.put(['ae', status.index, status.shard], status);
  }

  async getAntiEntropyStatus(index: string, shard: number): Promise<AntiEntropyShardStatus | null> {
    return this.antiEntropy.get(['ae', index, shard]) ?? null;
  }

  async listAntiEntropyStatus(): Promise<AntiEntropyShardStatus[]> {
    const out: AntiEntropyShardStatus[] = [];
    for (const { value } of this.antiEntropy.getRange({ start: ['ae'], end: ['ae', '\uffff'] })) out.push(value);
    return out;
  }

  async getSearchUiConfig(index: string): Promise<SearchUiIndexConfig | null> {
    return this.searchUiConfigs.get(['config', index]) ?? null;
  }

  async putSearchUiConfig(index: string, config: SearchUiIndexConfig): Promise<void> {
    await this.searchUiConfigs.put(['config', index], config);
  }

  async getScopedKey(index: string): Promise<ScopedKeyRecord | null> {
    return this.scopedKeys.get(['scoped_key', index]) ?? null;
  }

  async listScopedKeys(): Promise<Array<{ index: string; record: ScopedKeyRecord }>> {
    const out: Array<{ index: string; record: ScopedKeyRecord }> = [];
    for (const { key, value } of this.scopedKeys.getRange({ start: ['scoped_key'], end: ['scoped_key', '\uffff'] }))
      out.push({ index: key[1], record: value });
    return out;
  }

  async casScopedKey(index: string, expected: ScopedKeyRecord | null, next: ScopedKeyRecord | null): Promise<boolean> {
    return this.root.transaction(() => {
      const cur = this.scopedKeys.get(['scoped_key', index]);
      if ((cur === undefined ? null : scopedKeyJson(cur)) !== (expected === null ? null : scopedKeyJson(expected)))
        return false;
      if (next === null) this.scopedKeys.removeSync(['scoped_key', index]);
      else
        this.scopedKeys.putSync(['scoped_key', index], {
          primary_uid: next.primary_uid,
          previous_uid: next.previous_uid,
          rotated_at: next.rotated_at,
          generation: next.generation,
        });
      return true;
    });
  }

  async putScopedKeyObserved(pod: string, index: string, generation: number, ttlMs: number): Promise<void> {
    this.observed.set(`${pod}\n${index}`, { generation, until: this.now() + ttlMs });
  }

  async getScopedKeyObserved(index: string, pods: readonly string[]): Promise<Record<string, number>> {
    const out: Record<string, number> = {};
    const now = this.now();
    for (const pod of pods) {
      const o = this.observed.get(`${pod}\n${index}`);
      if (o !== undefined && o.until > now) out[pod] = o.generation;
    }
    return out;
  }

  async hitRateLimit(bucket: string, windowMs: number, idleTtlMs: number): Promise<WindowCounter> {
    return this.rateLimits.hit(bucket, windowMs, idleTtlMs);
  }

  async putAdminSession(session: AdminSessionRecord): Promise<void> {
    await this.adminSessions.put(['session', session.id], session);
  }

  async getAdminSession(id: string): Promise<AdminSessionRecord | null> {
    const s = this.adminSessions.get(['session', id]);
    return s === undefined || s.expires_at <= this.now() ? null : s;
  }

  async revokeAdminSession(id: string): Promise<boolean> {
    return this.root.transaction(() => {
      const s = this.adminSessions.get(['session', id]);
      if (s === undefined || s.expires_at <= this.now()) return false;
      this.adminSessions.put(['session', id], { ...s, revoked: true });
      return true;
    });
  }

  /** Reads, changes and writes one address's login row in a write transaction. */
  private changeLogin(ip: string, change: (row: AdminLoginRow, now: number) => void): Promise<AdminLoginRow> {
    return this.root.transaction(() => {
      const now = this.now();
      const row = this.adminLogins.get(['login', ip]) ?? {
        failures: 0,
        failures_until: 0,
        backoff_until: 0,
      };
      change(row, now);
      this.adminLogins.put(['login', ip], row);
      return row;
    });
  }

  async getAdminLoginFailures(ip: string): Promise<AdminLoginFailures> {
    const row = this.adminLogins.get(['login', ip]);
    const now = this.now();
    if (row === undefined) return { failures: 0, backoff_until: null };
    return {
      failures: row.failures_until > now ? row.failures : 0,
      backoff_until: row.backoff_until > now ? row.backoff_until : null,
    };
  }

  async recordAdminLoginFailure(ip: string, keepMs: number): Promise<number> {
    const row = await this.changeLogin(ip, (r, now) => {
      if (r.failures_until <= now) r.failures = 0;
      r.failures++;
      r.failures_until = Math.max(r.failures_until, now + keepMs);
    });
    return row.failures;
  }

  async extendAdminLoginBackoff(ip: string, untilMs: number): Promise<void> {
    await this.changeLogin(ip, (r) => {
      r.backoff_until = Math.max(r.backoff_until, untilMs);
    });
  }

  async clearAdminLoginFailures(ip: string): Promise<void> {
    await this.root.transaction(() => this.adminLogins.removeSync(['login', ip]));
  }

  async putCanary(def: CanaryDefinition): Promise<void> {
    await this.canaryDefs.put(['def', def.name], def);
  }

  async getCanary(name: string): Promise<CanaryDefinition | null> {
    return this.canaryDefs.get(['def', name]) ?? null;
  }

  async listCanaries(): Promise<CanaryDefinition[]> {
    const out: CanaryDefinition[] = [];
    for (const { value } of this.canaryDefs.getRange({ start: ['def'], end: ['def', '\uffff'] })) out.push(value);
    return out;
  }

  async deleteCanary(name: string): Promise<boolean> {
    return this.root.transaction(() => {
      const existed = this.canaryDefs.get(['def', name]) !== undefined;
      this.canaryDefs.removeSync(['def', name]);
      this.canaryRuns.removeSync(['runs', name]);
      return existed;
    });
  }

  async appendCanaryRun(name: string, run: CanaryRun, keep: number): Promise<void> {
    await this.root.transaction(() => {
      const runs = this.canaryRuns.get(['runs', name]) ?? [];
      this.canaryRuns.putSync(['runs', name], [run, ...runs].slice(0, Math.max(1, keep)));
    });
  }

  async getCanaryRuns(name: string, limit: number): Promise<CanaryRun[]> {
    return (this.canaryRuns.get(['runs', name]) ?? []).slice(0, limit);
  }

  async getExpiring(kind: ExpiringKind, key: string): Promise<string | null> {
    const row = this.expiring.get([kind, key]);
    return row === undefined || row.expires_at <= this.now() ? null : row.value;
  }

  async casExpiring(
    kind: ExpiringKind,
    key: string,
    expected: string | null,
    next: string | null,
    ttlMs: number,
  ): Promise<boolean> {
    return this.root.transaction(() => {
      const now = this.now();
      const row = this.expiring.get([kind, key]);
      const live = row === undefined || row.expires_at <= now ? null : row.value;
      if (live !== expected) return false;
      if (row !== undefined) this.expiringByTime.removeSync([row.expires_at, kind, key]);
      if (next === null) {
        if (row !== undefined) {
          this.expiring.removeSync([kind, key]);
          this.countExpiringRows(kind, -1);
        }
      } else {
        if (row === undefined) this.countExpiringRows(kind, 1);
        this.expiring.putSync([kind, key], { value: next, expires_at: now + ttlMs });
        this.expiringByTime.putSync([now + ttlMs, kind, key], 1);
      }
      return true;
    });
  }

  async countExpiring(kind: ExpiringKind): Promise<number> {
    const now = this.now();
    await this.root.transaction(() => this.sweepExpiring(now));
    return this.meta.get(`expiring_count:${kind}`) ?? 0;
  }

  /** Adds `delta` to the stored row count of a kind (inside a write transaction). */
  private countExpiringRows(kind: string, delta: number): void {
    const k = `expiring_count:${kind}`;
    this.meta.putSync(k, Math.max(0, (this.meta.get(k) ?? 0) + delta));
  }

  /** Deletes every record that expired by `now` (inside a write transaction): reads only the expired part. */
  private sweepExpiring(now: number): void {
    for (const { key } of this.expiringByTime.getRange({ end: [now + 1] })) {
      const [at, kind, k] = key;
      this.expiringByTime.removeSync(key);
      const row = this.expiring.get([kind, k]);
      if (row !== undefined && row.expires_at === at) {
        this.expiring.removeSync([kind, k]);
        this.countExpiringRows(kind, -1);
      }
    }
  }

  async appendChanges(events: readonly CdcEventDraft[]): Promise<number[]> {
    if (events.length === 0) return [];
    return this.root.transaction(() => {
      const seq = Number(this.meta.get('cdc_seq') ?? 0);
      const ids = events.map((e, i) => {
        const id = seq + i + 1;
        void this.changes.put(id, { event_id: id, ...e });
        return id;
      });
      void this.meta.put('cdc_seq', seq + events.length);
      return ids;
    });
  }

  async readChanges(
    since: number,
    limit: number,
    index?: string | null,
  ): Promise<{ events: CdcEvent[]; scannedTo: number }> {
    const out: CdcEvent[] = [];
    let scannedTo = since;
    // A filtered read looks at a bounded number of events per call (scannedTo says how far it got).
    for (const { key, value } of this.changes.getRange({ start: since + 1, limit: Math.max(limit, 16 * 512) })) {
      scannedTo = key;
      if (index === undefined || index === null || value.index === index) out.push(value);
      if (out.length >= limit) break;
    }
    return { events: out, scannedTo };
  }

  async changesBounds(): Promise<{ first: number | null; last: number }> {
    let first: number | null = null;
    for (const key of this.changes.getKeys({ limit: 1 })) first = key;
    return { first, last: Number(this.meta.get('cdc_seq') ?? 0) };
  }

  async trimChanges(maxEvents: number, beforeMs: number): Promise<number> {
    const last = Number(this.meta.get('cdc_seq') ?? 0);
    const keepFrom = last - maxEvents + 1;
    let removed = 0;
    for (;;) {
      // Bounded write transactions, so a large trim never holds the writer for long.
      const n = await this.root.transaction(() => {
        let k = 0;
        for (const { key, value } of this.changes.getRange({ limit: SCAN_CHUNK })) {
          if (key >= keepFrom && Date.parse(value.timestamp) >= beforeMs) break;
          void this.changes.remove(key);
          k++;
        }
        return k;
      });
      removed += n;
      if (n < SCAN_CHUNK) return removed;
    }
  }

  async getChangeCursor(sink: string): Promise<number> {
    return this.changeCursors.get(sink) ?? 0;
  }

  async putChangeCursor(sink: string, eventId: number): Promise<void> {
    await this.changeCursors.put(sink, eventId);
  }

  async publish(channel: StoreChannel, message: string): Promise<void> {
    this.events.emit(channel, message);
  }

  async subscribe(channel: StoreChannel, handler: (message: string) => void): Promise<() => Promise<void>> {
    this.events.on(channel, handler);
    return async () => {
      this.events.off(channel, handler);
    };
  }

  async close(): Promise<void> {
    clearInterval(this.sweeper);
    this.events.removeAllListeners();
    // Give the unused rest of the reserved block back, so a clean restart continues without a gap (unless another
    // handle on the same store reserved a later block meanwhile).
    if (this.uidNext < this.uidEnd) {
      const { uidNext, uidEnd } = this;
      await this.root.transaction(() => {
        if (this.meta.get('task_seq') === uidEnd) this.meta.put('task_seq', uidNext);
      });
    }
    await this.root.close();
  }
}

interface ExpiringRow {
  value: string;
  /** Wall-clock ms. */
  expires_at: number;
}

/** The value of an iterator step, or null once it is done. */
function headOf(step: IteratorResult<number>): number | null {
  return step.done === true ? null : step.value;
}
