// Vectors as Meilisearch v1.50 has them, for the dev node and the proxy's merge: `embedders` settings (the dev node
// supports `source: "userProvided"` only), a document's `_vectors` read and checked with Meilisearch's codes and
// messages, cosine similarity in f32 exactly as its vector store computes it (score = 1 − (1 − cos) / 2), and the
// hybrid merge key (a hit's score × the semantic ratio for semantic hits, × 1 − ratio for keyword hits). Pure.
import { MeiliError } from './errors.js';
import { isNumberArray, isObject, membersOf, stringOf } from './types.js';

export interface EmbedderConfig {
  source: 'userProvided';
  dimensions: number;
  distribution?: { mean: number; sigma: number };
  binaryQuantized?: boolean;
}

const USER_PROVIDED_FIELDS = ['source', 'dimensions', 'distribution', 'binaryQuantized'];
const OTHER_SOURCES = ['openAi', 'huggingFace', 'ollama', 'rest', 'composite'];

function typeName(v: unknown): string {
  if (v === null) return 'null';
  if (Array.isArray(v)) return 'an array';
  if (typeof v === 'string') return 'a string';
  if (typeof v === 'number') return 'a number';
  if (typeof v === 'boolean') return 'a boolean';
  return 'an object';
}

function found(v: unknown): string {
  return v === null ? 'null' : `${typeName(v)}: \`${JSON.stringify(v)}\``;
}

function embedderError(message: string): MeiliError {
  return new MeiliError('invalid_settings_embedders', message);
}

/** One embedder's settings, checked; `path` is `.embedders.NAME` (or `.NAME` on the sub-route). */
function validateEmbedder(v: unknown, path: string, current: EmbedderConfig | undefined): EmbedderConfig {
  if (!isObject(v)) throw embedderError(`Invalid value type at \`${path}\`: expected an object, but found ${found(v)}`);
  const o = v;
  const source = o.source ?? current?.source;
  if (source === undefined)
    throw embedderError(`\`${path}\`: Missing field \`source\`.\n  - note: this field is mandatory`);
  if (source !== 'userProvided') {
    const known = typeof source === 'string' && OTHER_SOURCES.includes(source);
    throw embedderError(
      known
        ? `\`${path}.source\`: the dev node cannot compute embeddings: only \`userProvided\` embedders are supported (found \`${source}\`). Send vectors in \`_vectors\` with \`source: "userProvided"\`.`
        : `Unknown value \`${String(source)}\` at \`${path}.source\`: expected one of \`openAi\`, \`huggingFace\`, \`ollama\`, \`userProvided\`, \`rest\`, \`composite\`. The dev node supports \`userProvided\` only.`,
    );
  }
  for (const k of Object.keys(o)) {
    if (!USER_PROVIDED_FIELDS.includes(k))
      throw embedderError(
        `\`${path}\`: Field \`${k}\` unavailable for source \`userProvided\`.\n  - note: available fields for source \`userProvided\`: ${USER_PROVIDED_FIELDS.map((f) => `\`${f}\``).join(', ')}`,
      );
  }
  const dimensions = o.dimensions === undefined ? current?.dimensions : o.dimensions;
  if (dimensions === undefined || dimensions === null)
    throw embedderError(
      `\`${path}\`: Missing field \`dimensions\` (note: this field is mandatory for source \`userProvided\`)`,
    );
  if (typeof dimensions !== 'number' || !Number.isInteger(dimensions) || dimensions < 0)
    throw embedderError(
      `Invalid value type at \`${path}.dimensions\`: expected a positive integer, but found ${found(dimensions)}`,
    );
  if (dimensions === 0) throw embedderError(`\`${path}.dimensions\`: \`dimensions\` cannot be zero`);
  const out: EmbedderConfig = { source: 'userProvided', dimensions };
  const distribution = o.distribution === undefined ? current?.distribution : o.distribution;
  if (distribution !== undefined && distribution !== null) {
    const d = membersOf(distribution);
    if (typeof distribution !== 'object' || typeof d.mean !== 'number' || typeof d.sigma !== 'number')
      throw embedderError(
        `Invalid value type at \`${path}.distribution\`: expected an object with \`mean\` and \`sigma\`, but found ${found(distribution)}`,
      );
    out.distribution = { mean: d.mean, sigma: d.sigma };
  }
  const bq = o.binaryQuantized === undefined ? current?.binaryQuantized : o.binaryQuantized;
  if (bq !== undefined && bq !== null) {
    if (typeof bq !== 'boolean')
      throw embedderError(
        `Invalid value type at \`${path}.binaryQuantized\`: expected a boolean, but found ${found(bq)}`,
      );
    out.binaryQuantized = bq;
  }
  return out;
}

