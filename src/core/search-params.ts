// Request parameters of the read routes, validated the way Meilisearch does (deserr): search (POST body and GET
// query string), documents fetch, facet search and multi-search, each field with its own error code. Pure; shared
// by the dev node and the proxy.
import {
  isObject,
  membersOf,
  numberOf,
  type DocumentsQuery,
  type FacetSearchQuery,
  type SearchQuery,
} from './types.js';
import { MeiliError, type ErrorCode } from './errors.js';
import { jsonDepthExceeded } from './json-depth.js';
import { foundValue, typeName } from './settings.js';

export interface ParsedMultiSearch {
  /** null for a non-federated request. */
  federation: Record<string, unknown> | null;
  queries: Array<{
    indexUid: string;
    query: SearchQuery;
    federationOptions: { weight: number; queryPosition?: number } | null;
  }>;
}

type Kind = 'string' | 'nullableString' | 'uint' | 'bool' | 'stringList' | 'filter' | 'float01' | 'any' | 'object';

interface FieldSpec {
  kind: Kind;
  code: ErrorCode;
}

function spec(kind: Kind, code: ErrorCode): FieldSpec {
  return { kind, code };
}

const SEARCH_FIELDS: Record<string, FieldSpec> = {
  q: spec('nullableString', 'invalid_search_q'),
  offset: spec('uint', 'invalid_search_offset'),
  limit: spec('uint', 'invalid_search_limit'),
  page: spec('uint', 'invalid_search_page'),
  hitsPerPage: spec('uint', 'invalid_search_hits_per_page'),
  attributesToRetrieve: spec('stringList', 'invalid_search_attributes_to_retrieve'),
  retrieveVectors: spec('bool', 'invalid_search_retrieve_vectors'),
  attributesToCrop: spec('stringList', 'invalid_search_attributes_to_crop'),
  cropLength: spec('uint', 'invalid_search_crop_length'),
  cropMarker: spec('string', 'invalid_search_crop_marker'),
  attributesToHighlight: spec('stringList', 'invalid_search_attributes_to_highlight'),
  highlightPreTag: spec('string', 'invalid_search_highlight_pre_tag'),
  highlightPostTag: spec('string', 'invalid_search_highlight_post_tag'),
  showMatchesPosition: spec('bool', 'invalid_search_show_matches_position'),
  showRankingScore: spec('bool', 'invalid_search_show_ranking_score'),
  showRankingScoreDetails: spec('bool', 'invalid_search_show_ranking_score_details'),
  showPerformanceDetails: spec('bool', 'invalid_search_show_performance_details'),
  filter: spec('filter', 'invalid_search_filter'),
  sort: spec('stringList', 'invalid_search_sort'),
  distinct: spec('string', 'invalid_search_distinct'),
  facets: spec('stringList', 'invalid_search_facets'),
  matchingStrategy: spec('string', 'invalid_search_matching_strategy'),
  attributesToSearchOn: spec('stringList', 'invalid_search_attributes_to_search_on'),
  rankingScoreThreshold: spec('float01', 'invalid_search_ranking_score_threshold'),
  locales: spec('stringList', 'invalid_search_locales'),
  hybrid: spec('object', 'invalid_search_hybrid_query'),
  vector: spec('any', 'invalid_search_vector'),
  media: spec('any', 'invalid_search_media'),
  personalize: spec('any', 'invalid_search_personalize'),
};

const DOCUMENTS_FIELDS: Record<string, FieldSpec> = {
  offset: spec('uint', 'invalid_document_offset'),
  limit: spec('uint', 'invalid_document_limit'),
  fields: spec('stringList', 'invalid_document_fields'),
  filter: spec('filter', 'invalid_document_filter'),
  sort: spec('stringList', 'invalid_document_sort'),
  ids: spec('any', 'invalid_document_ids'),
  retrieveVectors: spec('bool', 'invalid_document_retrieve_vectors'),
};

