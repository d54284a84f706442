// How sort rules (`sort` and custom `attr:asc|desc` ranking rules) order field values, as Meilisearch does:
// numbers before strings (booleans as strings), numbers numerically, strings case-insensitively; an array sorts by
// its smallest value ascending and its largest descending; missing, null, object or empty-array values come last
// in both directions.

/** Numbers before strings (booleans as strings), numbers numerically, strings lexicographically. */
export function cmpScalar(x: unknown, y: unknown): number {
  const xn = typeof x === 'number';
  const yn = typeof y === 'number';
  if (xn && yn) return (x as number) - (y as number);
  if (xn !== yn) return xn ? -1 : 1;
  const xs = String(x).toLowerCase();
  const ys = String(y).toLowerCase();
  return xs < ys ? -1 : xs > ys ? 1 : 0;
}

/** The scalar a value sorts by in this direction (undefined when it sorts as missing). */
export function sortValue(v: unknown, dir: 'asc' | 'desc'): unknown {
  if (Array.isArray(v)) {
    if (v.length === 0) return undefined;
    const sorted = [...v].sort(cmpScalar);
    v = dir === 'asc' ? sorted[0] : sorted[sorted.length - 1];
  }
  return v === null || typeof v === 'object' ? undefined : v;
}

/** Compares two values already passed through sortValue. */
export function compareSortValues(x: unknown, y: unknown, dir: 'asc' | 'desc'): number {
  const xm = x === undefined;
  const ym = y === undefined;
  if (xm || ym) return xm === ym ? 0 : xm ? 1 : -1; // missing values last in both directions
  const c = cmpScalar(x, y);
  return dir === 'asc' ? c : -c;
}

export function compareValues(a: unknown, b: unknown, dir: 'asc' | 'desc'): number {
  return compareSortValues(sortValue(a, dir), sortValue(b, dir), dir);
}
