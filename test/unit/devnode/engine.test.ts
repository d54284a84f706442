// The dev node engine without HTTP: documents, filters, facets, sort, pagination math, relevance basics, scores.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { MeiliError } from '../../../src/core/errors.js';
import {
  createIndexEngine,
  validateSettings,
  parseSearchQuery,
  federatedSearch,
} from '../../../src/devnode/engine/index.js';

const ctx = { experimentalFeatures: {} };
function engine() {
  const e = createIndexEngine('movies', null, '2026-01-01T00:00:00Z', ctx);
  e.addDocuments(
    [
      { id: 1, title: 'The quick brown fox', genre: 'comedy', price: 10, overview: 'a fox story' },
      { id: 2, title: 'Lazy dog', genre: 'drama', price: 20, overview: 'the quick dog sleeps' },
      { id: 3, title: 'Quick', genre: 'Comedy', price: 5 },
      { id: 4, title: 'Slow turtle', genre: 'documentary', price: 30, overview: 'nothing quick here' },
      { id: 5, title: 'Brown bear', genre: ['drama', 'comedy'], price: 15 },
    ],
    { merge: false },
  );
  e.updateSettings(
    validateSettings(
      {
        filterableAttributes: ['genre', 'price'],
        sortableAttributes: ['price'],
        searchableAttributes: ['title', 'overview', 'genre'],
      },
      null,
    ),
  );
  return e;
}

const s = (raw: Record<string, unknown>) => parseSearchQuery(raw, 'json');
const ids = (res: Record<string, unknown>) => (res.hits as Array<{ id: number }>).map((h) => h.id);

test('pk inference, atomic batches, id errors', () => {
  const e = createIndexEngine('x', null, '2026-01-01T00:00:00Z', ctx);
  assert.throws(
    () => e.addDocuments([{ id: 1 }, { id: 'bad id!' }], { merge: false }),
    (err: unknown) => err instanceof MeiliError && err.code === 'invalid_document_id',
  );
  assert.equal(e.numberOfDocuments(), 0, 'nothing written');
  assert.throws(
    () => e.addDocuments([{ name: 'a' }], { merge: false }),
    (err: unknown) => err instanceof MeiliError && err.code === 'index_primary_key_no_candidate_found',
  );
  assert.throws(
    () => e.addDocuments([{ id: 1, uid: 2 }], { merge: false }),
    (err: unknown) => err instanceof MeiliError && err.code === 'index_primary_key_multiple_candidates_found',
  );
  e.addDocuments([{ sku: 'a', n: 1 }], { merge: false, primaryKey: 'sku' });
  assert.equal(e.primaryKey, 'sku');
  assert.throws(
    () => e.addDocuments([{ n: 2 }], { merge: false }),
    (err: unknown) => err instanceof MeiliError && err.code === 'missing_document_id',
  );
  e.addDocuments([{ sku: 'a', m: 2 }], { merge: true });
  assert.deepEqual(e.getDocument('a', null), { sku: 'a', n: 1, m: 2 });
});

test('relevance: typo, prefix, attribute order; ranking scores ordered; quikc finds quick, uqick does not', () => {
  const e = engine();
  const r = e.search(s({ q: 'quick', showRankingScore: true }));
  assert.deepEqual(ids(r), [3, 1, 2, 4]);
  const scores = (r.hits as Array<{ _rankingScore: number }>).map((h) => h._rankingScore);
  assert.deepEqual(
    [...scores].sort((a, b) => b - a),
    scores,
    'hits ordered by score',
  );
  assert.ok(scores[0]! > 0.95, `exact single-word title match near 1, got ${scores[0]}`);
  assert.ok(scores[0]! - scores.at(-1)! > 0.05, 'a later attribute scores visibly lower');
  assert.deepEqual(ids(e.search(s({ q: 'quikc' }))), [3, 1, 2, 4]);
  assert.deepEqual(ids(e.search(s({ q: 'uqick' }))), []);
  assert.deepEqual(ids(e.search(s({ q: 'bro' }))), [5, 1], 'prefix on the last word');
  const typo = e.search(s({ q: 'quikc', showRankingScore: true })).hits as Array<{ _rankingScore: number }>;
  assert.ok(typo[0]!._rankingScore < scores[0]!, 'a typo scores lower than the exact match');
});

test('filters, facets with stats, sort, and both pagination modes', () => {
  const e = engine();
  const r = e.search(s({ filter: 'genre = comedy', facets: ['genre', 'price'] }));
  assert.deepEqual(ids(r), [1, 3, 5]);
  assert.deepEqual(r.facetDistribution, { genre: { comedy: 3, drama: 1 }, price: { '5': 1, '10': 1, '15': 1 } });
  assert.deepEqual(r.facetStats, { price: { min: 5, max: 15 } });
  assert.deepEqual(ids(e.search(s({ sort: ['price:desc'] }))), [4, 2, 5, 1, 3]);
  const p = e.search(s({ hitsPerPage: 2, page: 2 }));
  assert.deepEqual(ids(p), [3, 4]);
  assert.equal(p.totalHits, 5);
  assert.equal(p.totalPages, 3);
  assert.equal('estimatedTotalHits' in p, false);
  const o = e.search(s({ offset: 4, limit: 10 }));
  assert.deepEqual(ids(o), [5]);
  assert.equal(o.estimatedTotalHits, 5);
  assert.throws(
    () => e.search(s({ sort: ['title:asc'] })),
    (err: unknown) => err instanceof MeiliError && err.code === 'invalid_search_sort',
  );
  assert.throws(
    () => e.search(s({ filter: 'title = x' })),
    (err: unknown) => err instanceof MeiliError && err.code === 'invalid_search_filter',
  );
  assert.throws(
    () => e.search(s({ facets: ['title'] })),
    (err: unknown) => err instanceof MeiliError && err.code === 'invalid_search_facets',
  );
});

test('federated search merges by weighted score with _federation', () => {
  const a = engine();
  const res = federatedSearch(
    [
      { index: a, query: s({ q: 'dog' }), weight: 1, queryPosition: 0 },
      { index: a, query: s({ q: 'quick' }), weight: 2, queryPosition: 1 },
    ],
    { limit: 3 },
  );
  const hits = res.hits as Array<{
    id: number;
    _federation: { queriesPosition: number; weightedRankingScore: number };
  }>;
  assert.equal(hits.length, 3);
  assert.equal(hits[0]!._federation.queriesPosition, 1, 'the doubled weight wins');
  assert.ok(
    hits.every(
      (h, i) => i === 0 || hits[i - 1]!._federation.weightedRankingScore >= h._federation.weightedRankingScore,
    ),
  );
});
