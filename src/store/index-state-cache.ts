// A short-lived in-memory copy of index states for the search path, so a search does not read the store (an LMDB
// get + decode, or a Redis round trip) for its index's primary key and settings. Entries live `ttlMs`; a store
// drops an entry as soon as its own write of that index completes, and on other pods when the `indexes` message
// arrives, so the TTL only bounds staleness when a message is lost. Missing indexes are not cached (a new index is
// visible at once). A read that raced with a forget is not cached (it may have read the old value). While the store
// cannot be read (`staleOk` says which failures), an expired entry is served: nobody can change an index state then.
import type { IndexRecord } from './store.js';

export const INDEX_STATE_TTL_MS = 1000;

export class IndexStateCache {
  private readonly entries = new Map<string, { state: IndexRecord; expiresAt: number }>();
  /** Bumped by every forget; a load that saw another epoch is not cached. */
  private epoch = 0;

  constructor(
    private readonly ttlMs: number = INDEX_STATE_TTL_MS,
    private readonly now: () => number = Date.now,
  ) {}

  async get(
    uid: string,
    load: () => Promise<IndexRecord | null>,
    staleOk: (err: unknown) => boolean = () => false,
  ): Promise<IndexRecord | null> {
    const hit = this.entries.get(uid);
    if (hit !== undefined && hit.expiresAt > this.now()) return hit.state;
    const epoch = this.epoch;
    let state: IndexRecord | null;
    try {
      state = await load();
    } catch (err) {
      const stale = this.entries.get(uid);
      if (stale !== undefined && staleOk(err)) return stale.state;
      throw err;
    }
    if (state === null) this.entries.delete(uid);
    else if (epoch === this.epoch) this.entries.set(uid, { state, expiresAt: this.now() + this.ttlMs });
    return state;
  }

  forget(uid: string): void {
    this.epoch++;
    this.entries.delete(uid);
  }
}
