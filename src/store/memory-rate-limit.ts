// Fixed-window rate-limit counters in this process's memory: the LMDB store's `hitRateLimit` (one pod) and the
// search UI's `rate_limit.backend: memory`. Idle counters are dropped by an occasional sweep, so memory stays bounded.
import { countHit, type WindowCounter } from '../core/search-ui/rate.js';

export class MemoryRateLimits {
  private readonly counters = new Map<string, WindowCounter & { idleUntil: number }>();
  private hits = 0;

  constructor(private readonly now: () => number = Date.now) {}

  hit(bucket: string, windowMs: number, idleTtlMs: number): WindowCounter {
    const now = this.now();
    if (++this.hits % 1024 === 0) for (const [k, c] of this.counters) if (c.idleUntil <= now) this.counters.delete(k);
    const prev = this.counters.get(bucket);
    const next = countHit(prev !== undefined && prev.idleUntil > now ? prev : null, now, windowMs);
    this.counters.set(bucket, { ...next, idleUntil: now + Math.max(idleTtlMs, windowMs) });
    return next;
  }
}
