// The shared store on Redis (`task_store.backend: redis`) for several Miroir pods: SPEC C8 key patterns with
// `_index` sets for listings (no SCAN), Lua for every compare-and-set (sequence, claims, leases, topology),
// pub/sub for change notification. Reconnects with backoff; while Redis is down every call fails fast with
// StoreUnavailableError instead of queueing, so nothing half-applies.
import { Redis } from 'ioredis';
import type { ApiKeyRecord } from '../core/auth/keys.js';
import { INDEX_STATE_TTL_MS, IndexStateCache } from './index-state-cache.js';
import { StoreUnavailableError, isFinished, newJob, type IndexState, type Job, type Lease, type Store, type StoreChannel, type StoredTopology, type TaskRow } from './store.js';

const P = 'miroir:';
const K = {
  taskSeq: `${P}tasks:_seq`,
  task: (uid: number) => `${P}tasks:${uid}`,
  taskIndex: `${P}tasks:_index`,
  key: (uid: string) => `${P}keys:${uid}`,
  keyIndex: `${P}keys:_index`,
  index: (uid: string) => `${P}indexes:${uid}`,
  indexIndex: `${P}indexes:_index`,
  nodeVersion: (index: string, node: string) => `${P}node_settings_version:${index}:${node}`,
  nodeVersionIndex: (index: string) => `${P}node_settings_version:${index}:_index`,
  topology: `${P}topology`,
  job: (id: string) => `${P}jobs:${id}`,
  jobQueued: `${P}jobs:_queued`,
  jobIndex: `${P}jobs:_index`,
  lease: (scope: string) => `${P}lease:${scope}`,
  channel: (c: StoreChannel) => (c === 'admin_session_revoked' ? `${P}admin_session:revoked` : `${P}events:${c}`),
};

const CAS_TOPOLOGY = `
local cur = redis.call('GET', KEYS[1])
local version = 0
if cur then version = cjson.decode(cur).version end
if version ~= tonumber(ARGV[1]) then return false end
redis.call('SET', KEYS[1], ARGV[2])
return 1`;

const CLAIM_JOB = `
local ids = redis.call('ZRANGE', KEYS[1], 0, -1)
local now = tonumber(ARGV[1])
local types = cjson.decode(ARGV[4])
for _, id in ipairs(ids) do
  local key = ARGV[5] .. id
  local state = redis.call('HGET', key, 'state')
  local typeOk = (#types == 0)
  if not typeOk then
    local t = redis.call('HGET', key, 'type')
    for _, want in ipairs(types) do if want == t then typeOk = true end end
  end
  if typeOk and state then
    local lease = tonumber(redis.call('HGET', key, 'leaseExpiresAt'))
    if state == 'queued' or (state == 'in_progress' and lease and lease <= now) then
      redis.call('HSET', key, 'state', 'in_progress', 'owner', ARGV[2], 'leaseExpiresAt', now + tonumber(ARGV[3]), 'updatedAt', now)
      redis.call('HINCRBY', key, 'attempts', 1)
      return id
    end
  end
end
return false`;

const UPDATE_OWNED_JOB = `
if redis.call('HGET', KEYS[1], 'owner') ~= ARGV[1] or redis.call('HGET', KEYS[1], 'state') ~= 'in_progress' then return 0 end
local mode = ARGV[2]
local now = tonumber(ARGV[3])
if mode == 'heartbeat' then
  redis.call('HSET', KEYS[1], 'leaseExpiresAt', now + tonumber(ARGV[4]), 'updatedAt', now)
  if ARGV[5] ~= '' then redis.call('HSET', KEYS[1], 'cursor', ARGV[5]) end
else
  redis.call('HSET', KEYS[1], 'state', mode, 'leaseExpiresAt', '', 'updatedAt', now, 'error', ARGV[5])
  redis.call('ZREM', KEYS[2], ARGV[6])
end
return 1`;

const ACQUIRE_LEASE = `
local cur = redis.call('GET', KEYS[1])
if cur == false then redis.call('SET', KEYS[1], ARGV[1], 'PX', ARGV[2]) return 1 end
if cur == ARGV[1] then redis.call('PEXPIRE', KEYS[1], ARGV[2]) return 1 end
return 0`;

const RELEASE_LEASE = `
if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('DEL', KEYS[1]) end
return 0`;

export interface RedisStoreOptions {
  url: string;
  now?: () => number;
  connectTimeoutMs?: number;
  /** How long a cached index state may be served without an `indexes` message (INDEX_STATE_TTL_MS). */
  indexStateTtlMs?: number;
}

