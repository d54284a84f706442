// Relevance module against TextIndex/rank directly: hand-computed mixed-radix scores, matching rules,
// matching strategies, ranking-rule order, distinct, threshold, formatting and facet-value matching.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import {
  TextIndex,
  defaultRelevanceConfig,
  facetValueMatches,
  formatHit,
  rank,
  type RankRequest,
  type RelevanceConfig,
} from '../../../../src/devnode/engine/relevance/index.js';

const DEFAULT_RULES = ['words', 'typo', 'proximity', 'attributeRank', 'sort', 'wordPosition', 'exactness'];

function config(over: Partial<RelevanceConfig> = {}): RelevanceConfig {
  return defaultRelevanceConfig({ searchableAttributes: ['title', 'body'], rankingRules: DEFAULT_RULES, ...over });
}

function build(docs: Array<Record<string, unknown>>, over: Partial<RelevanceConfig> = {}) {
  const idx = new TextIndex(config(over));
  docs.forEach((d, i) => idx.add(i, d));
  const get = (id: number, field: string) =>
    field.split('.').reduce<unknown>((v, k) => (v as Record<string, unknown> | undefined)?.[k], docs[id]);
  const search = (q: string | null, r: Partial<RankRequest> = {}) =>
    rank(idx, {
      q,
      matchingStrategy: 'last',
      attributesToSearchOn: null,
      candidates: null,
      sort: null,
      getValue: get,
      distinct: null,
      limit: 100,
      rankingScoreThreshold: null,
      withDetails: true,
      ...r,
    });
  return { idx, search };
}

const ids = (res: ReturnType<typeof rank>) => res.hits.map((h) => h.docId);
const scoreOf = (res: ReturnType<typeof rank>, id: number) => res.hits.find((h) => h.docId === id)?.score;
const close = (a: number | undefined, b: number) =>
  assert.ok(a !== undefined && Math.abs(a - b) < 1e-9, `${a} != ${b}`);

const CORPUS = [
  { title: 'quick brown fox', body: 'jumps' }, // 0: exact, first attribute, position 0, matches start
  { title: 'lazy dog', body: 'quick' }, // 1: later attribute, exact match of the whole field
  { title: 'slow turtle', body: 'nothing' }, // 2: no match
];

// Mixed radix: start {1,1}; each rule {r,m}: rank = (rank-1)·m + r, max = max·m.
// Query "quick" (5 letters: 1 typo allowed, so typo max = 2; searchable attributes A = 2).
test('exact one-word match in the first attribute scores near 1: 131/132', () => {
  const { search } = build(CORPUS);
  const res = search('quick');
  assert.deepEqual(ids(res), [0, 1]);
  // words 1/1 → 1/1; typo 2/2 → 2/2; proximity 1/1 → 2/2; attributeRank 2/2 → 4/4; wordPosition 11/11 → 44/44;
  // exactness matchesStart 2/3 → 131/132.
  close(scoreOf(res, 0), 131 / 132);
  // doc 1: attributeRank 1/2 → 3/4; wordPosition 11/11 → 33/44; exactness exactMatch 3/3 → 99/132 = 0.75.
  close(scoreOf(res, 1), 99 / 132);
  assert.equal(res.totalMatches, 2);
});

test('a typo scores visibly lower: quikc → 127/264; uqick finds nothing', () => {
  const { search } = build(CORPUS);
  const res = search('quikc');
  assert.deepEqual(ids(res), [0, 1]);
  // (no sort parameter: the sort rule is skipped and takes no order.) typo 1/2 → 1/2; proximity → 1/2; attributeRank 2/2 → 2/4; wordPosition → 22/44; exactness = ExactAttribute
  // noExactMatch {1,3} then ExactWords {0+1, 1+1} = {1,6} → (22−1)·6+1 = 127 over 264.
  close(scoreOf(res, 0), 127 / 264);
  const d = res.hits[0]!.details!;
  assert.deepEqual(d.typo, { order: 1, typoCount: 1, maxTypoCount: 1, score: 0.5 });
  assert.deepEqual(d.exactness, {
    order: 5,
    matchType: 'noExactMatch',
    matchingWords: 0,
    maxMatchingWords: 1,
    score: 1 / 6,
  });
  assert.equal(search('uqick').totalMatches, 0, 'a 5-letter word may not change its first letter');
  assert.equal(search('quicj').totalMatches, 2, 'substitution is one typo');
  assert.equal(search('qick').totalMatches, 0, '4 letters: no typo allowed');
});

