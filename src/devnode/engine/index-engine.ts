// One dev-node index: documents in insertion order, primary key, settings, text index, and every read the HTTP
// layer serves (search with filters/facets/sort/pagination, facet search, documents fetch, stats). Writes are
// atomic: a bad document fails the whole batch and changes nothing.
import { randomUUID } from 'node:crypto';
import { MeiliError, type ErrorCode } from '../../core/errors.js';
import {
  attributeList,
  displayedRestriction,
  distinctNotFilterable,
  facetNotFilterable,
  notFacetSearchable,
  visibleAttributeList,
} from '../../core/attribute-errors.js';
import { hitsInfo, pageWindow, type PageRequest } from '../../core/pagination.js';
import { inferPrimaryKey, resolveDocumentId } from '../../core/document-id.js';
import {
  compileFilter,
  filterAttributes,
  FilterableAttributes,
  parseFilter,
  valuesAt,
} from '../../core/filter/index.js';
import {
  documentEmbeddings,
  embeddersOf,
  hybridParam,
  hybridRatios,
  compareHybrid,
  missingVectorsError,
  searchKind,
  type DocEmbeddings,
  type EmbedderConfig,
} from '../../core/vectors.js';
import { VectorIndex } from './vector-index.js';
import type { RankedHit } from './relevance/types.js';
import { FilterIndex, type CompiledFilter } from './filter-index.js';
import type {
  AddDocumentsResult,
  DeleteResult,
  Document,
  EngineContext,
  IndexEngineApi,
  IndexMeta,
  IndexStats,
  StoredDocument,
} from './api.js';
import { countFacet, facetOrder, sortFacetCounts } from './facets.js';
import {
  TextIndex,
  cmpScalar,
  facetValueMatches,
  formatHit,
  rank,
  relevanceConfig,
  type SortCriterion,
} from './relevance/index.js';
import {
  applySettingsPatch,
  defaultSettings,
  distinctAttributeOf,
  facetingOf,
  maxTotalHitsOf,
  type Settings,
} from '../../core/settings.js';
import { selectValues } from './select.js';
import { now } from '../clock.js';
import { isObject, numbersOf, type DocumentsQuery, type FacetSearchQuery, type SearchQuery } from '../../core/types.js';

interface Slot {
  seq: number;
  doc: Document;
}

function firstValue(doc: Document, field: string): unknown {
  const v = valuesAt(doc, field);
  if (!Array.isArray(v)) return undefined;
  if (Object.prototype.hasOwnProperty.call(doc, field)) return doc[field];
  return v.length === 1 ? v[0] : v;
}

export class IndexEngine implements IndexEngineApi {
  uid: string;
  primaryKey: string | null;
  readonly createdAt: string;
  updatedAt: string;
  private settings: Settings;
  private readonly byId = new Map<string, Slot>();
  private readonly bySeq = new Map<number, string>();
  private nextSeq = 0;
  private readonly fieldOrder: string[] = [];
  /** Field name → its index in fieldOrder. */
  private readonly fieldRank = new Map<string, number>();
  private text: TextIndex;
  private readonly ctx: EngineContext;
  private readonly filterIndex = new FilterIndex(() => this.seqDocs());
  private readonly vectors = new VectorIndex();

  constructor(
    uid: string,
    primaryKey: string | null,
    now: string,
    ctx: EngineContext,
    settings: Settings = defaultSettings(),
  ) {
    this.uid = uid;
    this.primaryKey = primaryKey;
    this.createdAt = now;
    this.updatedAt = now;
    this.settings = settings;
    this.ctx = ctx;
    this.text = new TextIndex(relevanceConfig(settings));
  }

  static restore(meta: IndexMeta, docs: Iterable<StoredDocument>, ctx: EngineContext): IndexEngine {
    const engine = new IndexEngine(meta.uid, meta.primaryKey, meta.createdAt, ctx, {
      ...defaultSettings(),
      ...meta.settings,
    });
    engine.updatedAt = meta.updatedAt;
    for (const f of meta.fieldOrder) engine.noteField(f);
    const sorted = [...docs].sort((a, b) => a.seq - b.seq);
    for (const d of sorted) engine.put(d.id, d.seq, d.doc);
    engine.nextSeq = Math.max(meta.nextSeq, sorted.length === 0 ? 0 : sorted[sorted.length - 1]!.seq + 1);
    return engine;
  }

  private noteField(f: string): void {
    if (!this.fieldRank.has(f)) {
      this.fieldRank.set(f, this.fieldOrder.length);
      this.fieldOrder.push(f);
    }
  }

