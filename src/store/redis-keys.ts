// The Redis key layout of the shared store (docs/design/redis-layout.md). Every key and channel starts with
// `task_store.redis.key_prefix`; the records one Lua script or MULTI touches together share a hash tag `{…}`, so on
// a Redis Cluster they sit in one slot. Bookkeeping keys of a family follow the tag with `#`, records with `:`, so
// no record id (an index uid may be `_index`) can collide with them.
import type { ExpiringKind, StoreChannel } from './store.js';

export type RedisKeys = ReturnType<typeof redisKeys>;

export function redisKeys(prefix: string) {
  const tag = (family: string) => `{${prefix}${family}}`;
  const tasks = tag('tasks');
  const indexes = tag('indexes');
  const keys = tag('keys');
  const jobs = tag('jobs');
  const scoped = tag('search_ui_scoped_key');
  const canaries = tag('canaries');
  const tombstones = tag('tombstones');
  const cdc = tag('cdc');
  return {
    /** Every key of this layout (for tests and tools that clear one Miroir's keys). */
    pattern: `*${prefix}*`,
    // The task family: sequence, records, listings and settlement queues change together (enqueue, finish).
    taskSeq: `${tasks}#seq`,
    task: (uid: number) => `${tasks}:${uid}`,
    taskIndex: `${tasks}#index`,
    tasksOf: (index: string) => `${tasks}#by_index:${index}`,
    queue: (name: string) => `${tasks}#queue:${name}`,
    queueIndex: `${tasks}#queues`,
    queueOwner: `${tasks}#queue_owner`,
    // Index records: one compare-and-set may change several of them and draws versions from one sequence.
    indexVersionSeq: `${indexes}#version_seq`,
    index: (uid: string) => `${indexes}:${uid}`,
    indexIndex: `${indexes}#index`,
    nodeVersion: (index: string, node: string) => `${tag(`node_settings_version:${index}`)}:${node}`,
    nodeVersionIndex: (index: string) => `${tag(`node_settings_version:${index}`)}#index`,
    key: (uid: string) => `${keys}:${uid}`,
    keyIndex: `${keys}#index`,
    job: (id: string) => `${jobs}:${id}`,
    /** What a Lua script appends a job id to (the claim script reads job hashes it finds in the queue). */
    jobPrefix: `${jobs}:`,
    jobQueued: `${jobs}#queued`,
    jobIndex: `${jobs}#index`,
    scopedKey: (index: string) => `${scoped}:${index}`,
    scopedKeyIndex: `${scoped}#index`,
    scopedKeyObserved: (pod: string, index: string) => `${tag(`search_ui_scoped_key_observed:${index}`)}:${pod}`,
    // Canary definitions, their listing and run histories: a delete removes all three in one MULTI.
    canary: (name: string) => `${canaries}:${name}`,
    canaryIndex: `${canaries}#index`,
    canaryRuns: (name: string) => `${canaries}#runs:${name}`,
    // Tombstones per index and the listing of indexes holding some: one MULTI writes both.
    tombstones: (index: string) => `${tombstones}:${index}`,
    tombstoneIndex: `${tombstones}#index`,
    // The change log (a Stream with ids `0-<event id>`), its sequence and the sinks' cursors: one script appends.
    cdcSeq: `${cdc}#seq`,
    cdcLog: `${cdc}#log`,
    cdcCursors: `${cdc}#cursors`,
    // Expiring records of one kind (idempotency keys, sessions, frozen indexes) and their expiry listing: one script
    // changes both.
    expiring: (kind: ExpiringKind, key: string) => `${tag(kind)}:${key}`,
    expiringIndex: (kind: ExpiringKind) => `${tag(kind)}#index`,
    // Records a single command reads or writes need no tag.
    ttlPolicies: `${prefix}ttl_policies`,
    reshards: `${prefix}reshards`,
    antiEntropy: `${prefix}antientropy_status`,
    topology: `${prefix}topology`,
    aliases: `${prefix}aliases`,
    ilmPolicies: `${prefix}ilm_policies`,
    lease: (scope: string) => `${prefix}lease:${scope}`,
    searchUiConfig: (index: string) => `${prefix}search_ui_config:${index}`,
    rateLimit: (bucket: string) => `${prefix}ratelimit:${bucket}`,
    adminSession: (id: string) => `${prefix}admin_session:${id}`,
    adminLoginBackoff: (ip: string) => `${prefix}ratelimit:adminlogin:backoff:${ip}`,
    /** Pub/sub channels (not keys: a Redis Cluster forwards every PUBLISH to all its nodes). */
    channel: (c: StoreChannel) =>
      c === 'admin_session_revoked' ? `${prefix}admin_session:revoked` : `${prefix}events:${c}`,
  };
}
