// The relevance configuration as a view of an index's settings (the fields text matching and ranking read).
import { defaultSettings, type Settings } from '../../../core/settings.js';
import { membersOf, numberOf, stringsOf } from '../../../core/types.js';
import type { RelevanceConfig } from './types.js';

const strings = (v: unknown): string[] => stringsOf(v) ?? [];

/** Read from validated settings, so every member has its type; a missing one reads as Meilisearch's default. */
export function relevanceConfig(s: Settings): RelevanceConfig {
  const typo = membersOf(s.typoTolerance);
  const sizes = membersOf(typo.minWordSizeForTypos);
  return {
    searchableAttributes: stringsOf(s.searchableAttributes) ?? ['*'],
    rankingRules: strings(s.rankingRules),
    stopWords: strings(s.stopWords),
    synonyms: Object.fromEntries(Object.entries(membersOf(s.synonyms)).map(([word, list]) => [word, strings(list)])),
    typoTolerance: {
      enabled: typo.enabled !== false,
      minWordSizeForTypos: { oneTypo: numberOf(sizes.oneTypo) ?? 5, twoTypos: numberOf(sizes.twoTypos) ?? 9 },
      disableOnWords: strings(typo.disableOnWords),
      disableOnAttributes: strings(typo.disableOnAttributes),
      disableOnNumbers: typo.disableOnNumbers === true,
    },
    separatorTokens: strings(s.separatorTokens),
    nonSeparatorTokens: strings(s.nonSeparatorTokens),
    dictionary: strings(s.dictionary),
    proximityPrecision: s.proximityPrecision === 'byAttribute' ? 'byAttribute' : 'byWord',
    prefixSearch: s.prefixSearch === 'disabled' ? 'disabled' : 'indexingTime',
    sortableAttributes: strings(s.sortableAttributes),
  };
}

/** Meilisearch's default settings as a relevance configuration, with some fields replaced. */
export function defaultRelevanceConfig(over: Partial<RelevanceConfig> = {}): RelevanceConfig {
  return { ...relevanceConfig(defaultSettings()), ...over };
}