  private put(id: string, seq: number, doc: Document, embeddings?: Map<string, DocEmbeddings>): void {
    const prev = this.byId.get(id);
    if (prev !== undefined) {
      this.bySeq.delete(prev.seq);
      this.filterIndex.remove(prev.seq, prev.doc);
    }
    this.byId.set(id, { seq, doc });
    this.bySeq.set(seq, id);
    for (const k of Object.keys(doc)) this.noteField(k);
    this.text.add(seq, doc);
    this.filterIndex.add(seq, doc);
    this.vectors.set(seq, embeddings ?? this.lenientEmbeddings(id, doc));
  }

  /** A stored document's embeddings, its bad `_vectors` entries skipped (restore, or embedders changed). */
  private lenientEmbeddings(id: string, doc: Document): Map<string, DocEmbeddings> {
    const embedders = embeddersOf(this.settings);
    const out = new Map<string, DocEmbeddings>();
    for (const [name, cfg] of Object.entries(embedders)) {
      try {
        for (const [k, v] of documentEmbeddings(this.uid, id, doc._vectors, { [name]: cfg })) out.set(k, v);
      } catch {
        // a document whose vectors do not fit the new embedder has none for it
      }
    }
    return out;
  }

  /** Re-reads every document's embeddings after the embedders setting changed. */
  private reindexVectors(): void {
    this.vectors.clear();
    for (const [id, slot] of this.byId) this.vectors.set(slot.seq, this.lenientEmbeddings(id, slot.doc));
  }

  private drop(id: string): boolean {
    const slot = this.byId.get(id);
    if (slot === undefined) return false;
    this.byId.delete(id);
    this.bySeq.delete(slot.seq);
    this.text.remove(slot.seq);
    this.filterIndex.remove(slot.seq, slot.doc);
    this.vectors.remove(slot.seq);
    return true;
  }

  private touch(): void {
    this.updatedAt = now();
  }

  // ---------------------------------------------------------------- writes

  addDocuments(
    docs: Document[],
    opts: { primaryKey?: string | null; merge: boolean; skipCreation?: boolean },
  ): AddDocumentsResult {
    let pk = this.primaryKey;
    const given = opts.primaryKey ?? null;
    if (given !== null && pk !== null && given !== pk) {
      throw new MeiliError(
        'index_primary_key_already_exists',
        `Index \`${this.uid}\`: Index already has a primary key: \`${pk}\`.`,
      );
    }
    if (pk === null) pk = given ?? (docs.length > 0 ? inferPrimaryKeyFor(this.uid, docs[0]) : null);
    if (pk === null) return { indexedDocuments: 0, upserted: [], deleted: [] };
    const ids = docs.map((d) => resolveDocumentId(d, pk!));
    this.primaryKey = pk;
    const upserted: StoredDocument[] = [];
    const touched = new Map<string, StoredDocument>();
    // Every document is read and checked (vectors included) before any is written: a bad one fails the batch.
    const embedders = embeddersOf(this.settings);
    const names = Object.keys(embedders);
    const planned: Array<{ id: string; body: Document; embeddings: Map<string, DocEmbeddings> } | null> = [];
    const latest = new Map<string, Document>();
    const missing = new Map<string, Array<{ id: string; vectors: unknown; hasVectorTypo: boolean }>>();
    docs.forEach((doc, i) => {
      const id = ids[i]!;
      const before = latest.get(id) ?? this.byId.get(id)?.doc;
      // skipCreation: only documents that already exist are written.
      if (before === undefined && opts.skipCreation === true) return planned.push(null);
      const body = opts.merge && before !== undefined ? mergeDocument(before, doc) : doc;
      latest.set(id, body);
      const embeddings = names.length === 0 ? new Map() : documentEmbeddings(this.uid, id, body._vectors, embedders);
      for (const name of names)
        if (!embeddings.has(name)) {
          let list = missing.get(name);
          if (list === undefined) missing.set(name, (list = []));
          list.push({ id, vectors: body._vectors, hasVectorTypo: '_vector' in body });
        }
      planned.push({ id, body, embeddings });
    });
    for (const name of names) {
      const err = missingVectorsError(this.uid, name, missing.get(name) ?? []);
      if (err !== null) throw err;
    }
    for (const p of planned) {
      if (p === null) continue;
      const prev = this.byId.get(p.id);
      const seq = prev !== undefined ? prev.seq : this.nextSeq++;
      this.put(p.id, seq, p.body, p.embeddings);
      touched.set(p.id, { id: p.id, seq, doc: p.body });
    }
    upserted.push(...touched.values());
    this.touch();
    return { indexedDocuments: docs.length, upserted, deleted: [] };
  }

