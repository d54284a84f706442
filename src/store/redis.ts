// The shared store on Redis (`task_store.backend: redis`) for several Miroir pods: SPEC C8 records under the key
// layout of redis-keys.ts (hash tags keep what one script touches in one Cluster slot), `#index` sets for listings
// (no SCAN), Lua for every compare-and-set (sequence, claims, leases, topology), pub/sub for change notification.
// One node, Sentinel or Cluster (redis-connect.ts). While Redis (or its master) is away every call fails fast with
// StoreUnavailableError instead of queueing, so nothing half-applies; writes whose loss a failover must not cause
// wait for `wait_replicas` replicas (Redis WAIT) before they are acknowledged.
import { randomUUID } from 'node:crypto';
import { Cluster, type ChainableCommander } from 'ioredis';
import {
  connectRedis,
  DEFAULT_REPLY_TIMEOUT_MS,
  duplicateForSubscribe,
  type RedisClient,
  type RedisTarget,
} from './redis-connect.js';
import { redisKeys, type RedisKeys } from './redis-keys.js';
import { migrateLayout } from './redis-migrate.js';
import {
  decodeRecord,
  isReshardRecord,
  isAntiEntropyShardStatus,
  isApiKeyRecord,
  isCanaryDefinition,
  isCanaryRun,
  isJobState,
  isScopedKeyRecord,
  isSearchUiIndexConfig,
  isStoredIndex,
  isStoredTaskRow,
  isStoredTopology,
  isTombstone,
  isTtlPolicy,
} from './records.js';
import type { ApiKeyRecord } from '../core/auth/keys.js';
import { errorMessage } from '../core/errors.js';
import { normalizeAliasTable, type AliasTable } from '../core/aliases.js';
import { isPolicyRecord, type IlmPolicyRecord } from '../core/ilm.js';
import { INDEX_STATE_TTL_MS, IndexStateCache } from './index-state-cache.js';
import { isCdcEventDraft } from '../core/cdc.js';
import {
  StoreUnavailableError,
  isFinished,
  newJob,
  type AdminLoginFailures,
  type AdminSessionRecord,
  type CanaryDefinition,
  type CanaryRun,
  type ExpiringKind,
  normalizeIndexRecord,
  normalizeTaskRow,
  type IndexRecord,
  type IndexRecordDraft,
  type Job,
  type Lease,
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

/** Tasks read per round trip when scanning. */
/** `task_store.redis.wait_timeout_ms` unless configured: how long WAIT waits for the replicas. */
const DEFAULT_WAIT_TIMEOUT_MS = 1000;

const SCAN_CHUNK = 256;

// Compare-and-set on an expiring record, listed in a zset scored by expiry (counts without a SCAN; each write drops
// the members that expired, so the listing stays as large as the live records). KEYS: record, index. ARGV: expected
// ('' = none), next ('' = delete), ttl ms, member, now ms.
const CAS_EXPIRING = `
local cur = redis.call('GET', KEYS[1])
if (cur or '') ~= ARGV[1] then return 0 end
redis.call('ZREMRANGEBYSCORE', KEYS[2], '-inf', ARGV[5])
if ARGV[2] == '' then
  redis.call('DEL', KEYS[1])
  redis.call('ZREM', KEYS[2], ARGV[4])
else
  redis.call('SET', KEYS[1], ARGV[2], 'PX', ARGV[3])
  redis.call('ZADD', KEYS[2], tonumber(ARGV[5]) + tonumber(ARGV[3]), ARGV[4])
end
return 1`;

// KEYS: sequence, stream. ARGV: pairs of (event JSON without its id, timestamp ms). Returns the last id given.
const APPEND_CHANGES = `
local n = #ARGV / 2
local seq = redis.call('INCRBY', KEYS[1], n) - n
for i = 1, #ARGV, 2 do
  seq = seq + 1
  redis.call('XADD', KEYS[2], '0-' .. seq, 'e', ARGV[i], 't', ARGV[i + 1])
end
return seq`;

/** Stream entries read per round trip by the change-log reads and trims. */
const CHANGES_CHUNK = 512;

type StreamEntry = [string, string[]];

function entryId(e: StreamEntry): number {
  return Number(e[0].slice(e[0].indexOf('-') + 1));
}

function entryField(e: StreamEntry, name: string): string {
  const f = e[1];
  for (let i = 0; i + 1 < f.length; i += 2) if (f[i] === name) return f[i + 1]!;
  return '';
}

function entryEvent(e: StreamEntry): CdcEvent | null {
  const draft: unknown = JSON.parse(entryField(e, 'e'));
  return isCdcEventDraft(draft) ? { event_id: entryId(e), ...draft } : null;
}

const CAS_TOPOLOGY = `
local cur = redis.call('GET', KEYS[1])
local version = 0
if cur then version = cjson.decode(cur).version end
if version ~= tonumber(ARGV[1]) then return false end
redis.call('SET', KEYS[1], ARGV[2])
return 1`;

// KEYS: sequence, queue set, owner hash, then the queues. ARGV: owner, then the queue names.
const ENQUEUE_TASK = `
local uid = redis.call('INCR', KEYS[1]) - 1
redis.call('HSET', KEYS[3], uid, ARGV[1])
for i = 4, #KEYS do
  redis.call('ZADD', KEYS[i], uid, uid)
  redis.call('SADD', KEYS[2], ARGV[i - 2])
end
return uid`;

// KEYS: queue set, owner hash, then the queues. ARGV: uid, then the queue names.
const DEQUEUE_TASK = `
redis.call('HDEL', KEYS[2], ARGV[1])
for i = 3, #KEYS do
  redis.call('ZREM', KEYS[i], ARGV[1])
  if redis.call('ZCARD', KEYS[i]) == 0 then redis.call('SREM', KEYS[1], ARGV[i - 1]) end
end
return 1`;

// KEYS: version sequence, index set, then one record key per change. ARGV: per change uid, expected version and the
// record's JSON (starting with the placeholder {"version":0,) or '' to delete. Versions come from one sequence, so a
// deleted and re-created record never repeats a version. Round-1 records carry no version and count as 1.
const CAS_INDEXES = `
local n = #KEYS - 2
for i = 1, n do
  local cur = redis.call('GET', KEYS[2 + i])
  local v = 0
  if cur then v = cjson.decode(cur).version or 1 end
  if v ~= tonumber(ARGV[3 * i - 1]) then return false end
end
local versions = {}
for i = 1, n do
  local json = ARGV[3 * i]
  if json == '' then
    redis.call('DEL', KEYS[2 + i])
    redis.call('SREM', KEYS[2], ARGV[3 * i - 2])
    versions[i] = 0
  else
    local ver = redis.call('INCR', KEYS[1])
    redis.call('SET', KEYS[2 + i], '{"version":' .. ver .. string.sub(json, 13))
    redis.call('SADD', KEYS[2], ARGV[3 * i - 2])
    versions[i] = ver
  end
end
return versions`;

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

// KEYS: record, index set. ARGV: expected JSON ('' = none), next JSON ('' = delete), index uid.
const CAS_SCOPED_KEY = `
local cur = redis.call('GET', KEYS[1])
if (cur or '') ~= ARGV[1] then return 0 end
if ARGV[2] == '' then
  redis.call('DEL', KEYS[1])
  redis.call('SREM', KEYS[2], ARGV[3])
else
  redis.call('SET', KEYS[1], ARGV[2])
  redis.call('SADD', KEYS[2], ARGV[3])
end
return 1`;

// A fixed-window counter stored as "count:windowStart". KEYS: counter. ARGV: now, window ms, key TTL ms.
const HIT_RATE_LIMIT = `
local now = tonumber(ARGV[1])
local count, start = 0, now
local raw = redis.call('GET', KEYS[1])
if raw then
  local c, s = string.match(raw, '^(%d+):(%d+)$')
  if c and now < tonumber(s) + tonumber(ARGV[2]) then count = tonumber(c) start = tonumber(s) end
end
count = count + 1
redis.call('SET', KEYS[1], count .. ':' .. start, 'PX', ARGV[3])
return {count, tostring(start)}`;

// KEYS: the session hash. Revocation keeps the session (and its expiry) so every pod sees `revoked`.
const REVOKE_ADMIN_SESSION = `
if redis.call('EXISTS', KEYS[1]) == 0 then return 0 end
redis.call('HSET', KEYS[1], 'revoked', '1')
return 1`;

// KEYS: the failures hash. ARGV: ms to keep the failures after this one.
const RECORD_ADMIN_LOGIN_FAILURE = `
local f = redis.call('HINCRBY', KEYS[1], 'failures', 1)
if redis.call('PTTL', KEYS[1]) < tonumber(ARGV[1]) then redis.call('PEXPIRE', KEYS[1], ARGV[1]) end
return f`;

// KEYS: the failures hash. ARGV: backoff end (ms), now (ms). Keeps the later end; the hash lives at least that long.
const EXTEND_ADMIN_LOGIN_BACKOFF = `
local cur = tonumber(redis.call('HGET', KEYS[1], 'until') or '0')
local want = tonumber(ARGV[1])
if want > cur then redis.call('HSET', KEYS[1], 'until', ARGV[1]) end
local need = want - tonumber(ARGV[2])
if need > 0 and redis.call('PTTL', KEYS[1]) < need then redis.call('PEXPIRE', KEYS[1], need) end
return 1`;

export interface RedisStoreOptions extends RedisTarget {
  now?: () => number;
  /** Prefix of every key and channel (task_store.redis.key_prefix). */
  keyPrefix?: string;
  /** Replicas that must confirm a durable write (Redis WAIT) before it is acknowledged; 0 = none. */
  waitReplicas?: number;
  waitTimeoutMs?: number;
  /** How long a cached index state may be served without an `indexes` message (INDEX_STATE_TTL_MS). */
  indexStateTtlMs?: number;
}

function jobFromHash(h: Record<string, string>): Job | null {
  if (h.id === undefined) return null;
  const state = h.state;
  if (!isJobState(state)) throw new Error(`the store holds job ${h.id} in an unknown state ${String(state)}`);
  return {
    id: h.id,
    type: h.type!,
    payload: JSON.parse(h.payload ?? 'null'),
    state,
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
  private readonly redis: RedisClient;
  private readonly K: RedisKeys;
  private subscriber: RedisClient | null = null;
  private readonly indexCache: IndexStateCache;
  private indexWatch: Promise<unknown> | null = null;
  private indexWatched = false;
  private readonly handlers = new Map<string, Set<(m: string) => void>>();
  private readonly now: () => number;
  private readonly waitReplicas: number;
  private readonly waitTimeoutMs: number;

  private constructor(redis: RedisClient, opts: RedisStoreOptions) {
    this.redis = redis;
    this.K = redisKeys(opts.keyPrefix ?? 'miroir:');
    this.now = opts.now ?? Date.now;
    this.indexCache = new IndexStateCache(opts.indexStateTtlMs ?? INDEX_STATE_TTL_MS, this.now);
    this.waitReplicas = opts.waitReplicas ?? 0;
    this.waitTimeoutMs = opts.waitTimeoutMs ?? DEFAULT_WAIT_TIMEOUT_MS;
  }

  static async open(opts: RedisStoreOptions): Promise<RedisStore> {
    // WAIT blocks up to waitTimeoutMs without a reply by design: a reply timeout must outlast it.
    const replyTimeoutMs =
      opts.replyTimeoutMs ?? Math.max(DEFAULT_REPLY_TIMEOUT_MS, (opts.waitTimeoutMs ?? DEFAULT_WAIT_TIMEOUT_MS) + 2000);
    const redis = await connectRedis({ ...opts, replyTimeoutMs });
    // Only a single node or Sentinel master can hold the pre-hash-tag layout, always under the `miroir:` prefix.
    if (!(redis instanceof Cluster) && (opts.keyPrefix ?? 'miroir:') === 'miroir:') {
      try {
        await migrateLayout(redis, randomUUID(), opts.connectTimeoutMs ?? 5000);
      } catch (err) {
        redis.disconnect();
        throw new StoreUnavailableError(`Redis: moving the keys to the current layout failed: ${errorMessage(err)}`);
      }
    }
    return new RedisStore(redis, opts);
  }

  private async call<T>(fn: (r: RedisClient) => Promise<T>): Promise<T> {
    if (this.redis.status !== 'ready') throw new StoreUnavailableError(`Redis is unavailable (${this.redis.status})`);
    try {
      return await fn(this.redis);
    } catch (err) {
      if (
        this.redis.status !== 'ready' ||
        /Connection|Stream isn't writeable|ECONNREFUSED|ECONNRESET|CLUSTERDOWN|TRYAGAIN|MASTERDOWN|READONLY|LOADING|Command timed out|Socket timeout/i.test(
          errorMessage(err),
        )
      ) {
        throw new StoreUnavailableError(`Redis is unavailable: ${errorMessage(err)}`);
      }
      throw err;
    }
  }

  /**
   * A write that must survive a failover: `fn`, then WAIT on the connection of the node holding `slotKey` until
   * `waitReplicas` replicas have everything written so far. Fewer in time → StoreUnavailableError (the write may or
   * may not survive, so it is not acknowledged).
   */
  private async durable<T>(slotKey: string, fn: (r: RedisClient) => Promise<T>): Promise<T> {
    const out = await this.call(fn);
    if (this.waitReplicas > 0) {
      const res = await this.call((r) =>
        r.pipeline().exists(slotKey).wait(this.waitReplicas, this.waitTimeoutMs).exec(),
      );
      const [err, acked] = res?.[1] ?? [new Error('no reply to WAIT'), 0];
      if (err !== null || Number(acked) < this.waitReplicas)
        throw new StoreUnavailableError(
          `Redis confirmed a write on ${Number(acked)} of ${this.waitReplicas} replicas within ${this.waitTimeoutMs} ms${err === null ? '' : `: ${err.message}`}`,
        );
    }
    return out;
  }

  async nextTaskUid(): Promise<number> {
    return (await this.durable(this.K.taskSeq, (r) => r.incr(this.K.taskSeq))) - 1;
  }

  async enqueueTask(queues: readonly string[], owner: string): Promise<number> {
    const keys = [this.K.taskSeq, this.K.queueIndex, this.K.queueOwner, ...queues.map(this.K.queue)];
    return Number(
      await this.durable(this.K.taskSeq, (r) => r.eval(ENQUEUE_TASK, keys.length, ...keys, owner, ...queues)),
    );
  }

  async taskOwner(uid: number): Promise<string | null> {
    return this.call((r) => r.hget(this.K.queueOwner, String(uid)));
  }

  async queuedTasks(queue: string): Promise<number[]> {
    return (await this.call((r) => r.zrange(this.K.queue(queue), 0, -1))).map(Number);
  }

  async activeQueues(): Promise<string[]> {
    return this.call((r) => r.smembers(this.K.queueIndex));
  }

  async dequeueTask(queues: readonly string[], uid: number): Promise<void> {
    const keys = [this.K.queueIndex, this.K.queueOwner, ...queues.map(this.K.queue)];
    await this.durable(this.K.taskSeq, (r) => r.eval(DEQUEUE_TASK, keys.length, ...keys, String(uid), ...queues));
  }

  async finishTask(task: TaskRow): Promise<void> {
    const keys = [this.K.queueIndex, this.K.queueOwner, ...task.queues.map(this.K.queue)];
    await this.durable(this.K.taskSeq, (r) =>
      this.recordTask(r.multi(), task)
        .eval(DEQUEUE_TASK, keys.length, ...keys, String(task.uid), ...task.queues)
        .exec(),
    );
  }

  async putTask(task: TaskRow): Promise<void> {
    await this.durable(this.K.taskSeq, (r) => this.recordTask(r.multi(), task).exec());
  }

  /** Adds a task record and its listings (all tasks, its index's tasks) to a MULTI. */
  private recordTask(m: ChainableCommander, task: TaskRow): ChainableCommander {
    m.set(this.K.task(task.uid), JSON.stringify(task)).zadd(this.K.taskIndex, task.uid, String(task.uid));
    if (task.indexUid !== null) m.zadd(this.K.tasksOf(task.indexUid), task.uid, String(task.uid));
    return m;
  }

  async getTask(uid: number): Promise<TaskRow | null> {
    const raw = await this.call((r) => r.get(this.K.task(uid)));
    return raw === null ? null : normalizeTaskRow(decodeRecord(raw, isStoredTaskRow, 'task'));
  }

  async getTasks(uids: readonly number[]): Promise<Array<TaskRow | null>> {
    if (uids.length === 0) return [];
    const raws = await this.call((r) => r.mget(uids.map(this.K.task)));
    return raws.map((x) => (x === null ? null : normalizeTaskRow(decodeRecord(x, isStoredTaskRow, 'task'))));
  }

  /** uids of one sorted set in scan order, a chunk per round trip. */
  private async *zsetUids(key: string, from: number | null, reverse: boolean): AsyncIterable<number> {
    let bound: string = from === null ? (reverse ? '-inf' : '+inf') : String(from);
    for (;;) {
      const ids = await this.call((r) =>
        reverse
          ? r.zrangebyscore(key, bound, '+inf', 'LIMIT', 0, SCAN_CHUNK)
          : r.zrevrangebyscore(key, bound, '-inf', 'LIMIT', 0, SCAN_CHUNK),
      );
      for (const id of ids) yield Number(id);
      if (ids.length < SCAN_CHUNK) return;
      bound = `(${ids[ids.length - 1]}`;
    }
  }

  async *scanTasks(scan: TaskScan): AsyncIterable<TaskRow> {
    const reverse = scan.reverse === true;
    const sources =
      scan.indexUids === undefined || scan.indexUids === null ? [this.K.taskIndex] : scan.indexUids.map(this.K.tasksOf);
    const cursors = sources.map((k) => this.zsetUids(k, scan.from ?? null, reverse)[Symbol.asyncIterator]());
    const heads = (await Promise.all(cursors.map((c) => c.next()))).map(headOf);
    const batch: number[] = [];
    const flush = async function* (this: RedisStore): AsyncIterable<TaskRow> {
      const rows = await this.getTasks(batch.splice(0));
      for (const row of rows) if (row !== null) yield row;
    };
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
      if (best < 0) break;
      batch.push(uid);
      heads[best] = headOf(await cursors[best]!.next());
      if (batch.length >= SCAN_CHUNK) yield* flush.call(this);
    }
    if (batch.length > 0) yield* flush.call(this);
  }

  async countTasks(indexUids?: readonly string[] | null): Promise<number> {
    if (indexUids === undefined || indexUids === null) return this.call((r) => r.zcard(this.K.taskIndex));
    const counts = await Promise.all(indexUids.map((i) => this.call((r) => r.zcard(this.K.tasksOf(i)))));
    return counts.reduce((a, b) => a + b, 0);
  }

  async deleteTasks(uids: readonly number[]): Promise<number> {
    if (uids.length === 0) return 0;
    const rows = await this.getTasks(uids);
    const m = this.redis
      .multi()
      .del(...uids.map(this.K.task))
      .zrem(this.K.taskIndex, ...uids.map(String));
    rows.forEach((row) => {
      if (row !== null && row.indexUid !== null) m.zrem(this.K.tasksOf(row.indexUid), String(row.uid));
    });
    const res = await this.durable(this.K.taskSeq, () => m.exec());
    return Number(res?.[0]?.[1] ?? 0);
  }

  async pruneTasks(beforeMs: number): Promise<number> {
    let pruned = 0;
    let doomed: number[] = [];
    for await (const t of this.scanTasks({ reverse: true })) {
      if (isFinished(t) && t.finishedAt !== null && Date.parse(t.finishedAt) < beforeMs) doomed.push(t.uid);
      if (doomed.length >= SCAN_CHUNK) {
        pruned += await this.deleteTasks(doomed);
        doomed = [];
      }
    }
    return pruned + (await this.deleteTasks(doomed));
  }

  async putKey(key: ApiKeyRecord): Promise<void> {
    await this.durable(this.K.keyIndex, (r) =>
      r.multi().set(this.K.key(key.uid), JSON.stringify(key)).sadd(this.K.keyIndex, key.uid).exec(),
    );
  }

  async getKey(uid: string): Promise<ApiKeyRecord | null> {
    const raw = await this.call((r) => r.get(this.K.key(uid)));
    return raw === null ? null : decodeRecord(raw, isApiKeyRecord, 'API key');
  }

  async listKeys(): Promise<ApiKeyRecord[]> {
    const uids = await this.call((r) => r.smembers(this.K.keyIndex));
    if (uids.length === 0) return [];
    const raws = await this.call((r) => r.mget(uids.map(this.K.key)));
    return raws.filter((x): x is string => x !== null).map((x) => decodeRecord(x, isApiKeyRecord, 'API key'));
  }

  async deleteKey(uid: string): Promise<boolean> {
    const res = await this.durable(this.K.keyIndex, (r) =>
      r.multi().del(this.K.key(uid)).srem(this.K.keyIndex, uid).exec(),
    );
    return Number(res?.[0]?.[1] ?? 0) > 0;
  }

  /** A stored record in today's shape (a round-1 record takes the cluster's shard count). */
  private async parseIndex(raw: string): Promise<IndexRecord> {
    const parsed = decodeRecord(raw, isStoredIndex, 'index');
    if ('pending' in parsed) return parsed;
    return normalizeIndexRecord(parsed, (await this.getTopology())?.shards ?? 64);
  }

  async getIndex(uid: string): Promise<IndexRecord | null> {
    const raw = await this.call((r) => r.get(this.K.index(uid)));
    return raw === null ? null : this.parseIndex(raw);
  }

  async getIndexCached(uid: string): Promise<IndexRecord | null> {
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
    return this.indexCache.get(
      uid,
      () => this.getIndex(uid),
      (err) => err instanceof StoreUnavailableError,
    );
  }

  async listIndexes(): Promise<IndexRecord[]> {
    const uids = await this.call((r) => r.smembers(this.K.indexIndex));
    if (uids.length === 0) return [];
    const raws = await this.call((r) => r.mget(uids.map(this.K.index)));
    return Promise.all(raws.filter((x): x is string => x !== null).map((x) => this.parseIndex(x)));
  }

  async casIndexes(
    changes: ReadonlyArray<{ uid: string; expected: number; next: IndexRecordDraft | null }>,
  ): Promise<IndexRecord[] | null> {
    const keys = [this.K.indexVersionSeq, this.K.indexIndex, ...changes.map((c) => this.K.index(c.uid))];
    const args: string[] = [];
    for (const c of changes)
      args.push(
        c.uid,
        String(c.expected),
        c.next === null ? '' : JSON.stringify({ version: 0, ...c.next, uid: c.uid }),
      );
    const versions = await this.durable(this.K.indexIndex, (r) => r.eval(CAS_INDEXES, keys.length, ...keys, ...args));
    if (versions === null) return null;
    if (!Array.isArray(versions)) throw new Error(`CAS_INDEXES answered ${String(versions)}`);
    const out: IndexRecord[] = [];
    for (let i = 0; i < changes.length; i++) {
      const c = changes[i]!;
      if (c.next === null) await this.dropNodeVersions(c.uid);
      else out.push({ ...structuredClone(c.next), uid: c.uid, version: Number(versions[i]) });
      await this.indexChanged(c.uid);
    }
    return out;
  }

  private async dropNodeVersions(uid: string): Promise<void> {
    const nodes = await this.call((r) => r.smembers(this.K.nodeVersionIndex(uid)));
    const m = this.redis.multi().del(this.K.nodeVersionIndex(uid));
    for (const n of nodes) m.del(this.K.nodeVersion(uid, n));
    await this.durable(this.K.nodeVersionIndex(uid), () => m.exec());
  }

  /** After a write of an index state: drop this pod's cached copy, tell the other pods. */
  private async indexChanged(uid: string): Promise<void> {
    this.indexCache.forget(uid);
    await this.publish('indexes', uid);
  }

  async setNodeSettingsVersion(indexUid: string, nodeId: string, version: number): Promise<void> {
    await this.durable(this.K.nodeVersionIndex(indexUid), (r) =>
      r
        .multi()
        .set(this.K.nodeVersion(indexUid, nodeId), String(version))
        .sadd(this.K.nodeVersionIndex(indexUid), nodeId)
        .exec(),
    );
  }

  async getNodeSettingsVersions(indexUid: string): Promise<Record<string, number>> {
    const nodes = await this.call((r) => r.smembers(this.K.nodeVersionIndex(indexUid)));
    if (nodes.length === 0) return {};
    const vals = await this.call((r) => r.mget(nodes.map((n) => this.K.nodeVersion(indexUid, n))));
    const out: Record<string, number> = {};
    nodes.forEach((n, i) => {
      if (vals[i] !== null) out[n] = Number(vals[i]);
    });
    return out;
  }

  async getTopology(): Promise<StoredTopology | null> {
    const raw = await this.call((r) => r.get(this.K.topology));
    return raw === null ? null : decodeRecord(raw, isStoredTopology, 'topology');
  }

  async casTopology(expectedVersion: number, next: Omit<StoredTopology, 'version'>): Promise<StoredTopology | null> {
    const value: StoredTopology = { ...next, version: expectedVersion + 1 };
    const ok = await this.durable(this.K.topology, (r) =>
      r.eval(CAS_TOPOLOGY, 1, this.K.topology, String(expectedVersion), JSON.stringify(value)),
    );
    if (ok === null) return null;
    await this.publish('topology', String(value.version));
    return value;
  }

  async getAliases(): Promise<AliasTable> {
    const raw = await this.call((r) => r.get(this.K.aliases));
    return normalizeAliasTable(raw === null ? null : JSON.parse(raw));
  }

  async casAliases(expectedVersion: number, next: Omit<AliasTable, 'version'>): Promise<AliasTable | null> {
    const value: AliasTable = { ...next, version: expectedVersion + 1 };
    const ok = await this.durable(this.K.aliases, (r) =>
      r.eval(CAS_TOPOLOGY, 1, this.K.aliases, String(expectedVersion), JSON.stringify(value)),
    );
    if (ok === null) return null;
    await this.publish('aliases', String(value.version));
    return value;
  }

  async listIlmPolicies(): Promise<IlmPolicyRecord[]> {
    const all = await this.call((r) => r.hgetall(this.K.ilmPolicies));
    const out: IlmPolicyRecord[] = [];
    for (const raw of Object.values(all)) {
      const v: unknown = JSON.parse(raw);
      if (isPolicyRecord(v)) out.push(v);
    }
    return out.sort((a, b) => a.name.localeCompare(b.name));
  }

  async getIlmPolicy(name: string): Promise<IlmPolicyRecord | null> {
    const raw = await this.call((r) => r.hget(this.K.ilmPolicies, name));
    const v: unknown = raw === null ? null : JSON.parse(raw);
    return isPolicyRecord(v) ? v : null;
  }

  async putIlmPolicy(policy: IlmPolicyRecord): Promise<void> {
    await this.durable(this.K.ilmPolicies, (r) => r.hset(this.K.ilmPolicies, policy.name, JSON.stringify(policy)));
  }

  async deleteIlmPolicy(name: string): Promise<boolean> {
    const n = await this.durable(this.K.ilmPolicies, (r) => r.hdel(this.K.ilmPolicies, name));
    return n > 0;
  }

  async enqueueJob(job: { id: string; type: string; payload: unknown }): Promise<Job> {
    const value = newJob(job, this.now());
    await this.durable(this.K.jobIndex, (r) =>
      r
        .multi()
        .hset(this.K.job(job.id), {
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
        .zadd(this.K.jobQueued, value.createdAt, job.id)
        .sadd(this.K.jobIndex, job.id)
        .exec(),
    );
    return value;
  }

  async claimJob(owner: string, leaseMs: number, types?: readonly string[]): Promise<Job | null> {
    const id = await this.durable(this.K.jobIndex, (r) =>
      r.eval(
        CLAIM_JOB,
        1,
        this.K.jobQueued,
        String(this.now()),
        owner,
        String(leaseMs),
        JSON.stringify(types ?? []),
        this.K.jobPrefix,
      ),
    );
    return id === null ? null : this.getJob(String(id));
  }

  private async updateOwned(
    id: string,
    owner: string,
    mode: 'heartbeat' | 'completed' | 'failed',
    leaseMs: number,
    extra: string,
  ): Promise<boolean> {
    const res = await this.durable(this.K.jobIndex, (r) =>
      r.eval(
        UPDATE_OWNED_JOB,
        2,
        this.K.job(id),
        this.K.jobQueued,
        owner,
        mode,
        String(this.now()),
        String(leaseMs),
        extra,
        id,
      ),
    );
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
    return jobFromHash(await this.call((r) => r.hgetall(this.K.job(id))));
  }

  async listJobs(): Promise<Job[]> {
    const ids = await this.call((r) => r.smembers(this.K.jobIndex));
    const jobs = await Promise.all(ids.map((id) => this.getJob(id)));
    return jobs.filter((j): j is Job => j !== null).sort((a, b) => a.createdAt - b.createdAt);
  }

  async deleteJob(id: string): Promise<boolean> {
    const res = await this.durable(this.K.jobIndex, (r) =>
      r.multi().del(this.K.job(id)).zrem(this.K.jobQueued, id).srem(this.K.jobIndex, id).exec(),
    );
    return Number(res?.[0]?.[1] ?? 0) === 1;
  }

  async acquireLease(scope: string, owner: string, ttlMs: number): Promise<boolean> {
    return (
      Number(
        await this.durable(this.K.lease(scope), (r) =>
          r.eval(ACQUIRE_LEASE, 1, this.K.lease(scope), owner, String(ttlMs)),
        ),
      ) === 1
    );
  }

  async releaseLease(scope: string, owner: string): Promise<boolean> {
    return (
      Number(await this.durable(this.K.lease(scope), (r) => r.eval(RELEASE_LEASE, 1, this.K.lease(scope), owner))) === 1
    );
  }

  async getLease(scope: string): Promise<Lease | null> {
    const [owner, ttl] = await this.call((r) => Promise.all([r.get(this.K.lease(scope)), r.pttl(this.K.lease(scope))]));
    return owner === null || ttl < 0 ? null : { scope, owner, expiresAt: this.now() + ttl };
  }

  async putTombstone(t: Tombstone): Promise<void> {
    await this.call((r) =>
      r
        .multi()
        .hset(this.K.tombstones(t.index), String(t.taskUid), JSON.stringify(t))
        .sadd(this.K.tombstoneIndex, t.index)
        .exec(),
    );
  }

  async listTombstones(index: string): Promise<Tombstone[]> {
    const all = await this.call((r) => r.hvals(this.K.tombstones(index)));
    return all.map((v) => decodeRecord(v, isTombstone, 'tombstone')).sort((a, b) => a.taskUid - b.taskUid);
  }

  async pruneTombstones(beforeMs: number): Promise<number> {
    let pruned = 0;
    for (const index of await this.call((r) => r.smembers(this.K.tombstoneIndex))) {
      const old = (await this.listTombstones(index)).filter((t) => t.at < beforeMs).map((t) => String(t.taskUid));
      if (old.length > 0) pruned += await this.call((r) => r.hdel(this.K.tombstones(index), ...old));
    }
    return pruned;
  }

  async appendChanges(events: readonly CdcEventDraft[]): Promise<number[]> {
    if (events.length === 0) return [];
    const args: string[] = [];
    for (const e of events) args.push(JSON.stringify(e), String(Date.parse(e.timestamp) || this.now()));
    const last = Number(
      await this.durable(this.K.cdcSeq, (r) => r.eval(APPEND_CHANGES, 2, this.K.cdcSeq, this.K.cdcLog, ...args)),
    );
    return events.map((_, i) => last - events.length + 1 + i);
  }

  async readChanges(
    since: number,
    limit: number,
    index?: string | null,
  ): Promise<{ events: CdcEvent[]; scannedTo: number }> {
    const out: CdcEvent[] = [];
    let scannedTo = since;
    // A filtered read looks at a bounded number of entries per call (scannedTo says how far it got).
    for (let round = 0; round < 16 && out.length < limit; round++) {
      const chunk = index === undefined || index === null ? limit - out.length : CHANGES_CHUNK;
      const entries = await this.call((r) => r.xrange(this.K.cdcLog, `0-${scannedTo + 1}`, '+', 'COUNT', chunk));
      for (const e of entries) {
        const ev = entryEvent(e);
        scannedTo = entryId(e);
        if (ev !== null && (index === undefined || index === null || ev.index === index)) out.push(ev);
        if (out.length >= limit) break;
      }
      if (entries.length < chunk) break;
    }
    return { events: out, scannedTo };
  }

  async changesBounds(): Promise<{ first: number | null; last: number }> {
    const [first, last] = await this.call((r) =>
      Promise.all([r.xrange(this.K.cdcLog, '-', '+', 'COUNT', 1), r.get(this.K.cdcSeq)]),
    );
    return { first: first.length > 0 ? entryId(first[0]!) : null, last: Number(last ?? 0) };
  }

  async trimChanges(maxEvents: number, beforeMs: number): Promise<number> {
    let removed = Number(await this.call((r) => r.xtrim(this.K.cdcLog, 'MAXLEN', maxEvents)));
    for (;;) {
      const entries = await this.call((r) => r.xrange(this.K.cdcLog, '-', '+', 'COUNT', CHANGES_CHUNK));
      const keep = entries.find((e) => Number(entryField(e, 't')) >= beforeMs);
      const minId =
        keep !== undefined ? entryId(keep) : entries.length > 0 ? entryId(entries[entries.length - 1]!) + 1 : 0;
      if (minId === 0) return removed;
      const n = Number(await this.call((r) => r.xtrim(this.K.cdcLog, 'MINID', `0-${minId}`)));
      removed += n;
      if (keep !== undefined || n === 0) return removed;
    }
  }

  async getChangeCursor(sink: string): Promise<number> {
    return Number((await this.call((r) => r.hget(this.K.cdcCursors, sink))) ?? 0);
  }

  async putChangeCursor(sink: string, eventId: number): Promise<void> {
    await this.call((r) => r.hset(this.K.cdcCursors, sink, String(eventId)));
  }

  async putTtlPolicy(index: string, policy: TtlPolicy | null): Promise<void> {
    await this.call((r) =>
      policy === null ? r.hdel(this.K.ttlPolicies, index) : r.hset(this.K.ttlPolicies, index, JSON.stringify(policy)),
    );
  }

  async listTtlPolicies(): Promise<Record<string, TtlPolicy>> {
    const all = await this.call((r) => r.hgetall(this.K.ttlPolicies));
    const out: Record<string, TtlPolicy> = {};
    for (const [k, v] of Object.entries(all)) out[k] = decodeRecord(v, isTtlPolicy, 'TTL policy');
    return out;
  }

  async putReshard(index: string, record: ReshardRecord | null): Promise<void> {
    await this.call((r) =>
      record === null ? r.hdel(this.K.reshards, index) : r.hset(this.K.reshards, index, JSON.stringify(record)),
    );
  }

  async listReshards(): Promise<ReshardRecord[]> {
    const all = await this.call((r) => r.hgetall(this.K.reshards));
    return Object.values(all)
      .map((v) => decodeRecord(v, isReshardRecord, 'reshard'))
      .sort((a, b) => (a.index < b.index ? -1 : a.index > b.index ? 1 : 0));
  }

  async putAntiEntropyStatus(status: AntiEntropyShardStatus): Promise<void> {
    await this.call((r) => r.hset(this.K.antiEntropy, `${status.index}\u0000${status.shard}`, JSON.stringify(status)));
  }

  async getAntiEntropyStatus(index: string, shard: number): Promise<AntiEntropyShardStatus | null> {
    const raw = await this.call((r) => r.hget(this.K.antiEntropy, `${index}\u0000${shard}`));
    return raw === null ? null : decodeRecord(raw, isAntiEntropyShardStatus, 'anti-entropy status');
  }

  async listAntiEntropyStatus(): Promise<AntiEntropyShardStatus[]> {
    const all = await this.call((r) => r.hvals(this.K.antiEntropy));
    return all
      .map((v) => decodeRecord(v, isAntiEntropyShardStatus, 'anti-entropy status'))
      .sort((a, b) => (a.index < b.index ? -1 : a.index > b.index ? 1 : a.shard - b.shard));
  }

  async getSearchUiConfig(index: string): Promise<SearchUiIndexConfig | null> {
    const raw = await this.call((r) => r.get(this.K.searchUiConfig(index)));
    return raw === null ? null : decodeRecord(raw, isSearchUiIndexConfig, 'search UI config');
  }

  async putSearchUiConfig(index: string, config: SearchUiIndexConfig): Promise<void> {
    await this.durable(this.K.searchUiConfig(index), (r) =>
      r.set(this.K.searchUiConfig(index), JSON.stringify(config)),
    );
  }

  async getScopedKey(index: string): Promise<ScopedKeyRecord | null> {
    const raw = await this.call((r) => r.get(this.K.scopedKey(index)));
    return raw === null ? null : decodeRecord(raw, isScopedKeyRecord, 'scoped key');
  }

  async listScopedKeys(): Promise<Array<{ index: string; record: ScopedKeyRecord }>> {
    const indexes = (await this.call((r) => r.smembers(this.K.scopedKeyIndex))).sort();
    if (indexes.length === 0) return [];
    const raws = await this.call((r) => r.mget(indexes.map(this.K.scopedKey)));
    const out: Array<{ index: string; record: ScopedKeyRecord }> = [];
    indexes.forEach((index, i) => {
      if (raws[i] !== null) out.push({ index, record: decodeRecord(raws[i]!, isScopedKeyRecord, 'scoped key') });
    });
    return out;
  }

  async casScopedKey(index: string, expected: ScopedKeyRecord | null, next: ScopedKeyRecord | null): Promise<boolean> {
    const args = [expected === null ? '' : scopedKeyJson(expected), next === null ? '' : scopedKeyJson(next), index];
    return (
      Number(
        await this.durable(this.K.scopedKeyIndex, (r) =>
          r.eval(CAS_SCOPED_KEY, 2, this.K.scopedKey(index), this.K.scopedKeyIndex, ...args),
        ),
      ) === 1
    );
  }

  async putScopedKeyObserved(pod: string, index: string, generation: number, ttlMs: number): Promise<void> {
    await this.call((r) => r.set(this.K.scopedKeyObserved(pod, index), String(generation), 'PX', ttlMs));
  }

  async getScopedKeyObserved(index: string, pods: readonly string[]): Promise<Record<string, number>> {
    if (pods.length === 0) return {};
    const raws = await this.call((r) => r.mget(pods.map((p) => this.K.scopedKeyObserved(p, index))));
    const out: Record<string, number> = {};
    pods.forEach((pod, i) => {
      if (raws[i] !== null) out[pod] = Number(raws[i]);
    });
    return out;
  }

  async hitRateLimit(bucket: string, windowMs: number, idleTtlMs: number): Promise<WindowCounter> {
    const res = await this.call((r) =>
      r.eval(
        HIT_RATE_LIMIT,
        1,
        this.K.rateLimit(bucket),
        String(this.now()),
        String(windowMs),
        String(Math.max(windowMs, idleTtlMs)),
      ),
    );
    if (!Array.isArray(res)) throw new Error(`HIT_RATE_LIMIT answered ${String(res)}`);
    return { count: Number(res[0]), windowStart: Number(res[1]) };
  }

  async putAdminSession(session: AdminSessionRecord): Promise<void> {
    const key = this.K.adminSession(session.id);
    const fields = {
      id: session.id,
      csrf_token: session.csrf_token,
      admin_key_hash: session.admin_key_hash,
      created_at: String(session.created_at),
      expires_at: String(session.expires_at),
      revoked: session.revoked ? '1' : '0',
    };
    await this.durable(key, (r) => r.multi().del(key).hset(key, fields).pexpireat(key, session.expires_at).exec());
  }

  async getAdminSession(id: string): Promise<AdminSessionRecord | null> {
    const h = await this.call((r) => r.hgetall(this.K.adminSession(id)));
    if (h.id === undefined || Number(h.expires_at) <= this.now()) return null;
    return {
      id: h.id,
      csrf_token: h.csrf_token!,
      admin_key_hash: h.admin_key_hash!,
      created_at: Number(h.created_at),
      expires_at: Number(h.expires_at),
      revoked: h.revoked === '1',
    };
  }

  async revokeAdminSession(id: string): Promise<boolean> {
    if ((await this.getAdminSession(id)) === null) return false;
    return (
      Number(
        await this.durable(this.K.adminSession(id), (r) => r.eval(REVOKE_ADMIN_SESSION, 1, this.K.adminSession(id))),
      ) === 1
    );
  }

  async getAdminLoginFailures(ip: string): Promise<AdminLoginFailures> {
    const h = await this.call((r) => r.hgetall(this.K.adminLoginBackoff(ip)));
    const until = Number(h.until ?? 0);
    return { failures: Number(h.failures ?? 0), backoff_until: until > this.now() ? until : null };
  }

  async recordAdminLoginFailure(ip: string, keepMs: number): Promise<number> {
    return Number(
      await this.call((r) => r.eval(RECORD_ADMIN_LOGIN_FAILURE, 1, this.K.adminLoginBackoff(ip), String(keepMs))),
    );
  }

  async extendAdminLoginBackoff(ip: string, untilMs: number): Promise<void> {
    await this.call((r) =>
      r.eval(EXTEND_ADMIN_LOGIN_BACKOFF, 1, this.K.adminLoginBackoff(ip), String(untilMs), String(this.now())),
    );
  }

  async clearAdminLoginFailures(ip: string): Promise<void> {
    await this.call((r) => r.del(this.K.adminLoginBackoff(ip)));
  }

  async putCanary(def: CanaryDefinition): Promise<void> {
    await this.call((r) =>
      r.multi().set(this.K.canary(def.name), JSON.stringify(def)).sadd(this.K.canaryIndex, def.name).exec(),
    );
  }

  async getCanary(name: string): Promise<CanaryDefinition | null> {
    const raw = await this.call((r) => r.get(this.K.canary(name)));
    return raw === null ? null : decodeRecord(raw, isCanaryDefinition, 'canary');
  }

  async listCanaries(): Promise<CanaryDefinition[]> {
    const names = (await this.call((r) => r.smembers(this.K.canaryIndex))).sort();
    if (names.length === 0) return [];
    const raws = await this.call((r) => r.mget(names.map(this.K.canary)));
    return raws.filter((x): x is string => x !== null).map((x) => decodeRecord(x, isCanaryDefinition, 'canary'));
  }

  async deleteCanary(name: string): Promise<boolean> {
    const res = await this.call((r) =>
      r.multi().del(this.K.canary(name)).del(this.K.canaryRuns(name)).srem(this.K.canaryIndex, name).exec(),
    );
    return Number(res?.[0]?.[1] ?? 0) === 1;
  }

  async appendCanaryRun(name: string, run: CanaryRun, keep: number): Promise<void> {
    const key = this.K.canaryRuns(name);
    await this.call((r) =>
      r
        .multi()
        .lpush(key, JSON.stringify(run))
        .ltrim(key, 0, Math.max(1, keep) - 1)
        .exec(),
    );
  }

  async getCanaryRuns(name: string, limit: number): Promise<CanaryRun[]> {
    if (limit <= 0) return [];
    const raws = await this.call((r) => r.lrange(this.K.canaryRuns(name), 0, limit - 1));
    return raws.map((x) => decodeRecord(x, isCanaryRun, 'canary run'));
  }

  async getExpiring(kind: ExpiringKind, key: string): Promise<string | null> {
    return this.call((r) => r.get(this.K.expiring(kind, key)));
  }

  async casExpiring(
    kind: ExpiringKind,
    key: string,
    expected: string | null,
    next: string | null,
    ttlMs: number,
  ): Promise<boolean> {
    const args = [expected ?? '', next ?? '', String(Math.max(1, Math.ceil(ttlMs))), key, String(this.now())];
    const keys = [this.K.expiring(kind, key), this.K.expiringIndex(kind)];
    return Number(await this.call((r) => r.eval(CAS_EXPIRING, 2, ...keys, ...args))) === 1;
  }

  async countExpiring(kind: ExpiringKind): Promise<number> {
    const idx = this.K.expiringIndex(kind);
    const res = await this.call((r) => r.multi().zremrangebyscore(idx, '-inf', this.now()).zcard(idx).exec());
    return Number(res?.[1]?.[1] ?? 0);
  }

  async publish(channel: StoreChannel, message: string): Promise<void> {
    await this.call((r) => r.publish(this.K.channel(channel), message));
  }

  async subscribe(channel: StoreChannel, handler: (message: string) => void): Promise<() => Promise<void>> {
    if (this.subscriber === null) {
      this.subscriber = duplicateForSubscribe(this.redis);
      this.subscriber.on('error', () => undefined);
      this.subscriber.on('message', (ch: string, msg: string) => {
        for (const h of this.handlers.get(ch) ?? []) h(msg);
      });
    }
    const name = this.K.channel(channel);
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

/** The value of an iterator step, or null once it is done. */
function headOf(step: IteratorResult<number>): number | null {
  return step.done === true ? null : step.value;
}
