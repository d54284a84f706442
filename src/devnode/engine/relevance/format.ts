// Hit formatting as Meilisearch's matcher does it: `_formatted` (every displayed attribute asked for by
// attributesToHighlight/attributesToCrop plus the retrieved ones; numbers become strings, booleans and null stay;
// matches wrapped in the highlight tags, prefix matches only up to the query word's length; cropping keeps the
// window of `cropLength` words around the best interval of matches, growing it on both sides with the extra word
// before the match) and `_matchesPosition` (UTF-8 byte offsets over every displayed attribute, keys sorted,
// `indices` for array elements). Also facet-value matching with typos for facet search.
import type { FormatOptions, FormattedParts, TypoToleranceConfig } from './types.js';
import type { TextIndex } from './text-index.js';
import { queryTerms } from './rank.js';
import { byteOffset, editDistance, foldWord, tokenizeFull, type FullToken } from './tokenize.js';
import { containedIn, mapLeaves, selectValues } from '../select.js';
import type { Document } from '../api.js';

/** The words of one query term a token may match (milli's MatchingWords entry). */
interface MatchingTerm {
  id: number;
  words: string[];
  prefix: boolean;
  /** Characters of the query word (a prefix match highlights at most this many). */
  chars: number;
}

interface MatchingWords {
  terms: MatchingTerm[];
  /** Quoted phrases and synonym phrases (single-word ones match one token exactly); null matches any word. */
  phrases: Array<{ id: number; words: Array<string | null> }>;
}

interface Match {
  /** Characters to highlight from the first token's start. */
  chars: number;
  ids: number[];
  firstWord: number;
  lastWord: number;
  firstToken: number;
  lastToken: number;
}

function matchingWords(index: TextIndex, q: string | null): MatchingWords {
  const terms: MatchingTerm[] = [];
  const phrases: MatchingWords['phrases'] = [];
  queryTerms(index, q).forEach((t, id) => {
    if (t.phrase !== null) {
      phrases.push({ id, words: t.phrase });
      return;
    }
    terms.push({ id, words: [...t.derivations.keys()], prefix: t.prefix, chars: [...t.word].length });
    for (const alt of t.synonyms) phrases.push({ id, words: alt });
  });
  // Exact terms first, prefix terms last (as milli sorts them).
  terms.sort((a, b) => Number(a.prefix) - Number(b.prefix));
  return { terms, phrases };
}

/** A unique-word match for one token: how many characters to highlight, or -1. */
function matchWord(mw: MatchingWords, token: string): { id: number; chars: number } | null {
  for (const t of mw.terms) {
    for (const w of t.words) {
      if (t.prefix && token.startsWith(w)) return { id: t.id, chars: Math.min([...w].length, t.chars) };
      if (token === w) return { id: t.id, chars: [...token].length };
    }
  }
  return null;
}

function computeMatches(tokens: readonly FullToken[], text: string, mw: MatchingWords): Match[] {
  const words: Array<{ token: number; word: number }> = [];
  tokens.forEach((t, i) => {
    if (t.kind === 'word') words.push({ token: i, word: words.length });
  });
  const matches: Match[] = [];
  for (let k = 0; k < words.length; k++) {
    const { token: tp, word: wp } = words[k]!;
    const lemma = tokens[tp]!.word;
    let done = false;
    // Phrases first (a phrase needs its words in consecutive word tokens), then single words.
    for (const ph of mw.phrases) {
      if (ph.words[0] !== null && ph.words[0] !== lemma) continue;
      let j = 1;
      while (
        j < ph.words.length &&
        k + j < words.length &&
        (ph.words[j] === null || tokens[words[k + j]!.token]!.word === ph.words[j])
      )
        j++;
      if (j < ph.words.length) continue;
      const last = words[k + j - 1]!;
      matches.push({
        chars: [...text.slice(tokens[tp]!.start, tokens[last.token]!.end)].length,
        ids: [ph.id],
        firstWord: wp,
        lastWord: last.word,
        firstToken: tp,
        lastToken: last.token,
      });
      k += j - 1;
      done = true;
      break;
    }
    if (done) continue;
    const m = matchWord(mw, lemma);
    if (m !== null)
      matches.push({ chars: m.chars, ids: [m.id], firstWord: wp, lastWord: wp, firstToken: tp, lastToken: tp });
  }
  return matches;
}

