// The one sort order of field values (sort rules, custom `attr:asc|desc` ranking rules, sorted document lists), as
// Meilisearch orders them — used by the dev node's ranking and by the proxy's merges alike:
// numbers before strings (booleans as strings), numbers numerically, strings case-insensitively; an array sorts by
// its smallest value ascending and its largest descending; missing, null, object or empty-array values come last
// in both directions.

/** Numbers before strings (booleans as strings), numbers numerically, strings case-insensitively. */
export function cmpScalar(x: unknown, y: unknown): number {
  if (typeof x === 'number' && typeof y === 'number') return x - y;
  const xn = typeof x === 'number';
  if (xn !== (typeof y === 'number')) return xn ? -1 : 1;
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

/**
 * The final tie-break of merged lists on primary keys: numbers numerically before strings, strings by code unit
 * (a total order, so a merge is deterministic whatever the nodes answer).
 */
export function comparePrimaryKeys(a: unknown, b: unknown): number {
  if (typeof a === 'number' && typeof b === 'number') return a - b;
  const an = typeof a === 'number';
  if (an !== (typeof b === 'number')) return an ? -1 : 1;
  const x = String(a ?? '');
  const y = String(b ?? '');
  return x < y ? -1 : x > y ? 1 : 0;
}