/**
 * An `embedders` PATCH, checked: each named embedder's full config (its fields merged into the current one), or
 * `null` to remove it. `path` is `.embedders` for the whole settings body, `` for the sub-route. The patch form (with
 * its nulls) is what task details show and what nodes are sent; `applyEmbeddersPatch` folds it into the settings.
 */
export function validateEmbedders(v: unknown, current: unknown, path: string): Record<string, EmbedderConfig | null> {
  if (v === null || typeof v !== 'object' || Array.isArray(v))
    throw embedderError(
      `Invalid value type${path === '' ? '' : ` at \`${path}\``}: expected an object, but found ${found(v)}`,
    );
  const cur = membersOf(current);
  const out: Record<string, EmbedderConfig | null> = {};
  for (const [name, cfg] of Object.entries(v)) {
    const prev = cur[name];
    out[name] =
      cfg === null ? null : validateEmbedder(cfg, `${path}.${name}`, isEmbedderConfig(prev) ? prev : undefined);
  }
  return out;
}

/** The embedders after a checked patch: named configs replaced, nulls removed. */
export function applyEmbeddersPatch(current: unknown, patch: unknown): Record<string, EmbedderConfig> {
  const out: Record<string, EmbedderConfig> = embeddersOf({ embedders: current });
  for (const [name, cfg] of Object.entries(membersOf(patch))) {
    if (cfg === null) delete out[name];
    else if (isEmbedderConfig(cfg)) out[name] = cfg;
  }
  return out;
}

/** A checked embedder config (validateEmbedder's output). */
function isEmbedderConfig(v: unknown): v is EmbedderConfig {
  return isObject(v) && v.source === 'userProvided' && typeof v.dimensions === 'number';
}

/** Embedder names → configs of an index's settings (empty when none). */
export function embeddersOf(settings: Record<string, unknown>): Record<string, EmbedderConfig> {
  const out: Record<string, EmbedderConfig> = {};
  for (const [name, cfg] of Object.entries(membersOf(settings.embedders))) if (isEmbedderConfig(cfg)) out[name] = cfg;
  return out;
}

// ---------------------------------------------------------------- documents

/** A document's embeddings for one embedder: null = opted out (`_vectors.NAME: null`). */
export type DocEmbeddings = Float32Array[] | null;

function badVectors(uid: string, docId: string, detail: string): MeiliError {
  return new MeiliError(
    'invalid_vectors_type',
    `Index \`${uid}\`: Bad embedder configuration in the document with id: \`${docId}\`. ${detail}`,
  );
}

/** `embeddings` (an array of numbers, or of arrays of numbers) read into f32 vectors; `at` names it in errors. */
function readEmbeddings(uid: string, docId: string, raw: unknown[], at: string): Float32Array[] {
  if (raw.length === 0) return [];
  const nested = Array.isArray(raw[0]);
  if (!nested && typeof raw[0] !== 'number')
    throw badVectors(
      uid,
      docId,
      `Invalid value type at \`${at}[0]\`: expected a number or an array, but found ${found(raw[0])}`,
    );
  if (!nested) {
    if (!isNumberArray(raw)) {
      const i = raw.findIndex((x) => typeof x !== 'number');
      throw badVectors(
        uid,
        docId,
        `Invalid value type at \`${at}[${i}]\`: expected a number, but found ${found(raw[i])}`,
      );
    }
    return [Float32Array.from(raw)];
  }
  return raw.map((inner, i) => {
    if (!Array.isArray(inner))
      throw badVectors(
        uid,
        docId,
        `Invalid value type at \`${at}[${i}]\`: expected an array, but found ${found(inner)}`,
      );
    if (!isNumberArray(inner)) {
      const j = inner.findIndex((x) => typeof x !== 'number');
      throw badVectors(
        uid,
        docId,
        `Invalid value type at \`${at}[${i}][${j}]\`: expected a number, but found ${found(inner[j])}`,
      );
    }
    return Float32Array.from(inner);
  });
}

