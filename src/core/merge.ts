// HOT PATH. Merges the per-node answers of one covering set into the answer one node holding every document would
// give: k-way merge of hits by `_rankingScore` (rule by rule over `_rankingScoreDetails` when `sort` is used),
// paging after the merge, facet counts summed then re-sorted and cut like one node, facetStats min/max, totals
// summed then capped at maxTotalHits, processingTimeMs max, distinct re-applied, reserved and merge-added fields
// stripped. Deterministic: ties fall back to the primary key.
import { comparePrimaryKeys, compareSortValues, sortValue } from './sort-order.js';
import { hitsInfo, pageWindow, type PageRequest } from './pagination.js';
import { isReservedField } from './reserved.js';

export type Hit = Record<string, unknown>;
export type NodeAnswer = Record<string, unknown>;

export interface MergeQuery extends PageRequest {
  q?: string | null;
  sort?: string[] | null;
  facets?: string[] | null;
  distinct?: string | null;
  showRankingScore?: boolean;
  showRankingScoreDetails?: boolean;
  attributesToHighlight?: string[] | null;
  attributesToCrop?: string[] | null;
}

export interface MergeSettings {
  primaryKey: string;
  maxTotalHits: number;
  maxValuesPerFacet: number;
  sortFacetValuesBy: Record<string, string>;
  distinctAttribute: string | null;
}

export interface MergeOptions {
  /** Fields the proxy added to attributesToRetrieve that the client did not ask for. */
  addedFields?: readonly string[];
}

interface Ranked {
  hit: Hit;
  score: number;
  keys: Array<{ kind: 'score'; v: number } | { kind: 'sort'; v: unknown; dir: 1 | -1 }> | null;
  /** The primary-key value; compared (numbers before strings) only on a full tie. */
  pk: unknown;
}

function detailKeys(details: unknown): Ranked['keys'] {
  if (details === null || typeof details !== 'object') return null;
  const entries = Object.entries(details as Record<string, Record<string, unknown>>).sort(
    (a, b) => (a[1].order as number) - (b[1].order as number),
  );
  return entries.map(([name, d]) => {
    const m = /:(asc|desc)$/.exec(name);
    if (m !== null && !('score' in d))
      return { kind: 'sort' as const, v: d.value, dir: m[1] === 'asc' ? (1 as const) : (-1 as const) };
    return { kind: 'score' as const, v: typeof d.score === 'number' ? d.score : 0 };
  });
}

function compareRanked(a: Ranked, b: Ranked): number {
  if (a.keys !== null && b.keys !== null) {
    const n = Math.min(a.keys.length, b.keys.length);
    for (let i = 0; i < n; i++) {
      const x = a.keys[i]!;
      const y = b.keys[i]!;
      if (x.kind === 'score' && y.kind === 'score') {
        if (x.v !== y.v) return y.v - x.v;
      } else if (x.kind === 'sort' && y.kind === 'sort') {
        const c = compareSortValues(
          sortValue(x.v, x.dir === 1 ? 'asc' : 'desc'),
          sortValue(y.v, y.dir === 1 ? 'asc' : 'desc'),
          x.dir === 1 ? 'asc' : 'desc',
        );
        if (c !== 0) return c;
      }
    }
  }
  if (a.score !== b.score) return b.score - a.score;
  return comparePrimaryKeys(a.pk, b.pk);
}

function toRanked(hit: Hit, pk: string, useDetails: boolean): Ranked {
  return {
    hit,
    score: typeof hit._rankingScore === 'number' ? hit._rankingScore : 0,
    keys: useDetails ? detailKeys(hit._rankingScoreDetails) : null,
    pk: hit[pk],
  };
}

/** K-way merge of per-node hit lists that are each already in ranking order. */
export function mergeHitLists(lists: readonly Hit[][], pk: string, useDetails: boolean, take: number): Hit[] {
  const heads = lists.map((l) => (l.length > 0 ? toRanked(l[0]!, pk, useDetails) : null));
  const pos = lists.map(() => 0);
  const out: Hit[] = [];
  while (out.length < take) {
    let best = -1;
    for (let i = 0; i < heads.length; i++) {
      const h = heads[i];
      if (h !== null && h !== undefined && (best < 0 || compareRanked(h, heads[best]!) < 0)) best = i;
    }
    if (best < 0) break;
    out.push(heads[best]!.hit);
    const next = ++pos[best]!;
    heads[best] = next < lists[best]!.length ? toRanked(lists[best]![next]!, pk, useDetails) : null;
  }
  return out;
}

interface FacetValue {
  value: string;
  count: number;
  numeric: boolean;
}

function facetAlpha(a: FacetValue, b: FacetValue): number {
  if (a.numeric !== b.numeric) return a.numeric ? -1 : 1;
  if (a.numeric) return Number(a.value) - Number(b.value);
  const x = a.value.toLowerCase();
  const y = b.value.toLowerCase();
  return x < y ? -1 : x > y ? 1 : 0;
}

