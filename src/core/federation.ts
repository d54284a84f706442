// Federated multi-search merge, one rule for the dev node and the proxy: every query's answer (asked with offset 0,
// enough hits and `showRankingScore`) is merged by weighted ranking score (score × federationOptions.weight; ties by
// query position, then each query's own order); a document several queries found appears once, where it ranks best;
// the result is paged with the federation's offset/limit or page/hitsPerPage, each hit carries `_federation`, and
// facets come back per index (`facetsByIndex`) or merged (`mergeFacets`). Pure.
import { mergeFacets } from './merge.js';
import { hitsInfo, pageRequestOf, pageWindow } from './pagination.js';
import { isObject, isObjectArray, membersOf, numberOf } from './types.js';
import { isSemanticHit } from './vectors.js';

type Hit = Record<string, unknown>;

/** One query's part of a federated search. */
export interface FederatedPart {
  indexUid: string;
  queryPosition: number;
  weight: number;
  /** The index's primary key (null: documents are compared whole). */
  primaryKey: string | null;
  /** Whether the client asked this query for `_rankingScore`. */
  showRankingScore: boolean;
  /** Whether the client asked this query for `_rankingScoreDetails` (a semantic query is always asked for them). */
  showRankingScoreDetails?: boolean;
  /** Whether the client asked this query for `retrieveVectors` (its `queryVector` is then shown). */
  retrieveVectors?: boolean;
  /** The query's answer: hits with `_rankingScore`, its estimate, and facets when asked. */
  answer: Record<string, unknown>;
}

export interface FederatedFacets {
  distribution: Record<string, Record<string, number>>;
  stats: Record<string, { min: number; max: number }>;
}

/** The window of merged hits the client asked for, and how many hits each query must return for it. */
export function federatedWindow(federation: Record<string, unknown>): { offset: number; limit: number; need: number } {
  const w = pageWindow(pageRequestOf(federation), Number.MAX_SAFE_INTEGER);
  return { ...w, need: w.offset + w.limit };
}

/** Merges the parts into one federated answer (without processingTimeMs and requestUid, which the caller adds). */
export function mergeFederated(
  parts: readonly FederatedPart[],
  federation: Record<string, unknown>,
): Record<string, unknown> {
  const pageReq = pageRequestOf(federation);
  const { offset, limit } = federatedWindow(federation);
  const merged: Array<{ hit: Hit; score: number; pos: number; rank: number; key: string; semantic: boolean }> = [];
  // Meilisearch counts the page's semantic hits when a query is semantic or hybrid, and shows query vectors when a
  // query retrieves vectors.
  const anySemantic = parts.some((p) => p.answer.semanticHitCount !== undefined);
  const anyVectors = parts.some((p) => p.retrieveVectors === true);
  const queryVectors: Record<string, unknown> = {};
  let total = 0;
  const byIndex: Record<string, FederatedFacets> = {};
  for (const p of parts) {
    total += numberOf(p.answer.estimatedTotalHits) ?? 0;
    const distribution = p.answer.facetDistribution;
    const stats = p.answer.facetStats;
    if (isFacetDistribution(distribution) && byIndex[p.indexUid] === undefined)
      byIndex[p.indexUid] = { distribution, stats: isFacetStats(stats) ? stats : {} };
    if (p.retrieveVectors === true && p.answer.queryVector !== undefined)
      queryVectors[String(p.queryPosition)] = p.answer.queryVector;
    const hits = p.answer.hits;
    (isObjectArray(hits) ? hits : []).forEach((source, rank) => {
      const { _rankingScore: raw, _rankingScoreDetails: details, ...doc } = source;
      const semantic = isSemanticHit(details);
      const score = (numberOf(raw) ?? 0) * p.weight;
      const id = p.primaryKey !== null && doc[p.primaryKey] !== undefined ? doc[p.primaryKey] : doc;
      const hit: Hit = doc;
      hit._federation = { indexUid: p.indexUid, queriesPosition: p.queryPosition, weightedRankingScore: score };
      if (p.showRankingScore) hit._rankingScore = raw;
      if (p.showRankingScoreDetails === true && details !== undefined) hit._rankingScoreDetails = details;
      merged.push({
        hit,
        score,
        pos: p.queryPosition,
        rank,
        key: `${p.indexUid}\u0000${JSON.stringify(id)}`,
        semantic,
      });
    });
  }
  merged.sort((a, b) => b.score - a.score || a.pos - b.pos || a.rank - b.rank);
  const seen = new Set<string>();
  const unique = merged.filter((m) => {
    if (seen.has(m.key)) return false;
    seen.add(m.key);
    return true;
  });
  // When a query matched more than it returned, its own estimate stands in for what was not seen.
  const counted = Math.max(unique.length, total - (merged.length - unique.length));
  const page = unique.slice(offset, offset + limit);
  const res: Record<string, unknown> = {
    hits: page.map((m) => m.hit),
    ...(anyVectors ? { queryVectors } : {}),
    processingTimeMs: 0,
    ...hitsInfo(pageReq, pageWindow(pageReq, Number.MAX_SAFE_INTEGER), counted, Number.MAX_SAFE_INTEGER),
  };
  if (anySemantic) res.semanticHitCount = page.filter((m) => m.semantic).length;
  if (federation.facetsByIndex !== undefined && federation.facetsByIndex !== null) {
    const merge = federation.mergeFacets;
    if (isObject(merge)) {
      const stats: FederatedFacets['stats'] = {};
      for (const f of Object.values(byIndex))
        for (const [attr, s] of Object.entries(f.stats)) {
          const prev = stats[attr];
          stats[attr] = prev ? { min: Math.min(prev.min, s.min), max: Math.max(prev.max, s.max) } : { ...s };
        }
      res.facetDistribution = mergeFacets(
        Object.values(byIndex).map((f) => f.distribution),
        new Set(Object.keys(stats)),
        { maxValuesPerFacet: numberOf(merge.maxValuesPerFacet) ?? 100, sortFacetValuesBy: { '*': 'alpha' } },
      );
      res.facetStats = stats;
    } else res.facetsByIndex = byIndex;
  }
  return res;
}

/** A search answer's `facetDistribution`: attribute → value → count. */
function isFacetDistribution(v: unknown): v is FederatedFacets['distribution'] {
  return isObject(v) && Object.values(v).every((values) => isObject(values) && Object.values(values).every(isNumber));
}

/** A search answer's `facetStats`: attribute → {min, max}. */
function isFacetStats(v: unknown): v is FederatedFacets['stats'] {
  return (
    isObject(v) &&
    Object.values(v).every((s) => {
      const m = membersOf(s);
      return typeof m.min === 'number' && typeof m.max === 'number';
    })
  );
}

function isNumber(v: unknown): v is number {
  return typeof v === 'number';
}