const FACET_SEARCH_FIELDS: Record<string, FieldSpec> = {
  facetName: spec('string', 'invalid_facet_search_facet_name'),
  facetQuery: spec('nullableString', 'invalid_facet_search_query'),
  q: spec('nullableString', 'invalid_search_q'),
  filter: spec('filter', 'invalid_search_filter'),
  matchingStrategy: spec('string', 'invalid_search_matching_strategy'),
  attributesToSearchOn: spec('stringList', 'invalid_search_attributes_to_search_on'),
  rankingScoreThreshold: spec('float01', 'invalid_search_ranking_score_threshold'),
  locales: spec('stringList', 'invalid_search_locales'),
  exhaustiveFacetCount: spec('bool', 'invalid_facet_search_exhaustive_facet_count'),
  hybrid: spec('object', 'invalid_search_hybrid_query'),
  vector: spec('any', 'invalid_search_vector'),
};

function unknownField(field: string, fields: Record<string, FieldSpec>, prefix = ''): MeiliError {
  return new MeiliError(
    'bad_request',
    `Unknown field \`${field}\`${prefix ? ` inside \`${prefix}\`` : ''}: expected one of ${Object.keys(fields)
      .map((f) => `\`${f}\``)
      .join(', ')}`,
  );
}

function checkJsonValue(field: string, fs: FieldSpec, v: unknown, path: string): unknown {
  const bad = (expected: string) =>
    new MeiliError(fs.code, `Invalid value type at \`${path}\`: expected ${expected}, but found ${foundValue(v)}`);
  switch (fs.kind) {
    case 'string':
      if (typeof v !== 'string') throw bad('a string');
      return v;
    case 'nullableString':
      if (v !== null && typeof v !== 'string') throw bad('a string');
      return v;
    case 'uint':
      if (typeof v !== 'number' || !Number.isInteger(v) || v < 0) throw bad('a positive integer');
      return v;
    case 'bool':
      if (typeof v !== 'boolean') throw bad('a boolean');
      return v;
    case 'stringList':
      if (v === null) return null;
      if (!Array.isArray(v)) throw bad('an array');
      v.forEach((x, i) => {
        if (typeof x !== 'string')
          throw new MeiliError(
            fs.code,
            `Invalid value type at \`${path}[${i}]\`: expected a string, but found ${foundValue(x)}`,
          );
      });
      return v;
    case 'filter':
      return v;
    case 'float01':
      if (v === null) return null;
      if (typeof v !== 'number') throw bad('a number');
      if (v < 0 || v > 1)
        throw new MeiliError(
          fs.code,
          `Invalid value at \`${path}\`: the value of \`rankingScoreThreshold\` is invalid, expected a float between \`0.0\` and \`1.0\`.`,
        );
      return v;
    case 'object':
      if (v === null) return null;
      if (typeof v !== 'object' || Array.isArray(v)) throw bad('an object');
      return v;
    case 'any':
      return v;
  }
  void field;
  return v;
}

function parseQueryValue(field: string, fs: FieldSpec, raw: string): unknown {
  switch (fs.kind) {
    case 'uint': {
      if (!/^\d+$/.test(raw))
        throw new MeiliError(
          fs.code,
          `Invalid value in parameter \`${field}\`: could not parse \`${raw}\` as a positive integer`,
        );
      return Number(raw);
    }
    case 'bool': {
      if (raw !== 'true' && raw !== 'false')
        throw new MeiliError(
          fs.code,
          `Invalid value in parameter \`${field}\`: could not parse \`${raw}\` as a boolean, expected either \`true\` or \`false\``,
        );
      return raw === 'true';
    }
    case 'float01': {
      const n = Number(raw);
      if (raw.trim() === '' || !Number.isFinite(n))
        throw new MeiliError(fs.code, `Invalid value in parameter \`${field}\`: could not parse \`${raw}\` as a float`);
      if (n < 0 || n > 1)
        throw new MeiliError(
          fs.code,
          `Invalid value in parameter \`${field}\`: the value of \`rankingScoreThreshold\` is invalid, expected a float between \`0.0\` and \`1.0\`.`,
        );
      return n;
    }
    case 'stringList':
      return field === 'sort'
        ? splitSort(raw)
        : raw
            .split(',')
            .map((s) => s.trim())
            .filter((s) => s !== '');
    case 'filter': {
      const t = raw.trim();
      if ((t.startsWith('[') || t.startsWith('"')) && jsonDepthExceeded(Buffer.from(t)) === null) {
        try {
          return JSON.parse(t);
        } catch {
          return raw;
        }
      }
      return raw;
    }
    default:
      return raw;
  }
}

