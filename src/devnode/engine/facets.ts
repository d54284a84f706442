// Facet distribution and stats over a set of documents, as one Meilisearch node answers them: values grouped by
// their normalized form (shown as first seen), ordered per `sortFacetValuesBy` (alpha: numbers first numerically,
// then strings; count: most frequent first, ties alpha), cut at `maxValuesPerFacet`; stats for numeric values.
import { normalizeFacet, valuesAt } from '../../core/filter/index.js';

export interface FacetCount {
  value: string;
  count: number;
  numeric: boolean;
  num: number;
}

/** Counts each distinct value of `attr` once per document. */
export function countFacet(
  docs: Iterable<Record<string, unknown>>,
  attr: string,
): { counts: FacetCount[]; min: number | null; max: number | null } {
  const byKey = new Map<string, FacetCount>();
  let min: number | null = null;
  let max: number | null = null;
  for (const doc of docs) {
    const vals = valuesAt(doc, attr);
    if (!Array.isArray(vals)) continue;
    const seen = new Set<string>();
    for (const v of vals) {
      let key: string;
      let entry: FacetCount;
      if (typeof v === 'number') {
        if (!Number.isFinite(v)) continue;
        key = `n:${v}`;
        entry = { value: String(v), count: 0, numeric: true, num: v };
        min = min === null ? v : Math.min(min, v);
        max = max === null ? v : Math.max(max, v);
      } else if (typeof v === 'string' || typeof v === 'boolean') {
        const s = String(v);
        key = `s:${normalizeFacet(s)}`;
        entry = { value: s, count: 0, numeric: false, num: 0 };
      } else continue;
      if (seen.has(key)) continue;
      seen.add(key);
      const prev = byKey.get(key);
      if (prev === undefined) byKey.set(key, { ...entry, count: 1 });
      else prev.count++;
    }
  }
  return { counts: [...byKey.values()], min, max };
}

export function alphaCompare(a: FacetCount, b: FacetCount): number {
  if (a.numeric !== b.numeric) return a.numeric ? -1 : 1;
  if (a.numeric) return a.num - b.num;
  const x = normalizeFacet(a.value);
  const y = normalizeFacet(b.value);
  return x < y ? -1 : x > y ? 1 : 0;
}

export function sortFacetCounts(counts: FacetCount[], order: 'alpha' | 'count', max: number): FacetCount[] {
  const sorted = [...counts].sort(order === 'count' ? (a, b) => b.count - a.count || alphaCompare(a, b) : alphaCompare);
  return sorted.slice(0, max);
}

export function facetOrder(sortFacetValuesBy: Record<string, string>, attr: string): 'alpha' | 'count' {
  const o = sortFacetValuesBy[attr] ?? sortFacetValuesBy['*'] ?? 'alpha';
  return o === 'count' ? 'count' : 'alpha';
}
