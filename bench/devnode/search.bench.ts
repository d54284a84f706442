// Benchmarks the dev node's text relevance: search over 100,000 small documents (exact, two words, typo,
// prefix, placeholder) and indexing 10,000 documents. Run: `npx tsx bench/devnode/search.bench.ts` or compiled.
import Benchmark from 'benchmark';
import {
  TextIndex,
  defaultRelevanceConfig,
  rank,
  type RankRequest,
  type RelevanceConfig,
} from '../../src/devnode/engine/relevance/index.js';

const CONFIG: RelevanceConfig = defaultRelevanceConfig({
  searchableAttributes: ['title', 'overview', 'genre'],
  sortableAttributes: ['year'],
});

// Deterministic corpus: 2,000 pseudo-words, Zipf-ish picks, 3-word titles and 12-word overviews.
let seed = 42;
const rnd = () => (seed = (seed * 1103515245 + 12345) & 0x7fffffff) / 0x7fffffff;
const LETTERS = 'abcdefghijklmnopqrstuvwxyz';
const VOCAB = Array.from({ length: 2000 }, () =>
  Array.from({ length: 4 + Math.floor(rnd() * 6) }, () => LETTERS[Math.floor(rnd() * 26)]).join(''),
);
VOCAB[0] = 'quick';
VOCAB[1] = 'brown';
VOCAB[2] = 'adventure';
const pick = () => VOCAB[Math.floor(VOCAB.length * rnd() ** 2)]!;
const words = (n: number) => Array.from({ length: n }, pick).join(' ');
const GENRES = ['drama', 'comedy', 'action', 'horror', 'documentary'];

function makeDocs(n: number): Array<Record<string, unknown>> {
  return Array.from({ length: n }, (_, i) => ({
    id: i,
    title: words(3),
    overview: words(12),
    genre: GENRES[i % GENRES.length],
    year: 1950 + ((i * 7919) % 75),
  }));
}

const docs100k = makeDocs(100_000);
const docs10k = makeDocs(10_000);

let t = performance.now();
const big = new TextIndex(CONFIG);
docs100k.forEach((d, i) => big.add(i, d));
console.log(`indexed 100,000 docs once in ${(performance.now() - t).toFixed(0)} ms`);

const req = (q: string | null, sort: RankRequest['sort'] = null): RankRequest => ({
  q,
  matchingStrategy: 'last',
  attributesToSearchOn: null,
  candidates: null,
  sort,
  getValue: (id, f) => docs100k[id]![f],
  distinct: null,
  limit: 20,
  rankingScoreThreshold: null,
  withDetails: false,
});

const queries: Array<[string, string | null, RankRequest['sort']?]> = [
  ['one rare word', VOCAB[1500]!],
  ['one frequent word ("quick")', 'quick'],
  ['two words ("quick brown")', 'quick brown'],
  ['typo ("adventrue")', 'adventrue'],
  ['prefix ("adv")', 'adv'],
  ['placeholder (q null)', null],
  ['frequent word sorted by year desc', 'quick', [{ field: 'year', direction: 'desc' }]],
];
for (const [name, q, sort] of queries) {
  t = performance.now();
  const r = rank(big, req(q, sort));
  console.log(`  ${name}: ${r.totalMatches} matches, first run ${(performance.now() - t).toFixed(1)} ms`);
}

const suite = new Benchmark.Suite('devnode relevance');
for (const [name, q, sort] of queries) suite.add(`search 100k docs: ${name}`, () => void rank(big, req(q, sort)));
suite.add('index 10,000 docs', () => {
  const idx = new TextIndex(CONFIG);
  for (let i = 0; i < docs10k.length; i++) idx.add(i, docs10k[i]!);
});
suite
  .on('cycle', (e: Benchmark.Event) => {
    const b = e.target as unknown as Benchmark;
    const ms = (1000 / (b.hz ?? 1)).toFixed(2);
    console.log(`${String(b)}  → ${ms} ms/op`);
  })
  .run({ async: false });