  deleteDocuments(ids: Array<string | number>): DeleteResult {
    const deleted: string[] = [];
    for (const raw of ids) {
      const id = String(raw);
      if (this.drop(id)) deleted.push(id);
    }
    this.touch();
    return { deletedDocuments: deleted.length, upserted: [], deleted };
  }

  deleteByFilter(filter: unknown): DeleteResult {
    const seqs = this.filteredSeqs(this.compile(filter, 'invalid_document_filter'));
    const ids = seqs === null ? [] : [...seqs].map((seq) => this.bySeq.get(seq)!);
    return this.deleteDocuments(ids);
  }

  clearDocuments(): DeleteResult {
    return this.deleteDocuments([...this.byId.keys()]);
  }

  setPrimaryKey(primaryKey: string): void {
    if (this.primaryKey === primaryKey) return;
    if (this.byId.size > 0) {
      throw new MeiliError(
        'index_primary_key_already_exists',
        `Index \`${this.uid}\`: Index already has a primary key: \`${this.primaryKey}\`.`,
      );
    }
    this.primaryKey = primaryKey;
    this.touch();
  }

  updateSettings(patch: Record<string, unknown>): void {
    const before = JSON.stringify(this.settings.embedders ?? {});
    this.settings = applySettingsPatch(this.settings, patch);
    this.text.setConfig(relevanceConfig(this.settings));
    if (JSON.stringify(this.settings.embedders ?? {}) !== before) this.reindexVectors();
    this.touch();
  }

  resetSettings(): void {
    this.settings = defaultSettings();
    this.text.setConfig(relevanceConfig(this.settings));
    this.reindexVectors();
    this.touch();
  }

  rename(newUid: string): void {
    this.uid = newUid;
    this.touch();
  }

  // ---------------------------------------------------------------- reads

  getSettings(): Record<string, unknown> {
    return structuredClone(this.settings);
  }

  numberOfDocuments(): number {
    return this.byId.size;
  }

  getDocument(id: string, fields: string[] | null, retrieveVectors = false): Document {
    const slot = this.byId.get(id);
    if (slot === undefined) throw new MeiliError('document_not_found', `Document \`${id}\` not found.`);
    return selectValues(this.readable(slot.doc, retrieveVectors, slot.seq), fields);
  }

  private filterable(): FilterableAttributes {
    return new FilterableAttributes(this.settings.filterableAttributes);
  }

  /**
   * Parses and checks a filter against filterableAttributes (and compiles it, so every filter error is raised
   * here); null when there is no filter. Like Meilisearch, attribute errors name the index (`Index \`x\`: …`)
   * except on the documents fetch routes.
   */
  private compile(filter: unknown, code: ErrorCode, nameIndex = true): CompiledFilter | null {
    const node = parseFilter(filter, code, { containsFilter: this.ctx.experimentalFeatures.containsFilter === true });
    if (node === null) return null;
    if (this.ctx.experimentalFeatures.multimodal !== true) {
      const vec = filterAttributes(node).find(
        ({ attr }) => attr.value === '_vectors' || attr.value.startsWith('_vectors.'),
      );
      if (vec !== undefined)
        throw new MeiliError(
          'feature_not_enabled',
          `using a vector filter requires enabling the \`multimodal\` experimental feature. See https://github.com/orgs/meilisearch/discussions/846${
            typeof filter === 'string' ? `\n${vec.attr.start + 1}:${vec.attr.end + 1} ${filter}` : ''
          }`,
        );
    }
    this.filterable().check(
      node,
      typeof filter === 'string' ? filter : null,
      code,
      nameIndex ? this.uid : null,
      code !== 'invalid_document_filter',
    );
    const options = { containsFilter: this.ctx.experimentalFeatures.containsFilter === true, code };
    return { node, options, predicate: compileFilter(node, options) };
  }