/** Splits a GET `sort` list on commas, keeping `_geoPoint(a,b):asc` intact. */
function splitSort(raw: string): string[] {
  const out: string[] = [];
  let depth = 0;
  let cur = '';
  for (const ch of raw) {
    if (ch === '(') depth++;
    if (ch === ')') depth--;
    if (ch === ',' && depth === 0) {
      if (cur.trim()) out.push(cur.trim());
      cur = '';
    } else cur += ch;
  }
  if (cur.trim()) out.push(cur.trim());
  return out;
}

function parseGeneric(
  raw: unknown,
  source: 'json' | 'query',
  fields: Record<string, FieldSpec>,
  rename: Record<string, string> = {},
): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  if (source === 'query') {
    for (const [key, value] of Object.entries(membersOf(raw))) {
      const field = rename[key] ?? key;
      const fs = fields[field];
      if (fs === undefined) throw unknownField(key, fields);
      out[field] = parseQueryValue(field, fs, String(value));
    }
    return out;
  }
  if (raw === undefined) return out;
  if (!isObject(raw)) {
    throw new MeiliError('bad_request', `Invalid value type: expected an object, but found ${foundValue(raw)}`);
  }
  for (const [field, value] of Object.entries(raw)) {
    const fs = fields[field];
    if (fs === undefined) throw unknownField(field, fields);
    out[field] = checkJsonValue(field, fs, value, `.${field}`);
  }
  return out;
}

function checkSearchSemantics(q: Record<string, unknown>, source: 'json' | 'query' = 'json'): Record<string, unknown> {
  const strategy = q.matchingStrategy;
  if (strategy !== undefined && !(typeof strategy === 'string' && ['last', 'all', 'frequency'].includes(strategy))) {
    const where = source === 'query' ? 'for parameter `matchingStrategy`' : 'at `.matchingStrategy`';
    throw new MeiliError(
      'invalid_search_matching_strategy',
      `Unknown value \`${String(q.matchingStrategy)}\` ${where}: expected one of \`last\`, \`all\`, \`frequency\``,
    );
  }
  if (q.personalize !== undefined && q.personalize !== null) {
    throw new MeiliError(
      'feature_not_enabled',
      'reranking search results requires enabling the `personalization` experimental feature. See https://github.com/orgs/meilisearch/discussions/866',
    );
  }
  if (q.hybrid !== undefined && q.hybrid !== null) q.hybrid = checkHybrid(q.hybrid);
  if (q.vector !== undefined && q.vector !== null) q.vector = checkVector(q.vector);
  if (q.media !== undefined && q.media !== null) {
    throw new MeiliError(
      'feature_not_enabled',
      'Using `media` in a search requires enabling the `multimodal` experimental feature.',
    );
  }
  return q;
}

