// The "did you mean `x`? " hint of Meilisearch's query-parameter and JSON field errors: the closest accepted name
// by Damerau-Levenshtein distance, within a typo budget that grows with the length (in bytes) of what was received.

/** Unrestricted Damerau-Levenshtein distance over Unicode code points (adjacent transpositions count as one). */
export function damerauLevenshtein(a: string, b: string): number {
  const s = [...a];
  const t = [...b];
  const maxDist = s.length + t.length;
  const lastRow = new Map<string, number>();
  const width = t.length + 2;
  const d = new Array<number>((s.length + 2) * width).fill(0);
  const at = (i: number, j: number) => i * width + j;
  d[at(0, 0)] = maxDist;
  for (let i = 0; i <= s.length; i++) {
    d[at(i + 1, 0)] = maxDist;
    d[at(i + 1, 1)] = i;
  }
  for (let j = 0; j <= t.length; j++) {
    d[at(0, j + 1)] = maxDist;
    d[at(1, j + 1)] = j;
  }
  for (let i = 1; i <= s.length; i++) {
    let lastMatchCol = 0;
    for (let j = 1; j <= t.length; j++) {
      const k = lastRow.get(t[j - 1]!) ?? 0;
      const l = lastMatchCol;
      const cost = s[i - 1] === t[j - 1] ? 0 : 1;
      if (cost === 0) lastMatchCol = j;
      d[at(i + 1, j + 1)] = Math.min(
        d[at(i, j)]! + cost,
        d[at(i + 1, j)]! + 1,
        d[at(i, j + 1)]! + 1,
        d[at(k, l)]! + (i - k - 1) + 1 + (j - l - 1),
      );
    }
    lastRow.set(s[i - 1]!, i);
  }
  return d[at(s.length + 1, t.length + 1)]!;
}

/** `did you mean \`x\`? ` (with its trailing space) or the empty string. */
export function didYouMean(received: string, accepted: readonly string[]): string {
  const len = Buffer.byteLength(received);
  if (len <= 3) return '';
  const allowed = len <= 7 ? 1 : len <= 12 ? 2 : len <= 17 ? 3 : len <= 24 ? 4 : 5;
  let best: string | null = null;
  let bestDist = Infinity;
  for (const candidate of accepted) {
    const dist = damerauLevenshtein(received, candidate);
    if (dist <= allowed && dist < bestDist) {
      best = candidate;
      bestDist = dist;
    }
  }
  return best === null ? '' : `did you mean \`${best}\`? `;
}