  private parseSort(sort: string[] | null | undefined, code: ErrorCode, requireRule: boolean): SortCriterion[] | null {
    if (sort === undefined || sort === null) return null;
    const out: SortCriterion[] = [];
    const sortable = this.text.config.sortableAttributes;
    for (const s of sort) {
      const m = /^(.+):(asc|desc)$/.exec(s.trim());
      if (m === null) {
        throw new MeiliError(
          code,
          `Invalid syntax for the sort parameter: expected expression ending by \`:asc\` or \`:desc\`, found \`${s}\`.`,
        );
      }
      const field = m[1]!;
      if (field === '_geo') {
        throw new MeiliError(
          code,
          "`_geo` is a reserved keyword and thus can't be used as a sort expression. Use the _geoPoint(latitude, longitude) built-in rule to sort on _geo field coordinates.",
        );
      }
      if (field === '_geoDistance')
        throw new MeiliError(code, "`_geoDistance` is a reserved keyword and thus can't be used as a sort expression.");
      if (field.startsWith('_geoPoint('))
        throw new MeiliError(code, `Index \`${this.uid}\`: the dev node does not sort on \`_geoPoint\`.`);
      if (
        !sortable.some(
          (p) => p === field || field.startsWith(p + '.') || (p.endsWith('*') && field.startsWith(p.slice(0, -1))),
        )
      ) {
        const avail =
          sortable.length === 0
            ? 'This index does not have configured sortable attributes.'
            : `Available sortable attributes are: ${requireRule ? this.visibleList(sortable) : attributeList(sortable)}.`;
        throw new MeiliError(code, `Index \`${this.uid}\`: Attribute \`${field}\` is not sortable. ${avail}`);
      }
      out.push({ field, direction: m[2] === 'desc' ? 'desc' : 'asc' });
    }
    if (requireRule && out.length > 0 && !this.text.config.rankingRules.includes('sort')) {
      throw new MeiliError(
        code,
        `Index \`${this.uid}\`: You must specify where \`sort\` is listed in the rankingRules setting to use the sort parameter at search time.`,
      );
    }
    return out;
  }

  private docOfSeq(seq: number): Document {
    return this.byId.get(this.bySeq.get(seq)!)!.doc;
  }

  /**
   * A stored document as Meilisearch returns it: top-level fields in the index's field order (the order field ids
   * were assigned in), `_vectors` only when asked for.
   */
  private readable(doc: Document, retrieveVectors: boolean, seq = -1): Document {
    const keys = Object.keys(doc);
    const order = this.fieldRank;
    let sorted = true;
    for (let i = 1; i < keys.length && sorted; i++)
      sorted = (order.get(keys[i - 1]!) ?? 0) <= (order.get(keys[i]!) ?? 0);
    const out: Document = {};
    for (const k of sorted ? keys : [...keys].sort((a, b) => (order.get(a) ?? 0) - (order.get(b) ?? 0))) {
      if (k === '_vectors') continue;
      out[k] = doc[k];
    }
    if (retrieveVectors) out._vectors = this.vectorsView(doc, seq);
    return out;
  }

  /**
   * A document's `_vectors` as Meilisearch shows them with retrieveVectors: entries naming no embedder as sent, then
   * each embedder's `{embeddings (f32), regenerate: false}`.
   */
  private vectorsView(doc: Document, seq: number): Record<string, unknown> {
    const embedders = embeddersOf(this.settings);
    const raw = doc._vectors;
    const out: Record<string, unknown> = {};
    if (isObject(raw)) for (const [k, v] of Object.entries(raw)) if (!(k in embedders)) out[k] = v;
    for (const name of Object.keys(embedders)) {
      const e = seq < 0 ? undefined : this.vectors.get(name, seq);
      if (e === undefined && (raw === null || typeof raw !== 'object' || !(name in raw))) continue;
      out[name] = { embeddings: (e ?? []).map((v) => Array.from(v)), regenerate: false };
    }
    return out;
  }

  /** The seqs of the documents a compiled filter matches (null: no filter, every document). */
  private filteredSeqs(filter: CompiledFilter | null): Set<number> | null {
    if (filter === null) return null;
    return this.filterIndex.matching(
      filter,
      () => this.bySeq.keys(),
      (seq) => this.docOfSeq(seq),
    );
  }

  private *seqDocs(): Iterable<[number, Document]> {
    for (const slot of this.byId.values()) yield [slot.seq, slot.doc];
  }

  /**
   * `list` of the names a user may see: with displayedAttributes restricted, the others are hidden and Meilisearch
   * adds `, <..hidden-attributes>`.
   */
  private visibleList(names: readonly string[]): string {
    return visibleAttributeList(names, this.displayed());
  }

  private displayed(): string[] | null {
    return displayedRestriction(this.settings.displayedAttributes);
  }

