// Tokenizing as the dev node does it: words are runs of letters and digits (plus `nonSeparatorTokens`),
// lowercased with Latin diacritics folded; offsets point into the original string for highlighting. Between words,
// separator tokens with charabia's kinds (hard = ends a context, e.g. `. `, `!`, `?`; soft otherwise) give word
// positions as Meilisearch indexes them (next word +1, +8 after a hard separator) and drive cropping.

export interface Token {
  /** Normalized word (lowercase, diacritics folded). */
  word: string;
  /** UTF-16 offsets into the original string. */
  start: number;
  end: number;
}

export function foldWord(s: string): string {
  return s
    .normalize('NFKD')
    .replace(/[\u0300-\u036f]/g, '')
    .toLowerCase();
}

const DEFAULT_RE = /[\p{L}\p{N}]+/gu;
const cache = new Map<string, RegExp>();

function wordRegex(nonSeparators: readonly string[]): RegExp {
  if (nonSeparators.length === 0) return DEFAULT_RE;
  const key = nonSeparators.join('\u0000');
  let re = cache.get(key);
  if (re === undefined) {
    const extra = nonSeparators
      .filter((t) => t.length === 1)
      .map((t) => t.replace(/[\]\\^-]/g, '\\$&'))
      .join('');
    re = new RegExp(`[\\p{L}\\p{N}${extra}]+`, 'gu');
    cache.set(key, re);
  }
  return re;
}

/**
 * Splits `text` into words. `separators` are extra separator strings; `dictionary` entries found in the text
 * (case-insensitively) become one word each, whatever separators they contain.
 */
export function tokenize(
  text: string,
  nonSeparators: readonly string[] = [],
  separators: readonly string[] = [],
  dictionary: readonly string[] = [],
): Token[] {
  let src = text;
  const dict: Token[] = [];
  if (dictionary.length > 0) {
    const lower = text.toLowerCase();
    if (lower.length === text.length) {
      for (const entry of [...dictionary].sort((a, b) => b.length - a.length)) {
        const e = entry.toLowerCase();
        if (e.length === 0) continue;
        for (let at = lower.indexOf(e); at >= 0; at = lower.indexOf(e, at + e.length)) {
          if (dict.some((d) => at < d.end && at + e.length > d.start)) continue;
          dict.push({ word: foldWord(entry), start: at, end: at + e.length });
        }
      }
      for (const d of dict) src = src.slice(0, d.start) + ' '.repeat(d.end - d.start) + src.slice(d.end);
    }
  }
  for (const sep of separators) if (sep.length > 0) src = src.split(sep).join(' '.repeat(sep.length));
  const re = wordRegex(nonSeparators);
  re.lastIndex = 0;
  const out: Token[] = [];
  for (let m = re.exec(src); m !== null; m = re.exec(src)) {
    out.push({ word: foldWord(m[0]), start: m.index, end: m.index + m[0].length });
  }
  if (dict.length > 0) {
    out.push(...dict);
    out.sort((a, b) => a.start - b.start);
  }
  return out;
}

/** A word or a separator, as charabia hands them to Meilisearch's indexer and highlighter. */
export interface FullToken {
  /** Normalized word; the separator text itself for separators. */
  word: string;
  start: number;
  end: number;
  kind: 'word' | 'soft' | 'hard';
}

/** Separators that end a context (charabia's CONTEXT_SEPARATORS, Latin and common CJK/general ones). */
const HARD_SEPARATORS = new Set([
  '\0',
  '!',
  '. ',
  ', ',
  ';',
  '?',
  '¡',
  '§',
  '¶',
  '¿',
  '；',
  '…',
  '‼',
  '‽',
  '⁇',
  '⁈',
  '⁉',
  '、',
  '。',
  '！',
  '，',
  '．',
  '：',
  '；',
  '？',
  '｡',
  '､',
  '՜',
  '´',
  '՝',
  '՞',
  '։',
  '׃',
  '،',
  '؛',
  '؟',
  '۔',
  '।',
  '॥',
]);

/** Splits the text between two words into separator tokens (`. ` and `, ` are one token each, like charabia). */
function separatorTokens(text: string, from: number, to: number, out: FullToken[]): void {
  let i = from;
  while (i < to) {
    const two = text.slice(i, i + 2);
    const len = i + 2 <= to && (two === '. ' || two === ', ') ? 2 : text.codePointAt(i)! > 0xffff ? 2 : 1;
    const sep = text.slice(i, i + len);
    out.push({ word: sep, start: i, end: i + len, kind: HARD_SEPARATORS.has(sep) ? 'hard' : 'soft' });
    i += len;
  }
}

/** Words and the separators between them, in text order (see `tokenize` for the word rules). */
export function tokenizeFull(
  text: string,
  nonSeparators: readonly string[] = [],
  separators: readonly string[] = [],
  dictionary: readonly string[] = [],
): FullToken[] {
  const out: FullToken[] = [];
  let cursor = 0;
  for (const t of tokenize(text, nonSeparators, separators, dictionary)) {
    if (t.start < cursor) continue;
    separatorTokens(text, cursor, t.start, out);
    out.push({ word: t.word, start: t.start, end: t.end, kind: 'word' });
    cursor = t.end;
  }
  separatorTokens(text, cursor, text.length, out);
  return out;
}

/**
 * The position of each word of `tokens` (in order) as Meilisearch's indexer counts them from `start`: the first word
 * at `start`, then +1 per word, or +8 when a hard separator came between the two words.
 */
export function wordPositions(tokens: readonly FullToken[], start = 0): number[] {
  const out: number[] = [];
  let pos = start;
  let prev: 'word' | 'soft' | 'hard' | null = null;
  for (const t of tokens) {
    if (t.kind === 'word') {
      if (prev !== null) pos += prev === 'hard' ? 8 : 1;
      out.push(pos);
      prev = 'word';
    } else if (prev !== null && (t.kind === 'hard' || prev !== 'hard')) prev = t.kind;
  }
  return out;
}

/** Byte offset (UTF-8) of a UTF-16 offset in a string. */
export function byteOffset(text: string, index: number): number {
  return Buffer.byteLength(text.slice(0, index));
}

/** Damerau (optimal string alignment) distance, capped: returns cap+1 as soon as it must exceed cap. */
export function editDistance(a: string, b: string, cap: number): number {
  if (Math.abs(a.length - b.length) > cap) return cap + 1;
  const n = a.length;
  const m = b.length;
  let prev2 = new Array<number>(m + 1).fill(0);
  let prev = Array.from({ length: m + 1 }, (_, j) => j);
  let cur = new Array<number>(m + 1).fill(0);
  for (let i = 1; i <= n; i++) {
    cur[0] = i;
    let rowMin = cur[0];
    for (let j = 1; j <= m; j++) {
      const cost = a[i - 1] === b[j - 1] ? 0 : 1;
      let v = Math.min(prev[j]! + 1, cur[j - 1]! + 1, prev[j - 1]! + cost);
      if (i > 1 && j > 1 && a[i - 1] === b[j - 2] && a[i - 2] === b[j - 1]) v = Math.min(v, prev2[j - 2]! + 1);
      cur[j] = v;
      if (v < rowMin) rowMin = v;
    }
    if (rowMin > cap) return cap + 1;
    [prev2, prev, cur] = [prev, cur, prev2];
  }
  return prev[m]!;
}
