// Ranking like Meilisearch's bucket sort: every relevancy rule yields Rank{rank, max} per document, documents are
// ordered rule by rule in `rankingRules` order (sort and custom `attr:asc|desc` rules in their place), ties by
// insertion order. `_rankingScore` merges the ranks lexicographically as a mixed-radix number (meili-api.md §4):
// start {1,1}; merge(outer, inner) = {(outer.rank-1)·inner.max + inner.rank, outer.max·inner.max}; score =
// rank/max. So an earlier rule always dominates a later one. Each rule is one of milli's graph rules, where
// max = 1 + the costliest path and rank = max − the document's cost; for the kept query terms M (k of them):
//   words         rank = k, max = number of query terms (absent with matchingStrategy `all`; inserted before the
//                 first other relevancy rule when the settings do not list it)
//   typo          cost = Σ typos, path max = Σ max(1, typos the term may have)
//   proximity     cost per pair of terms adjacent in the query = left→right distance d: d − 1, right→left: d,
//                 both capped at 3 (only within one field); path max 3 per pair
//   attributeRank cost = Σ per term the lowest weight of a field holding it (weight = index in searchableAttributes,
//                 0 for every field with `["*"]`), path max = k · (searchable count − 1)
//   wordPosition  cost = Σ per term costFromDistance(|bucketed position − the term's query position|), max 10 each
//   attribute     (legacy) attributeRank then wordPosition, details key `attribute`
//   exactness     ExactAttribute {3 exactMatch / 2 matchesStart / 1 noExactMatch, 3} then ExactWords
//                 {exact words + 1, k + 1} (rule-costs.ts)
// No corpus statistics enter a score, so shards score the same document the same way.
import type { RankRequest, RankResult, RankedHit, SortCriterion } from './types.js';
import type { Derivation, DocEntry, TextIndex } from './text-index.js';
import { FILLER, POS } from './text-index.js';
import { tokenizeFull } from './tokenize.js';
import { preselect, type PreselectRule } from './preselect.js';
import { compareSortValues, compareValues, sortValue } from './sort-values.js';
import { TopK } from './top-k.js';
import {
  exactLevelTerms,
  exactness,
  exactnessRank,
  MAX_PAIR_COST,
  MAX_POSITION_COST,
  pairProximity,
  positionCost,
  type ExactTerm,
} from './rule-costs.js';

interface Rank {
  rank: number;
  max: number;
}

type RuleKind = 'words' | 'typo' | 'proximity' | 'attributeRank' | 'wordPosition' | 'attribute' | 'exactness';

type AppliedRule =
  { kind: 'relevancy'; rule: RuleKind; name: string } | { kind: 'sort'; criterion: SortCriterion; name: string };

export interface QueryTerm {
  word: string;
  derivations: Map<string, Derivation>;
  /** Synonym alternatives: each a list of words that must all occur. */
  synonyms: string[][];
  /** Typos the term's derivations may have. */
  maxTypos: number;
  /** The typo rule's highest cost for the term: max(1, maxTypos) (milli counts a split word as one typo). */
  maxTypoCost: number;
  /** Position in the query (stop words count, +7 after a hard separator), as milli locates query terms. */
  position: number;
  /** Matched as a prefix: the query's last token. */
  prefix: boolean;
  /** A quoted phrase: its words in order (null for a stop word, which any stop word matches), else null. */
  phrase: Array<string | null> | null;
}

/**
 * Turns `q` into terms with their derivations: stop words dropped (unless the last token), the last token matched
 * as a prefix, positions as milli counts them.
 */