/**
 * The embeddings a document gives each configured embedder (`_vectors.NAME` as an array, an array of arrays, or
 * `{embeddings, regenerate}`; null opts out), checked against the embedder's dimensions. Embedders the document does
 * not mention are absent from the map. `_vectors` entries naming no embedder are kept in the document, unchecked.
 */
export function documentEmbeddings(
  uid: string,
  docId: string,
  vectors: unknown,
  embedders: Record<string, EmbedderConfig>,
): Map<string, DocEmbeddings> {
  const out = new Map<string, DocEmbeddings>();
  if (vectors === undefined || vectors === null) return out;
  if (!isObject(vectors))
    throw new MeiliError(
      'invalid_vectors_type',
      `Index \`${uid}\`: Invalid type for the \`_vectors\` field in the document with id: \`${docId}\`. Expected an object, but found ${found(vectors)}.`,
    );
  for (const [name, cfg] of Object.entries(embedders)) {
    if (!Object.prototype.hasOwnProperty.call(vectors, name)) continue;
    const v = vectors[name];
    const at = `._vectors.${name}`;
    let list: Float32Array[] | null;
    if (v === null) list = null;
    else if (Array.isArray(v)) list = readEmbeddings(uid, docId, v, at);
    else if (isObject(v)) {
      const o = v;
      if (!('regenerate' in o))
        throw badVectors(
          uid,
          docId,
          `Missing field \`${at}.regenerate\`\n  - note: \`${at}\` must be an array of floats, an array of arrays of floats, or an object with field \`regenerate\``,
        );
      if (typeof o.regenerate !== 'boolean')
        throw badVectors(
          uid,
          docId,
          `Could not parse \`${at}.regenerate\`: invalid type: ${typeName(o.regenerate).replace(/^an? /, '')} ${JSON.stringify(o.regenerate)}, expected a boolean`,
        );
      const e = o.embeddings;
      if (e === undefined || e === null) list = null;
      else if (!Array.isArray(e))
        throw badVectors(
          uid,
          docId,
          `Invalid value type at \`${at}.embeddings\`: expected null or an array, but found ${found(e)}`,
        );
      else list = readEmbeddings(uid, docId, e, `${at}.embeddings`);
    } else
      throw badVectors(
        uid,
        docId,
        `Invalid value type at \`${at}\`: expected an array of floats, an array of arrays of floats, or an object with field \`regenerate\`, but found ${found(v)}`,
      );
    if (list !== null)
      list.forEach((e, i) => {
        if (e.length !== cfg.dimensions)
          throw new MeiliError(
            'invalid_vector_dimensions',
            `Index \`${uid}\`: Invalid vector dimensions in document with id \`${docId}\` in \`${at}\`.\n  - note: embedding #${i} has dimensions ${e.length}\n  - note: embedder \`${name}\` requires ${cfg.dimensions}`,
          );
      });
    out.set(name, list);
  }
  return out;
}

/**
 * The error of a batch where documents give no vectors to a `userProvided` embedder (Meilisearch's
 * vector_embedding_error with its hint), or null. `missing`: the ids of those documents, in batch order, with each
 * document's `_vectors` and `_vector` fields for the hint.
 */
export function missingVectorsError(
  uid: string,
  embedder: string,
  missing: ReadonlyArray<{ id: string; vectors: unknown; hasVectorTypo: boolean }>,
): MeiliError | null {
  if (missing.length === 0) return null;
  const first = missing[0]!;
  const more = missing.length > 1 ? ` and at least ${missing.length - 1} other document(s)` : '';
  const typo = missing.filter((m) => m.hasVectorTypo).length;
  const otherKeys = missing.filter(
    (m) => m.vectors !== null && typeof m.vectors === 'object' && Object.keys(m.vectors).length > 0,
  );
  let hint = `- Hint: opt-out for a document with \`_vectors.${embedder}: null\``;
  if (typo > 0) hint = `- Hint: try replacing \`_vector\` by \`_vectors\` in ${typo} document(s).`;
  else if (otherKeys.length > 0) {
    const key = Object.keys(membersOf(otherKeys[0]!.vectors))[0]!;
    hint = `- Hint: try replacing \`_vectors.${key}\` by \`_vectors.${embedder}\` in ${otherKeys.length} document(s).`;
  }
  return new MeiliError(
    'vector_embedding_error',
    `Index \`${uid}\`: While embedding documents for embedder \`${embedder}\`: no vectors provided for document \`${first.id}\`${more}\n- Note: \`${embedder}\` has \`source: userProvided\`, so documents must provide embeddings as an array in \`_vectors.${embedder}\`.\n${hint}`,
  );
}