/** Sums facet distributions and re-sorts/cuts them per facet like one node. */
export function mergeFacets(
  distributions: ReadonlyArray<Record<string, Record<string, number>> | undefined>,
  numericAttrs: ReadonlySet<string>,
  settings: Pick<MergeSettings, 'maxValuesPerFacet' | 'sortFacetValuesBy'>,
): Record<string, Record<string, number>> {
  const sums = new Map<string, Map<string, FacetValue>>();
  for (const dist of distributions) {
    if (dist === undefined) continue;
    for (const [attr, values] of Object.entries(dist)) {
      if (isReservedField(attr)) continue;
      let m = sums.get(attr);
      if (m === undefined) sums.set(attr, (m = new Map()));
      for (const [value, count] of Object.entries(values)) {
        const key = value.toLowerCase();
        const prev = m.get(key);
        if (prev !== undefined) prev.count += count;
        else
          m.set(key, {
            value,
            count,
            numeric: numericAttrs.has(attr) && value.trim() !== '' && Number.isFinite(Number(value)),
          });
      }
    }
  }
  const out: Record<string, Record<string, number>> = {};
  for (const [attr, m] of sums) {
    const order = settings.sortFacetValuesBy[attr] ?? settings.sortFacetValuesBy['*'] ?? 'alpha';
    const sorted = [...m.values()]
      .sort(order === 'count' ? (a, b) => b.count - a.count || facetAlpha(a, b) : facetAlpha)
      .slice(0, settings.maxValuesPerFacet);
    const dist: Record<string, number> = {};
    for (const v of sorted) dist[v.value] = v.count;
    out[attr] = dist;
  }
  return out;
}

function mergeStats(
  all: ReadonlyArray<Record<string, { min: number; max: number }> | undefined>,
): Record<string, { min: number; max: number }> {
  const out: Record<string, { min: number; max: number }> = {};
  for (const stats of all) {
    if (stats === undefined) continue;
    for (const [attr, s] of Object.entries(stats)) {
      if (isReservedField(attr)) continue;
      const prev = out[attr];
      out[attr] =
        prev === undefined
          ? { min: s.min, max: s.max }
          : { min: Math.min(prev.min, s.min), max: Math.max(prev.max, s.max) };
    }
  }
  return out;
}

function valueKey(v: unknown): string | null {
  return v === undefined || v === null ? null : JSON.stringify(v);
}

/** One node's search answer from the answers of a covering set (each node asked for offset 0, limit offset+limit). */
export function mergeSearchResults(
  answers: readonly NodeAnswer[],
  query: MergeQuery,
  settings: MergeSettings,
  opts: MergeOptions = {},
): NodeAnswer {
  const w = pageWindow(query, settings.maxTotalHits);
  const useDetails = Array.isArray(query.sort) && query.sort.length > 0;
  const distinct = query.distinct ?? settings.distinctAttribute;
  const lists = answers.map((a) => (a.hits as Hit[] | undefined) ?? []);
  const need = w.offset + w.limit;
  let merged = mergeHitLists(
    lists,
    settings.primaryKey,
    useDetails,
    distinct === null ? need : Number.MAX_SAFE_INTEGER,
  );
  let candidates = 0;
  for (const a of answers) candidates += (a.estimatedTotalHits ?? a.totalHits ?? 0) as number;
  if (distinct !== null) {
    const seen = new Set<string>();
    const before = merged.length;
    merged = merged.filter((h) => {
      const k = valueKey(h[distinct]);
      if (k === null) return true;
      if (seen.has(k)) return false;
      seen.add(k);
      return true;
    });
    candidates -= before - merged.length;
  }
  const added = opts.addedFields ?? [];
  // `_formatted` holds every attribute the client asked to highlight or crop too ("*": every displayed one), so a
  // field Miroir added to attributesToRetrieve stays there when the client's formatting names it.
  const formats = [
    ...(query.attributesToHighlight ?? []),
    ...(query.attributesToCrop ?? []).map((a) => a.replace(/:\d+$/, '')),
  ];
  const addedToFormatted = formats.includes('*') ? [] : added.filter((f) => !formats.includes(f));
  const hits = merged.slice(w.offset, w.offset + w.limit).map((h) => {
    const out: Hit = {};
    for (const k in h) {
      const v = h[k];
      if (isReservedField(k) || (added.length > 0 && added.includes(k))) continue;
      if (k === '_rankingScore' && query.showRankingScore !== true) continue;
      if (k === '_rankingScoreDetails' && query.showRankingScoreDetails !== true) continue;
      if (k === '_formatted' || k === '_matchesPosition') {
        out[k] = stripReserved(v, k === '_formatted' ? addedToFormatted : added);
        continue;
      }
      out[k] = v;
    }
    return out;
  });
  const res: NodeAnswer = {
    hits,
    query: query.q ?? '',
    processingTimeMs: Math.max(0, ...answers.map((a) => (a.processingTimeMs as number) ?? 0)),
  };
  Object.assign(res, hitsInfo(query, w, candidates, settings.maxTotalHits));
  if (query.facets !== undefined && query.facets !== null) {
    const stats = mergeStats(
      answers.map((a) => a.facetStats as Record<string, { min: number; max: number }> | undefined),
    );
    res.facetDistribution = mergeFacets(
      answers.map((a) => a.facetDistribution as Record<string, Record<string, number>> | undefined),
      new Set(Object.keys(stats)),
      settings,
    );
    res.facetStats = stats;
  }
  return res;
}

function stripReserved(v: unknown, added: readonly string[]): unknown {
  if (v === null || typeof v !== 'object' || Array.isArray(v)) return v;
  const out: Record<string, unknown> = {};
  const o = v as Record<string, unknown>;
  for (const k in o) if (!isReservedField(k) && !added.includes(k)) out[k] = o[k];
  return out;
}