function jobFromHash(h: Record<string, string>): Job | null {
  if (h.id === undefined) return null;
  return {
    id: h.id,
    type: h.type!,
    payload: JSON.parse(h.payload ?? 'null'),
    state: h.state as Job['state'],
    owner: h.owner === '' || h.owner === undefined ? null : h.owner,
    leaseExpiresAt: h.leaseExpiresAt === '' || h.leaseExpiresAt === undefined ? null : Number(h.leaseExpiresAt),
    cursor: JSON.parse(h.cursor ?? 'null'),
    attempts: Number(h.attempts ?? 0),
    error: h.error === '' || h.error === undefined ? null : h.error,
    createdAt: Number(h.createdAt),
    updatedAt: Number(h.updatedAt),
  };
}

export class RedisStore implements Store {
  readonly backend = 'redis' as const;
  private readonly redis: Redis;
  private subscriber: Redis | null = null;
  private readonly indexCache: IndexStateCache;
  private indexWatch: Promise<unknown> | null = null;
  private indexWatched = false;
  private readonly handlers = new Map<string, Set<(m: string) => void>>();
  private readonly now: () => number;

  private constructor(redis: Redis, now: () => number, indexStateTtlMs: number) {
    this.redis = redis;
    this.now = now;
    this.indexCache = new IndexStateCache(indexStateTtlMs, now);
  }

  static async open(opts: RedisStoreOptions): Promise<RedisStore> {
    const redis = new Redis(opts.url, {
      enableOfflineQueue: false,
      maxRetriesPerRequest: 1,
      connectTimeout: opts.connectTimeoutMs ?? 5000,
      retryStrategy: (times) => Math.min(50 * 2 ** Math.min(times, 6), 2000),
      lazyConnect: true,
    });
    redis.on('error', () => undefined); // reported per call as StoreUnavailableError; reconnects continue
    try {
      await redis.connect();
    } catch (err) {
      redis.disconnect();
      throw new StoreUnavailableError(`task_store.url ${opts.url}: cannot connect to Redis: ${(err as Error).message}`);
    }
    return new RedisStore(redis, opts.now ?? Date.now, opts.indexStateTtlMs ?? INDEX_STATE_TTL_MS);
  }

  private async call<T>(fn: (r: Redis) => Promise<T>): Promise<T> {
    if (this.redis.status !== 'ready') throw new StoreUnavailableError(`Redis is unavailable (${this.redis.status})`);
    try {
      return await fn(this.redis);
    } catch (err) {
      if (this.redis.status !== 'ready' || /Connection|Stream isn't writeable|ECONNREFUSED|ECONNRESET/i.test((err as Error).message)) {
        throw new StoreUnavailableError(`Redis is unavailable: ${(err as Error).message}`);
      }
      throw err;
    }
  }

  async nextTaskUid(): Promise<number> {
    return (await this.call((r) => r.incr(K.taskSeq))) - 1;
  }

  async putTask(task: TaskRow): Promise<void> {
    await this.call((r) => r.multi().set(K.task(task.uid), JSON.stringify(task)).zadd(K.taskIndex, task.uid, String(task.uid)).exec());
  }

  async getTask(uid: number): Promise<TaskRow | null> {
    const raw = await this.call((r) => r.get(K.task(uid)));
    return raw === null ? null : (JSON.parse(raw) as TaskRow);
  }

  async listTasks(opts: { from?: number | null; limit: number; reverse?: boolean }): Promise<TaskRow[]> {
    const ids = await this.call((r) =>
      opts.reverse
        ? r.zrangebyscore(K.taskIndex, opts.from ?? '-inf', '+inf', 'LIMIT', 0, opts.limit)
        : r.zrevrangebyscore(K.taskIndex, opts.from ?? '+inf', '-inf', 'LIMIT', 0, opts.limit),
    );
    if (ids.length === 0) return [];
    const raws = await this.call((r) => r.mget(ids.map((id) => K.task(Number(id)))));
    return raws.filter((x): x is string => x !== null).map((x) => JSON.parse(x) as TaskRow);
  }

  async countTasks(): Promise<number> {
    return this.call((r) => r.zcard(K.taskIndex));
  }

  async deleteTasks(uids: readonly number[]): Promise<number> {
    if (uids.length === 0) return 0;
    const res = await this.call((r) => r.multi().del(...uids.map(K.task)).zrem(K.taskIndex, ...uids.map(String)).exec());
    return Number(res?.[0]?.[1] ?? 0);
  }

  async pruneTasks(beforeMs: number): Promise<number> {
    let pruned = 0;
    let from: number | null = null;
    for (;;) {
      const page = await this.listTasks({ from, limit: 500, reverse: true });
      if (page.length === 0) break;
      const doomed = page.filter((t) => isFinished(t) && t.finishedAt !== null && Date.parse(t.finishedAt) < beforeMs).map((t) => t.uid);
      pruned += await this.deleteTasks(doomed);
      from = page[page.length - 1]!.uid + 1;
    }
    return pruned;
  }

