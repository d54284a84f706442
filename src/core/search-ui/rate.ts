// Rate specs of the search UI (`"60/minute"`) and the fixed-window counting rule both rate-limit backends share:
// a window starts at its first hit and lasts the rate's unit; an idle counter may be forgotten after its TTL.
export interface RateSpec {
  limit: number;
  windowMs: number;
}

const UNITS: Record<string, number> = { second: 1000, minute: 60_000, hour: 3_600_000, day: 86_400_000 };
const RATE_RE = /^\s*(\d{1,9})\s*\/\s*(second|minute|hour|day)\s*$/;

/** Parses `N/unit` (unit: second, minute, hour or day); null when malformed or N is 0. */
export function parseRate(text: string): RateSpec | null {
  const m = RATE_RE.exec(text);
  if (m === null) return null;
  const limit = Number(m[1]);
  return limit > 0 ? { limit, windowMs: UNITS[m[2]!]! } : null;
}

/** One counter: hits in the window that started at `windowStart`. */
export interface WindowCounter {
  count: number;
  windowStart: number;
}

/** The counter after one more hit at `now` (a new window when the old one is over). */
export function countHit(prev: WindowCounter | null, now: number, windowMs: number): WindowCounter {
  if (prev === null || now >= prev.windowStart + windowMs) return { count: 1, windowStart: now };
  return { count: prev.count + 1, windowStart: prev.windowStart };
}

/** Whole seconds until the window of `c` ends (at least 1), for `Retry-After`. */
export function retryAfterSeconds(c: WindowCounter, now: number, windowMs: number): number {
  return Math.max(1, Math.ceil((c.windowStart + windowMs - now) / 1000));
}
