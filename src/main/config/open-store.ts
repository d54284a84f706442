// Config → store: opens the configured store (`task_store.backend`, `path`, `url` / `redis`) and checks the store choice against the
// pod count: several Miroir pods must share the Redis store.
import type { z } from 'zod';
import type { redisStoreSchema } from './schema.js';
import { LmdbStore } from '../../store/lmdb.js';
import { RedisStore, type RedisStoreOptions } from '../../store/redis.js';
import type { Store } from '../../store/store.js';

export interface StoreConfig {
  backend: 'lmdb' | 'redis';
  path: string;
  /** Short form of `redis.url`. */
  url: string;
  redis?: z.infer<typeof redisStoreSchema>;
}

/** The Redis store's options from `task_store` (url or its short form, sentinels, cluster, credentials, TLS). */
export function redisOptionsOf(task_store: StoreConfig): RedisStoreOptions {
  const redis = task_store.redis;
  if (redis === undefined) return { url: task_store.url };
  const tls = redis.tls;
  return {
    url: task_store.url !== '' ? task_store.url : redis.url,
    sentinels: redis.sentinels,
    name: redis.name,
    cluster: redis.cluster,
    username: redis.username,
    password: redis.password,
    tls: {
      enabled: tls.enabled,
      ca: tls.ca,
      cert: tls.cert,
      key: tls.key,
      rejectUnauthorized: tls.reject_unauthorized,
    },
    keyPrefix: redis.key_prefix,
    connectTimeoutMs: redis.connect_timeout_ms,
    // Acknowledged writes must survive a Sentinel failover, so they wait for one replica there unless told otherwise.
    waitReplicas: redis.wait_replicas ?? (redis.sentinels.length > 0 ? 1 : 0),
    waitTimeoutMs: redis.wait_timeout_ms,
  };
}

export async function openStore(cfg: StoreConfig, opts: { now?: () => number } = {}): Promise<Store> {
  if (cfg.backend === 'redis') return RedisStore.open({ ...redisOptionsOf(cfg), now: opts.now });
  return new LmdbStore({ path: cfg.path, now: opts.now });
}

/** A problem naming the key when the store cannot serve `pods` Miroir processes, else null. */
export function storeProblemForPods(backend: 'lmdb' | 'redis', pods: number): string | null {
  if (pods > 1 && backend !== 'redis') {
    return `task_store.backend: ${pods === Infinity ? 'peer discovery by DNS means several Miroir pods' : `${pods} Miroir pods`} must share the redis store; lmdb serves one pod only`;
  }
  return null;
}
