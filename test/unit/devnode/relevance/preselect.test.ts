// The postings pre-selection (preselect.ts) must not change a result: for random corpora, queries, rule orders,
// matching strategies, filters and limits, ranking with it gives the same hits, scores, details and totals as
// ranking every match in full; placeholder searches with sort rules likewise.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import {
  TextIndex,
  defaultRelevanceConfig,
  rank,
  type RankRequest,
  type RelevanceConfig,
} from '../../../../src/devnode/engine/relevance/index.js';

let seed = 7;
const rnd = () => (seed = (seed * 1103515245 + 12345) & 0x7fffffff) / 0x7fffffff;
const VOCAB = [
  'quick',
  'quack',
  'quicker',
  'brown',
  'brwn',
  'fox',
  'foxes',
  'jumps',
  'lazy',
  'dog',
  'dogs',
  'adventure',
  'adventurer',
  'blue',
  'house',
  'horse',
];
const pick = () => VOCAB[Math.floor(VOCAB.length * rnd() ** 1.5)]!;
const phrase = (n: number) => Array.from({ length: n }, pick).join(' ');

const RULE_SETS: string[][] = [
  ['words', 'typo', 'proximity', 'attributeRank', 'sort', 'wordPosition', 'exactness'],
  ['typo', 'words', 'attributeRank', 'wordPosition', 'proximity', 'exactness'],
  ['attribute', 'words', 'exactness', 'typo'],
  ['wordPosition', 'attributeRank', 'words', 'typo', 'rank:desc'],
  ['exactness', 'words', 'typo'],
  ['rank:asc', 'words', 'typo', 'proximity'],
];
const QUERIES = [
  null,
  'quick',
  'quick brown',
  'qui',
  'quikc fox',
  'brown fox dog',
  'adventrue',
  'dog lazy qu',
  'horse house blue fox jumps',
  'zzz',
  'fox zzz',
];

function config(rankingRules: string[]): RelevanceConfig {
  return defaultRelevanceConfig({
    searchableAttributes: ['title', 'tags', 'body'],
    rankingRules,
    sortableAttributes: ['rank', 'multi'],
  });
}

test('pre-selection from postings ranks exactly like full ranking', () => {
  const docs = Array.from({ length: 400 }, (_, i) => ({
    id: i,
    title: phrase(1 + Math.floor(rnd() * 3)),
    tags: [phrase(1), phrase(2)],
    body: phrase(4 + Math.floor(rnd() * 10)),
    rank: Math.floor(rnd() * 20),
    // Arrays (sorted by their max descending), missing values (last) and strings after numbers.
    multi: i % 7 === 0 ? undefined : i % 5 === 0 ? `s${i % 3}` : [Math.floor(rnd() * 5), Math.floor(rnd() * 5)],
  }));
  let compared = 0;
  for (const rules of RULE_SETS) {
    const idx = new TextIndex(config(rules));
    docs.forEach((d, i) => idx.add(i * 3, d)); // sparse ids, as after updates
    idx.remove(3); // and one removed document
    const get = (id: number, field: string) => (docs[id / 3] as Record<string, unknown>)[field];
    for (const q of QUERIES) {
      for (const matchingStrategy of ['last', 'all', 'frequency'] as const) {
        for (const limit of [0, 1, 7, 50, 1000]) {
          const candidates = limit === 7 ? new Set(docs.map((_, i) => i * 3).filter((id) => id % 2 === 0)) : null;
          const req: RankRequest = {
            q,
            matchingStrategy,
            attributesToSearchOn: null,
            candidates,
            sort:
              limit === 50
                ? [
                    { field: 'multi', direction: 'desc' },
                    { field: 'rank', direction: 'asc' },
                  ]
                : [{ field: 'rank', direction: 'asc' }],
            getValue: get,
            distinct: null,
            limit,
            rankingScoreThreshold: null,
            withDetails: true,
          };
          const fast = rank(idx, req);
          // Full ranking: a threshold of 0 keeps every document but takes the full path; a placeholder search is
          // forced there with a distinct attribute that is unique per document (it removes nothing).
          const full = rank(idx, q === null ? { ...req, distinct: 'id' } : { ...req, rankingScoreThreshold: 0 });
          const where = `${rules.join(',')} q=${q} ${matchingStrategy} limit=${limit}`;
          assert.deepEqual(fast.hits, full.hits, where);
          assert.equal(fast.totalMatches, full.totalMatches, where);
          assert.deepEqual(
            [...fast.matchedDocIds].sort((a, b) => a - b),
            [...full.matchedDocIds].sort((a, b) => a - b),
            where,
          );
          compared++;
        }
      }
    }
  }
  assert.equal(compared, RULE_SETS.length * QUERIES.length * 3 * 5);
});