test('prefix on the last word: "qui" → 259/264', () => {
  const { search } = build(CORPUS);
  const res = search('qui');
  assert.deepEqual(ids(res), [0, 1]);
  // 3 letters: no typo allowed, but milli's typo max is still 1 (a split word counts as one) → typo {2,2};
  // attributeRank {2,2}; wordPosition 11/11 → 44/44; "qui" is no indexed word: noExactMatch with 0 exact words
  // {1,6} → (44−1)·6+1 = 259 over 264.
  close(scoreOf(res, 0), 259 / 264);
  assert.equal(search('qui fox').totalMatches, 0, 'a non-last word is not a prefix (and `last` keeps the first word)');
  assert.equal(search('fox qui').totalMatches, 1);
});

test('a missing word halves the score under words: "quick zebra" → 131/264', () => {
  const { search } = build(CORPUS);
  const res = search('quick zebra');
  assert.deepEqual(ids(res), [0, 1]);
  // words 1/2; the rest as for "quick" alone: rank (1-1)·132 + 131 over 2·132.
  close(scoreOf(res, 0), 131 / 264);
  assert.deepEqual(res.hits[0]!.details!.words, { order: 0, matchingWords: 1, maxMatchingWords: 2, score: 0.5 });
});

test('proximity: adjacent words beat distant ones; exact both-words match', () => {
  const { search } = build([{ title: 'brown quick' }, { title: 'quick brown' }, { title: 'quick a b c brown' }]);
  const res = search('quick brown');
  assert.deepEqual(ids(res), [1, 0, 2]);
  const p = (id: number) => res.hits.find((h) => h.docId === id)!.details!.proximity!.score as number;
  assert.equal(p(1), 1);
  assert.ok(p(0) < 1 && p(2) < p(0));
  assert.equal(res.hits[0]!.details!.exactness!.matchType, 'exactMatch');
});

test('rankingScoreThreshold: 0.9 keeps the strong match, 0.95 drops the weaker one; totals follow', () => {
  const { search } = build([{ title: 'quick' }, { title: 'a b c d e quick' }]);
  const all = search('quick');
  assert.ok(all.hits[0]!.score > 0.9);
  // wordPosition at position 5 costs 3 (8/11), noExactMatch but "quick" present exactly (ExactWords {2,2}):
  // ((3·11+8)−1)·6+2 = 242 over 264.
  close(all.hits[1]!.score, 242 / 264);
  assert.deepEqual(all.hits[1]!.details!.exactness, {
    order: 5,
    matchType: 'noExactMatch',
    matchingWords: 1,
    maxMatchingWords: 1,
    score: 2 / 6,
  });
  assert.deepEqual(all.hits[0]!.details!.exactness, { order: 5, matchType: 'exactMatch', score: 1 });
  assert.equal(search('quick', { rankingScoreThreshold: 0.9 }).totalMatches, 2);
  const strict = search('quick', { rankingScoreThreshold: 0.95 });
  assert.deepEqual(ids(strict), [0]);
  assert.equal(strict.totalMatches, 1);
});

