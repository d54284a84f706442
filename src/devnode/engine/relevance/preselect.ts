// Bucket sort for a text query, the way milli stops after the first buckets that hold enough documents: which
// documents match, and which of them can still reach the top `limit`. Only those are then ranked in full by
// rank.ts, so a frequent word over 100k documents scores a handful of documents instead of every match.
//
// Matching, typos, each term's lowest field weight and lowest position, and a one-word exactness come from the
// postings alone. Then the ranking rules are applied in order, each as an integer "badness" per remaining document
// (the cost rank.ts subtracts from its max):
//   words         T − kept terms
//   typo          total typos of the kept terms
//   proximity     Σ pair costs over kept terms adjacent in the query (from the documents' word ids)
//   attributeRank Σ lowest field weight per kept term;  wordPosition  Σ position cost per kept term (from the
//                 postings for one term at query position 0, else from the documents' word ids)
//   attribute     both of the above
//   exactness     max − rank as rank.ts computes it (rule-costs.ts)
//   sort, attr:asc|desc  each bucket ordered by the field's value (sort-values.ts), ranks as badness
// Badness values merge into one mixed-radix key, so a lower key is strictly better under rank.ts's rule-by-rule
// comparison and equal keys are left to the later rules. After `words`, before each rule that opens documents
// and at the end, the documents are cut to the whole buckets that cover `limit` (the key of the `limit`-th best is
// the cut-off), so later rules look at fewer documents. Rules whose rank.ts `max` depends on the kept terms only
// compare as integers once every document tied so far keeps the same terms: after `words`, with matchingStrategy
// `all`, or for one term; otherwise the process stops there and whole buckets go to full ranking.
// If every rule was applied, equal keys are ties broken by document id and exactly `limit` documents remain. The
// result is the same order and scores as ranking every match (a test compares both paths).
import type { TextIndex } from './text-index.js';
import { postingFlags, postingMinPosition, postingWeight, POS, STARTS_FIELD, WHOLE_FIELD } from './text-index.js';
import type { TokenArena } from './token-arena.js';
import type { SortCriterion } from './types.js';
import { compareSortValues, sortValue } from './sort-values.js';
import { TopK } from './top-k.js';
import {
  bucketedPosition,
  costFromDistance,
  exactLevelTerms,
  exactness,
  exactnessRank,
  MAX_PAIR_COST,
  MAX_POSITION_COST,
  pairProximity,
  positionCost,
  type ExactTerm,
} from './rule-costs.js';

export interface PreselectTerm {
  /** The query word itself. */
  word: string;
  /** The term's position in the query (wordPosition, exactness, proximity adjacency). */
  position: number;
  /** Index words of the term with their typo cost and word id. */
  derivations: ReadonlyMap<string, { typos: number; id: number }>;
}

export interface Preselection {
  /** Every matching document (candidates only, matching strategy applied). */
  matched: Int32Array;
  /** The documents that can reach the top `limit`, in no particular order. */
  contenders: number[];
}

/** Ranking rules as rank.ts expands them; sort and custom `attr:asc|desc` rules carry their criterion. */
export type PreselectRule =
  | 'words'
  | 'typo'
  | 'proximity'
  | 'attributeRank'
  | 'wordPosition'
  | 'attribute'
  | 'exactness'
  | { sort: SortCriterion };

const NONE = 0x7fffffff;
const NO_TYPO = 255;
/** Set in the per-term exact flags when the query word itself (not a derivation) is in the document. */
const PRESENT = 4;
/** Cut-offs are found with a count array up to this key range, by sorting the keys above it. */
const HISTOGRAM_LIMIT = 1 << 16;

/** One-term exactness as badness (6 − rank) from the posting flags of the query word itself. */
function exactBadness(flags: number): number {
  const level = (flags & WHOLE_FIELD) !== 0 ? 3 : (flags & STARTS_FIELD) !== 0 ? 2 : 1;
  return 6 - exactnessRank(level, (flags & PRESENT) !== 0 ? 1 : 0, 1);
}

