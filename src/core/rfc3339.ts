// Strict date parsing as Meilisearch's `time` crate does it for task filters: RFC 3339 date-times (any one-byte
// date/time separator, `Z`/`z` or ±HH:MM offsets, up to nanosecond fractions, leap second 60 only as the last second
// of a month) and calendar dates `[±]YYYY-MM-DD`. Both answer epoch milliseconds (fractional), or null.

const DIGITS2 = /^\d{2}$/;

function isLeap(y: number): boolean {
  return (y % 4 === 0 && y % 100 !== 0) || y % 400 === 0;
}

function daysInMonth(y: number, m: number): number {
  return [31, isLeap(y) ? 29 : 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31][m - 1]!;
}

/** Days since 1970-01-01 of a proleptic Gregorian date (any year, incl. 0 and negatives). */
function daysFromCivil(y: number, m: number, d: number): number {
  const yy = m <= 2 ? y - 1 : y;
  const era = Math.floor(yy / 400);
  const yoe = yy - era * 400;
  const doy = Math.floor((153 * (m + (m > 2 ? -3 : 9)) + 2) / 5) + d - 1;
  const doe = yoe * 365 + Math.floor(yoe / 4) - Math.floor(yoe / 100) + doy;
  return era * 146097 + doe - 719468;
}

function validDate(y: number, m: number, d: number): boolean {
  return m >= 1 && m <= 12 && d >= 1 && d <= daysInMonth(y, m);
}

/** `[±]YYYY-MM-DD` at midnight UTC, or null. */
export function parseCalendarDate(value: string): number | null {
  const m = /^([+-]?)(\d{4})-(\d{2})-(\d{2})$/.exec(value);
  if (m === null) return null;
  const year = (m[1] === '-' ? -1 : 1) * Number(m[2]);
  const month = Number(m[3]);
  const day = Number(m[4]);
  if (!validDate(year, month, day)) return null;
  return daysFromCivil(year, month, day) * 86_400_000;
}

/** An RFC 3339 date-time, or null. */
export function parseRfc3339(value: string): number | null {
  const b = Buffer.from(value, 'utf8');
  const str = (from: number, to: number) => b.subarray(from, to).toString('latin1');
  if (b.length < 19) return null;
  const year = str(0, 4);
  if (!/^\d{4}$/.test(year) || b[4] !== 0x2d || !DIGITS2.test(str(5, 7)) || b[7] !== 0x2d || !DIGITS2.test(str(8, 10)))
    return null;
  // byte 10 is the separator: any single byte
  if (
    !DIGITS2.test(str(11, 13)) ||
    b[13] !== 0x3a ||
    !DIGITS2.test(str(14, 16)) ||
    b[16] !== 0x3a ||
    !DIGITS2.test(str(17, 19))
  )
    return null;
  let i = 19;
  let nanos = 0;
  if (b[i] === 0x2e) {
    i++;
    if (!(b[i]! >= 0x30 && b[i]! <= 0x39)) return null;
    let multiplier = 100_000_000;
    while (i < b.length && b[i]! >= 0x30 && b[i]! <= 0x39) {
      nanos += (b[i]! - 0x30) * multiplier;
      multiplier = Math.floor(multiplier / 10);
      i++;
    }
  }
  let offsetMinutes = 0;
  if (b[i] === 0x5a || b[i] === 0x7a) i++;
  else {
    const sign = b[i] === 0x2b ? 1 : b[i] === 0x2d ? -1 : 0;
    if (sign === 0) return null;
    const oh = str(i + 1, i + 3);
    if (!DIGITS2.test(oh) || Number(oh) > 23 || b[i + 3] !== 0x3a) return null;
    const om = str(i + 4, i + 6);
    if (!DIGITS2.test(om) || Number(om) > 59) return null;
    offsetMinutes = sign * (Number(oh) * 60 + Number(om));
    i += 6;
  }
  if (i !== b.length) return null;
  const y = Number(year);
  const mo = Number(str(5, 7));
  const d = Number(str(8, 10));
  const h = Number(str(11, 13));
  const mi = Number(str(14, 16));
  let s = Number(str(17, 19));
  if (!validDate(y, mo, d) || h > 23 || mi > 59 || s > 60) return null;
  const leap = s === 60;
  if (leap) {
    s = 59;
    nanos = 999_999_999;
  }
  const secs = daysFromCivil(y, mo, d) * 86_400 + h * 3600 + mi * 60 + s - offsetMinutes * 60;
  if (leap) {
    // Only valid as a stand-in for 23:59:60 UTC on the last day of a month.
    const utc = new Date(secs * 1000);
    const lastDay = daysInMonth(utc.getUTCFullYear(), utc.getUTCMonth() + 1);
    if (
      utc.getUTCHours() !== 23 ||
      utc.getUTCMinutes() !== 59 ||
      utc.getUTCSeconds() !== 59 ||
      utc.getUTCDate() !== lastDay
    )
      return null;
  }
  const ms = secs * 1000 + nanos / 1e6;
  return ms;
}
