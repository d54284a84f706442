// The dev node's text relevance: inverted index, Meilisearch-style ranking and scores, hit formatting.
export { TextIndex } from './text-index.js';
export { defaultRelevanceConfig, relevanceConfig } from './config.js';
export { rank } from './rank.js';
export { cmpScalar } from '../../../core/sort-order.js';
export { formatHit, facetValueMatches } from './format.js';
export type * from './types.js';
