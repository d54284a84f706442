// Console login limits per client address (SPEC A19), kept in the store so they hold across pods: at most 10 attempts
// a minute, and after 5 failures in a row a backoff of 10 minutes that doubles with every further failure (20, 40, …)
// up to 24 hours. While either holds, a login is refused with 429 and Retry-After before the key is even compared.
// The minute window is a store rate-limit bucket `adminlogin:<ip>` (the search UI's fixed windows).
import { retryAfterSeconds } from '../../core/search-ui/rate.js';
import type { Store } from '../../store/store.js';

export const LOGIN_WINDOW_MS = 60_000;
export const LOGINS_PER_WINDOW = 10;
export const FAILURES_BEFORE_BACKOFF = 5;
export const BACKOFF_BASE_MS = 10 * 60_000;
export const BACKOFF_CAP_MS = 24 * 3600_000;
/** Failures are forgotten this long after the last one (a success forgets them at once). */
export const FAILURES_KEPT_MS = 24 * 3600_000;

/** The backoff the `failures`-th failure in a row earns: none below the threshold, then 10m, 20m, 40m, … ≤ 24h. */
export function backoffMs(failures: number): number {
  if (failures < FAILURES_BEFORE_BACKOFF) return 0;
  const doublings = failures - FAILURES_BEFORE_BACKOFF;
  return doublings >= 8 ? BACKOFF_CAP_MS : Math.min(BACKOFF_CAP_MS, BACKOFF_BASE_MS * 2 ** doublings);
}

/** Why a login is refused now, and the Retry-After (whole seconds, at least 1). */
export interface LoginRefusal {
  message: string;
  retryAfterS: number;
}

function refusal(message: string, waitMs: number): LoginRefusal {
  return { message, retryAfterS: Math.max(1, Math.ceil(waitMs / 1000)) };
}

function minutes(ms: number): string {
  const m = Math.ceil(ms / 60_000);
  return m === 1 ? '1 minute' : `${m} minutes`;
}

export class LoginLimiter {
  constructor(
    private readonly store: Store,
    private readonly now: () => number = Date.now,
  ) {}

  /** The refusal while `ip` is in backoff or over the rate; otherwise counts this attempt and answers null. */
  async admit(ip: string): Promise<LoginRefusal | null> {
    const { backoff_until } = await this.store.getAdminLoginFailures(ip);
    const now = this.now();
    if (backoff_until !== null && backoff_until > now) {
      return refusal(
        `Too many failed logins from this address; try again in ${minutes(backoff_until - now)}.`,
        backoff_until - now,
      );
    }
    const counter = await this.store.hitRateLimit(`adminlogin:${ip}`, LOGIN_WINDOW_MS, LOGIN_WINDOW_MS);
    if (counter.count > LOGINS_PER_WINDOW) {
      const wait = retryAfterSeconds(counter, now, LOGIN_WINDOW_MS);
      return {
        message: `More than ${LOGINS_PER_WINDOW} login attempts a minute from this address; try again in ${wait} seconds.`,
        retryAfterS: wait,
      };
    }
    return null;
  }

  /** A wrong key: one more failure in a row, and the backoff it earns. */
  async failed(ip: string): Promise<void> {
    const failures = await this.store.recordAdminLoginFailure(ip, FAILURES_KEPT_MS);
    const wait = backoffMs(failures);
    if (wait > 0) await this.store.extendAdminLoginBackoff(ip, this.now() + wait);
  }

  async succeeded(ip: string): Promise<void> {
    await this.store.clearAdminLoginFailures(ip);
  }
}