  private checkSearchOn(attrs: string[] | null | undefined): string[] | null {
    if (attrs === undefined || attrs === null) return null;
    const searchable = this.text.config.searchableAttributes;
    const list2 = attrs;
    if (!searchable.includes('*')) {
      for (const a of list2) {
        // Wildcard patterns are not checked; a plain attribute must be searchable (or nested under one).
        if (a !== '*' && !a.includes('*') && !searchable.some((p) => p === a || a.startsWith(p + '.'))) {
          throw new MeiliError(
            'invalid_search_attributes_to_search_on',
            `Index \`${this.uid}\`: Attribute \`${a}\` is not searchable. Available searchable attributes are: ${this.visibleList(searchable)}.`,
          );
        }
      }
    }
    return list2.includes('*') ? null : list2;
  }

  private facetAttributes(facets: string[] | null | undefined): string[] {
    if (facets === undefined || facets === null) return [];
    const fa = this.filterable();
    const out: string[] = [];
    for (const f of facets) {
      if (f === '*') {
        for (const p of fa.patterns) if (!p.includes('*') && !out.includes(p)) out.push(p);
        continue;
      }
      if (!fa.isFilterable(f)) throw facetNotFilterable(f, fa);
      if (!out.includes(f)) out.push(f);
    }
    return out;
  }

  search(query: SearchQuery): Record<string, unknown> {
    const started = performance.now();
    const q = typeof query.q === 'string' ? query.q : null;
    const filter = this.compile(query.filter, 'invalid_search_filter');
    const sort = this.parseSort(query.sort, 'invalid_search_sort', true);
    const facets = this.facetAttributes(query.facets);
    let distinct = distinctAttributeOf(this.settings);
    if (typeof query.distinct === 'string') {
      const fa = this.filterable();
      if (!fa.isFilterable(query.distinct)) throw distinctNotFilterable(this.uid, query.distinct, fa, this.displayed());
      distinct = query.distinct;
    }
    const searchOn = this.checkSearchOn(query.attributesToSearchOn);
    const maxTotalHits = maxTotalHitsOf(this.settings);
    const page: PageRequest = query;
    const { offset, limit } = pageWindow(page, maxTotalHits);
    const showScore = query.showRankingScore === true;
    const showDetails = query.showRankingScoreDetails === true;
    const threshold = typeof query.rankingScoreThreshold === 'number' ? query.rankingScoreThreshold : null;
    const kind = searchKind(query);
    const semantic = kind === 'keyword' ? null : this.semanticTarget(query);
    const candidates = this.filteredSeqs(filter);
    const keyword = (withDetails: boolean): ReturnType<typeof rank> =>
      rank(this.text, {
        q,
        matchingStrategy: matchingStrategyOf(query.matchingStrategy),
        attributesToSearchOn: searchOn,
        candidates,
        sort,
        getValue: (seq, field) => firstValue(this.docOfSeq(seq), field),
        distinct,
        limit: offset + limit,
        rankingScoreThreshold: threshold,
        withDetails,
      });
    let ranked: ReturnType<typeof rank>;
    let semanticHitCount: number | null = null;
    let queryVector: number[] | null = null;
    if (semantic === null) ranked = keyword(showDetails);
    else {
      const showVector = query.retrieveVectors === true;
      const need = offset + limit;
      if (kind === 'semantic') {
        if (semantic.vector === null) throw this.cannotEmbed(q);
        ranked = this.vectorRank(semantic.embedder, semantic.vector, candidates, distinct, need, threshold);
        if (showVector) queryVector = semantic.vector;
        semanticHitCount = Math.max(0, Math.min(ranked.hits.length - offset, limit));
      } else {
        const kw = keyword(true);
        const { semantic: ratio, keyword: kwRatio } = hybridRatios(hybridParam(query)!.semanticRatio);
        // Meilisearch skips the semantic side when every keyword hit is good enough, or when q cannot be embedded.
        const goodEnough = kw.hits.length >= need && kw.hits.every((h) => h.score * kwRatio >= 0.45);
        if (goodEnough || semantic.vector === null) {
          ranked = kw;
          semanticHitCount = 0;
        } else {
          const vec = this.vectorRank(semantic.embedder, semantic.vector, candidates, distinct, need, threshold);
          if (showVector) queryVector = semantic.vector;
          const merged = this.hybridMerge(vec, kw, ratio, kwRatio, distinct, need);
          ranked = merged.ranked;
          semanticHitCount =
            merged.semanticSeqs.size === 0
              ? 0
              : ranked.hits.slice(offset, need).filter((h) => merged.semanticSeqs.has(h.docId)).length;
        }
      }
    }
    const displayed = this.displayed();
    const asked = query.attributesToRetrieve ?? null;
    // attributesToRetrieve ∩ displayedAttributes (null: every displayed attribute).
    const retrieve =
      asked === null || asked.includes('*')
        ? displayed
        : asked.filter((f) => displayed === null || displayed.includes(f));
    const retrieveVectors = query.retrieveVectors === true;
    const hits = ranked.hits.slice(offset, offset + limit).map((h) => {
      const doc = this.readable(this.docOfSeq(h.docId), false);
      const hit: Record<string, unknown> = selectValues(doc, retrieve);
      if (retrieveVectors && (displayed === null || displayed.includes('_vectors')))
        hit._vectors = this.vectorsView(this.docOfSeq(h.docId), h.docId);
      const parts = formatHit(this.text, doc, {
        q,
        attributesToHighlight: query.attributesToHighlight ?? null,
        attributesToCrop: query.attributesToCrop ?? null,
        cropLength: query.cropLength ?? 10,
        cropMarker: query.cropMarker ?? '…',
        highlightPreTag: query.highlightPreTag ?? '<em>',
        highlightPostTag: query.highlightPostTag ?? '</em>',
        showMatchesPosition: query.showMatchesPosition === true,
        displayed,
        retrieve,
      });
      if (parts._formatted !== undefined) hit._formatted = parts._formatted;
      if (parts._matchesPosition !== undefined) hit._matchesPosition = parts._matchesPosition;
      if (showScore) hit._rankingScore = h.score;
      if (showDetails) hit._rankingScoreDetails = h.details ?? {};
      return hit;
    });
    const res: Record<string, unknown> = {
      hits,
      query: q ?? '',
      ...(queryVector !== null ? { queryVector } : {}),
      processingTimeMs: 0,
      ...hitsInfo(page, pageWindow(page, maxTotalHits), ranked.totalMatches, maxTotalHits),
    };
    if (query.facets !== undefined && query.facets !== null) {
      const matchedDocs = [...ranked.matchedDocIds].map((s) => this.docOfSeq(s));
      const { distribution, stats } = this.facetDistribution(matchedDocs, facets);
      res.facetDistribution = distribution;
      res.facetStats = stats;
    }
    res.processingTimeMs = Math.floor(performance.now() - started);
    res.requestUid = randomUUID();
    if (semanticHitCount !== null) res.semanticHitCount = semanticHitCount;
    return res;
  }

