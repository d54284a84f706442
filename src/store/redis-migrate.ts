// One-time move of a Redis written by an earlier Miroir (plain `miroir:` keys, no hash tags) to today's layout
// (redis-keys.ts): each old key is renamed to its new name once, under a lock, and `miroir:layout` marks the Redis
// as done. Only a single node or a Sentinel master can hold the old layout (its scripts could not run on a Cluster).
// Old pods must be stopped first: keys they write after the move are not seen.
import type { Redis } from 'ioredis';
import { redisKeys } from './redis-keys.js';

const PREFIX = 'miroir:';
export const LAYOUT_KEY = `${PREFIX}layout`;
const LAYOUT = '2';
const LOCK_KEY = `${PREFIX}layout:migrating`;

/** Today's name of an old-layout key, or null when the key kept its name (or is short-lived and left to expire). */
export function newKeyName(old: string): string | null {
  if (!old.startsWith(PREFIX)) return null;
  const K = redisKeys(PREFIX);
  const rest = old.slice(PREFIX.length);
  const after = (p: string) => (rest.startsWith(p) ? rest.slice(p.length) : null);
  let r: string | null;
  if ((r = after('tasks:')) !== null) {
    if (r === '_seq') return K.taskSeq;
    if (r === '_index') return K.taskIndex;
    const by = r.startsWith('_by_index:') ? r.slice('_by_index:'.length) : null;
    if (by !== null) return K.tasksOf(by);
    return /^\d+$/.test(r) ? K.task(Number(r)) : null;
  }
  if ((r = after('task_queue:')) !== null) {
    if (r === '_index') return K.queueIndex;
    if (r === '_owner') return K.queueOwner;
    return K.queue(r);
  }
  if ((r = after('indexes:')) !== null) {
    if (r === '_version_seq') return K.indexVersionSeq;
    if (r === '_index') return K.indexIndex;
    return K.index(r);
  }
  if ((r = after('node_settings_version:')) !== null) {
    const colon = r.indexOf(':'); // index uids hold no ':'; node ids may
    if (colon < 0) return null;
    const index = r.slice(0, colon);
    const node = r.slice(colon + 1);
    return node === '_index' ? K.nodeVersionIndex(index) : K.nodeVersion(index, node);
  }
  if ((r = after('keys:')) !== null) return r === '_index' ? K.keyIndex : K.key(r);
  if ((r = after('jobs:')) !== null) {
    if (r === '_queued') return K.jobQueued;
    if (r === '_index') return K.jobIndex;
    return K.job(r);
  }
  if (rest.startsWith('search_ui_scoped_key_observed:')) return null; // beacons live 60 s
  if ((r = after('search_ui_scoped_key:')) !== null) return r === '_index' ? K.scopedKeyIndex : K.scopedKey(r);
  return null;
}

/**
 * Brings the Redis to today's layout (once; later starts only read the marker). Returns how many keys moved. Another
 * pod migrating at the same time holds the lock; this one waits for its marker (at most `waitMs`).
 */
export async function migrateLayout(redis: Redis, owner: string, waitMs: number): Promise<number> {
  if ((await redis.get(LAYOUT_KEY)) === LAYOUT) return 0;
  const deadline = Date.now() + waitMs;
  while ((await redis.set(LOCK_KEY, owner, 'PX', 60_000, 'NX')) === null) {
    if ((await redis.get(LAYOUT_KEY)) === LAYOUT) return 0;
    if (Date.now() > deadline)
      throw new Error(`another Miroir is moving the Redis keys to the new layout (${LOCK_KEY})`);
    await new Promise((r) => setTimeout(r, 100));
  }
  let moved = 0;
  try {
    let cursor = '0';
    do {
      const [next, keys] = await redis.scan(cursor, 'MATCH', `${PREFIX}*`, 'COUNT', 1000);
      cursor = next;
      for (const key of keys) {
        const to = newKeyName(key);
        if (to !== null && to !== key && Number(await redis.renamenx(key, to)) === 1) moved++;
      }
    } while (cursor !== '0');
    await redis.set(LAYOUT_KEY, LAYOUT);
  } finally {
    await redis.del(LOCK_KEY);
  }
  return moved;
}