export function queryTerms(index: TextIndex, q: string | null): QueryTerm[] {
  if (q === null) return [];
  const tokens = tokenizeFull(
    q,
    index.config.nonSeparatorTokens,
    index.config.separatorTokens,
    index.config.dictionary,
  );
  const stop = new Set(index.config.stopWords.map((w) => w.toLowerCase()));
  const located: Array<{ word: string; position: number; prefix: boolean; phrase?: string[] }> = [];
  let position = -1;
  // Words between double quotes form a phrase: one term matching those words at consecutive positions.
  let phrase: { words: string[]; position: number } | null = null;
  const closePhrase = (): void => {
    if (phrase !== null && phrase.words.length > 0)
      located.push({ word: phrase.words.join(' '), position: phrase.position, prefix: false, phrase: phrase.words });
    phrase = null;
  };
  tokens.forEach((t, i) => {
    if (t.kind !== 'word') {
      if (t.kind === 'hard') {
        position += 7;
        if (phrase !== null) {
          closePhrase();
          phrase = { words: [], position: -1 };
        }
      }
      for (const ch of t.word) {
        if (ch !== '"') continue;
        if (phrase === null) phrase = { words: [], position: -1 };
        else closePhrase();
      }
      return;
    }
    position++;
    if (phrase !== null) {
      if (phrase.words.length === 0) phrase.position = position;
      phrase.words.push(t.word);
      return;
    }
    const last = i === tokens.length - 1;
    if (!last && stop.has(t.word)) return;
    located.push({ word: t.word, position, prefix: last && index.config.prefixSearch !== 'disabled' });
  });
  closePhrase();
  const out = located.map(({ word, position, prefix, phrase: words }): QueryTerm => {
    if (words !== undefined) {
      return {
        word,
        derivations: new Map(),
        synonyms: [],
        maxTypos: 0,
        maxTypoCost: 0,
        position,
        prefix: false,
        phrase: words.map((w) => (stop.has(w) ? null : w)),
      };
    }
    const derivs = index.derivations(word, prefix, true);
    const maxTypos = index.allowedTypos(word);
    return {
      word,
      derivations: new Map(derivs.map((d) => [d.word, d])),
      synonyms: index.synonyms(word),
      maxTypos,
      maxTypoCost: Math.max(1, maxTypos),
      position,
      prefix,
      phrase: null,
    };
  });
  // A phrase of the query that is a multi-word synonym key (`new york` → `nyc`): every word of the phrase also
  // matches where an alternative occurs, so a document holding only `nyc` matches the whole phrase.
  const words = located.map((l) => l.word);
  for (let i = 0; i < words.length; i++) {
    if (out[i]!.phrase !== null) continue;
    for (const { length, alternatives } of index.phraseSynonyms(words, i)) {
      for (let j = i; j < i + length; j++) out[j]!.synonyms.push(...alternatives);
    }
  }
  return out;
}

const RELEVANCY_AFTER_WORDS = new Set(['typo', 'proximity', 'attribute', 'attributeRank', 'wordPosition', 'exactness']);

/** The rules milli applies for a text query, in order (see the header for `words`, `attribute` and duplicates). */
export function expandRules(
  rankingRules: readonly string[],
  sort: readonly SortCriterion[] | null,
  strategy: 'last' | 'all' | 'frequency',
): AppliedRule[] {
  const out: AppliedRule[] = [];
  const seen = new Set<string>();
  const sorted = new Set<string>();
  let words = strategy === 'all';
  const relevancy = (rule: RuleKind): void => {
    out.push({ kind: 'relevancy', rule, name: rule });
    seen.add(rule);
  };
  for (const r of rankingRules) {
    if (RELEVANCY_AFTER_WORDS.has(r) && !words) {
      relevancy('words');
      words = true;
    }
    if (r === 'words') {
      if (!words) relevancy('words');
      words = true;
    } else if (r === 'typo' || r === 'proximity' || r === 'exactness') {
      if (!seen.has(r)) relevancy(r);
    } else if (r === 'attribute') {
      if (!seen.has('attribute') && !seen.has('attributeRank') && !seen.has('wordPosition')) relevancy('attribute');
    } else if (r === 'attributeRank') {
      if (!seen.has('attribute') && !seen.has('attributeRank')) relevancy('attributeRank');
    } else if (r === 'wordPosition') {
      if (!seen.has('attribute') && !seen.has('wordPosition')) relevancy('wordPosition');
    } else if (r === 'sort') {
      if (seen.has('sort')) continue;
      seen.add('sort');
      for (const c of sort ?? []) {
        if (sorted.has(c.field)) continue;
        sorted.add(c.field);
        out.push({ kind: 'sort', criterion: c, name: `${c.field}:${c.direction}` });
      }
    } else {
      const custom = /^(.+):(asc|desc)$/.exec(r);
      if (custom && !sorted.has(custom[1]!)) {
        sorted.add(custom[1]!);
        out.push({ kind: 'sort', criterion: { field: custom[1]!, direction: custom[2] as 'asc' | 'desc' }, name: r });
      }
    }
  }
  return out;
}