/** Positions of the kept terms inside one document, in reusable buffers (packed `field · POS + position`). */
class TermPositions {
  private buffers: Int32Array[] = [];
  readonly counts: Int32Array;

  constructor(terms: number) {
    this.counts = new Int32Array(terms);
    for (let i = 0; i < terms; i++) this.buffers.push(new Int32Array(16));
  }

  of(term: number): Int32Array {
    return this.buffers[term]!;
  }

  /**
   * Fills the positions of the terms in `keptBits` in document `doc` (termBits[wordId] has bit i set where the
   * word derives from term i), reading the document's tokens from the arena.
   */
  collect(arena: TokenArena, doc: number, termBits: Int32Array, kept: readonly number[], keptBits: number): void {
    for (const i of kept) this.counts[i] = 0;
    const tokens = arena.tokens;
    const end = arena.end[doc]!;
    let field = 0;
    let p = 0;
    for (let t = arena.start[doc]!; t < end; t++) {
      const id = tokens[t]!;
      if (id < 0) {
        field = (-1 - id) * POS;
        p = 0;
        continue;
      }
      const bits = termBits[id]! & keptBits;
      if (bits === 0) {
        p++;
        continue;
      }
      for (let n = 0; n < kept.length; n++) {
        const i = kept[n]!;
        if ((bits & (1 << i)) === 0) continue;
        let buf = this.buffers[i]!;
        const c = this.counts[i]!;
        if (c === buf.length) {
          const grown = new Int32Array(c * 2);
          grown.set(buf);
          this.buffers[i] = buf = grown;
        }
        buf[c] = field + (p < POS - 1 ? p : POS - 1);
        this.counts[i] = c + 1;
      }
      p++;
    }
  }
}

/** proximity cost exactly as rank.ts: Σ pairProximity over consecutive kept terms adjacent in the query. */
function proximityCost(
  positions: TermPositions,
  kept: readonly number[],
  terms: readonly PreselectTerm[],
  byAttribute: boolean,
): number {
  let cost = 0;
  for (let j = 1; j < kept.length; j++) {
    const a = kept[j - 1]!;
    const b = kept[j]!;
    if (terms[b]!.position !== terms[a]!.position + 1) continue;
    cost += pairProximity(positions.of(a), positions.counts[a]!, positions.of(b), positions.counts[b]!, byAttribute);
  }
  return cost;
}

/** wordPosition cost exactly as rank.ts: Σ per kept term of its best occurrence against its query position. */
function positionCostOf(positions: TermPositions, kept: readonly number[], terms: readonly PreselectTerm[]): number {
  let cost = 0;
  for (const t of kept) cost += positionCost(positions.of(t), positions.counts[t]!, terms[t]!.position);
  return cost;
}

/**
 * Keeps the live documents whose key is within the `want` best (whole buckets) and renumbers their keys densely
 * (0, 1, …) so the key range stays small however many rules follow. Returns the surviving documents and the range.
 */
function cutToBuckets(
  keys: Float64Array,
  live: Int32Array,
  want: number,
  range: number,
): { live: Int32Array; range: number } {
  let dense: (key: number) => number;
  let cutoff: number;
  let size: number;
  if (range <= HISTOGRAM_LIMIT) {
    const counts = new Int32Array(range);
    for (let i = 0; i < live.length; i++) counts[keys[live[i]!]!]!++;
    let seen = 0;
    cutoff = 0;
    while ((seen += counts[cutoff]!) < want) cutoff++;
    // counts becomes key → dense rank for the kept keys.
    size = 0;
    for (let key = 0; key <= cutoff; key++) counts[key] = counts[key]! > 0 ? size++ : -1;
    dense = (key) => counts[key]!;
  } else {
    const sorted = new Float64Array(live.length);
    for (let i = 0; i < live.length; i++) sorted[i] = keys[live[i]!]!;
    sorted.sort();
    cutoff = sorted[want - 1]!;
    const rankOf = new Map<number, number>();
    for (const key of sorted) {
      if (key > cutoff) break;
      if (!rankOf.has(key)) rankOf.set(key, rankOf.size);
    }
    size = rankOf.size;
    dense = (key) => rankOf.get(key)!;
  }
  let w = 0;
  const kept = new Int32Array(live.length);
  for (let x = 0; x < live.length; x++) {
    const i = live[x]!;
    if (keys[i]! > cutoff) continue;
    keys[i] = dense(keys[i]!);
    kept[w++] = i;
  }
  return { live: kept.subarray(0, w), range: size };
}

