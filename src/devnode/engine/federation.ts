// Federated multi-search on one node: every query runs against its index, hits are merged by weighted ranking
// score (score × federationOptions.weight; ties by query position, then each query's own order), then paged with
// the federation's offset/limit or page/hitsPerPage; `_federation` on each hit, `facetsByIndex` / `mergeFacets`.
import { randomUUID } from 'node:crypto';
import { MeiliError } from '../../core/errors.js';
import type { IndexEngineApi } from './api.js';
import { hitsInfo, pageWindow, type PageRequest } from '../../core/pagination.js';
import { alphaCompare, type FacetCount } from './facets.js';

interface Entry {
  index: IndexEngineApi;
  query: Record<string, unknown>;
  weight: number;
  queryPosition: number;
}

export function federatedSearch(entries: Entry[], federation: Record<string, unknown>): Record<string, unknown> {
  const started = performance.now();
  const page = federation as PageRequest;
  const { offset, limit } = pageWindow(page, Number.MAX_SAFE_INTEGER);
  const facetsByIndex = (federation.facetsByIndex as Record<string, string[]> | undefined) ?? null;
  const merged: Array<{ hit: Record<string, unknown>; score: number; pos: number; rank: number }> = [];
  let total = 0;
  const byIndex: Record<
    string,
    { distribution: Record<string, Record<string, number>>; stats: Record<string, { min: number; max: number }> }
  > = {};
  for (const e of entries) {
    const facets = facetsByIndex?.[e.index.uid];
    let res: Record<string, unknown>;
    try {
      // Every match (up to the index's cap): the total counts each document once, however many queries found it.
      res = e.index.search({
        ...e.query,
        offset: 0,
        limit: Math.max(offset + limit, 1000),
        showRankingScore: true,
        ...(facets ? { facets } : {}),
      });
    } catch (err) {
      if (err instanceof MeiliError)
        throw new MeiliError(err.code, `Inside \`.queries[${e.queryPosition}]\`: ${err.message}`);
      throw err;
    }
    total += res.estimatedTotalHits as number;
    if (facets && byIndex[e.index.uid] === undefined) {
      byIndex[e.index.uid] = {
        distribution: res.facetDistribution as Record<string, Record<string, number>>,
        stats: (res.facetStats as Record<string, { min: number; max: number }>) ?? {},
      };
    }
    (res.hits as Array<Record<string, unknown>>).forEach((hit, rank) => {
      const score = (hit._rankingScore as number) * e.weight;
      if (e.query.showRankingScore !== true) delete hit._rankingScore;
      hit._federation = { indexUid: e.index.uid, queriesPosition: e.queryPosition, weightedRankingScore: score };
      merged.push({ hit, score, pos: e.queryPosition, rank });
    });
  }
  merged.sort((a, b) => b.score - a.score || a.pos - b.pos || a.rank - b.rank);
  // A document several queries found appears once, where it ranks best.
  const seen = new Set<string>();
  const unique = merged.filter((m) => {
    const fed = m.hit._federation as { indexUid: string };
    const idx = entries.find((e) => e.index.uid === fed.indexUid)!.index;
    const pk = idx.primaryKey;
    const { _federation: _f, _rankingScore: _s, ...doc } = m.hit;
    const key = `${fed.indexUid}\u0000${pk !== null && doc[pk] !== undefined ? JSON.stringify(doc[pk]) : JSON.stringify(doc)}`;
    if (seen.has(key)) return false;
    seen.add(key);
    return true;
  });
  const hits = unique.slice(offset, offset + limit).map((m) => m.hit);
  // When a query matched more than it returned, its own estimate stands in for what was not seen.
  const counted = Math.max(unique.length, total - (merged.length - unique.length));
  const res: Record<string, unknown> = {
    hits,
    processingTimeMs: 0,
    ...hitsInfo(page, pageWindow(page, Number.MAX_SAFE_INTEGER), counted, Number.MAX_SAFE_INTEGER),
  };
  if (facetsByIndex !== null) {
    const merge = federation.mergeFacets as { maxValuesPerFacet?: number } | undefined | null;
    if (merge) {
      const dist: Record<string, Map<string, FacetCount>> = {};
      const stats: Record<string, { min: number; max: number }> = {};
      for (const f of Object.values(byIndex)) {
        for (const [attr, values] of Object.entries(f.distribution)) {
          const m = (dist[attr] ??= new Map());
          for (const [value, count] of Object.entries(values)) {
            const prev = m.get(value);
            if (prev) prev.count += count;
            else
              m.set(value, {
                value,
                count,
                numeric: value.trim() !== '' && Number.isFinite(Number(value)),
                num: Number(value),
              });
          }
        }
        for (const [attr, s] of Object.entries(f.stats)) {
          const prev = stats[attr];
          stats[attr] = prev ? { min: Math.min(prev.min, s.min), max: Math.max(prev.max, s.max) } : { ...s };
        }
      }
      const maxValues = merge.maxValuesPerFacet ?? 100;
      const out: Record<string, Record<string, number>> = {};
      for (const [attr, m] of Object.entries(dist)) {
        out[attr] = {};
        for (const c of [...m.values()].sort(alphaCompare).slice(0, maxValues)) out[attr]![c.value] = c.count;
      }
      res.facetDistribution = out;
      res.facetStats = stats;
    } else {
      res.facetsByIndex = byIndex;
    }
  }
  res.processingTimeMs = Math.floor(performance.now() - started);
  res.requestUid = randomUUID();
  return res;
}