/** Where a term occurs in a document: best typo count and its occurrences (restricted fields only). */
interface TermHit {
  typos: number;
  /** Occurrences packed as `fieldIndex · 65536 + min(position, 65535)` (fieldIndex into entry.fields). */
  positions: number[];
}

/**
 * attributesToSearchOn as a field test: an attribute covers itself and the fields nested under it; `*` in a pattern
 * stands for any text (`*.title`, `details.*`).
 */
export class SearchOn {
  private readonly exact = new Set<string>();
  private readonly patterns: RegExp[] = [];

  constructor(attrs: readonly string[]) {
    for (const a of attrs) {
      if (a.includes('*'))
        this.patterns.push(
          new RegExp(
            '^' +
              a
                .split('*')
                .map((p) => p.replace(/[.+?^${}()|[\]\\]/g, '\\$&'))
                .join('.*') +
              '$',
          ),
        );
      else this.exact.add(a);
    }
  }

  has(attr: string): boolean {
    if (this.exact.has(attr)) return true;
    for (let i = attr.indexOf('.'); i > 0; i = attr.indexOf('.', i + 1))
      if (this.exact.has(attr.slice(0, i))) return true;
    return this.patterns.some((p) => p.test(attr));
  }
}

/** Where a phrase occurs: the positions of its first word where every word follows at the next positions. */
function phraseHit(
  phrase: ReadonlyArray<string | null>,
  entry: DocEntry,
  restrict: SearchOn | null,
  byAttribute: boolean,
): TermHit | null {
  const positions: number[] = [];
  entry.fields.forEach((f, fi) => {
    if (restrict !== null && !restrict.has(f.attr)) return;
    const words = f.words;
    if (byAttribute) {
      // proximityPrecision byAttribute: the phrase's words anywhere in one field.
      if (phrase.every((w) => w === null || words.includes(w))) {
        const first = phrase.find((w) => w !== null);
        positions.push(fi * POS + Math.min(first === undefined || first === null ? 0 : words.indexOf(first), POS - 1));
      }
      return;
    }
    for (let p = 0; p + phrase.length <= words.length; p++) {
      let ok = true;
      for (let j = 0; j < phrase.length && ok; j++) {
        const want = phrase[j];
        // A stop word of the phrase matches a stop word of the text (not indexed: an empty slot).
        ok = want === null ? words[p + j] === FILLER : words[p + j] === want;
      }
      if (ok) positions.push(fi * POS + Math.min(p, POS - 1));
    }
  });
  return positions.length === 0 ? null : { typos: 0, positions };
}

function termHit(
  term: QueryTerm,
  entry: DocEntry,
  restrict: SearchOn | null,
  noTypo: ReadonlySet<string> | null,
  byAttribute = false,
): TermHit | null {
  if (term.phrase !== null) return phraseHit(term.phrase, entry, restrict, byAttribute);
  let best = Infinity;
  const positions: number[] = [];
  const fields = entry.fields;
  for (let fi = 0; fi < fields.length; fi++) {
    const f = fields[fi]!;
    if (restrict !== null && !restrict.has(f.attr)) continue;
    // typoTolerance.disableOnAttributes: only exact (or prefix) derivations count in those fields.
    const exactOnly = noTypo !== null && (noTypo.has(f.attr) || noTypo.has(f.attr.split('.')[0]!));
    const words = f.words;
    for (let p = 0; p < words.length; p++) {
      const d = term.derivations.get(words[p]!);
      if (d !== undefined && !(exactOnly && d.typos > 0)) {
        if (d.typos < best) best = d.typos;
        positions.push(fi * POS + Math.min(p, POS - 1));
      }
    }
    for (const alt of term.synonyms) {
      const at = words.indexOf(alt[0]!);
      if (at >= 0 && alt.every((w) => words.includes(w))) {
        best = 0;
        positions.push(fi * POS + Math.min(at, POS - 1));
      }
    }
  }
  return positions.length === 0 ? null : { typos: best, positions };
}

interface Scored {
  docId: number;
  ranks: Array<Rank | null>;
  extra: Array<Record<string, unknown> | null>;
  score: number;
}

function mergeScore(ranks: Array<Rank | null>): number {
  let rank = 1;
  let max = 1;
  for (const r of ranks) {
    if (r === null) continue;
    rank = (rank - 1) * r.max + r.rank;
    max *= r.max;
  }
  return rank / max;
}