  /** The embedder and query vector of a semantic or hybrid search, checked like Meilisearch. */
  private semanticTarget(query: SearchQuery): { embedder: string; vector: number[] | null } {
    const h = hybridParam(query)!;
    const cfg: EmbedderConfig | undefined = embeddersOf(this.settings)[h.embedder];
    if (cfg === undefined)
      throw new MeiliError('invalid_search_embedder', `Cannot find embedder with name \`${h.embedder}\`.`);
    const vector = numbersOf(query.vector) ?? null;
    if (vector !== null && vector.length !== cfg.dimensions)
      throw new MeiliError(
        'invalid_vector_dimensions',
        `Invalid vector dimensions: expected: \`${cfg.dimensions}\`, found: \`${vector.length}\`.`,
      );
    return { embedder: h.embedder, vector };
  }

  private cannotEmbed(q: string | null): MeiliError {
    return new MeiliError(
      'vector_embedding_error',
      `Index \`${this.uid}\`: Error while generating embeddings: user error: attempt to embed the following text in a configuration where embeddings must be user provided:\n  - \`${q ?? ''}\``,
    );
  }

  /**
   * A semantic search: every candidate by similarity (those without an embedding last, scored 0), distinct applied,
   * the first `need` kept; details `{vectorSort: {order, similarity}}`.
   */
  private vectorRank(
    embedder: string,
    vector: number[],
    candidates: Set<number> | null,
    distinct: string | null,
    need: number,
    threshold: number | null,
  ): ReturnType<typeof rank> {
    // Without distinct or a threshold, the page is the first `need` hits and every candidate counts.
    const exhaustive = distinct !== null || threshold !== null;
    const universe = candidates ?? this.bySeq.keys();
    const all = this.vectors.nearest(embedder, vector, universe, exhaustive ? Infinity : need);
    const seen = new Set<string>();
    const hits: RankedHit[] = [];
    let total = 0;
    for (const v of all) {
      const score = v.similarity ?? 0;
      if (threshold !== null && score < threshold) continue;
      if (distinct !== null) {
        const d = firstValue(this.docOfSeq(v.seq), distinct);
        if (d !== undefined && d !== null) {
          const key = JSON.stringify(d);
          if (seen.has(key)) continue;
          seen.add(key);
        }
      }
      total++;
      if (hits.length < need)
        hits.push({ docId: v.seq, score, details: { vectorSort: { order: 0, similarity: v.similarity } } });
    }
    if (!exhaustive) {
      const matched = candidates ?? new Set(this.bySeq.keys());
      return { hits, totalMatches: matched.size, matchedDocIds: matched };
    }
    return { hits, totalMatches: total, matchedDocIds: all.map((v) => v.seq) };
  }