/**
 * Matches `terms` (in query order; `order` is the order the matching strategy keeps them in) against the postings
 * and returns the matched documents and the contenders for the top `limit` (see the header).
 */
export function preselect(
  index: TextIndex,
  terms: readonly PreselectTerm[],
  order: readonly number[],
  floorKept: readonly number[],
  strategy: 'last' | 'all' | 'frequency',
  rules: readonly PreselectRule[],
  candidates: ReadonlySet<number> | null,
  limit: number,
  getValue: (docId: number, field: string) => unknown,
): Preselection {
  const T = terms.length;
  const maxWeight = index.maxWeight;
  // One slot per touched document; per slot and term the best typo count, lowest weight and position, exact flags.
  let bound = 0;
  for (const t of terms) for (const d of t.derivations.values()) bound += index.postingsOf(d.id)?.size ?? 0;
  bound = Math.min(bound, index.maxDocId + 1);
  const slotOf = new Int32Array(index.maxDocId + 1);
  const slotDoc = new Int32Array(bound);
  const mask = new Int32Array(bound);
  const typos = new Uint8Array(bound * T).fill(NO_TYPO);
  const weight = new Int32Array(bound * T).fill(NONE);
  const minPos = new Int32Array(bound * T).fill(NONE);
  const exact = new Uint8Array(bound * T);
  let slots = 0;
  for (let i = 0; i < T; i++) {
    const bit = 1 << i;
    for (const [word, d] of terms[i]!.derivations) {
      const docs = index.postingsOf(d.id);
      if (docs === undefined) continue;
      const cost = d.typos;
      const itself = word === terms[i]!.word;
      docs.forEach((value, doc) => {
        let s = slotOf[doc]! - 1;
        if (s < 0) {
          s = slots++;
          slotOf[doc] = s + 1;
          slotDoc[s] = doc;
        }
        mask[s]! |= bit;
        const j = s * T + i;
        if (cost < typos[j]!) typos[j] = cost;
        const w = postingWeight(value);
        if (w < weight[j]!) weight[j] = w;
        const p = postingMinPosition(value);
        if (p < minPos[j]!) minPos[j] = p;
        if (itself) exact[j] = postingFlags(value) | PRESENT;
      });
    }
  }

  // Matched documents: id, how many terms they keep, and their slot (the rest is read from the slot arrays only
  // for the documents a rule still looks at).
  const docOf = new Int32Array(slots);
  const keptOf = new Uint8Array(slots);
  const slotOfMatch = new Int32Array(slots);
  let n = 0;
  for (let s = 0; s < slots; s++) {
    const doc = slotDoc[s]!;
    if (candidates !== null && !candidates.has(doc)) continue;
    const m = mask[s]!;
    let k = 0;
    while (k < T && (m & (1 << order[k]!)) !== 0) k++;
    k = floorKept[k]!;
    if (k === 0 || (strategy === 'all' && k < T)) continue;
    docOf[n] = doc;
    keptOf[n] = k;
    slotOfMatch[n] = s;
    n++;
  }
  // Per matched document: Σ typos and Σ lowest field weight over its kept terms.
  const sumOver = (i: number, values: Uint8Array | Int32Array): number => {
    const base = slotOfMatch[i]! * T;
    let sum = 0;
    for (let t = 0; t < keptOf[i]!; t++) sum += values[base + order[t]!]!;
    return sum;
  };
  /** Bit t set when term t's own word is in matched document i (`PRESENT`) / starts one of its fields. */
  const exactBits = (i: number, flag: number): number => {
    const base = slotOfMatch[i]! * T;
    let bits = 0;
    for (let t = 0; t < T; t++) if ((exact[base + t]! & flag) !== 0) bits |= 1 << t;
    return bits;
  };
  const matched = docOf.subarray(0, n);
  const want = Math.min(Math.max(0, limit), n);
  if (want === 0) return { matched, contenders: [] };

  // Apply the rules in order over the live documents, cutting to the covering buckets before each rule that
  // opens documents.
  const keys = new Float64Array(n);
  let live: Int32Array = new Int32Array(n);
  for (let i = 0; i < n; i++) live[i] = i;
  let range = 1;
  const cut = (): void => {
    if (live.length <= want) return;
    ({ live, range } = cutToBuckets(keys, live, want, range));
  };
  const apply = (base: number, badness: (i: number) => number): void => {
    for (let x = 0; x < live.length; x++) {
      const i = live[x]!;
      keys[i] = keys[i]! * base + badness(i);
    }
    range *= base;
  };
  // Word id → bit i set when the word derives from term i (for the rules that open documents).
  let termBits: Int32Array | null = null;
  const wordTermBits = (): Int32Array => {
    if (termBits !== null) return termBits;
    termBits = new Int32Array(index.vocabularySize);
    terms.forEach((t, i) => {
      for (const d of t.derivations.values()) termBits![d.id]! |= 1 << i;
    });
    return termBits;
  };
  // The kept terms (in query order) of a document that keeps k of them.
  const keptByCount = Array.from({ length: T + 1 }, (_, k) => order.slice(0, k).sort((a, b) => a - b));
  const keptTerms = (i: number): number[] => keptByCount[keptOf[i]!]!;
  const keptMaskByCount = keptByCount.map((kept) => kept.reduce((m, t) => m | (1 << t), 0));
  let positions: TermPositions | null = null;
  /** Opens matched document i: the positions of its kept terms. */
  const open = (i: number): TermPositions => {
    positions ??= new TermPositions(T);
    positions.collect(index.tokens, docOf[i]!, wordTermBits(), keptTerms(i), keptMaskByCount[keptOf[i]!]!);
    return positions;
  };
  // wordPosition from the postings alone: one term at query position 0 (its lowest position is its best).
  const positionFromPostings = T === 1 && terms[0]!.position === 0;
  const positionBadness = (i: number): number => {
    if (positionFromPostings) {
      const p = minPos[slotOfMatch[i]!]!;
      return costFromDistance(bucketedPosition(p));
    }
    return positionCostOf(open(i), keptTerms(i), terms);
  };
  // A sort rule orders each bucket by the field's value (sort-values.ts): the live documents are ranked by (key,
  // value), everything up to the `want`-th of them is kept (with its ties), and the new keys are their dense ranks.
  const sortStep = (criterion: SortCriterion): void => {
    cut();
    const values: unknown[] = new Array(n);
    for (const i of live) values[i] = sortValue(getValue(docOf[i]!, criterion.field), criterion.direction);
    const cmp = (a: number, b: number): number =>
      keys[a]! - keys[b]! || compareSortValues(values[a], values[b], criterion.direction);
    // The `want` best by (key, value), then everything that ties with the worst of them.
    const top = new TopK<number>(want, cmp);
    for (const i of live) top.offer(i);
    const best = top.items;
    const worst = best[best.length - 1]!;
    const kept = Array.from(live)
      .filter((i) => cmp(i, worst) <= 0)
      .sort(cmp);
    // Ranks first, keys after: the comparison reads the keys being replaced.
    const ranks = new Int32Array(kept.length);
    let rank = 0;
    for (let x = 1; x < kept.length; x++) {
      if (cmp(kept[x - 1]!, kept[x]!) !== 0) rank++;
      ranks[x] = rank;
    }
    for (let x = 0; x < kept.length; x++) keys[kept[x]!] = ranks[x]!;
    live = Int32Array.from(kept);
    range = rank + 1;
  };
  let keptFixed = strategy === 'all' || T === 1;
  let complete = true;
  for (const rule of rules) {
    if (rule === 'words') {
      apply(T + 1, (i) => T - keptOf[i]!);
      keptFixed = true;
      // Documents keeping fewer terms than the best ones rarely matter: drop them before the finer rules.
      if (T > 1) cut();
    } else if (rule === 'typo') {
      if (!keptFixed) {
        complete = false;
        break;
      }
      apply(2 * T + 1, (i) => sumOver(i, typos));
    } else if (rule === 'proximity') {
      if (T === 1) continue;
      if (!keptFixed) {
        complete = false;
        break;
      }
      cut();
      const byAttribute = index.config.proximityPrecision === 'byAttribute';
      apply(MAX_PAIR_COST * (T - 1) + 1, (i) =>
        keptOf[i]! < 2 ? 0 : proximityCost(open(i), keptTerms(i), terms, byAttribute),
      );
    } else if (rule === 'attributeRank') {
      if (maxWeight === 0) continue;
      if (!keptFixed) {
        complete = false;
        break;
      }
      apply(T * maxWeight + 1, (i) => sumOver(i, weight));
    } else if (rule === 'wordPosition' || rule === 'attribute') {
      if (!keptFixed) {
        complete = false;
        break;
      }
      if (!positionFromPostings) cut();
      const posBase = MAX_POSITION_COST * T + 1;
      if (rule === 'wordPosition') apply(posBase, positionBadness);
      else apply((T * maxWeight + 1) * posBase, (i) => sumOver(i, weight) * posBase + positionBadness(i));
    } else if (rule === 'exactness') {
      if (T === 1 && terms[0]!.position === 0) {
        apply(6, (i) => exactBadness(exact[slotOfMatch[i]! * T]!));
        continue;
      }
      if (!keptFixed) {
        complete = false;
        break;
      }
      cut();
      const wordInIndex = (w: string): boolean => index.postingsOfWord(w) !== undefined;
      const keptWords = keptByCount.map((kept) => kept.map((t) => terms[t]!.word));
      const levelTerms: ExactTerm[][] = keptByCount.map((kept) => exactLevelTerms(terms, kept, wordInIndex));
      const firstAtZero = terms[0]!.position === 0;
      apply(3 * (T + 1), (i) => {
        const k = keptOf[i]!;
        const kept = keptByCount[k]!;
        const level = levelTerms[k]!;
        // A field can only start with the query words if the first level word starts a field (when it is at query
        // position 0); otherwise the level is 1 and ExactWords counts the kept terms present unchanged, both known
        // from the postings.
        if (level.length > 0 && (!firstAtZero || (exactBits(i, STARTS_FIELD) & 1) !== 0)) {
          const e = exactness(index.docs.get(docOf[i]!)!, level, keptWords[k]!);
          return 3 * (k + 1) - exactnessRank(e.level, e.exactWords, k);
        }
        const present = exactBits(i, PRESENT);
        let exactWords = 0;
        for (const t of kept) if ((present & (1 << t)) !== 0) exactWords++;
        return 3 * (k + 1) - exactnessRank(1, exactWords, k);
      });
    } else {
      sortStep(rule.sort);
    }
  }
  cut();

  const contenders: number[] = [];
  if (!complete || live.length <= want) {
    for (const i of live) contenders.push(docOf[i]!);
    return { matched, contenders };
  }
  // Every rule is in the key: the cut-off bucket (the highest key left after the cut) contributes its lowest
  // document ids only.
  const cutoff = range - 1;
  const tied: number[] = [];
  for (const i of live) {
    if (keys[i]! < cutoff) contenders.push(docOf[i]!);
    else tied.push(docOf[i]!);
  }
  const lowest = new TopK<number>(want - contenders.length, (a, b) => a - b);
  for (const doc of tied) lowest.offer(doc);
  contenders.push(...lowest.items);
  return { matched, contenders };
}