/** Validates search parameters; `query` = GET string parameters (object of strings). */
export function parseSearchQuery(raw: unknown, source: 'json' | 'query'): SearchQuery {
  if (source === 'json') return checkSearchSemantics(parseGeneric(raw, source, SEARCH_FIELDS), source);
  // GET: `hybridEmbedder` + `hybridSemanticRatio` form `hybrid`, `vector` is a comma-separated list of floats.
  const params: Record<string, string> = {};
  for (const [k, v] of Object.entries(membersOf(raw))) params[k] = String(v);
  const embedder = params.hybridEmbedder;
  const ratio = params.hybridSemanticRatio;
  const vector = params.vector;
  delete params.hybridEmbedder;
  delete params.hybridSemanticRatio;
  delete params.vector;
  const q = parseGeneric(params, source, SEARCH_FIELDS);
  if (ratio !== undefined) {
    const n = Number(ratio);
    if (ratio.trim() === '' || !Number.isFinite(n))
      throw new MeiliError(
        'invalid_search_semantic_ratio',
        `Invalid value in parameter \`hybridSemanticRatio\`: could not parse \`${ratio}\` as a float`,
      );
    if (n < 0 || n > 1)
      throw new MeiliError(
        'invalid_search_semantic_ratio',
        'Invalid value in parameter `hybridSemanticRatio`: the value of `semanticRatio` is invalid, expected a float between `0.0` and `1.0`.',
      );
  }
  if (embedder !== undefined || ratio !== undefined) {
    if (embedder === undefined)
      throw new MeiliError(
        'missing_search_hybrid',
        '`hybridEmbedder` is mandatory when `hybridSemanticRatio` is present',
      );
    q.hybrid = { embedder, ...(ratio !== undefined ? { semanticRatio: Number(ratio) } : {}) };
  }
  if (vector !== undefined) {
    const parts = vector.split(',').map((s) => s.trim());
    q.vector = parts.map((p) => {
      const n = Number(p);
      if (p === '' || !Number.isFinite(n))
        throw new MeiliError(
          'invalid_search_vector',
          `Invalid value in parameter \`vector\`: could not parse \`${vector}\` as a list of floats`,
        );
      return n;
    });
  }
  return checkSearchSemantics(q, source);
}

/** `hybrid`: `{embedder (required), semanticRatio (0..1, default 0.5)}`, with Meilisearch's codes. */
function checkHybrid(v: unknown): Record<string, unknown> {
  if (!isObject(v))
    throw new MeiliError(
      'invalid_search_hybrid_query',
      `Invalid value type at \`.hybrid\`: expected an object, but found ${foundValue(v)}`,
    );
  const o = v;
  for (const k of Object.keys(o))
    if (k !== 'semanticRatio' && k !== 'embedder')
      throw new MeiliError(
        'invalid_search_hybrid_query',
        `Unknown field \`${k}\` inside \`.hybrid\`: expected one of \`semanticRatio\`, \`embedder\``,
      );
  if (o.semanticRatio !== undefined) {
    if (typeof o.semanticRatio !== 'number')
      throw new MeiliError(
        'invalid_search_semantic_ratio',
        `Invalid value type at \`.hybrid.semanticRatio\`: expected a number, but found ${foundValue(o.semanticRatio)}`,
      );
    if (o.semanticRatio < 0 || o.semanticRatio > 1)
      throw new MeiliError(
        'invalid_search_semantic_ratio',
        'Invalid value at `.hybrid.semanticRatio`: the value of `semanticRatio` is invalid, expected a float between `0.0` and `1.0`.',
      );
  }
  if (o.embedder === undefined)
    throw new MeiliError('invalid_search_hybrid_query', 'Missing field `embedder` inside `.hybrid`');
  if (typeof o.embedder !== 'string')
    throw new MeiliError(
      'invalid_search_embedder',
      `Invalid value type at \`.hybrid.embedder\`: expected a string, but found ${foundValue(o.embedder)}`,
    );
  return o;
}

/** `vector`: an array of numbers. */
function checkVector(v: unknown): number[] {
  if (!Array.isArray(v))
    throw new MeiliError(
      'invalid_search_vector',
      `Invalid value type at \`.vector\`: expected an array, but found ${foundValue(v)}`,
    );
  return v.map((x: unknown, i) => {
    if (typeof x !== 'number')
      throw new MeiliError(
        'invalid_search_vector',
        `Invalid value type at \`.vector[${i}]\`: expected a number, but found ${foundValue(x)}`,
      );
    return x;
  });
}