  /**
   * Meilisearch's hybrid merge: both lists by weighted score (semantic × ratio, keyword × (1 − ratio); equal within
   * epsilon → the semantic hit first), a document once, distinct applied, the first `need` kept. Candidates: both
   * sides' union.
   */
  private hybridMerge(
    vec: ReturnType<typeof rank>,
    kw: ReturnType<typeof rank>,
    ratio: number,
    kwRatio: number,
    distinct: string | null,
    need: number,
  ): { ranked: ReturnType<typeof rank>; semanticSeqs: Set<number> } {
    const hits: RankedHit[] = [];
    const semanticSeqs = new Set<number>();
    const seenDocs = new Set<number>();
    const seenDistinct = new Set<string>();
    let i = 0;
    let j = 0;
    while (hits.length < need && (i < vec.hits.length || j < kw.hits.length)) {
      let fromVec: boolean;
      if (i >= vec.hits.length) fromVec = false;
      else if (j >= kw.hits.length) fromVec = true;
      else fromVec = compareHybrid(vec.hits[i]!.score * ratio, kw.hits[j]!.score * kwRatio) <= 0;
      const h = fromVec ? vec.hits[i++]! : kw.hits[j++]!;
      if (seenDocs.has(h.docId)) continue;
      seenDocs.add(h.docId);
      if (distinct !== null) {
        const d = firstValue(this.docOfSeq(h.docId), distinct);
        if (d !== undefined && d !== null) {
          const key = JSON.stringify(d);
          if (seenDistinct.has(key)) continue;
          seenDistinct.add(key);
        }
      }
      if (fromVec) semanticSeqs.add(h.docId);
      hits.push(h);
    }
    const matched = new Set<number>(vec.matchedDocIds);
    for (const s of kw.matchedDocIds) matched.add(s);
    return {
      ranked: { hits, totalMatches: matched.size, matchedDocIds: matched },
      semanticSeqs,
    };
  }

  private facetDistribution(
    docs: Document[],
    facets: string[],
  ): { distribution: Record<string, Record<string, number>>; stats: Record<string, { min: number; max: number }> } {
    const faceting = facetingOf(this.settings);
    const distribution: Record<string, Record<string, number>> = {};
    const stats: Record<string, { min: number; max: number }> = {};
    for (const attr of facets) {
      const { counts, min, max } = countFacet(docs, attr);
      const dist: Record<string, number> = {};
      for (const c of sortFacetCounts(counts, facetOrder(faceting.sortFacetValuesBy, attr), faceting.maxValuesPerFacet))
        dist[c.value] = c.count;
      distribution[attr] = dist;
      if (min !== null && max !== null) stats[attr] = { min, max };
    }
    return { distribution, stats };
  }

  facetSearch(query: FacetSearchQuery): Record<string, unknown> {
    const started = performance.now();
    const facetName = query.facetName;
    const fa = this.filterable();
    if (!fa.isFacetSearchable(facetName)) {
      throw notFacetSearchable(facetName, fa);
    }
    if (this.settings.facetSearch === false) {
      throw new MeiliError('facet_search_disabled', 'The facet search is disabled for this index');
    }
    const filter = this.compile(query.filter, 'invalid_search_filter');
    const ranked = rank(this.text, {
      q: typeof query.q === 'string' ? query.q : null,
      matchingStrategy: matchingStrategyOf(query.matchingStrategy),
      attributesToSearchOn: this.checkSearchOn(query.attributesToSearchOn),
      candidates: this.filteredSeqs(filter),
      sort: null,
      getValue: (seq, field) => firstValue(this.docOfSeq(seq), field),
      distinct: null,
      limit: 0,
      rankingScoreThreshold: typeof query.rankingScoreThreshold === 'number' ? query.rankingScoreThreshold : null,
      withDetails: false,
    });
    const docs = [...ranked.matchedDocIds].map((s) => this.docOfSeq(s));
    const faceting = facetingOf(this.settings);
    const fq = typeof query.facetQuery === 'string' ? query.facetQuery : '';
    const typo = this.text.config.typoTolerance;
    const counts = countFacet(docs, facetName).counts.filter((c) => facetValueMatches(fq, c.value, typo));
    const facetHits = sortFacetCounts(
      counts,
      facetOrder(faceting.sortFacetValuesBy, facetName),
      faceting.maxValuesPerFacet,
    ).map((c) => ({ value: c.value, count: c.count }));
    return {
      facetHits,
      facetQuery: typeof query.facetQuery === 'string' ? query.facetQuery : null,
      processingTimeMs: Math.floor(performance.now() - started),
    };
  }