test('details keys follow rule order, sort rules carry value and no score', () => {
  const docs = [
    { title: 'quick', price: 30 },
    { title: 'quick', price: 10 },
    { title: 'quick' },
    { title: 'quikc fox', price: 1 },
  ];
  const { search } = build(docs, {
    rankingRules: ['words', 'sort', 'typo', 'attributeRank', 'exactness', 'proximity', 'wordPosition'],
  });
  const res = search('quick', { sort: [{ field: 'price', direction: 'asc' }] });
  // sort sits after words and before typo: price decides before the typo in doc 3; missing price last.
  assert.deepEqual(ids(res), [3, 1, 0, 2]);
  assert.deepEqual(Object.keys(res.hits[0]!.details!), [
    'words',
    'price:asc',
    'typo',
    'attributeRank',
    'exactness',
    'proximity',
    'wordPosition',
  ]);
  assert.deepEqual(res.hits[0]!.details!['price:asc'], { order: 1, value: 1 });
  assert.deepEqual(res.hits[3]!.details!['price:asc'], { order: 1, value: null });
  assert.deepEqual(res.hits[0]!.details!.words!.order, 0);
  assert.deepEqual(res.hits[0]!.details!.wordPosition!.order, 6);
});

test('custom attr:desc rule and legacy "attribute"; placeholder search keeps docId order with score 1', () => {
  const docs = [
    { title: 'a', n: 1 },
    { title: 'a', n: 3 },
    { title: 'a', n: 2 },
  ];
  const { search } = build(docs, { rankingRules: ['words', 'attribute', 'n:desc'] });
  assert.deepEqual(ids(search('a')), [1, 2, 0]);
  // legacy `attribute`: one unified rule = attributeRank merged with wordPosition
  assert.deepEqual(search('a').hits[0]!.details!.attribute, {
    order: 1,
    attributeRankingOrderScore: 1,
    queryWordDistanceScore: 1,
    score: 1,
  });
  const ph = search(null);
  assert.deepEqual(ids(ph), [1, 2, 0], 'custom rule orders the placeholder search');
  assert.ok(ph.hits.every((h) => h.score === 1));
  const plain = build(docs).search('', { candidates: new Set([2, 0]) });
  assert.deepEqual(ids(plain), [0, 2]);
});

test('hits order equals _rankingScore order for plain relevancy', () => {
  const docs = [
    { title: 'the lazy dog', body: 'quick brown' },
    { title: 'brown', body: 'quick' },
    { title: 'quikc brown fox' },
    { title: 'quick brown' },
    { title: 'quickly browned' },
    { body: 'a b c quick d e f g h brown' },
  ];
  const { search } = build(docs);
  for (const q of ['quick brown', 'quick', 'brown', 'quick bro']) {
    const res = search(q);
    const scores = res.hits.map((h) => h.score);
    assert.deepEqual(
      scores,
      [...scores].sort((a, b) => b - a),
      q,
    );
  }
});

test('matching strategies: last, all, frequency', () => {
  const docs = [
    { title: 'apple banana cherry' },
    { title: 'apple banana' },
    { title: 'apple' },
    { title: 'banana cherry' },
    { title: 'cherry' },
  ];
  const { search } = build(docs);
  assert.deepEqual(ids(search('apple banana cherry')), [0, 1, 2]);
  assert.deepEqual(ids(search('apple banana cherry', { matchingStrategy: 'all' })), [0]);
  // frequency drops the most frequent words first: apple/banana/cherry each occur in 3 docs → ties keep query order
  const { search: s2 } = build([{ title: 'the cat' }, { title: 'the dog' }, { title: 'the bird' }, { title: 'cat' }]);
  const res = s2('the cat', { matchingStrategy: 'frequency' });
  assert.deepEqual(ids(res).sort(), [0, 3], '"the" (frequent) is dropped, "cat" (rare) stays');
  assert.deepEqual(ids(s2('the cat', { matchingStrategy: 'last' })), [0, 1, 2], 'last drops "cat" and keeps "the"');
});