/** Ranks candidates for one query; see the header for the rules. */
export function rank(index: TextIndex, req: RankRequest): RankResult {
  const terms = queryTerms(index, req.q);
  const rules = expandRules(index.config.rankingRules, req.sort, req.matchingStrategy);
  const restrict = req.attributesToSearchOn === null ? null : new SearchOn(req.attributesToSearchOn);
  const noTypoList = index.config.typoTolerance.disableOnAttributes;
  const noTypo = noTypoList.length === 0 ? null : new Set(noTypoList);
  const scored: Scored[] = [];
  const ctx: ScoreContext = {
    maxWeight: index.maxWeight,
    groups: [],
    byAttribute: index.config.proximityPrecision === 'byAttribute',
    wordInIndex: (w) => index.postingsOfWord(w) !== undefined,
  };
  // Set when the postings pre-selection ran: every matching document (scored holds only the contenders).
  let preMatched: Int32Array | null = null;

  if (terms.length === 0) {
    const ids =
      req.candidates === null
        ? ascendingIds(index.docs.keys(), index.docs.size)
        : ascendingIds(req.candidates, req.candidates.size);
    // Every placeholder score is 1: a threshold ≤ 1 keeps every document, a higher one none.
    const all = req.rankingScoreThreshold === null || req.rankingScoreThreshold <= 1 ? ids : new Float64Array(0);
    if (req.distinct === null && rules.every((r) => r.kind === 'relevancy')) {
      // Placeholder without sort or custom rules: docId order.
      const hits = Array.from(all.subarray(0, Math.max(0, req.limit)), (docId): RankedHit =>
        req.withDetails ? { docId, score: 1, details: {} } : { docId, score: 1 },
      );
      return { hits, totalMatches: all.length, matchedDocIds: all };
    }
    const none: null[] = rules.map(() => null);
    if (req.distinct === null) {
      // Placeholder with sort or custom rules: every score is 1, so the order is the sort criteria, then the
      // document id; each document's values are read once.
      const criteria = rules.flatMap((r) => (r.kind === 'sort' ? [r.criterion] : []));
      const values = criteria.map((c) => Array.from(all, (id) => sortValue(req.getValue(id, c.field), c.direction)));
      const top = new TopK<number>(Math.max(0, req.limit), (a, b) => {
        for (let c = 0; c < criteria.length; c++) {
          const d = compareSortValues(values[c]![a], values[c]![b], criteria[c]!.direction);
          if (d !== 0) return d;
        }
        return all[a]! - all[b]!;
      });
      for (let i = 0; i < all.length; i++) top.offer(i);
      const hits = top.items.map((i) => toHit({ docId: all[i]!, ranks: none, extra: none, score: 1 }, rules, req));
      return { hits, totalMatches: all.length, matchedDocIds: all };
    }
    for (const docId of ids) scored.push({ docId, ranks: none, extra: none, score: 1 });
  } else {
    // Which terms survive for a document: `last` drops from the end, `frequency` drops the most frequent first.
    const { order, floorKept, groups } = keepOrder(index, terms, req.matchingStrategy);
    ctx.groups = groups;
    const consider = (docId: number): void => {
      const entry = index.docs.get(docId);
      if (entry === undefined) return;
      const hits = terms.map((t) => termHit(t, entry, restrict, noTypo, ctx.byAttribute));
      let k = 0;
      while (k < order.length && hits[order[k]!] !== null) k++;
      k = floorKept[k]!;
      if (k === 0) return;
      if (req.matchingStrategy === 'all' && k < terms.length) return;
      const kept = order.slice(0, k).sort((a, b) => a - b);
      scored.push(scoreDoc(docId, entry, terms, hits, kept, rules, ctx, req));
    };
    if (canPreselect(terms, restrict, noTypo, req)) {
      // Postings decide which documents match and which can reach the top; only those are ranked in full.
      const prefix = rules.map((r): PreselectRule => (r.kind === 'sort' ? { sort: r.criterion } : r.rule));
      const pre = preselect(
        index,
        terms,
        order,
        floorKept,
        req.matchingStrategy,
        prefix,
        req.candidates,
        req.limit,
        req.getValue,
      );
      for (const docId of pre.contenders) consider(docId);
      preMatched = pre.matched;
    } else {
      const first = terms[order[0]!]!;
      const pool = new Set<number>();
      for (const d of first.derivations.values()) for (const doc of index.postingsOf(d.id)?.keys() ?? []) pool.add(doc);
      const anchor = first.phrase?.find((w) => w !== null);
      if (anchor !== undefined && anchor !== null)
        for (const doc of index.postingsOfWord(anchor)?.keys() ?? []) pool.add(doc);
      for (const alt of first.synonyms) for (const doc of index.postingsOfWord(alt[0]!)?.keys() ?? []) pool.add(doc);
      for (const docId of pool) if (req.candidates === null || req.candidates.has(docId)) consider(docId);
    }
  }

  const cmp = (a: Scored, b: Scored): number => {
    for (let i = 0; i < rules.length; i++) {
      const r = rules[i]!;
      if (r.kind === 'relevancy') {
        const x = a.ranks[i];
        const y = b.ranks[i];
        if (x && y) {
          const d = y.rank * x.max - x.rank * y.max;
          if (d !== 0) return d;
        }
      } else {
        const c = compareValues(
          req.getValue(a.docId, r.criterion.field),
          req.getValue(b.docId, r.criterion.field),
          r.criterion.direction,
        );
        if (c !== 0) return c;
      }
    }
    return a.docId - b.docId;
  };

  const out: RankedHit[] = [];
  const matched: number[] = [];
  const threshold = req.rankingScoreThreshold;
  if (req.distinct === null) {
    // No distinct: the threshold is per document, so count everything and keep only the best `limit` in order
    // (bounded insertion; most documents are rejected by one comparison with the current worst).
    const top = new TopK<Scored>(Math.max(0, req.limit), cmp);
    for (const s of scored) {
      if (threshold !== null && s.score < threshold) continue;
      matched.push(s.docId);
      top.offer(s);
    }
    for (const s of top.items) out.push(toHit(s, rules, req));
    const all = preMatched ?? matched;
    return { hits: out, totalMatches: all.length, matchedDocIds: all };
  }

  scored.sort(cmp);
  const seen = new Set<string>();
  for (const s of scored) {
    if (threshold !== null && s.score < threshold) continue;
    const v = req.getValue(s.docId, req.distinct);
    if (v !== undefined && v !== null) {
      const key = JSON.stringify(v);
      if (seen.has(key)) continue;
      seen.add(key);
    }
    matched.push(s.docId);
    if (out.length < req.limit) out.push(toHit(s, rules, req));
  }
  return { hits: out, totalMatches: matched.length, matchedDocIds: matched };
}