  fetchDocuments(query: DocumentsQuery): {
    results: Document[];
    offset: number;
    limit: number;
    total: number;
  } {
    const filter = this.compile(query.filter, 'invalid_document_filter', false);
    const sort = this.parseSort(query.sort, 'invalid_document_sort', false);
    const ids = query.ids ?? null;
    let slots: Slot[];
    if (ids !== null) {
      slots = ids.map((id) => this.byId.get(id)).filter((s): s is Slot => s !== undefined);
      slots.sort((a, b) => a.seq - b.seq);
      // A few named documents: test them rather than the whole index.
      if (filter !== null) slots = slots.filter((s) => filter.predicate(s.doc));
    } else {
      const matching = this.filteredSeqs(filter);
      const seqs = matching === null ? [...this.bySeq.keys()] : [...matching];
      slots = seqs.sort((a, b) => a - b).map((seq) => this.byId.get(this.bySeq.get(seq)!)!);
    }
    if (sort !== null && sort.length > 0) {
      slots.sort((a, b) => {
        for (const c of sort) {
          const x = firstValue(a.doc, c.field);
          const y = firstValue(b.doc, c.field);
          const xm = x === undefined || x === null;
          const ym = y === undefined || y === null;
          if (xm || ym) {
            if (xm !== ym) return xm ? 1 : -1;
            continue;
          }
          const d = cmpScalar(x, y);
          if (d !== 0) return c.direction === 'asc' ? d : -d;
        }
        return a.seq - b.seq;
      });
    }
    const offset = query.offset ?? 0;
    const limit = query.limit ?? 20;
    const fields = query.fields ?? null;
    const results = slots.slice(offset, offset + limit).map((s) => {
      return selectValues(this.readable(s.doc, query.retrieveVectors === true, s.seq), fields);
    });
    return { results, offset, limit, total: slots.length };
  }

  stats(): IndexStats {
    let size = 0;
    const counts = new Map<string, number>();
    for (const { doc } of this.byId.values()) {
      size += Buffer.byteLength(JSON.stringify(doc));
      for (const k of Object.keys(doc)) if (k !== '_vectors') counts.set(k, (counts.get(k) ?? 0) + 1);
    }
    // Meilisearch's field distribution is a sorted map.
    const dist: Record<string, number> = {};
    for (const k of [...counts.keys()].sort()) dist[k] = counts.get(k)!;
    const n = this.byId.size;
    const vc = this.vectors.counts();
    return {
      numberOfDocuments: n,
      rawDocumentDbSize: size,
      avgDocumentSize: n === 0 ? 0 : Math.round(size / n),
      isIndexing: false,
      numberOfEmbeddings: vc.embeddings,
      numberOfEmbeddedDocuments: vc.documents,
      fieldDistribution: dist,
    };
  }

  meta(): IndexMeta {
    return {
      uid: this.uid,
      primaryKey: this.primaryKey,
      createdAt: this.createdAt,
      updatedAt: this.updatedAt,
      settings: this.getSettings(),
      fieldOrder: [...this.fieldOrder],
      nextSeq: this.nextSeq,
    };
  }

  *allDocuments(): Iterable<StoredDocument> {
    for (const [id, slot] of this.byId) yield { id, seq: slot.seq, doc: slot.doc };
  }
}

const MATCHING_STRATEGIES = ['last', 'all', 'frequency'] as const;
type MatchingStrategy = (typeof MATCHING_STRATEGIES)[number];

/** A validated `matchingStrategy` (default `last`). */
function matchingStrategyOf(s: string | undefined): MatchingStrategy {
  return MATCHING_STRATEGIES.find((m) => m === s) ?? 'last';
}

/** Meilisearch's primary-key inference; its errors do not name the index. */
function inferPrimaryKeyFor(_uid: string, doc: Document | undefined): string {
  return inferPrimaryKey(doc);
}

/** A partial update: top-level fields replaced, `_vectors` merged embedder by embedder. */
function mergeDocument(prev: Document, doc: Document): Document {
  const out = { ...prev, ...doc };
  const a = prev._vectors;
  const b = doc._vectors;
  if (isObject(a) && isObject(b)) out._vectors = { ...a, ...b };
  return out;
}
