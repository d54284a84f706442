// The per-document measures of the ranking rules as milli's graph rules define them, shared by the full scorer
// (rank.ts) and the bucket sort (preselect.ts) so both rank a document the same way. Positions are packed
// `field · POS + position` (positions as Meilisearch indexes them, see tokenize.ts).
import type { DocEntry } from './text-index.js';
import { FILLER, POS } from './text-index.js';

/** proximity: the cost of a pair of consecutive query terms that never come close (milli's MAX_DISTANCE − 1). */
export const MAX_PAIR_COST = 3;
/** wordPosition: the cost of a term found nowhere near its query position. */
export const MAX_POSITION_COST = 10;

/**
 * proximity between two consecutive query terms, from their packed positions: left before right at distance d
 * costs d − 1, right before left at distance d costs d, capped at MAX_PAIR_COST; only within one field. With
 * proximityPrecision `byAttribute` any two occurrences in one field cost 0.
 */
export function pairProximity(
  a: ArrayLike<number>,
  na: number,
  b: ArrayLike<number>,
  nb: number,
  byAttribute = false,
): number {
  let best = MAX_PAIR_COST;
  for (let x = 0; x < na; x++) {
    const xf = Math.floor(a[x]! / POS);
    const xp = a[x]! % POS;
    for (let y = 0; y < nb; y++) {
      if (Math.floor(b[y]! / POS) !== xf) continue;
      if (byAttribute) return 0;
      const yp = b[y]! % POS;
      if (yp === xp) continue;
      const gap = yp > xp ? yp - xp - 1 : xp - yp;
      if (gap < best) {
        best = gap;
        if (best === 0) return 0;
      }
    }
  }
  return best;
}

/** milli's bucketed word position: exact below 16, then 24, then the next power of two. */
export function bucketedPosition(p: number): number {
  if (p < 16) return p;
  if (p < 24) return 24;
  return 2 ** Math.ceil(Math.log2(p));
}

/** wordPosition's cost of a term found at `distance` positions from its place in the query. */
export function costFromDistance(distance: number): number {
  if (distance <= 0) return 0;
  if (distance === 1) return 1;
  if (distance <= 4) return 2;
  if (distance <= 7) return 3;
  if (distance <= 11) return 4;
  if (distance <= 16) return 5;
  if (distance <= 24) return 6;
  if (distance <= 64) return 7;
  if (distance <= 256) return 8;
  if (distance <= 1024) return 9;
  return 10;
}

/** wordPosition cost of one term: the best occurrence (packed positions, any field) against its query position. */
export function positionCost(positions: ArrayLike<number>, n: number, queryPosition: number): number {
  let best = MAX_POSITION_COST;
  for (let x = 0; x < n; x++) {
    const c = costFromDistance(Math.abs(bucketedPosition(positions[x]! % POS) - queryPosition));
    if (c < best) {
      best = c;
      if (best === 0) return 0;
    }
  }
  return best;
}

/** A kept query term as exactness sees it: its own word and its position in the query. */
export interface ExactTerm {
  word: string;
  position: number;
}

/**
 * exactness of a document, as milli's ExactAttribute then Exactness rules. `levelTerms` are the kept terms whose word
 * the index holds (empty when they do not start at the first query term without a gap): level 3 (exactMatch) when
 * a field holds every one of those words and has exactly as many words, and each word sits at its query position in
 * some field; 2 (matchesStart) when only the field and positions hold; else 1. `exactWords` counts the kept terms
 * whose own word (no typo, no prefix) the document holds.
 */
export function exactness(
  entry: DocEntry,
  levelTerms: readonly ExactTerm[],
  keptWords: readonly string[],
): { level: 1 | 2 | 3; exactWords: number } {
  let exactWords = 0;
  for (const w of keptWords) if (entry.fields.some((f) => f.words.includes(w))) exactWords++;
  return { level: exactAttributeLevel(entry, levelTerms), exactWords };
}

function exactAttributeLevel(entry: DocEntry, terms: readonly ExactTerm[]): 1 | 2 | 3 {
  if (terms.length === 0) return 1;
  // Each word at its (bucketed) query position in some field.
  for (const t of terms) {
    let found = false;
    for (const f of entry.fields) {
      const words = f.words;
      for (let p = 0; p < words.length && !found; p++)
        if (words[p] === t.word && bucketedPosition(p) === t.position) found = true;
      if (found) break;
    }
    if (!found) return 1;
  }
  let level: 1 | 2 | 3 = 1;
  for (const f of entry.fields) {
    if (!terms.every((t) => t.word !== FILLER && f.words.includes(t.word))) continue;
    if (f.count === terms.length) return 3;
    level = 2;
  }
  return level;
}

/**
 * The kept terms exactness checks positions and fields for: those whose word the index holds, when they start at the
 * first query term and leave no gap (otherwise none, and the level is noExactMatch). `kept` are term indexes.
 */
export function exactLevelTerms(
  terms: readonly ExactTerm[],
  kept: readonly number[],
  wordInIndex: (w: string) => boolean,
): ExactTerm[] {
  const present = kept.filter((i) => wordInIndex(terms[i]!.word));
  if (present.length === 0 || present[0] !== 0) return [];
  for (let j = 1; j < present.length; j++) if (present[j]! - present[j - 1]! > 1) return [];
  return present.map((i) => ({ word: terms[i]!.word, position: terms[i]!.position }));
}

/**
 * exactness as one rank out of 3(n+1): Meilisearch's ExactAttribute {level, 3} then ExactWords {exact words + 1,
 * n + 1}, merged in the same mixed radix as every other rule.
 */
export function exactnessRank(level: number, exactWords: number, n: number): number {
  return (level - 1) * (n + 1) + exactWords + 1;
}
