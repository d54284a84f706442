// The dev node's wall clock with nanoseconds, as Meilisearch stamps tasks and indexes: RFC 3339 in UTC with the
// fraction of a second written with as many digits as it needs (up to 9, trailing zeros dropped), strictly
// increasing, so two tasks enqueued within one millisecond keep their order in date filters.

const START_NS = BigInt(Date.now()) * 1_000_000n;
const START_HR = process.hrtime.bigint();
let last = 0n;

/** Nanoseconds since the Unix epoch, strictly increasing across calls. */
export function nowNs(): bigint {
  let ns = START_NS + (process.hrtime.bigint() - START_HR);
  if (ns <= last) ns = last + 1n;
  last = ns;
  return ns;
}

/** RFC 3339 (UTC, `Z`) with the shortest exact fraction of a second, e.g. `2024-01-01T00:00:00.123456789Z`. */
export function formatNs(ns: bigint): string {
  const ms = Number(ns / 1_000_000n);
  const frac = Number(ns % 1_000_000_000n);
  const base = new Date(ms).toISOString().slice(0, 19);
  if (frac === 0) return `${base}Z`;
  return `${base}.${String(frac).padStart(9, '0').replace(/0+$/, '')}Z`;
}

/** The current time as Meilisearch prints it. */
export function now(): string {
  return formatNs(nowNs());
}

const RFC3339 = /^(\d{4})-(\d{2})-(\d{2})[Tt](\d{2}):(\d{2}):(\d{2})(?:\.(\d{1,9}))?(?:[Zz]|([+-])(\d{2}):(\d{2}))$/;
const DAY = /^(\d{4})-(\d{2})-(\d{2})$/;

/** Nanoseconds since the epoch of an RFC 3339 date-time, or null when it is not one. */
export function parseRfc3339(s: string): bigint | null {
  const m = RFC3339.exec(s);
  if (m === null) return null;
  const [, y, mo, d, h, mi, se, frac, sign, oh, om] = m;
  const ms = Date.UTC(Number(y), Number(mo) - 1, Number(d), Number(h), Number(mi), Number(se));
  if (Number.isNaN(ms) || Number(mo) > 12 || Number(d) > 31 || Number(h) > 23 || Number(mi) > 59 || Number(se) > 60)
    return null;
  let ns = BigInt(ms) * 1_000_000n + BigInt((frac ?? '').padEnd(9, '0') || '0');
  if (sign !== undefined) ns -= BigInt((sign === '-' ? -1 : 1) * (Number(oh) * 60 + Number(om)) * 60) * 1_000_000_000n;
  return ns;
}

/** A `YYYY-MM-DD` day at midnight UTC in nanoseconds, or null. */
export function parseDay(s: string): bigint | null {
  const m = DAY.exec(s);
  if (m === null) return null;
  const ms = Date.UTC(Number(m[1]), Number(m[2]) - 1, Number(m[3]));
  return Number.isNaN(ms) || Number(m[2]) > 12 || Number(m[3]) > 31 ? null : BigInt(ms) * 1_000_000n;
}
