// HOT PATH (search-UI requests). Per-client-IP rate limits of the search page (SPEC A21): counted in the store's
// Redis for every pod when `rate_limit.backend` is redis and the store is Redis, else in this pod's memory. Over
// the limit → 429 `miroir_rate_limited` with `Retry-After`.
import type { IncomingMessage } from 'node:http';
import { MeiliError } from '../../core/errors.js';
import { retryAfterSeconds, type RateSpec } from '../../core/search-ui/rate.js';
import { MemoryRateLimits } from '../../store/memory-rate-limit.js';
import type { Store } from '../../store/store.js';

export type LimitKind = 'searchui' | 'searchui:session';

export class SearchUiRateLimits {
  private readonly memory: MemoryRateLimits | null;

  constructor(
    private readonly store: Store,
    backend: 'redis' | 'memory',
    private readonly idleTtlMs: number,
  ) {
    this.memory = backend === 'redis' && store.backend === 'redis' ? null : new MemoryRateLimits();
  }

  /** The client address a limit counts against (the socket's peer). */
  static clientIp(req: IncomingMessage): string {
    return req.socket.remoteAddress ?? 'unknown';
  }

  /** Counts one request of `ip`; throws 429 (and sets `Retry-After` in `headers`) over the limit. */
  async hit(
    kind: LimitKind,
    ip: string,
    spec: RateSpec,
    label: string,
    headers: Record<string, string>,
  ): Promise<void> {
    const bucket = `${kind}:${ip}`;
    const counter =
      this.memory !== null
        ? this.memory.hit(bucket, spec.windowMs, this.idleTtlMs)
        : await this.store.hitRateLimit(bucket, spec.windowMs, this.idleTtlMs);
    if (counter.count <= spec.limit) return;
    const wait = retryAfterSeconds(counter, Date.now(), spec.windowMs);
    headers['retry-after'] = String(wait);
    throw new MeiliError(
      'miroir_rate_limited',
      `Too many ${label} from this address (limit ${spec.limit} per ${spec.windowMs / 1000} s). Retry in ${wait} s.`,
    );
  }
}
