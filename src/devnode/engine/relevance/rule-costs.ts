// The per-document measures of the proximity and exactness rules, shared by the full scorer (rank.ts) and the
// bucket sort (preselect.ts) so both rank a document the same way.
import type { DocEntry } from './text-index.js';
import { POS } from './text-index.js';

/**
 * proximity between two consecutive query terms: the best gap between any of their positions in one field (packed
 * `field · POS + position`; next word = 0, reversed neighbours = 2), capped at 7.
 */
export function pairProximity(a: ArrayLike<number>, na: number, b: ArrayLike<number>, nb: number): number {
  let best = 7;
  for (let x = 0; x < na; x++) {
    const xf = Math.floor(a[x]! / POS);
    const xp = a[x]! % POS;
    for (let y = 0; y < nb; y++) {
      if (Math.floor(b[y]! / POS) !== xf) continue;
      const yp = b[y]! % POS;
      const gap = yp > xp ? yp - xp - 1 : xp - yp + 1;
      if (gap < best) best = gap;
    }
  }
  return best;
}

/**
 * exactness of a document for the kept query words (in query order): level 3 when a field is exactly those words,
 * 2 when a field starts with them, else 1; and how many of them occur unchanged (all of them at levels 3 and 2).
 */
export function exactness(entry: DocEntry, queryWords: readonly string[]): { level: 1 | 2 | 3; exactWords: number } {
  const n = queryWords.length;
  let level: 1 | 2 | 3 = 1;
  for (const f of entry.fields) {
    const words = f.words;
    let starts = words.length >= n;
    for (let t = 0; starts && t < n; t++) starts = words[t] === queryWords[t];
    if (!starts) continue;
    if (words.length === n) {
      level = 3;
      break;
    }
    level = 2;
  }
  if (level !== 1) return { level, exactWords: n };
  let exactWords = 0;
  for (const w of queryWords) if (entry.fields.some((f) => f.words.includes(w))) exactWords++;
  return { level, exactWords };
}

/**
 * exactness as one rank out of 3(n+1): Meilisearch's ExactAttribute {level, 3} then ExactWords {exact words + 1,
 * n + 1}, merged in the same mixed radix as every other rule.
 */
export function exactnessRank(level: number, exactWords: number, n: number): number {
  return (level - 1) * (n + 1) + exactWords + 1;
}