/**
 * The order the matching strategy keeps terms in (`last`: query order; `frequency`: least frequent first, a word no
 * document holds counting as the most frequent), and for each count of leading terms a document holds, the count it
 * keeps: terms of equal frequency are dropped together, so only group boundaries (`groups`) can be kept.
 */
function keepOrder(
  index: TextIndex,
  terms: QueryTerm[],
  strategy: 'last' | 'all' | 'frequency',
): { order: number[]; floorKept: number[]; groups: number[] } {
  const order = terms.map((_, i) => i);
  const T = terms.length;
  if (strategy !== 'frequency') {
    const all = Array.from({ length: T + 1 }, (_, k) => k);
    return { order, floorKept: all, groups: all };
  }
  const freq = terms.map((t) => {
    const docs = new Set<number>();
    for (const d of t.derivations.values()) for (const doc of index.postingsOf(d.id)?.keys() ?? []) docs.add(doc);
    return docs.size === 0 ? Infinity : docs.size;
  });
  order.sort((a, b) => freq[a]! - freq[b]! || a - b);
  const groups = [0];
  for (let i = 1; i <= T; i++) if (i === T || freq[order[i]!] !== freq[order[i - 1]!]) groups.push(i);
  const floorKept = Array.from({ length: T + 1 }, (_, k) => groups.filter((g) => g <= k).pop()!);
  return { order, floorKept, groups };
}

/**
 * Document ids in ascending order. Ids usually arrive ascending (insertion order), so they are only sorted when
 * they do not; a typed-array sort is numeric and much faster than a comparator sort over 100k ids.
 */
function ascendingIds(source: Iterable<number>, size: number): Float64Array {
  const ids = new Float64Array(size);
  let n = 0;
  let sorted = true;
  for (const id of source) {
    if (n > 0 && id < ids[n - 1]!) sorted = false;
    ids[n++] = id;
  }
  return sorted ? ids : ids.sort();
}

