// Opens the configured store (`task_store.backend`, `path`, `url`) and checks the store choice against the pod
// count: several Miroir pods must share the Redis store.
import { LmdbStore } from './lmdb.js';
import { RedisStore } from './redis.js';
import type { Store } from './store.js';

export interface StoreConfig {
  backend: 'lmdb' | 'redis';
  path: string;
  url: string;
}

export async function openStore(cfg: StoreConfig, opts: { now?: () => number } = {}): Promise<Store> {
  if (cfg.backend === 'redis') return RedisStore.open({ url: cfg.url, now: opts.now });
  return new LmdbStore({ path: cfg.path, now: opts.now });
}

/** A problem naming the key when the store cannot serve `pods` Miroir processes, else null. */
export function storeProblemForPods(backend: 'lmdb' | 'redis', pods: number): string | null {
  if (pods > 1 && backend !== 'redis') {
    return `task_store.backend: ${pods === Infinity ? 'peer discovery by DNS means several Miroir pods' : `${pods} Miroir pods`} must share the redis store; lmdb serves one pod only`;
  }
  return null;
}