/** Scores an interval of matches: distinct query words, then closeness, then order (milli's best interval). */
function intervalScore(matches: readonly Match[]): [number, number, number] {
  const ids = new Set<number>();
  let order = 0;
  let distance = 0;
  for (let i = 0; i < matches.length; i++) {
    const m = matches[i]!;
    const phraseWords = m.lastWord - m.firstWord;
    order += phraseWords;
    distance -= phraseWords;
    const next = matches[i + 1];
    if (next !== undefined) {
      if (Math.min(...next.ids) > Math.min(...m.ids)) order++;
      distance -= Math.min(next.firstWord - m.lastWord, 7);
    }
    for (const id of m.ids) ids.add(id);
  }
  return [ids.size, distance, order];
}

function better(a: [number, number, number], b: [number, number, number]): boolean {
  for (let i = 0; i < 3; i++) if (a[i] !== b[i]) return a[i]! > b[i]!;
  return false;
}

/** The first and last match of the best interval of matches that fits in `cropSize` words. */
function bestInterval(matches: readonly Match[], cropSize: number): [Match, Match] {
  let best: { first: number; last: number; score: [number, number, number] } | null = null;
  const consider = (first: number, last: number): void => {
    const score = intervalScore(matches.slice(first, last + 1));
    if (best === null || better(score, best.score)) best = { first, last, score };
  };
  let first = 0;
  let firstWord = matches[0]!.firstWord;
  for (let index = 0; index < matches.length; index++) {
    const lastWord = matches[index]!.lastWord;
    if (lastWord - firstWord >= cropSize) {
      if (index !== 0) consider(first, index - 1);
      for (;;) {
        first++;
        if (first === matches.length) {
          first--;
          break;
        }
        firstWord = matches[first]!.firstWord;
        if (firstWord > lastWord || lastWord - firstWord < cropSize) break;
      }
    }
  }
  const last = matches.length - 1;
  const m = matches[first]!;
  if (first !== last || m.lastWord - m.firstWord + 1 < cropSize) consider(first, last);
  const b = best as { first: number; last: number } | null;
  return b === null ? [matches[0]!, matches[0]!] : [matches[b.first]!, matches[b.last]!];
}

/** The crop window [start, end) in string offsets: `cropSize` words grown around the best matches. */
function cropBounds(
  text: string,
  tokens: readonly FullToken[],
  matches: readonly Match[],
  cropSize: number,
): [number, number] {
  let remaining: number;
  let forward: boolean;
  let beforeStart: number;
  let afterStart: number;
  if (matches.length > 0) {
    const [first, last] = bestInterval(matches, cropSize);
    const size = last.lastWord - first.firstWord + 1;
    const fits = cropSize >= size;
    forward = size === 0 || fits;
    remaining = fits ? cropSize - size : size - cropSize;
    afterStart = size === 0 ? 0 : Math.min(last.lastToken + 1, tokens.length);
    beforeStart = forward ? first.firstToken : 0;
  } else {
    remaining = cropSize;
    forward = true;
    beforeStart = 0;
    afterStart = 0;
  }
  // `before` walks from beforeStart − 1 down to 0; `after` walks up from afterStart (forward) or down from it.
  let before = beforeStart - 1;
  let after = forward ? afterStart : Math.min(afterStart, tokens.length - 1);
  const peekBefore = (): FullToken | undefined => (before >= 0 ? tokens[before] : undefined);
  const peekAfter = (): FullToken | undefined => (forward ? tokens[after] : after >= 0 ? tokens[after] : undefined);
  const nextAfter = (): void => {
    after += forward ? 1 : -1;
  };
  while (remaining > 0) {
    const b = peekBefore();
    const a = peekAfter();
    if (b !== undefined && a !== undefined) {
      const bw = b.kind === 'word';
      const aw = a.kind === 'word';
      if (!bw && !aw) {
        if (b.kind === a.kind) {
          before--;
          if (remaining > 1) nextAfter();
        } else if (b.kind === 'hard') nextAfter();
        else before--;
      } else if (bw && !aw) {
        before--;
        remaining--;
      } else if (!bw && aw) {
        nextAfter();
        remaining--;
      } else {
        before--;
        remaining--;
        if (remaining > 0) {
          nextAfter();
          remaining--;
        }
      }
    } else if (b !== undefined) {
      before--;
      if (b.kind === 'word') remaining--;
    } else if (a !== undefined) {
      nextAfter();
      if (a.kind === 'word') remaining--;
    } else break;
  }
  const start = before >= 0 ? tokens[before]!.end : 0;
  const a = peekAfter();
  const end = a !== undefined ? a.start : text.length;
  return [start, end];
}