test('synonyms are directional, multi-word synonyms match; stop words are ignored in queries', () => {
  const docs = [{ title: 'great movie' }, { title: 'nice film' }, { title: 'new york city' }];
  const { search } = build(docs, { synonyms: { great: ['nice'], nyc: ['new york'] }, stopWords: ['the'] });
  assert.deepEqual(ids(search('great')), [0, 1]);
  assert.deepEqual(ids(search('nice')), [1], 'one-way synonym');
  assert.deepEqual(ids(search('nyc')), [2]);
  assert.deepEqual(ids(search('the movie')), [0]);
  assert.deepEqual(search('the movie').hits[0]!.details!.words, {
    order: 0,
    matchingWords: 1,
    maxMatchingWords: 1,
    score: 1,
  });
});

test('a query phrase that is a multi-word synonym key matches its alternatives', () => {
  const docs = [
    { title: 'nyc pizza' },
    { title: 'new york bagel' },
    { title: 'york minster' },
    { title: 'brand new car' },
  ];
  const { search } = build(docs, { synonyms: { 'new york': ['nyc'] } });
  const res = search('new york');
  assert.deepEqual(ids(res).slice(0, 2).sort(), [0, 1], 'the phrase finds `nyc` and `new york` first');
  assert.deepEqual(ids(res).slice(2), [3], '`last` then keeps `new` alone; a lone `york` matches nothing');
  const nyc = res.hits.find((h) => h.docId === 0)!;
  assert.deepEqual(
    nyc.details!.words,
    { order: 0, matchingWords: 2, maxMatchingWords: 2, score: 1 },
    'the alternative stands for every word of the phrase',
  );
  assert.equal(nyc.details!.typo.typoCount, 0);
  assert.deepEqual(ids(search('nyc')), [0], 'directional: `nyc` does not become `new york`');
  assert.deepEqual(ids(search('new york', { matchingStrategy: 'all' })).sort(), [0, 1]);
});

test('typo settings: disabled, disableOnWords, disableOnNumbers, minWordSizeForTypos; diacritics fold', () => {
  const docs = [{ title: 'Crème brûlée' }, { title: 'quick' }, { title: 'code 123456' }];
  const off = build(docs, {
    typoTolerance: {
      enabled: false,
      minWordSizeForTypos: { oneTypo: 5, twoTypos: 9 },
      disableOnWords: [],
      disableOnAttributes: [],
      disableOnNumbers: false,
    },
  });
  assert.equal(off.search('quikc').totalMatches, 0);
  const on = build(docs);
  assert.deepEqual(ids(on.search('creme brulee')), [0]);
  assert.deepEqual(ids(on.search('123457')), [2]);
  const words = build(docs, {
    typoTolerance: {
      enabled: true,
      minWordSizeForTypos: { oneTypo: 5, twoTypos: 9 },
      disableOnWords: ['quikc'],
      disableOnAttributes: [],
      disableOnNumbers: true,
    },
  });
  assert.equal(words.search('quikc').totalMatches, 0);
  assert.equal(words.search('123457').totalMatches, 0);
  const small = build(docs, {
    typoTolerance: {
      enabled: true,
      minWordSizeForTypos: { oneTypo: 3, twoTypos: 4 },
      disableOnWords: [],
      disableOnAttributes: [],
      disableOnNumbers: false,
    },
  });
  assert.deepEqual(ids(small.search('uqick')), [1], 'with two typos allowed a first-letter swap costs both');
});

test('searchableAttributes ["*"] in first-seen order with nested fields; attributesToSearchOn restricts', () => {
  const docs = [{ info: { name: 'zeta' }, tag: 'alpha' }, { tag: 'zeta' }];
  const { search } = build(docs, { searchableAttributes: ['*'] });
  const res = search('zeta');
  assert.deepEqual(ids(res), [0, 1], 'info (first seen) ranks before tag');
  assert.equal(res.hits[0]!.details!.attributeRank!.score, 1);
  assert.deepEqual(ids(search('zeta', { attributesToSearchOn: ['tag'] })), [1]);
});