  async putKey(key: ApiKeyRecord): Promise<void> {
    await this.call((r) => r.multi().set(K.key(key.uid), JSON.stringify(key)).sadd(K.keyIndex, key.uid).exec());
  }

  async getKey(uid: string): Promise<ApiKeyRecord | null> {
    const raw = await this.call((r) => r.get(K.key(uid)));
    return raw === null ? null : (JSON.parse(raw) as ApiKeyRecord);
  }

  async listKeys(): Promise<ApiKeyRecord[]> {
    const uids = await this.call((r) => r.smembers(K.keyIndex));
    if (uids.length === 0) return [];
    const raws = await this.call((r) => r.mget(uids.map(K.key)));
    return raws.filter((x): x is string => x !== null).map((x) => JSON.parse(x) as ApiKeyRecord);
  }

  async deleteKey(uid: string): Promise<boolean> {
    const res = await this.call((r) => r.multi().del(K.key(uid)).srem(K.keyIndex, uid).exec());
    return Number(res?.[0]?.[1] ?? 0) > 0;
  }

  async putIndex(state: IndexState): Promise<void> {
    await this.call((r) => r.multi().set(K.index(state.uid), JSON.stringify(state)).sadd(K.indexIndex, state.uid).exec());
    await this.indexChanged(state.uid);
  }

  async getIndex(uid: string): Promise<IndexState | null> {
    const raw = await this.call((r) => r.get(K.index(uid)));
    return raw === null ? null : (JSON.parse(raw) as IndexState);
  }

  async getIndexCached(uid: string): Promise<IndexState | null> {
    // Other pods' writes arrive as `indexes` messages, subscribed on first use. Until the subscription stands the
    // cache is bypassed (never awaited here: with Redis down a subscribe waits for the reconnection, and reads
    // must keep failing fast instead); a failed subscription is retried on a later read.
    if (!this.indexWatched) {
      this.indexWatch ??= this.subscribe('indexes', (changed) => this.indexCache.forget(changed)).then(
        () => {
          this.indexWatched = true;
        },
        () => {
          this.indexWatch = null;
        },
      );
      return this.getIndex(uid);
    }
    return this.indexCache.get(uid, () => this.getIndex(uid));
  }

  /** After a write of an index state: drop this pod's cached copy, tell the other pods. */
  private async indexChanged(uid: string): Promise<void> {
    this.indexCache.forget(uid);
    await this.publish('indexes', uid);
  }

  async listIndexes(): Promise<IndexState[]> {
    const uids = await this.call((r) => r.smembers(K.indexIndex));
    if (uids.length === 0) return [];
    const raws = await this.call((r) => r.mget(uids.map(K.index)));
    return raws.filter((x): x is string => x !== null).map((x) => JSON.parse(x) as IndexState);
  }

  async deleteIndex(uid: string): Promise<boolean> {
    const nodes = await this.call((r) => r.smembers(K.nodeVersionIndex(uid)));
    const m = this.redis.multi().del(K.index(uid)).srem(K.indexIndex, uid).del(K.nodeVersionIndex(uid));
    for (const n of nodes) m.del(K.nodeVersion(uid, n));
    const res = await this.call(() => m.exec());
    await this.indexChanged(uid);
    return Number(res?.[0]?.[1] ?? 0) > 0;
  }

  async setNodeSettingsVersion(indexUid: string, nodeId: string, version: number): Promise<void> {
    await this.call((r) => r.multi().set(K.nodeVersion(indexUid, nodeId), String(version)).sadd(K.nodeVersionIndex(indexUid), nodeId).exec());
  }

  async getNodeSettingsVersions(indexUid: string): Promise<Record<string, number>> {
    const nodes = await this.call((r) => r.smembers(K.nodeVersionIndex(indexUid)));
    if (nodes.length === 0) return {};
    const vals = await this.call((r) => r.mget(nodes.map((n) => K.nodeVersion(indexUid, n))));
    const out: Record<string, number> = {};
    nodes.forEach((n, i) => {
      if (vals[i] !== null) out[n] = Number(vals[i]);
    });
    return out;
  }

  async getTopology(): Promise<StoredTopology | null> {
    const raw = await this.call((r) => r.get(K.topology));
    return raw === null ? null : (JSON.parse(raw) as StoredTopology);
  }

  async casTopology(expectedVersion: number, next: Omit<StoredTopology, 'version'>): Promise<StoredTopology | null> {
    const value: StoredTopology = { ...next, version: expectedVersion + 1 };
    const ok = await this.call((r) => r.eval(CAS_TOPOLOGY, 1, K.topology, String(expectedVersion), JSON.stringify(value)));
    if (ok === null) return null;
    await this.publish('topology', String(value.version));
    return value;
  }