/** Offset after `chars` code points from `from`, at most `limit`. */
function advanceChars(text: string, from: number, chars: number, limit: number): number {
  let at = from;
  for (let c = 0; c < chars && at < limit; c++) at += text.codePointAt(at)! > 0xffff ? 2 : 1;
  return Math.min(at, limit);
}

interface Formatter {
  o: FormatOptions;
  index: TextIndex;
  mw: MatchingWords;
}

function analyze(f: Formatter, text: string): { tokens: FullToken[]; matches: Match[] } {
  const c = f.index.config;
  const tokens = tokenizeFull(text, c.nonSeparatorTokens, c.separatorTokens, c.dictionary);
  return { tokens, matches: computeMatches(tokens, text, f.mw) };
}

function formatText(f: Formatter, text: string, highlight: boolean, crop: number | null): string {
  if (!highlight && crop === null) return text;
  const { tokens, matches } = analyze(f, text);
  const [start, end] = crop !== null && crop > 0 ? cropBounds(text, tokens, matches, crop) : [0, text.length];
  const o = f.o;
  let out = start > 0 && o.cropMarker !== '' ? o.cropMarker : '';
  let at = start;
  if (highlight) {
    for (const m of matches) {
      let ms = tokens[m.firstToken]!.start;
      let me = tokens[m.lastToken]!.end;
      if (me < start || ms > end) continue;
      ms = Math.max(ms, start);
      me = Math.min(me, end);
      if (at < ms) out += text.slice(at, ms);
      const hl = advanceChars(text, ms, m.chars, me);
      out += o.highlightPreTag + text.slice(ms, hl) + o.highlightPostTag;
      if (hl < me) out += text.slice(hl, me);
      at = me;
    }
  }
  if (at < end) out += text.slice(at, end);
  if (end < text.length && o.cropMarker !== '') out += o.cropMarker;
  return out;
}

function matchBounds(
  f: Formatter,
  text: string,
  indices: number[],
): Array<{ start: number; length: number; indices?: number[] }> {
  const { tokens, matches } = analyze(f, text);
  return matches.map((m) => {
    const s = tokens[m.firstToken]!.start;
    const e = advanceChars(text, s, m.chars, tokens[m.lastToken]!.end);
    const start = byteOffset(text, s);
    const bounds: { start: number; length: number; indices?: number[] } = {
      start,
      length: byteOffset(text, e) - start,
    };
    if (indices.length > 0) bounds.indices = [...indices];
    return bounds;
  });
}

interface Opt {
  highlight: boolean;
  crop: number | null;
}

/** Which attributes `_formatted` holds and how each is formatted (milli's formatted options, by name). */
interface Plan {
  /** Options for every field (`*` while every field is displayed). */
  all: Opt | null;
  named: Map<string, Opt>;
}