export function parseDocumentsQuery(raw: unknown, source: 'json' | 'query'): DocumentsQuery {
  const q = parseGeneric(raw, source, DOCUMENTS_FIELDS);
  if (q.ids !== undefined && q.ids !== null) {
    let ids = q.ids;
    if (source === 'query' && typeof ids === 'string')
      ids = ids
        .split(',')
        .map((s) => s.trim())
        .filter(Boolean);
    if (!Array.isArray(ids)) {
      throw new MeiliError(
        'invalid_document_ids',
        `Invalid value type at \`.ids\`: expected an array, but found ${foundValue(ids)}`,
      );
    }
    q.ids = ids.map((id: unknown) => {
      if (typeof id === 'number') return String(id);
      if (typeof id !== 'string')
        throw new MeiliError(
          'invalid_document_ids',
          `Invalid value type at \`.ids\`: expected a string or an integer, but found ${typeName(id)}`,
        );
      return id;
    });
  }
  return q;
}

export function parseFacetSearchQuery(raw: unknown): FacetSearchQuery {
  const q = parseGeneric(raw, 'json', FACET_SEARCH_FIELDS);
  const facetName = q.facetName;
  if (typeof facetName !== 'string')
    throw new MeiliError('missing_facet_search_facet_name', 'Missing field `facetName`');
  return { ...checkSearchSemantics(q), facetName };
}

const FEDERATION_FIELDS: Record<string, FieldSpec> = {
  offset: spec('uint', 'invalid_search_offset'),
  limit: spec('uint', 'invalid_search_limit'),
  page: spec('uint', 'invalid_search_page'),
  hitsPerPage: spec('uint', 'invalid_search_hits_per_page'),
  facetsByIndex: spec('object', 'invalid_multi_search_facets_by_index'),
  mergeFacets: spec('object', 'invalid_multi_search_merge_facets'),
  distinct: spec('nullableString', 'invalid_multi_search_distinct'),
  showPerformanceDetails: spec('bool', 'invalid_search_show_performance_details'),
};

/** Limits a server puts on a multi-search (Miroir's `multi_search` block); the dev node sets none. */
export interface MultiSearchLimits {
  maxQueries: number;
  /** Largest federation offset + limit (page × hitsPerPage when paged). */
  maxFederatedHits: number;
}

function checkLimits(queries: unknown[], federation: Record<string, unknown> | null, limits: MultiSearchLimits): void {
  if (queries.length > limits.maxQueries)
    throw new MeiliError(
      'bad_request',
      `Too many queries in one multi-search: ${queries.length}. This server answers at most ${limits.maxQueries} (multi_search.max_queries_per_batch); split the request.`,
    );
  if (federation === null) return;
  const paged = federation.page !== undefined || federation.hitsPerPage !== undefined;
  const hits = paged
    ? (numberOf(federation.page) ?? 1) * (numberOf(federation.hitsPerPage) ?? 20)
    : (numberOf(federation.offset) ?? 0) + (numberOf(federation.limit) ?? 20);
  if (hits > limits.maxFederatedHits)
    throw new MeiliError(
      'invalid_search_limit',
      `Invalid value at \`.federation\`: it asks for hits up to position ${hits}; this server serves the first ${limits.maxFederatedHits} (multi_search.max_federated_hits).`,
    );
}

