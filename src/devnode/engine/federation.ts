// Federated multi-search on one node: every query runs against its index (every match up to 1,000, so the total
// counts each document once however many queries found it), then core/federation.ts merges them — the same merge
// the proxy uses over its shards.
import { randomUUID } from 'node:crypto';
import { MeiliError } from '../../core/errors.js';
import { federatedWindow, mergeFederated, type FederatedPart } from '../../core/federation.js';
import type { IndexEngineApi } from './api.js';
import { membersOf, stringsOf, type SearchQuery } from '../../core/types.js';

interface Entry {
  index: IndexEngineApi;
  query: SearchQuery;
  weight: number;
  queryPosition: number;
}

export function federatedSearch(entries: Entry[], federation: Record<string, unknown>): Record<string, unknown> {
  const started = performance.now();
  const { need } = federatedWindow(federation);
  const facetsByIndex = membersOf(federation.facetsByIndex);
  const parts: FederatedPart[] = entries.map((e) => {
    const facets = stringsOf(facetsByIndex[e.index.uid]);
    try {
      return {
        indexUid: e.index.uid,
        queryPosition: e.queryPosition,
        weight: e.weight,
        primaryKey: e.index.primaryKey,
        showRankingScore: e.query.showRankingScore === true,
        showRankingScoreDetails: e.query.showRankingScoreDetails === true,
        retrieveVectors: e.query.retrieveVectors === true,
        answer: e.index.search({
          ...e.query,
          offset: 0,
          limit: Math.max(need, 1000),
          showRankingScore: true,
          // a semantic hit is told from its details (`vectorSort`)
          ...(e.query.hybrid !== undefined && e.query.hybrid !== null ? { showRankingScoreDetails: true } : {}),
          ...(facets ? { facets } : {}),
        }),
      };
    } catch (err) {
      if (err instanceof MeiliError)
        throw new MeiliError(err.code, `Inside \`.queries[${e.queryPosition}]\`: ${err.message}`);
      throw err;
    }
  });
  const res = mergeFederated(parts, federation);
  res.processingTimeMs = Math.floor(performance.now() - started);
  res.requestUid = randomUUID();
  return res;
}
