// core/vectors.ts: Meilisearch's similarity in f32 (its published scores), search kinds in its order, embedder
// settings (userProvided only, other sources refused naming it), `_vectors` reading with its messages, and the
// hybrid merge over shards (convex and rrf).
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { MeiliError } from '../../../src/core/errors.js';
import { mergeHybridResults } from '../../../src/core/merge.js';
import {
  applyEmbeddersPatch,
  documentEmbeddings,
  missingVectorsError,
  normF32,
  searchKind,
  similarityF32,
  validateEmbedders,
} from '../../../src/core/vectors.js';

const sim = (q: number[], v: number[]): number => {
  const qf = Float32Array.from(q);
  const vf = Float32Array.from(v);
  return similarityF32(qf, normF32(qf), vf, normF32(vf));
};

test("similarity equals Meilisearch's scores (search/hybrid.rs, search/multi/mod.rs) within 1e-12", () => {
  const cases: Array<[number[], number[], number]> = [
    [[1, 1], [1, 3], 0.9472135901451112],
    [[1, 1], [2, 3], 0.990290343761444],
    [[1, 0, 0.5], [0.8, 0.09, 0.8], 0.9728479385375975],
    [[1, 0, 0.5], [0.85, 0.02, 0.1], 0.9701486229896544],
    [[0.5, 0.5, 0.5], [0.8, 0.9, 0.5], 0.9870882034301758],
    [[-1, 0.6], [0.8, 0.3], 0.18887794017791748],
  ];
  for (const [q, v, want] of cases) assert.ok(Math.abs(sim(q, v) - want) <= 1e-12, `${q} · ${v}`);
});

test("search kinds in Meilisearch's order", () => {
  const h = (semanticRatio?: number) => ({ embedder: 'e', ...(semanticRatio === undefined ? {} : { semanticRatio }) });
  assert.equal(searchKind({ q: 'a' }), 'keyword');
  assert.equal(searchKind({ q: 'a', vector: [1], hybrid: h(0) }), 'keyword');
  assert.equal(searchKind({ hybrid: h() }), 'keyword');
  assert.equal(searchKind({ vector: [1], hybrid: h() }), 'semantic');
  assert.equal(searchKind({ q: 'a', vector: [1], hybrid: h(1) }), 'semantic');
  assert.equal(searchKind({ q: 'a', hybrid: h(0.5) }), 'hybrid');
  assert.throws(
    () => searchKind({ vector: [1] }),
    (e: MeiliError) => e.code === 'missing_search_hybrid',
  );
});

test('embedders: userProvided with dimensions; other sources refused naming userProvided; null removes', () => {
  const p = validateEmbedders({ a: { source: 'userProvided', dimensions: 3 } }, {}, '.embedders');
  assert.deepEqual(p, { a: { source: 'userProvided', dimensions: 3 } });
  assert.deepEqual(applyEmbeddersPatch(p, { a: null }), {});
  for (const source of ['openAi', 'huggingFace', 'rest', 'nope'])
    assert.throws(
      () => validateEmbedders({ a: { source, model: 'm' } }, {}, '.embedders'),
      (e: MeiliError) => e.code === 'invalid_settings_embedders' && /userProvided/.test(e.message),
    );
  assert.throws(
    () => validateEmbedders({ a: { source: 'userProvided', dimensions: 2, documentTemplate: 'x' } }, {}, '.embedders'),
    (e: MeiliError) =>
      e.message.startsWith('`.embedders.a`: Field `documentTemplate` unavailable for source `userProvided`.'),
  );
  assert.throws(
    () => validateEmbedders({ a: { source: 'userProvided' } }, {}, '.embedders'),
    /Missing field `dimensions`/,
  );
});