test('distinct keeps the best hit per value and every doc without the attribute', () => {
  const docs = [
    { title: 'quick', g: 'a' },
    { title: 'quick fox', g: 'a' },
    { title: 'quick' },
    { title: 'quick dog' },
    { title: 'quick', g: 'b' },
  ];
  const { search } = build(docs);
  const res = search('quick', { distinct: 'g' });
  assert.deepEqual(ids(res), [0, 2, 4, 3]);
  assert.equal(res.totalMatches, 4);
  assert.deepEqual([...res.matchedDocIds].sort(), [0, 2, 3, 4]);
  assert.equal(search('quick', { limit: 1 }).hits.length, 1);
  assert.equal(search('quick', { limit: 1 }).totalMatches, 5);
});

test('remove and setConfig re-index', () => {
  const { idx, search } = build(CORPUS);
  idx.remove(0);
  assert.deepEqual(ids(search('quick')), [1]);
  idx.setConfig(config({ searchableAttributes: ['title'] }));
  assert.equal(search('quick').totalMatches, 0);
  idx.clear();
  assert.equal(search(null).totalMatches, 0);
});

test('formatHit: highlight, crop, matchesPosition with byte offsets and array indices', () => {
  const { idx } = build(
    [{ title: 'Crème quick', body: 'one two three quick four five six seven', tags: ['x', 'quick'], n: 5 }],
    { searchableAttributes: ['title', 'body', 'tags'] },
  );
  const doc = { title: 'Crème quick', body: 'one two three quick four five six seven', tags: ['x', 'quick'], n: 5 };
  const parts = formatHit(idx, doc, {
    q: 'quick',
    attributesToHighlight: ['*'],
    attributesToCrop: ['body:3'],
    cropLength: 10,
    cropMarker: '…',
    highlightPreTag: '<em>',
    highlightPostTag: '</em>',
    showMatchesPosition: true,
    displayed: null,
    retrieve: null,
  });
  assert.equal(parts._formatted!.title, 'Crème <em>quick</em>');
  assert.equal(parts._formatted!.body, '…three <em>quick</em> four…');
  assert.deepEqual(parts._formatted!.tags, ['x', '<em>quick</em>']);
  assert.equal(parts._formatted!.n, '5');
  assert.deepEqual(parts._matchesPosition!.title, [{ start: 7, length: 5 }], 'è is two bytes');
  assert.deepEqual(parts._matchesPosition!.tags, [{ start: 0, length: 5, indices: [1] }]);
});

test('facetValueMatches: prefix with typos', () => {
  const typo = config().typoTolerance;
  assert.ok(facetValueMatches('com', 'Comedy', typo));
  assert.ok(facetValueMatches('comdey', 'Comedy', typo));
  assert.ok(!facetValueMatches('xyz', 'Comedy', typo));
  assert.ok(!facetValueMatches('omedy', 'Comedy', typo), 'first letter change needs two typos');
  assert.ok(facetValueMatches('sci', 'Science Fiction', typo));
});

test('disableOnAttributes: no typos in those fields, exact words still match', () => {
  const docs = [{ title: 'quick' }, { body: 'quick' }];
  const typoTolerance = {
    enabled: true,
    minWordSizeForTypos: { oneTypo: 5, twoTypos: 9 },
    disableOnWords: [],
    disableOnAttributes: ['body'],
    disableOnNumbers: false,
  };
  const { search } = build(docs, { typoTolerance });
  assert.deepEqual(ids(search('quikc')), [0]);
  assert.deepEqual(ids(search('quick')), [0, 1]);
});

test('tokenization: dictionary, separatorTokens, nonSeparatorTokens', () => {
  const docs = [{ title: 'J. R. R. Tolkien' }, { title: 'C# and F#' }, { title: 'alpha|beta' }];
  const { search } = build(docs, { dictionary: ['J. R. R.'], nonSeparatorTokens: ['#'], separatorTokens: ['|'] });
  assert.deepEqual(ids(search('j. r. r. tolkien', { matchingStrategy: 'all' })), [0]);
  assert.equal(search('r', { matchingStrategy: 'all' }).totalMatches, 0, 'the dictionary entry is one word');
  assert.deepEqual(ids(search('c#')), [1]);
  assert.deepEqual(ids(search('beta')), [2]);
});
