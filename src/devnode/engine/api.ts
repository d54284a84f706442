// The contract between the dev node's HTTP layer (src/devnode/*.ts) and its engine (src/devnode/engine/*):
// what one index can do, in types only. The engine implements it in index-engine.ts; the HTTP layer owns
// the registry of indexes, the task queue, auth and persistence, and calls these methods.
// Every method throws MeiliError (src/core/errors.ts) with Meilisearch's code on bad input.
import type { DocumentsQuery, FacetSearchQuery, SearchQuery } from '../../core/types.js';

export type Json = null | boolean | number | string | Json[] | { [k: string]: Json };
export type Document = Record<string, unknown>;

/** One stored document as persistence sees it: canonical id string, insertion sequence, body. */
export interface StoredDocument {
  id: string;
  seq: number;
  doc: Document;
}

/** What a write changed, so the HTTP layer can persist exactly that (LMDB key per document). */
export interface DocumentChanges {
  upserted: StoredDocument[];
  deleted: string[];
}

export interface IndexMeta {
  uid: string;
  primaryKey: string | null;
  createdAt: string; // RFC 3339
  updatedAt: string;
  settings: Record<string, unknown>; // the full settings object (all 20 keys)
  /** Top-level field names in first-seen order (drives searchableAttributes "*" order). */
  fieldOrder: string[];
  nextSeq: number;
}

export interface AddDocumentsResult extends DocumentChanges {
  indexedDocuments: number;
}

export interface DeleteResult extends DocumentChanges {
  deletedDocuments: number;
}

/** `GET /indexes/{uid}/stats`, in Meilisearch's key order (the dev node has no embedders: both counts are 0). */
export interface IndexStats {
  numberOfDocuments: number;
  rawDocumentDbSize: number;
  avgDocumentSize: number;
  isIndexing: boolean;
  numberOfEmbeddings: number;
  numberOfEmbeddedDocuments: number;
  fieldDistribution: Record<string, number>;
}

/** The engine's index. Writes are called by the task processor (errors become task errors). */
export interface IndexEngineApi {
  readonly uid: string;
  readonly primaryKey: string | null;
  readonly createdAt: string;
  readonly updatedAt: string;

  // ---- task-time writes ----
  /**
   * `merge` = PUT (partial update). `primaryKey` = the query parameter, if any. Infers the PK when none.
   * `skipCreation`: documents whose id is not in the index are skipped (only existing ones are updated).
   */
  addDocuments(
    docs: Document[],
    opts: { primaryKey?: string | null; merge: boolean; skipCreation?: boolean },
  ): AddDocumentsResult;
  deleteDocuments(ids: Array<string | number>): DeleteResult;
  deleteByFilter(filter: unknown): DeleteResult;
  clearDocuments(): DeleteResult;
  /** Index update with a primaryKey: fails with index_primary_key_already_exists when documents exist. */
  setPrimaryKey(primaryKey: string): void;
  /** Applies an already validated settings patch (see validateSettings). `null` values reset that setting. */
  updateSettings(patch: Record<string, unknown>): void;
  resetSettings(): void;
  rename(newUid: string): void;

  // ---- reads (synchronous HTTP answers) ----
  getSettings(): Record<string, unknown>;
  getDocument(id: string, fields: string[] | null, retrieveVectors?: boolean): Document;
  /** Validated documents query (GET /documents or POST /documents/fetch). */
  fetchDocuments(query: DocumentsQuery): { results: Document[]; offset: number; limit: number; total: number };
  /** Validated search query (see parseSearchQuery); answers the full search response minus nothing. */
  search(query: SearchQuery): Record<string, unknown>;
  facetSearch(query: FacetSearchQuery): Record<string, unknown>;
  stats(): IndexStats;
  numberOfDocuments(): number;

  // ---- persistence ----
  meta(): IndexMeta;
  allDocuments(): Iterable<StoredDocument>;
}

/** Shared, mutable state the HTTP layer owns and the engine reads (e.g. `containsFilter` gating). */
export interface EngineContext {
  experimentalFeatures: Record<string, boolean | null>;
}

export type { ParsedMultiSearch } from '../../core/search-params.js';

/**
 * What src/devnode/engine/index.ts exports (implemented by the engine, used by the HTTP layer):
 *
 *   createIndexEngine(uid: string, primaryKey: string | null, now: string, ctx: EngineContext): IndexEngineApi
 *   restoreIndexEngine(meta: IndexMeta, docs: Iterable<StoredDocument>, ctx: EngineContext): IndexEngineApi
 *   validateSettings(body: unknown, route: string | null): Record<string, unknown>
 *       route null = PATCH /settings; else the kebab-case sub-route name ("typo-tolerance", "synonyms", ...):
 *       returns a patch keyed by camelCase setting name; throws invalid_settings_* / bad_request.
 *   defaultSettings(): Record<string, unknown>               // the 20 v1.50 defaults
 *   SETTINGS_ROUTES: Record<kebabName, { key: camelName; updateVerb: 'PUT' | 'PATCH' }>
 *   parseSearchQuery(raw: unknown, source: 'json' | 'query'): Record<string, unknown>
 *       (source 'query' = GET search params as strings; throws invalid_search_* / bad_request)
 *   parseDocumentsQuery(raw: unknown, source: 'json' | 'query'): Record<string, unknown>
 *   parseFacetSearchQuery(raw: unknown): Record<string, unknown>
 *   parseMultiSearch(raw: unknown): ParsedMultiSearch     // throws invalid_multi_search_* / bad_request
 *   federatedSearch(entries: Array<{ index: IndexEngineApi; query: Record<string, unknown>; weight: number; queryPosition: number }>,
 *                   federation: Record<string, unknown>): Record<string, unknown>
 */
export type EngineModuleContract = never;
