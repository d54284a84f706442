// The relevance configuration as a view of an index's settings (the fields text matching and ranking read).
import { defaultSettings, type Settings } from '../../../core/settings.js';
import type { RelevanceConfig, TypoToleranceConfig } from './types.js';

export function relevanceConfig(s: Settings): RelevanceConfig {
  return {
    searchableAttributes: s.searchableAttributes as string[],
    rankingRules: s.rankingRules as string[],
    stopWords: s.stopWords as string[],
    synonyms: s.synonyms as Record<string, string[]>,
    typoTolerance: s.typoTolerance as TypoToleranceConfig,
    separatorTokens: s.separatorTokens as string[],
    nonSeparatorTokens: s.nonSeparatorTokens as string[],
    dictionary: s.dictionary as string[],
    proximityPrecision: s.proximityPrecision as 'byWord',
    prefixSearch: (s.prefixSearch as 'indexingTime' | 'disabled' | undefined) ?? 'indexingTime',
    sortableAttributes: s.sortableAttributes as string[],
  };
}

/** Meilisearch's default settings as a relevance configuration, with some fields replaced. */
export function defaultRelevanceConfig(over: Partial<RelevanceConfig> = {}): RelevanceConfig {
  return { ...relevanceConfig(defaultSettings()), ...over };
}
