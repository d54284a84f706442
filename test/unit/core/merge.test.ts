// The merger against the dev node engine: the same corpus in one index and split over three "shards"; merging the
// shard answers must give one index's answer (order, paging, facets, totals, stripping, distinct) up to ties.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { mergeSearchResults, mergeFacets, type MergeQuery } from '../../../src/core/merge.js';
import { shardForKey } from '../../../src/core/hash.js';
import { createIndexEngine, parseSearchQuery, validateSettings } from '../../../src/devnode/engine/index.js';

const ctx = { experimentalFeatures: {} };
const colors = ['red', 'green', 'blue'];
const words = ['alpha', 'bravo', 'charlie', 'delta', 'echo', 'foxtrot', 'golf', 'hotel'];
const docs = Array.from({ length: 300 }, (_, i) => ({
  id: i,
  title: `${words[i % 8]} ${words[(i * 3) % 8]} item ${i}`,
  color: colors[i % 3],
  price: (i * 37) % 101,
  brand: `b${i % 7}`,
}));
const settings = {
  filterableAttributes: ['color', 'price', 'brand'],
  sortableAttributes: ['price'],
  searchableAttributes: ['title'],
};

function build(list: typeof docs) {
  const e = createIndexEngine('x', 'id', '2026-01-01T00:00:00Z', ctx);
  e.updateSettings(validateSettings(settings, null));
  e.addDocuments(list, { merge: false });
  return e;
}

const whole = build(docs);
const shards = [0, 1, 2].map((s) => build(docs.filter((d) => shardForKey(String(d.id), 3) === s)));
const mergeSettings = {
  primaryKey: 'id',
  maxTotalHits: 1000,
  maxValuesPerFacet: 100,
  sortFacetValuesBy: { '*': 'alpha' },
  distinctAttribute: null,
};

function viaShards(q: MergeQuery & Record<string, unknown>) {
  const w =
    q.page !== undefined || q.hitsPerPage !== undefined
      ? { offset: 0, limit: ((q.page ?? 1) as number) * ((q.hitsPerPage ?? 20) as number) }
      : { offset: 0, limit: ((q.offset ?? 0) as number) + ((q.limit ?? 20) as number) };
  const nodeQuery = { ...q, ...w, showRankingScore: true, ...(q.sort ? { showRankingScoreDetails: true } : {}) };
  delete (nodeQuery as Record<string, unknown>).page;
  delete (nodeQuery as Record<string, unknown>).hitsPerPage;
  const answers = shards.map((s) => s.search(parseSearchQuery(nodeQuery, 'json')));
  return mergeSearchResults(answers, q, mergeSettings);
}

/** Scores (and sort values) per position must match; ids may differ only inside groups of equal keys. */
function sameUpToTies(
  a: Array<Record<string, unknown>>,
  b: Array<Record<string, unknown>>,
  key: (h: Record<string, unknown>) => string,
) {
  assert.equal(a.length, b.length);
  assert.deepEqual(a.map(key), b.map(key));
}

test('relevancy order, offset/limit paging, totals and score stripping equal one index', () => {
  for (const q of ['alpha', 'bravo charlie', 'item', 'golf hotl', 'ech']) {
    for (const [offset, limit] of [
      [0, 20],
      [10, 15],
      [40, 30],
    ] as const) {
      const one = whole.search(parseSearchQuery({ q, offset, limit, showRankingScore: true }, 'json'));
      const many = viaShards({ q, offset, limit, showRankingScore: true });
      sameUpToTies(one.hits as never, many.hits as never, (h) => String(h._rankingScore));
      assert.equal(many.estimatedTotalHits, one.estimatedTotalHits, `totals for ${q}`);
      const plain = viaShards({ q, offset, limit });
      assert.ok(
        (plain.hits as Array<Record<string, unknown>>).every((h) => !('_rankingScore' in h)),
        'scores stripped when not asked',
      );
    }
  }
});

test('sort merges rule by rule; page mode; facets and stats sum like one index', () => {
  const q = {
    q: 'item',
    sort: ['price:desc'],
    filter: 'color != green',
    facets: ['color', 'price', 'brand'],
    hitsPerPage: 7,
    page: 3,
  };
  const one = whole.search(parseSearchQuery(q, 'json'));
  const many = viaShards(q as never);
  sameUpToTies(one.hits as never, many.hits as never, (h) => `${h.price}`);
  assert.equal(many.totalHits, one.totalHits);
  assert.equal(many.totalPages, one.totalPages);
  assert.deepEqual(many.facetDistribution, one.facetDistribution);
  assert.deepEqual(many.facetStats, one.facetStats);
  const pages = [1, 2, 3, 4, 5].flatMap(
    (page) => viaShards({ q: 'item', limit: 10, offset: (page - 1) * 10 }).hits as Array<{ id: number }>,
  );
  const fifty = viaShards({ q: 'item', limit: 50 }).hits as Array<{ id: number }>;
  assert.deepEqual(
    pages.map((h) => h.id),
    fifty.map((h) => h.id),
    '5 pages of 10 concatenate to limit=50',
  );
  assert.equal(new Set(fifty.map((h) => h.id)).size, 50, 'no duplicates');
});

test('facet merge: a value on one shard only, the maxValuesPerFacet cut, count order', () => {
  const merged = mergeFacets(
    [{ c: { red: 3, blue: 1 } }, { c: { red: 2, green: 9 } }, { c: { zebra: 1 } }],
    new Set(),
    { maxValuesPerFacet: 3, sortFacetValuesBy: { '*': 'alpha' } },
  );
  assert.deepEqual(merged, { c: { blue: 1, green: 9, red: 5 } });
  const byCount = mergeFacets([{ c: { red: 3, blue: 1 } }, { c: { red: 2, green: 9 } }], new Set(), {
    maxValuesPerFacet: 2,
    sortFacetValuesBy: { c: 'count' },
  });
  assert.deepEqual(Object.entries(byCount.c!), [
    ['green', 9],
    ['red', 5],
  ]);
  const numeric = mergeFacets([{ p: { '10': 1, '9': 1, a: 1 } }], new Set(['p']), {
    maxValuesPerFacet: 10,
    sortFacetValuesBy: { '*': 'alpha' },
  });
  assert.deepEqual(Object.keys(numeric.p!), ['9', '10', 'a'], 'numbers first, numerically');
});

test('distinct is re-applied after merging and reserved/added fields are stripped', () => {
  const answers = [
    {
      hits: [
        { id: 1, brand: 'x', _rankingScore: 0.9, _miroir_shard: 0, extra: 1 },
        { id: 3, brand: 'y', _rankingScore: 0.5, _miroir_shard: 0, extra: 1 },
      ],
      estimatedTotalHits: 2,
      processingTimeMs: 3,
    },
    {
      hits: [{ id: 2, brand: 'x', _rankingScore: 0.8, _miroir_shard: 1, extra: 1 }],
      estimatedTotalHits: 1,
      processingTimeMs: 7,
    },
  ];
  const res = mergeSearchResults(answers, { q: 'z', distinct: 'brand' }, mergeSettings, { addedFields: ['extra'] });
  assert.deepEqual(res.hits, [
    { id: 1, brand: 'x' },
    { id: 3, brand: 'y' },
  ]);
  assert.equal(res.estimatedTotalHits, 2);
  assert.equal(res.processingTimeMs, 7);
});
