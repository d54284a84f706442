// HOT PATH. Merges the per-node answers of one covering set into the answer one node holding every document would
// give: k-way merge of hits by `_rankingScore` (rule by rule over `_rankingScoreDetails` when `sort` is used),
// paging after the merge, facet counts summed then re-sorted and cut like one node, facetStats min/max, totals
// summed then capped at maxTotalHits, processingTimeMs max, distinct re-applied, reserved and merge-added fields
// stripped. Deterministic: ties fall back to the primary key.
import { comparePrimaryKeys, compareSortValues, sortValue } from './sort-order.js';
import { hitsInfo, pageWindow, type PageRequest, type PageWindow } from './pagination.js';
import { isReservedField } from './reserved.js';
import { compareHybrid, hybridParam, hybridRatios, isSemanticHit, searchKind } from './vectors.js';
import { isObject, isObjectArray, membersOf, numberOf } from './types.js';

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
  hybrid?: Record<string, unknown> | null;
  vector?: unknown;
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
  /** How hybrid hits of several nodes are merged: convex (Meilisearch's weighted scores, default) or rrf. */
  hybridMerge?: { strategy: 'convex' | 'rrf'; rrfK: number };
}

/** A hit's ranking rules in order, from its `_rankingScoreDetails` (null when it has none). */
export type RankKeys = Array<{ kind: 'score'; v: number } | { kind: 'sort'; v: unknown; dir: 1 | -1 }> | null;

interface Ranked {
  hit: Hit;
  score: number;
  keys: RankKeys;
  /** The primary-key value; compared (numbers before strings) only on a full tie. */
  pk: unknown;
}

export function detailKeys(details: unknown): RankKeys {
  if (details === null || typeof details !== 'object') return null;
  const entries = Object.entries(membersOf(details)).sort(
    (a, b) => (numberOf(membersOf(a[1]).order) ?? 0) - (numberOf(membersOf(b[1]).order) ?? 0),
  );
  return entries.map(([name, raw]) => {
    const d = membersOf(raw);
    const m = /:(asc|desc)$/.exec(name);
    if (m !== null && !('score' in d))
      return { kind: 'sort' as const, v: d.value, dir: m[1] === 'asc' ? (1 as const) : (-1 as const) };
    return { kind: 'score' as const, v: typeof d.score === 'number' ? d.score : 0 };
  });
}

function compareRanked(a: Ranked, b: Ranked): number {
  const c = compareRankKeys(a.keys, b.keys);
  if (c !== 0) return c;
  if (a.score !== b.score) return b.score - a.score;
  return comparePrimaryKeys(a.pk, b.pk);
}

