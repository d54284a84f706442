// The contract between the dev node's index engine (src/devnode/engine/index-engine.ts) and its relevance
// module (this folder): how documents enter the text index, how a query ranks candidates, how a hit is
// formatted. Types only; implemented in text-index.ts, rank.ts and format.ts of this folder.

export interface TypoToleranceConfig {
  enabled: boolean;
  minWordSizeForTypos: { oneTypo: number; twoTypos: number };
  disableOnWords: readonly string[];
  disableOnAttributes: readonly string[];
  disableOnNumbers: boolean;
}

/** The settings that shape text matching and ranking (a view of the index's settings). */
export interface RelevanceConfig {
  /** Ordered searchable fields; `["*"]` means every field in first-seen order (nested fields flattened). */
  searchableAttributes: readonly string[];
  rankingRules: readonly string[];
  stopWords: readonly string[];
  synonyms: Readonly<Record<string, readonly string[]>>;
  typoTolerance: TypoToleranceConfig;
  separatorTokens: readonly string[];
  nonSeparatorTokens: readonly string[];
  dictionary: readonly string[];
  proximityPrecision: 'byWord' | 'byAttribute';
  /** `disabled`: the last query word is matched as a whole word only. */
  prefixSearch: 'indexingTime' | 'disabled';
  sortableAttributes: readonly string[];
}

export interface SortCriterion {
  field: string;
  direction: 'asc' | 'desc';
}

export interface RankRequest {
  /** null or "" → placeholder search (every candidate matches, score 1). */
  q: string | null;
  matchingStrategy: 'last' | 'all' | 'frequency';
  /** Restricts matching to these searchable fields (already validated), or null. */
  attributesToSearchOn: readonly string[] | null;
  /** Docs that passed the filter, or null for all docs. */
  candidates: ReadonlySet<number> | null;
  /** The search `sort` parameter (applied where the `sort` ranking rule sits). */
  sort: readonly SortCriterion[] | null;
  /** Field value getter for sort, custom `attr:asc|desc` rules and distinct (dotted paths allowed). */
  getValue(docId: number, field: string): unknown;
  /** Distinct attribute (setting or search-time), or null: keep the best hit per value. */
  distinct: string | null;
  /** How many ranked hits to return from the top (offset + limit). Totals count every match anyway. */
  limit: number;
  /** Drop hits whose global ranking score is below this (0..1), or null. */
  rankingScoreThreshold: number | null;
  /** Whether to build `_rankingScoreDetails` objects. Scores are always computed. */
  withDetails: boolean;
}

export interface RankedHit {
  docId: number;
  /** `_rankingScore` in [0, 1]. */
  score: number;
  /** `_rankingScoreDetails`, keyed by rule in rule order, when requested. */
  details?: Record<string, Record<string, unknown>>;
}

export interface RankResult {
  /** The top `limit` hits, best first (ties by insertion order = ascending docId). */
  hits: RankedHit[];
  /** Every matching candidate after distinct and threshold (for estimatedTotalHits/totalHits). */
  totalMatches: number;
  /** Doc ids of every match (after distinct and threshold), for facet distribution. */
  matchedDocIds: ReadonlySet<number> | Iterable<number>;
}

export interface FormatOptions {
  q: string | null;
  attributesToHighlight: readonly string[] | null; // "*" allowed
  attributesToCrop: readonly string[] | null; // entries may be "attr:len"
  cropLength: number;
  cropMarker: string;
  highlightPreTag: string;
  highlightPostTag: string;
  showMatchesPosition: boolean;
  /** displayedAttributes, or null when every field is displayed. */
  displayed: readonly string[] | null;
  /** The retrieved attributes (already limited to displayed ones), or null for every displayed attribute. */
  retrieve: readonly string[] | null;
}

export interface FormattedParts {
  _formatted?: Record<string, unknown>;
  _matchesPosition?: Record<string, Array<{ start: number; length: number; indices?: number[] }>>;
}