  async enqueueJob(job: { id: string; type: string; payload: unknown }): Promise<Job> {
    const value = newJob(job, this.now());
    await this.call((r) =>
      r
        .multi()
        .hset(K.job(job.id), {
          id: value.id,
          type: value.type,
          payload: JSON.stringify(value.payload ?? null),
          state: value.state,
          owner: '',
          leaseExpiresAt: '',
          cursor: 'null',
          attempts: '0',
          error: '',
          createdAt: String(value.createdAt),
          updatedAt: String(value.updatedAt),
        })
        .zadd(K.jobQueued, value.createdAt, job.id)
        .sadd(K.jobIndex, job.id)
        .exec(),
    );
    return value;
  }

  async claimJob(owner: string, leaseMs: number, types?: readonly string[]): Promise<Job | null> {
    const id = await this.call((r) => r.eval(CLAIM_JOB, 1, K.jobQueued, String(this.now()), owner, String(leaseMs), JSON.stringify(types ?? []), `${P}jobs:`));
    return id === null ? null : this.getJob(String(id));
  }

  private async updateOwned(id: string, owner: string, mode: 'heartbeat' | 'completed' | 'failed', leaseMs: number, extra: string): Promise<boolean> {
    const res = await this.call((r) => r.eval(UPDATE_OWNED_JOB, 2, K.job(id), K.jobQueued, owner, mode, String(this.now()), String(leaseMs), extra, id));
    return Number(res) === 1;
  }

  heartbeatJob(id: string, owner: string, leaseMs: number, cursor?: unknown): Promise<boolean> {
    return this.updateOwned(id, owner, 'heartbeat', leaseMs, cursor === undefined ? '' : JSON.stringify(cursor));
  }

  completeJob(id: string, owner: string): Promise<boolean> {
    return this.updateOwned(id, owner, 'completed', 0, '');
  }

  failJob(id: string, owner: string, error: string): Promise<boolean> {
    return this.updateOwned(id, owner, 'failed', 0, error);
  }

  async getJob(id: string): Promise<Job | null> {
    return jobFromHash(await this.call((r) => r.hgetall(K.job(id))));
  }

  async listJobs(): Promise<Job[]> {
    const ids = await this.call((r) => r.smembers(K.jobIndex));
    const jobs = await Promise.all(ids.map((id) => this.getJob(id)));
    return jobs.filter((j): j is Job => j !== null).sort((a, b) => a.createdAt - b.createdAt);
  }

  async deleteJob(id: string): Promise<boolean> {
    const res = await this.call((r) => r.multi().del(K.job(id)).zrem(K.jobQueued, id).srem(K.jobIndex, id).exec());
    return Number(res?.[0]?.[1] ?? 0) === 1;
  }

  async acquireLease(scope: string, owner: string, ttlMs: number): Promise<boolean> {
    return Number(await this.call((r) => r.eval(ACQUIRE_LEASE, 1, K.lease(scope), owner, String(ttlMs)))) === 1;
  }

  async releaseLease(scope: string, owner: string): Promise<boolean> {
    return Number(await this.call((r) => r.eval(RELEASE_LEASE, 1, K.lease(scope), owner))) === 1;
  }

  async getLease(scope: string): Promise<Lease | null> {
    const [owner, ttl] = await this.call((r) => Promise.all([r.get(K.lease(scope)), r.pttl(K.lease(scope))]));
    return owner === null || ttl < 0 ? null : { scope, owner, expiresAt: this.now() + ttl };
  }

  async publish(channel: StoreChannel, message: string): Promise<void> {
    await this.call((r) => r.publish(K.channel(channel), message));
  }

  async subscribe(channel: StoreChannel, handler: (message: string) => void): Promise<() => Promise<void>> {
    if (this.subscriber === null) {
      this.subscriber = this.redis.duplicate({ enableOfflineQueue: true, lazyConnect: false });
      this.subscriber.on('error', () => undefined);
      this.subscriber.on('message', (ch: string, msg: string) => {
        for (const h of this.handlers.get(ch) ?? []) h(msg);
      });
    }
    const name = K.channel(channel);
    let set = this.handlers.get(name);
    if (set === undefined) {
      this.handlers.set(name, (set = new Set()));
      await this.subscriber.subscribe(name);
    }
    set.add(handler);
    return async () => {
      set!.delete(handler);
      if (set!.size === 0) {
        this.handlers.delete(name);
        await this.subscriber?.unsubscribe(name).catch(() => undefined);
      }
    };
  }

  async close(): Promise<void> {
    this.subscriber?.disconnect();
    this.redis.disconnect();
  }
}