/** Rule by rule over two hits' ranking details: 0 when either has none, or they tie on every rule both have. */
export function compareRankKeys(a: RankKeys, b: RankKeys): number {
  if (a !== null && b !== null) {
    const n = Math.min(a.length, b.length);
    for (let i = 0; i < n; i++) {
      const x = a[i]!;
      const y = b[i]!;
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
  return 0;
}

type ScoreOf = (hit: Hit) => number;

const rankingScore: ScoreOf = (hit) => (typeof hit._rankingScore === 'number' ? hit._rankingScore : 0);

function toRanked(hit: Hit, pk: string, useDetails: boolean, scoreOf: ScoreOf): Ranked {
  return {
    hit,
    score: scoreOf(hit),
    keys: useDetails ? detailKeys(hit._rankingScoreDetails) : null,
    pk: hit[pk],
  };
}

/** K-way merge of per-node hit lists that are each already in ranking order. */
export function mergeHitLists(
  lists: readonly Hit[][],
  pk: string,
  useDetails: boolean,
  take: number,
  scoreOf: ScoreOf = rankingScore,
): Hit[] {
  const heads = lists.map((l) => (l.length > 0 ? toRanked(l[0]!, pk, useDetails, scoreOf) : null));
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
    heads[best] = next < lists[best]!.length ? toRanked(lists[best]![next]!, pk, useDetails, scoreOf) : null;
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

/** A node answer's hits (none when absent). */
function hitsOf(answer: NodeAnswer): Hit[] {
  const hits = answer.hits;
  return isObjectArray(hits) ? hits : [];
}

/** A node answer's candidate count: `estimatedTotalHits` or `totalHits`. */
function totalOf(answer: NodeAnswer): number {
  return numberOf(answer.estimatedTotalHits ?? answer.totalHits) ?? 0;
}

/** Sums facet distributions (nodes' `facetDistribution`, absent ones skipped) and re-sorts/cuts them per facet like
 * one node. */
export function mergeFacets(
  distributions: readonly unknown[],
  numericAttrs: ReadonlySet<string>,
  settings: Pick<MergeSettings, 'maxValuesPerFacet' | 'sortFacetValuesBy'>,
): Record<string, Record<string, number>> {
  const sums = new Map<string, Map<string, FacetValue>>();
  for (const dist of distributions) {
    if (!isObject(dist)) continue;
    for (const [attr, values] of Object.entries(dist)) {
      if (isReservedField(attr)) continue;
      let m = sums.get(attr);
      if (m === undefined) sums.set(attr, (m = new Map()));
      for (const [value, raw] of Object.entries(membersOf(values))) {
        const count = numberOf(raw);
        if (count === undefined) continue;
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

/** Nodes' `facetStats` (absent ones skipped): min of mins, max of maxes per attribute. */
function mergeStats(all: readonly unknown[]): Record<string, { min: number; max: number }> {
  const out: Record<string, { min: number; max: number }> = {};
  for (const stats of all) {
    if (!isObject(stats)) continue;
    for (const [attr, raw] of Object.entries(stats)) {
      if (isReservedField(attr)) continue;
      const m = membersOf(raw);
      const min = numberOf(m.min);
      const max = numberOf(m.max);
      if (min === undefined || max === undefined) continue;
      const s = { min, max };
      const prev = out[attr];
      out[attr] =
        prev === undefined
          ? { min: s.min, max: s.max }
          : { min: Math.min(prev.min, s.min), max: Math.max(prev.max, s.max) };
    }
  }
  return out;
}

/** A distinct attribute's value as a set key (null: the hit has none and is always kept). */
function valueKey(v: unknown): string | null {
  return v === undefined || v === null ? null : JSON.stringify(v);
}

/** `facetDistribution` and `facetStats` of a merged answer, from every node answer's. */
export function mergeFacetMembers(
  res: NodeAnswer,
  answers: readonly NodeAnswer[],
  settings: Pick<MergeSettings, 'maxValuesPerFacet' | 'sortFacetValuesBy'>,
): void {
  const stats = mergeStats(answers.map((a) => a.facetStats));
  res.facetDistribution = mergeFacets(
    answers.map((a) => a.facetDistribution),
    new Set(Object.keys(stats)),
    settings,
  );
  res.facetStats = stats;
}

/**
 * Fields Miroir added to attributesToRetrieve that `_formatted` must not show: `_formatted` holds every attribute
 * the client asked to highlight or crop too ("*": every displayed one), so an added field named there stays.
 */
export function addedToFormatted(query: MergeQuery, added: readonly string[]): readonly string[] {
  if (added.length === 0) return added;
  const formats = [
    ...(query.attributesToHighlight ?? []),
    ...(query.attributesToCrop ?? []).map((a) => a.replace(/:\d+$/, '')),
  ];
  return formats.includes('*') ? [] : added.filter((f) => !formats.includes(f));
}

/** Distinct re-applied over merged hits in ranking order: the first hit of each value kept (hits without one too). */
export function keepDistinct<H>(merged: readonly H[], valueOf: (hit: H) => unknown): H[] {
  const seen = new Set<string>();
  return merged.filter((h) => {
    const k = valueKey(valueOf(h));
    if (k === null) return true;
    if (seen.has(k)) return false;
    seen.add(k);
    return true;
  });
}

/**
 * The members after `hits` of a merged answer, in one node's order: `query`, `queryVector` (the first node's),
 * `processingTimeMs` (the slowest node's), the hits info of the merged candidates, facets when asked.
 */
export function answerMembers(
  res: NodeAnswer,
  answers: readonly NodeAnswer[],
  query: MergeQuery,
  w: PageWindow,
  candidates: number,
  settings: MergeSettings,
): void {
  res.query = query.q ?? '';
  const queryVector = answers.find((a) => a.queryVector !== undefined)?.queryVector;
  if (queryVector !== undefined) res.queryVector = queryVector;
  let processing = 0;
  for (const a of answers) processing = Math.max(processing, numberOf(a.processingTimeMs) ?? 0);
  res.processingTimeMs = processing;
  Object.assign(res, hitsInfo(query, w, candidates, settings.maxTotalHits));
  if (query.facets !== undefined && query.facets !== null) mergeFacetMembers(res, answers, settings);
}

/** One node's search answer from the answers of a covering set (each node asked for offset 0, limit offset+limit). */
export function mergeSearchResults(
  answers: readonly NodeAnswer[],
  query: MergeQuery,
  settings: MergeSettings,
  opts: MergeOptions = {},
): NodeAnswer {
  const w = pageWindow(query, settings.maxTotalHits);
  const kind = vectorKind(query);
  const useDetails = kind === 'keyword' && Array.isArray(query.sort) && query.sort.length > 0;
  const distinct = query.distinct ?? settings.distinctAttribute;
  const lists = answers.map((a) => hitsOf(a));
  const need = w.offset + w.limit;
  const take = distinct === null ? need : Number.MAX_SAFE_INTEGER;
  let merged = mergeHitLists(lists, settings.primaryKey, useDetails, take);
  let candidates = 0;
  for (const a of answers) candidates += totalOf(a);
  if (distinct !== null) {
    const before = merged.length;
    merged = keepDistinct(merged, (h) => h[distinct]);
    candidates -= before - merged.length;
  }
  const added = opts.addedFields ?? [];
  const formattedAdded = addedToFormatted(query, added);
  const hits = merged.slice(w.offset, w.offset + w.limit).map((h) => {
    const out: Hit = {};
    for (const k in h) {
      const v = h[k];
      if (isReservedField(k) || (added.length > 0 && added.includes(k))) continue;
      if (k === '_rankingScore' && query.showRankingScore !== true) continue;
      if (k === '_rankingScoreDetails' && query.showRankingScoreDetails !== true) continue;
      if (k === '_formatted' || k === '_matchesPosition') {
        out[k] = stripReserved(v, k === '_formatted' ? formattedAdded : added);
        continue;
      }
      out[k] = v;
    }
    return out;
  });
  const res: NodeAnswer = { hits };
  answerMembers(res, answers, query, w, candidates, settings);
  if (answers.some((a) => a.semanticHitCount !== undefined)) {
    const page = merged.slice(w.offset, w.offset + w.limit);
    res.semanticHitCount =
      kind === 'semantic' ? page.length : page.filter((h) => isSemanticHit(h._rankingScoreDetails)).length;
  }
  return res;
}

/** The kind of search a query is (keyword, semantic, hybrid); a query nodes refused never reaches the merge. */
export function vectorKind(query: MergeQuery): 'keyword' | 'semantic' | 'hybrid' {
  if ((query.hybrid === undefined || query.hybrid === null) && (query.vector === undefined || query.vector === null))
    return 'keyword';
  try {
    return searchKind(query);
  } catch {
    return 'keyword';
  }
}

/**
 * Meilisearch's shortcut of a hybrid search: the keyword side answers alone when it fills the window and every hit's
 * score × (1 − semanticRatio) is at least 0.45 (the semantic side is then not searched at all).
 */
export function keywordGoodEnough(keyword: NodeAnswer, query: MergeQuery, maxTotalHits: number): boolean {
  const w = pageWindow(query, maxTotalHits);
  const { keyword: kwRatio } = hybridRatios(hybridParam(query)!.semanticRatio);
  const kw = hitsOf(keyword);
  return kw.length >= w.offset + w.limit && kw.every((h) => rankingScore(h) * kwRatio >= 0.45);
}

/**
 * A hybrid search over shards, merged like Meilisearch merges it on one index: the keyword side and the semantic
 * side (each already merged over the covering set, offset 0, limit offset + limit, scores and details kept) are
 * combined — unless every keyword hit is good enough (score × (1 − ratio) ≥ 0.45 over a full window), when the
 * keyword side answers alone. convex: semantic scores × ratio against keyword scores × (1 − ratio), equal → the
 * semantic hit first; rrf: a hit scores 1 / (k + its rank on its side). A document once, distinct re-applied, then
 * the page. Candidates: the semantic side's (every filtered document), facets from it too.
 */
export function mergeHybridResults(
  keyword: NodeAnswer,
  semantic: NodeAnswer | null,
  query: MergeQuery,
  settings: MergeSettings,
  opts: MergeOptions = {},
): NodeAnswer {
  const w = pageWindow(query, settings.maxTotalHits);
  const need = w.offset + w.limit;
  const pk = settings.primaryKey;
  const { semantic: ratio, keyword: kwRatio } = hybridRatios(hybridParam(query)!.semanticRatio);
  const kw = hitsOf(keyword);
  const goodEnough = keywordGoodEnough(keyword, query, settings.maxTotalHits);
  const useSemantic = semantic !== null && !goodEnough;
  const sem = useSemantic ? hitsOf(semantic) : [];
  const how = opts.hybridMerge ?? { strategy: 'convex', rrfK: 60 };
  const order: Array<{ hit: Hit; sem: boolean }> = [];
  if (how.strategy === 'convex') {
    let i = 0;
    let j = 0;
    while (i < sem.length || j < kw.length) {
      const takeSem =
        j >= kw.length ||
        (i < sem.length && compareHybrid(rankingScore(sem[i]!) * ratio, rankingScore(kw[j]!) * kwRatio) <= 0);
      order.push(takeSem ? { hit: sem[i++]!, sem: true } : { hit: kw[j++]!, sem: false });
    }
  } else {
    const fused = [
      ...sem.map((hit, r) => ({ hit, sem: true, rrf: 1 / (how.rrfK + r + 1) })),
      ...kw.map((hit, r) => ({ hit, sem: false, rrf: 1 / (how.rrfK + r + 1) })),
    ];
    fused.sort((a, b) => b.rrf - a.rrf || (a.sem === b.sem ? 0 : a.sem ? -1 : 1));
    order.push(...fused);
  }
  const distinct = query.distinct ?? settings.distinctAttribute;
  const seen = new Set<string>();
  const seenDistinct = new Set<string>();
  const merged: Array<{ hit: Hit; sem: boolean }> = [];
  for (const o of order) {
    const id = JSON.stringify(o.hit[pk]);
    if (seen.has(id)) continue;
    seen.add(id);
    if (distinct !== null) {
      const k = valueKey(o.hit[distinct]);
      if (k !== null) {
        if (seenDistinct.has(k)) continue;
        seenDistinct.add(k);
      }
    }
    merged.push(o);
    if (merged.length >= need) break;
  }
  const page = merged.slice(w.offset, need);
  const added = opts.addedFields ?? [];
  const hits = page.map(({ hit }) => {
    const out: Hit = {};
    for (const k in hit) {
      if (added.includes(k)) continue;
      if (k === '_rankingScore' && query.showRankingScore !== true) continue;
      if (k === '_rankingScoreDetails' && query.showRankingScoreDetails !== true) continue;
      if ((k === '_formatted' || k === '_matchesPosition') && added.length > 0) {
        out[k] = stripReserved(hit[k], added);
        continue;
      }
      out[k] = hit[k];
    }
    return out;
  });
  const base = useSemantic ? semantic : keyword;
  const candidates = Math.max(totalOf(keyword), useSemantic ? totalOf(semantic) : 0);
  const res: NodeAnswer = { hits, query: query.q ?? '' };
  const queryVector = semantic?.queryVector;
  if (queryVector !== undefined) res.queryVector = queryVector;
  res.processingTimeMs = Math.max(numberOf(keyword.processingTimeMs) ?? 0, numberOf(semantic?.processingTimeMs) ?? 0);
  Object.assign(res, hitsInfo(query, w, candidates, settings.maxTotalHits));
  if (base.facetDistribution !== undefined) {
    res.facetDistribution = base.facetDistribution;
    res.facetStats = base.facetStats;
  }
  res.semanticHitCount = page.filter((p) => p.sem).length;
  return res;
}

/** A `_formatted` / `_matchesPosition` object without reserved fields and the fields Miroir added. */
export function stripReserved(v: unknown, added: readonly string[]): unknown {
  if (!isObject(v)) return v;
  const out: Record<string, unknown> = {};
  const o = v;
  for (const k in o) if (!isReservedField(k) && !added.includes(k)) out[k] = o[k];
  return out;
}