/**
 * Whether the postings alone can tell a document's matched terms, typos and best place: no synonyms (they match
 * word groups inside one field), no attributesToSearchOn or typo-disabled attributes (they filter by field), no
 * threshold or distinct (they need every match's score or order), and at most 30 terms (one bit each).
 */
function canPreselect(
  terms: QueryTerm[],
  restrict: SearchOn | null,
  noTypo: ReadonlySet<string> | null,
  req: RankRequest,
): boolean {
  return (
    terms.length <= 30 &&
    restrict === null &&
    noTypo === null &&
    req.rankingScoreThreshold === null &&
    req.distinct === null &&
    terms.every((t) => t.synonyms.length === 0 && t.phrase === null)
  );
}

/** What scoring reads besides the document: the attributeRank scale and which words the index holds. */
interface ScoreContext {
  maxWeight: number;
  /** The kept-term counts a document can have (group boundaries of the matching strategy), ascending from 0. */
  groups: number[];
  /** proximityPrecision `byAttribute`. */
  byAttribute: boolean;
  wordInIndex(word: string): boolean;
}

/** attributeRank: per kept term the lowest weight of a field holding it; max = 1 + k · maxWeight. */
function fidRank(entry: DocEntry, hits: Array<TermHit | null>, kept: number[], maxWeight: number): Rank {
  let cost = 0;
  for (const i of kept) {
    let best = maxWeight;
    for (const p of hits[i]!.positions) {
      const w = entry.fields[Math.floor(p / POS)]!.weight;
      if (w < best) best = w;
    }
    cost += best;
  }
  const max = 1 + kept.length * maxWeight;
  return { rank: max - cost, max };
}

/** wordPosition: per kept term the cost of its best occurrence against its query position; max = 1 + 10k. */
function positionRank(terms: QueryTerm[], hits: Array<TermHit | null>, kept: number[]): Rank {
  let cost = 0;
  for (const i of kept) {
    const positions = hits[i]!.positions;
    cost += positionCost(positions, positions.length, terms[i]!.position);
  }
  const max = 1 + MAX_POSITION_COST * kept.length;
  return { rank: max - cost, max };
}

/** proximity: Σ pair costs over consecutive kept terms adjacent in the query; max = 1 + 3 per such pair. */
function proximityRank(terms: QueryTerm[], hits: Array<TermHit | null>, kept: number[], byAttribute: boolean): Rank {
  let cost = 0;
  let max = 1;
  for (let j = 1; j < kept.length; j++) {
    const left = terms[kept[j - 1]!]!;
    const span = left.phrase === null ? 0 : left.phrase.length - 1;
    if (terms[kept[j]!]!.position !== left.position + span + 1) continue;
    // A phrase on the left ends at its last word.
    const a = span === 0 ? hits[kept[j - 1]!]!.positions : hits[kept[j - 1]!]!.positions.map((p) => p + span);
    const b = hits[kept[j]!]!.positions;
    cost += pairProximity(a, a.length, b, b.length, byAttribute);
    max += MAX_PAIR_COST;
  }
  return { rank: max - cost, max };
}

/** exactness with phrases: a phrase stands for its words at consecutive query positions, and counts as one word. */
function exactnessOf(
  entry: DocEntry,
  terms: QueryTerm[],
  kept: number[],
  wordInIndex: (w: string) => boolean,
): { level: 1 | 2 | 3; exactWords: number } {
  if (kept.every((i) => terms[i]!.phrase === null))
    return exactness(
      entry,
      exactLevelTerms(terms, kept, wordInIndex),
      kept.map((i) => terms[i]!.word),
    );
  const flat: ExactTerm[] = [];
  const keptFlat: number[] = [];
  const words: string[] = [];
  let phrases = 0;
  for (const i of kept) {
    const t = terms[i]!;
    if (t.phrase === null) {
      keptFlat.push(flat.length);
      flat.push({ word: t.word, position: t.position });
      words.push(t.word);
      continue;
    }
    phrases++;
    t.phrase.forEach((w, j) => {
      if (w === null) return;
      keptFlat.push(flat.length);
      flat.push({ word: w, position: t.position + j });
    });
  }
  const e = exactness(entry, exactLevelTerms(flat, keptFlat, wordInIndex), words);
  return { level: e.level, exactWords: e.exactWords + phrases };
}