// ---------------------------------------------------------------- similarity

const f = Math.fround;

function dotF32(a: ArrayLike<number>, b: ArrayLike<number>): number {
  let s = 0;
  for (let i = 0; i < a.length; i++) s = f(s + f(a[i]! * b[i]!));
  return s;
}

/** ‖v‖ in f32, as the vector store keeps it beside each vector. */
export function normF32(v: ArrayLike<number>): number {
  return f(Math.sqrt(dotF32(v, v)));
}

/**
 * Cosine similarity as Meilisearch scores a vector hit: distance (1 − cos) / 2 in f32, similarity 1 − distance.
 * Zero-norm vectors have distance 0 (similarity 1), like its store.
 */
export function similarityF32(q: ArrayLike<number>, qNorm: number, v: ArrayLike<number>, vNorm: number): number {
  const pnqn = f(vNorm * qNorm);
  if (!(pnqn > 1.1920929e-7)) return 1;
  let cos = f(dotF32(v, q) / pnqn);
  if (cos > 1) cos = 1;
  else if (cos < -1) cos = -1;
  const distance = f(f(1 - cos) / 2);
  return f(1 - distance);
}

/** A semantic ratio as Meilisearch holds it (f32), and the keyword side's (1 − ratio, f32). */
export function hybridRatios(semanticRatio: number): { semantic: number; keyword: number } {
  const semantic = f(semanticRatio);
  return { semantic, keyword: f(1 - semantic) };
}

/** f64::EPSILON: Meilisearch's hybrid merge treats weighted scores this close as equal. */
export const SCORE_EPSILON = 2.220446049250313e-16;

/**
 * Compares two hits of a hybrid merge (no sort rules): weighted score desc; equal within epsilon → 0 (the merge then
 * keeps the semantic list's hit first).
 */
export function compareHybrid(a: number, b: number): number {
  if (Math.abs(a - b) <= SCORE_EPSILON) return 0;
  return b - a;
}

/** Whether a hit's `_rankingScoreDetails` came from the semantic side (it has a `vectorSort` rule). */
export function isSemanticHit(details: unknown): boolean {
  return details !== null && typeof details === 'object' && 'vectorSort' in details;
}

/** The parsed `hybrid` parameter: which embedder and ratio, null when the search has none. */
export interface HybridParam {
  embedder: string;
  semanticRatio: number;
}

export function hybridParam(query: { hybrid?: unknown }): HybridParam | null {
  if (query.hybrid === undefined || query.hybrid === null) return null;
  const h = membersOf(query.hybrid);
  return {
    embedder: stringOf(h.embedder) ?? '',
    semanticRatio: typeof h.semanticRatio === 'number' ? h.semanticRatio : 0.5,
  };
}

/**
 * What kind of search Meilisearch runs (its `search_kind`, in its order): vector without hybrid → 400; ratio 0 →
 * keyword; no q and no vector → keyword (placeholder); ratio 1 → semantic; q → hybrid; no q → semantic.
 */
export function searchKind(query: {
  q?: unknown;
  vector?: unknown;
  hybrid?: unknown;
}): 'keyword' | 'semantic' | 'hybrid' {
  const q = typeof query.q === 'string' ? query.q : null;
  const nonPlaceholder = q !== null && q.trim() !== '';
  const hasVector = query.vector !== undefined && query.vector !== null;
  const h = hybridParam(query);
  if (h === null) {
    if (hasVector)
      throw new MeiliError(
        'missing_search_hybrid',
        'Invalid request: missing `hybrid` parameter when `vector` or `media` are present.',
      );
    return 'keyword';
  }
  if (f(h.semanticRatio) === 0) return 'keyword';
  if (!nonPlaceholder && !hasVector) return 'keyword';
  if (f(h.semanticRatio) === 1) return 'semantic';
  return nonPlaceholder ? 'hybrid' : 'semantic';
}