test("`_vectors` read with Meilisearch's codes and messages", () => {
  const emb = { manual: { source: 'userProvided' as const, dimensions: 3 } };
  const got = documentEmbeddings(
    'doggo',
    '0',
    {
      manual: [
        [1, 2, 3],
        [4, 5, 6],
      ],
      other: [1],
    },
    emb,
  );
  assert.equal(got.get('manual')!.length, 2);
  assert.equal(documentEmbeddings('doggo', '0', { manual: null }, emb).get('manual'), null);
  const err = (v: unknown) => {
    try {
      documentEmbeddings('doggo', '0', v, emb);
    } catch (e) {
      return e as MeiliError;
    }
    throw new Error('no error');
  };
  assert.deepEqual(
    [err({ manual: [0, 0] }).code, err({ manual: [0, 0] }).message],
    [
      'invalid_vector_dimensions',
      'Index `doggo`: Invalid vector dimensions in document with id `0` in `._vectors.manual`.\n  - note: embedding #0 has dimensions 2\n  - note: embedder `manual` requires 3',
    ],
  );
  assert.equal(
    err({ manual: { embeddings: [0, 0, 0] } }).message,
    'Index `doggo`: Bad embedder configuration in the document with id: `0`. Missing field `._vectors.manual.regenerate`\n  - note: `._vectors.manual` must be an array of floats, an array of arrays of floats, or an object with field `regenerate`',
  );
  assert.equal(
    err({ manual: { regenerate: false, embeddings: [0.1, [0.2, 0.3]] } }).message,
    'Index `doggo`: Bad embedder configuration in the document with id: `0`. Invalid value type at `._vectors.manual.embeddings[1]`: expected a number, but found an array: `[0.2,0.3]`',
  );
  assert.equal(
    missingVectorsError('doggo', 'manual', [
      { id: '40', vectors: undefined, hasVectorTypo: false },
      ...[41, 42, 43, 44].map((i) => ({ id: String(i), vectors: undefined, hasVectorTypo: false })),
    ])!.message,
    'Index `doggo`: While embedding documents for embedder `manual`: no vectors provided for document `40` and at least 4 other document(s)\n- Note: `manual` has `source: userProvided`, so documents must provide embeddings as an array in `_vectors.manual`.\n- Hint: opt-out for a document with `_vectors.manual: null`',
  );
});

test('hybrid merge over shards: convex weights (semantic first on a tie), good-enough keyword, rrf, paging', () => {
  const settings = {
    primaryKey: 'id',
    maxTotalHits: 1000,
    maxValuesPerFacet: 100,
    sortFacetValuesBy: { '*': 'alpha' },
    distinctAttribute: null,
  };
  const vs = (id: number, s: number) => ({ id, _rankingScore: s, _rankingScoreDetails: { vectorSort: { order: 0 } } });
  const kw = (id: number, s: number) => ({ id, _rankingScore: s, _rankingScoreDetails: { words: { order: 0 } } });
  const keyword = { hits: [kw(1, 0.9), kw(2, 0.4), kw(3, 0.2)], estimatedTotalHits: 3 };
  const semantic = { hits: [vs(2, 0.8), vs(4, 0.5), vs(1, 0.1)], estimatedTotalHits: 10 };
  const q = { q: 'x', vector: [1], hybrid: { embedder: 'e', semanticRatio: 0.5 }, showRankingScore: true };
  const r = mergeHybridResults(keyword, semantic, q, settings);
  assert.deepEqual(
    (r.hits as Array<{ id: number }>).map((h) => h.id),
    [1, 2, 4, 3],
  );
  assert.equal(r.semanticHitCount, 2);
  assert.equal(r.estimatedTotalHits, 10);
  const paged = mergeHybridResults(keyword, semantic, { ...q, offset: 1, limit: 2 }, settings);
  assert.deepEqual(
    (paged.hits as Array<{ id: number }>).map((h) => h.id),
    [2, 4],
  );
  // Every keyword hit good enough (score × (1 − ratio) ≥ 0.45 over a full window): keyword alone.
  const good = mergeHybridResults(
    { hits: [kw(1, 1), kw(2, 0.95)], estimatedTotalHits: 2 },
    semantic,
    { ...q, limit: 2 },
    settings,
  );
  assert.equal(good.semanticHitCount, 0);
  const rrf = mergeHybridResults(keyword, semantic, q, settings, { hybridMerge: { strategy: 'rrf', rrfK: 60 } });
  assert.deepEqual(
    (rrf.hits as Array<{ id: number }>).map((h) => h.id),
    [2, 1, 4, 3],
  );
});