function score(r: Rank): number {
  return r.rank / r.max;
}

function scoreDoc(
  docId: number,
  entry: DocEntry,
  terms: QueryTerm[],
  hits: Array<TermHit | null>,
  kept: number[],
  rules: AppliedRule[],
  ctx: ScoreContext,
  req: RankRequest,
): Scored {
  const ranks: Array<Rank | null> = [];
  // Details fields are only built when `_rankingScoreDetails` is requested (saves allocations per match).
  const det = req.withDetails;
  const extra: Array<Record<string, unknown> | null> = [];
  for (const r of rules) {
    if (r.kind === 'sort') {
      ranks.push(null);
      if (det) extra.push(null);
      continue;
    }
    switch (r.rule) {
      case 'words': {
        // Terms removed together (equal frequency) count as one: the rank counts groups of terms.
        const groups = ctx.groups;
        const rk = { rank: groups.indexOf(kept.length), max: groups.length - 1 };
        ranks.push(rk);
        if (det) extra.push({ matchingWords: rk.rank, maxMatchingWords: rk.max, score: score(rk) });
        break;
      }
      case 'typo': {
        const maxTypos = kept.reduce((s, i) => s + terms[i]!.maxTypoCost, 0);
        const typos = Math.min(
          maxTypos,
          kept.reduce((s, i) => s + hits[i]!.typos, 0),
        );
        const rk = { rank: maxTypos + 1 - typos, max: maxTypos + 1 };
        ranks.push(rk);
        if (det) extra.push({ typoCount: typos, maxTypoCount: maxTypos, score: score(rk) });
        break;
      }
      case 'proximity': {
        const rk = proximityRank(terms, hits, kept, ctx.byAttribute);
        ranks.push(rk);
        if (det) extra.push({ score: score(rk) });
        break;
      }
      case 'attributeRank': {
        const rk = fidRank(entry, hits, kept, ctx.maxWeight);
        ranks.push(rk);
        if (det) extra.push({ score: score(rk) });
        break;
      }
      case 'wordPosition': {
        const rk = positionRank(terms, hits, kept);
        ranks.push(rk);
        if (det) extra.push({ score: score(rk) });
        break;
      }
      case 'attribute': {
        // Legacy `attribute` = attributeRank then wordPosition as one rule ("unified" details).
        const fid = fidRank(entry, hits, kept, ctx.maxWeight);
        const pos = positionRank(terms, hits, kept);
        const merged = { rank: (fid.rank - 1) * pos.max + pos.rank, max: fid.max * pos.max };
        ranks.push(merged);
        if (det)
          extra.push({
            attributeRankingOrderScore: score(fid),
            queryWordDistanceScore: score(pos),
            score: score(merged),
          });
        break;
      }
      case 'exactness': {
        // Exactness is two ranks in Meilisearch: ExactAttribute {level, 3}, then ExactWords
        // {exactly-matched terms + 1, kept terms + 1}; merged here into one Rank (same mixed radix).
        const n = kept.length;
        const { level, exactWords } = exactnessOf(entry, terms, kept, ctx.wordInIndex);
        const rk = { rank: exactnessRank(level, exactWords, n), max: 3 * (n + 1) };
        ranks.push(rk);
        if (det) {
          extra.push(
            level === 1
              ? { matchType: 'noExactMatch', matchingWords: exactWords, maxMatchingWords: n, score: score(rk) }
              : { matchType: level === 3 ? 'exactMatch' : 'matchesStart', score: level / 3 },
          );
        }
        break;
      }
    }
  }
  return { docId, ranks, extra, score: mergeScore(ranks) };
}

function toHit(s: Scored, rules: AppliedRule[], req: RankRequest): RankedHit {
  const hit: RankedHit = { docId: s.docId, score: s.score };
  if (req.withDetails) {
    const details: Record<string, Record<string, unknown>> = {};
    let order = 0;
    rules.forEach((r, i) => {
      if (r.kind === 'sort') {
        const v = sortValue(req.getValue(s.docId, r.criterion.field), r.criterion.direction);
        details[r.name] = { order, value: v === undefined ? null : v };
        order++;
        return;
      }
      const rk = s.ranks[i];
      if (rk === null || rk === undefined) return;
      details[r.name] = { order, ...(s.extra[i] ?? { score: score(rk) }) };
      order++;
    });
    hit.details = details;
  }
  return hit;
}