function plan(o: FormatOptions): Plan | null {
  const displayed = o.displayed;
  const isDisplayed = (name: string): boolean => displayed === null || displayed.includes(name);
  const p: Plan = { all: null, named: new Map() };
  const set = (name: string, change: (x: Opt) => void): void => {
    let x = p.named.get(name);
    if (x === undefined) p.named.set(name, (x = { highlight: false, crop: null }));
    change(x);
  };
  for (const attr of o.attributesToHighlight ?? []) {
    if (attr === '*') {
      if (displayed === null) p.all = { highlight: true, crop: p.all?.crop ?? null };
      else for (const d of displayed) set(d, (x) => (x.highlight = true));
      continue;
    }
    if (isDisplayed(attr)) set(attr, (x) => (x.highlight = true));
  }
  for (const entry of o.attributesToCrop ?? []) {
    const colon = entry.lastIndexOf(':');
    let name = entry;
    let length = o.cropLength;
    if (colon >= 0) {
      name = entry.slice(0, colon);
      const raw = entry.slice(colon + 1);
      length = /^\d+$/.test(raw) ? Number(raw) : o.cropLength;
    }
    if (name === '*') {
      if (displayed === null) {
        p.all = { highlight: p.all?.highlight ?? false, crop: length };
        for (const x of p.named.values()) x.crop = length;
      } else for (const d of displayed) set(d, (x) => (x.crop = length));
      continue;
    }
    if (isDisplayed(name)) set(name, (x) => (x.crop = length));
  }
  if (p.all === null && p.named.size === 0) return null;
  for (const r of o.retrieve ?? displayed ?? []) if (!p.named.has(r)) p.named.set(r, { highlight: false, crop: null });
  if (o.retrieve === null && displayed === null && p.all === null) p.all = { highlight: false, crop: null };
  return p;
}

/** The merged options of the planned names related to a leaf's path (highlight if any; the first crop). */
function optionsFor(p: Plan, key: string): Opt | null {
  let out: Opt | null = null;
  const merge = (x: Opt): void => {
    out = out === null ? { ...x } : { highlight: out.highlight || x.highlight, crop: out.crop ?? x.crop };
  };
  for (const [name, x] of p.named) if (containedIn(key, name) || containedIn(name, key)) merge(x);
  if (p.all !== null) merge(p.all);
  return out;
}

/** `_formatted` and `_matchesPosition` for one stored document (selection per the options; see the header). */
export function formatHit(index: TextIndex, doc: Document, o: FormatOptions): FormattedParts {
  const parts: FormattedParts = {};
  const p = plan(o);
  if (p === null && !o.showMatchesPosition) return parts;
  const f: Formatter = { o, index, mw: matchingWords(index, o.q) };
  if (o.showMatchesPosition) {
    const positions: Record<string, Array<{ start: number; length: number; indices?: number[] }>> = {};
    const displayedDoc = selectValues(doc, o.displayed);
    mapLeaves(displayedDoc, null, (key, indices, value) => {
      if (typeof value === 'string' || typeof value === 'number') {
        const found = matchBounds(f, String(value), indices);
        if (found.length > 0) positions[key] = found;
      }
      return value;
    });
    const sorted: typeof positions = {};
    for (const k of Object.keys(positions).sort()) sorted[k] = positions[k]!;
    parts._matchesPosition = sorted;
  }
  if (p !== null) {
    const selectors = p.all !== null ? null : [...p.named.keys()];
    const formatted = selectValues(doc, selectors);
    mapLeaves(formatted, null, (key, _indices, value) => {
      if (typeof value !== 'string' && typeof value !== 'number') return value;
      const opt = optionsFor(p, key);
      const text = String(value);
      return opt === null ? text : formatText(f, text, opt.highlight, opt.crop);
    });
    if (Object.keys(formatted).length > 0) parts._formatted = formatted;
  }
  return parts;
}

/** Facet search: the facet query matches a value by prefix of the whole value, with typos per the settings. */
export function facetValueMatches(facetQuery: string, value: string, typo: TypoToleranceConfig): boolean {
  const q = foldWord(facetQuery).trim();
  if (q === '') return true;
  const v = foldWord(value);
  if (v.startsWith(q)) return true;
  if (!typo.enabled || typo.disableOnWords.some((w) => foldWord(w) === q)) return false;
  const len = [...q].length;
  const allowed = len >= typo.minWordSizeForTypos.twoTypos ? 2 : len >= typo.minWordSizeForTypos.oneTypo ? 1 : 0;
  if (allowed === 0) return false;
  // Like Meilisearch, the query matches the start of the whole value (not of its inner words).
  const head = v.slice(0, q.length);
  const extra = head[0] === q[0] ? 0 : 1;
  return editDistance(q, head, allowed) + extra <= allowed || editDistance(q, v, allowed) + extra <= allowed;
}