/** Validates a /multi-search body: `{queries, federation?}`, within `limits` when given. */
export function parseMultiSearch(raw: unknown, limits: MultiSearchLimits | null = null): ParsedMultiSearch {
  if (!isObject(raw)) {
    throw new MeiliError('bad_request', `Invalid value type: expected an object, but found ${foundValue(raw)}`);
  }
  const body = raw;
  for (const k of Object.keys(body))
    if (k !== 'queries' && k !== 'federation')
      throw new MeiliError('bad_request', `Unknown field \`${k}\`: expected one of \`queries\`, \`federation\``);
  if (body.queries === undefined) throw new MeiliError('bad_request', 'Missing field `queries`');
  const rawQueries: unknown = body.queries;
  if (!Array.isArray(rawQueries)) {
    throw new MeiliError(
      'bad_request',
      `Invalid value type at \`.queries\`: expected an array, but found ${foundValue(rawQueries)}`,
    );
  }
  let federation: Record<string, unknown> | null = null;
  if (body.federation !== undefined && body.federation !== null) {
    if (!isObject(body.federation)) {
      throw new MeiliError(
        'invalid_multi_search_federated',
        `Invalid value type at \`.federation\`: expected an object, but found ${foundValue(body.federation)}`,
      );
    }
    federation = {};
    for (const [k, v] of Object.entries(body.federation)) {
      const fs = FEDERATION_FIELDS[k];
      if (fs === undefined) throw unknownField(k, FEDERATION_FIELDS, '.federation');
      federation[k] = checkJsonValue(k, fs, v, `.federation.${k}`);
    }
  }
  if (limits !== null) checkLimits(rawQueries, federation, limits);
  const queries = rawQueries.map((q: unknown, i) => {
    if (!isObject(q)) {
      throw new MeiliError(
        'bad_request',
        `Invalid value type at \`.queries[${i}]\`: expected an object, but found ${foundValue(q)}`,
      );
    }
    const { indexUid, federationOptions, ...rest } = q;
    if (indexUid === undefined)
      throw new MeiliError('missing_index_uid', `Missing field \`indexUid\` inside \`.queries[${i}]\``);
    if (typeof indexUid !== 'string' || !/^[A-Za-z0-9_-]{1,400}$/.test(indexUid)) {
      throw new MeiliError(
        'invalid_index_uid',
        `Invalid value at \`.queries[${i}].indexUid\`: \`${String(indexUid)}\` is not a valid index uid. Index uid can be an integer or a string containing only alphanumeric characters, hyphens (-) and underscores (_), and can not be more than 512 bytes.`,
      );
    }
    let fo: { weight: number; queryPosition?: number } | null = null;
    if (federationOptions !== undefined && federationOptions !== null) {
      if (federation === null) {
        throw new MeiliError(
          'invalid_multi_search_federation_options',
          `Inside \`.queries[${i}]\`: Using \`federationOptions\` is not allowed in a non-federated search.\n - Hint: remove \`federationOptions\` from the query or add \`federation\` to the request.`,
        );
      }
      const weight = membersOf(federationOptions).weight ?? 1;
      if (typeof weight !== 'number' || weight < 0) {
        throw new MeiliError(
          'invalid_multi_search_weight',
          `Invalid value at \`.queries[${i}].federationOptions.weight\`: the value of \`weight\` is invalid, expected a positive float (>= 0.0).`,
        );
      }
      fo = { weight };
    }
    if (federation !== null) {
      for (const p of ['offset', 'limit', 'page', 'hitsPerPage']) {
        if (rest[p] !== undefined) {
          throw new MeiliError(
            'invalid_multi_search_query_pagination',
            `Inside \`.queries[${i}]\`: Using pagination options is not allowed in federated queries.\n - Hint: remove \`${p}\` from the query or remove \`federation\` from the request\n - Hint: pass \`federation.limit\` and \`federation.offset\` for pagination in federated search`,
          );
        }
      }
      if (rest.personalize !== undefined && rest.personalize !== null) {
        throw new MeiliError(
          'invalid_multi_search_query_personalization',
          `Inside \`.queries[${i}]\`: Using \`.personalize\` is not allowed in federated queries.\n - Hint: remove \`personalize\` from the query or remove \`federation\` from the request\n - Hint: pass \`federation.personalize\` for personalization in federated search`,
        );
      }
      if (Array.isArray(rest.facets) && rest.facets.length > 0) {
        const list = `[${rest.facets.map((f: unknown) => JSON.stringify(f)).join(', ')}]`;
        throw new MeiliError(
          'invalid_multi_search_query_facets',
          `Inside \`.queries[${i}]\`: Using facet options is not allowed in federated queries.\n - Hint: remove \`facets\` from the query or remove \`federation\` from the request\n - Hint: pass \`federation.facetsByIndex.${indexUid}: ${list}\` for facets in federated search`,
        );
      }
    }
    let query: SearchQuery;
    try {
      query = parseSearchQuery(rest, 'json');
    } catch (err) {
      if (err instanceof MeiliError) throw new MeiliError(err.code, `Inside \`.queries[${i}]\`: ${err.message}`);
      throw err;
    }
    return { indexUid, query, federationOptions: fo };
  });
  return { federation, queries };
}
