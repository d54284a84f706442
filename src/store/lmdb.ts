// The single-pod store on LMDB (`task_store.backend: lmdb`): one environment at `task_store.path` with a database
// per record kind. Every compare-and-set runs inside one write transaction; awaited writes are committed to disk;
// expired leases and job claims are swept lazily on read and by an unref'd timer. Refuses a newer schema.
import { EventEmitter } from 'node:events';
import { mkdirSync } from 'node:fs';
import { open, type Database, type RootDatabase } from 'lmdb';
import type { ApiKeyRecord } from '../core/auth/keys.js';
import { IndexStateCache } from './index-state-cache.js';
import { isClaimable, isFinished, newJob, type IndexState, type Job, type Lease, type Store, type StoreChannel, type StoredTopology, type TaskRow } from './store.js';

export const LMDB_SCHEMA_VERSION = 1;

export interface LmdbStoreOptions {
  path: string;
  now?: () => number;
  sweepIntervalMs?: number;
}

/** Task uids reserved per durable write (see nextTaskUid). */
const UID_BLOCK = 64;

export class LmdbStore implements Store {
  readonly backend = 'lmdb' as const;
  private readonly root: RootDatabase;
  private readonly meta: Database<unknown, string>;
  private readonly tasks: Database<TaskRow, number>;
  private readonly keys: Database<ApiKeyRecord, string>;
  private readonly indexes: Database<IndexState, string>;
  private readonly nodeVersions: Database<number, [string, string]>;
  private readonly jobs: Database<Job, string>;
  private readonly leases: Database<Lease, string>;
  private readonly events = new EventEmitter();
  private readonly indexCache = new IndexStateCache();
  /** The reserved block of task uids: next to hand out, and one past the last. */
  private uidNext = 0;
  private uidEnd = 0;
  private uidRefill: Promise<void> | null = null;
  private readonly now: () => number;
  private readonly sweeper: NodeJS.Timeout;

  constructor(opts: LmdbStoreOptions) {
    mkdirSync(opts.path, { recursive: true });
    this.now = opts.now ?? Date.now;
    this.root = open({ path: opts.path, compression: false });
    this.meta = this.root.openDB({ name: 'meta' });
    const version = this.meta.get('schema_version') as number | undefined;
    if (version !== undefined && version > LMDB_SCHEMA_VERSION) {
      void this.root.close();
      throw new Error(`task_store.path ${opts.path} holds schema version ${version}, newer than this Miroir (${LMDB_SCHEMA_VERSION}); upgrade Miroir or point task_store.path elsewhere`);
    }
    if (version === undefined) this.meta.putSync('schema_version', LMDB_SCHEMA_VERSION);
    this.tasks = this.root.openDB({ name: 'tasks' });
    this.keys = this.root.openDB({ name: 'keys' });
    this.indexes = this.root.openDB({ name: 'indexes' });
    this.nodeVersions = this.root.openDB({ name: 'node_settings_version' });
    this.jobs = this.root.openDB({ name: 'jobs' });
    this.leases = this.root.openDB({ name: 'leader_lease' });
    this.sweeper = setInterval(() => void this.sweep(), opts.sweepIntervalMs ?? 5000).unref();
  }

  private async sweep(): Promise<void> {
    const now = this.now();
    await this.root.transaction(() => {
      for (const { key, value } of this.leases.getRange()) if (value.expiresAt <= now) this.leases.remove(key);
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
      const next = (this.meta.get('task_seq') as number | undefined) ?? 0;
      this.meta.put('task_seq', next + UID_BLOCK);
      return next;
    });
    this.uidNext = start;
    this.uidEnd = start + UID_BLOCK;
  }

  async putTask(task: TaskRow): Promise<void> {
    await this.tasks.put(task.uid, task);
  }

  async getTask(uid: number): Promise<TaskRow | null> {
    return this.tasks.get(uid) ?? null;
  }

  async listTasks(opts: { from?: number | null; limit: number; reverse?: boolean }): Promise<TaskRow[]> {
    const out: TaskRow[] = [];
    const range = opts.reverse
      ? this.tasks.getRange({ start: opts.from ?? 0 })
      : this.tasks.getRange({ start: opts.from ?? Number.MAX_SAFE_INTEGER, reverse: true });
    for (const { value } of range) {
      if (out.length >= opts.limit) break;
      out.push(value);
    }
    return out;
  }

  async countTasks(): Promise<number> {
    return this.tasks.getCount();
  }

  async deleteTasks(uids: readonly number[]): Promise<number> {
    return this.root.transaction(() => {
      let n = 0;
      for (const uid of uids) if (this.tasks.removeSync(uid)) n++;
      return n;
    });
  }

  async pruneTasks(beforeMs: number): Promise<number> {
    return this.root.transaction(() => {
      let n = 0;
      for (const { key, value } of this.tasks.getRange()) {
        if (isFinished(value) && value.finishedAt !== null && Date.parse(value.finishedAt) < beforeMs) {
          this.tasks.removeSync(key);
          n++;
        }
      }
      return n;
    });
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

  async putIndex(state: IndexState): Promise<void> {
    await this.indexes.put(state.uid, state);
    this.indexCache.forget(state.uid);
  }

  async getIndex(uid: string): Promise<IndexState | null> {
    return this.indexes.get(uid) ?? null;
  }

  getIndexCached(uid: string): Promise<IndexState | null> {
    return this.indexCache.get(uid, () => this.getIndex(uid));
  }

  async listIndexes(): Promise<IndexState[]> {
    return [...this.indexes.getRange()].map((e) => e.value);
  }

  async deleteIndex(uid: string): Promise<boolean> {
    const removed = await this.root.transaction(() => {
      for (const { key } of this.nodeVersions.getRange({ start: [uid], end: [uid, '\uffff'] })) this.nodeVersions.removeSync(key);
      return this.indexes.removeSync(uid);
    });
    this.indexCache.forget(uid);
    return removed;
  }

  async setNodeSettingsVersion(indexUid: string, nodeId: string, version: number): Promise<void> {
    await this.nodeVersions.put([indexUid, nodeId], version);
  }

  async getNodeSettingsVersions(indexUid: string): Promise<Record<string, number>> {
    const out: Record<string, number> = {};
    for (const { key, value } of this.nodeVersions.getRange({ start: [indexUid], end: [indexUid, '\uffff'] })) out[key[1]] = value;
    return out;
  }

  async getTopology(): Promise<StoredTopology | null> {
    return (this.meta.get('topology') as StoredTopology | undefined) ?? null;
  }

  async casTopology(expectedVersion: number, next: Omit<StoredTopology, 'version'>): Promise<StoredTopology | null> {
    const written = await this.root.transaction(() => {
      const cur = this.meta.get('topology') as StoredTopology | undefined;
      if ((cur?.version ?? 0) !== expectedVersion) return null;
      const value: StoredTopology = { ...next, version: expectedVersion + 1 };
      this.meta.put('topology', value);
      return value;
    });
    if (written !== null) this.events.emit('topology', String(written.version));
    return written;
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
      const claimed: Job = { ...best, state: 'in_progress', owner, leaseExpiresAt: now + leaseMs, attempts: best.attempts + 1, updatedAt: now };
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
    return this.updateOwned(id, owner, (job, now) => ({ ...job, leaseExpiresAt: now + leaseMs, cursor: cursor === undefined ? job.cursor : cursor }));
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
