// Hit formatting: `_formatted` (highlight with pre/post tags, crop to `cropLength` words with `cropMarker`;
// numbers and booleans become strings like Meilisearch) and `_matchesPosition` (UTF-8 byte offsets, `indices`
// for array elements). Also facet-value matching with typos for facet search.
import type { FormatOptions, FormattedParts, TypoToleranceConfig } from './types.js';
import type { TextIndex } from './text-index.js';
import { queryTerms } from './rank.js';
import { byteOffset, editDistance, foldWord, tokenize } from './tokenize.js';

function matchSet(index: TextIndex, q: string | null): Set<string> {
  const set = new Set<string>();
  for (const t of queryTerms(index, q)) {
    for (const w of t.derivations.keys()) set.add(w);
    for (const alt of t.synonyms) for (const w of alt) set.add(w);
  }
  return set;
}

function listed(list: readonly string[] | null, attr: string): { on: boolean; length: number | null } {
  if (list === null) return { on: false, length: null };
  for (const entry of list) {
    const [name, len] = entry.split(':');
    if (name === '*' || name === attr) return { on: true, length: len !== undefined && /^\d+$/.test(len) ? Number(len) : null };
  }
  return { on: false, length: null };
}

function formatString(text: string, words: Set<string>, highlight: boolean, crop: number | null, o: FormatOptions, index: TextIndex): string {
  const tokens = tokenize(text, index.config.nonSeparatorTokens, index.config.separatorTokens, index.config.dictionary);
  let from = 0;
  let to = text.length;
  let cropped = false;
  if (crop !== null && tokens.length > crop) {
    const firstMatch = Math.max(0, tokens.findIndex((t) => words.has(t.word)));
    const startTok = Math.max(0, Math.min(firstMatch - Math.floor((crop - 1) / 2), tokens.length - crop));
    const endTok = Math.min(tokens.length, startTok + crop) - 1;
    from = startTok === 0 ? 0 : tokens[startTok]!.start;
    to = endTok === tokens.length - 1 ? text.length : tokens[endTok]!.end;
    cropped = true;
  }
  let out = '';
  let cursor = from;
  if (highlight) {
    for (const t of tokens) {
      if (t.start < from || t.end > to || !words.has(t.word)) continue;
      out += text.slice(cursor, t.start) + o.highlightPreTag + text.slice(t.start, t.end) + o.highlightPostTag;
      cursor = t.end;
    }
  }
  out += text.slice(cursor, to);
  if (cropped) {
    if (from > 0) out = o.cropMarker + out.trimStart();
    if (to < text.length) out = out.trimEnd() + o.cropMarker;
  }
  return out;
}

function formatValue(v: unknown, words: Set<string>, highlight: boolean, crop: number | null, o: FormatOptions, index: TextIndex): unknown {
  if (typeof v === 'string') return formatString(v, words, highlight, crop, o, index);
  if (typeof v === 'number' || typeof v === 'boolean') return String(v);
  if (Array.isArray(v)) return v.map((x) => formatValue(x, words, highlight, crop, o, index));
  if (v !== null && typeof v === 'object') {
    const out: Record<string, unknown> = {};
    for (const [k, x] of Object.entries(v as Record<string, unknown>)) out[k] = formatValue(x, words, highlight, crop, o, index);
    return out;
  }
  return v;
}

function positions(text: string, words: Set<string>, index: TextIndex): Array<{ start: number; length: number }> {
  const out: Array<{ start: number; length: number }> = [];
  for (const t of tokenize(text, index.config.nonSeparatorTokens, index.config.separatorTokens, index.config.dictionary)) {
    if (!words.has(t.word)) continue;
    const start = byteOffset(text, t.start);
    out.push({ start, length: byteOffset(text, t.end) - start });
  }
  return out;
}

function collectPositions(v: unknown, path: string, words: Set<string>, index: TextIndex, out: NonNullable<FormattedParts['_matchesPosition']>, arrayIndex: number | null): void {
  if (typeof v === 'string' || typeof v === 'number') {
    if (index.fieldRank(path) < 0) return;
    const found = positions(String(v), words, index);
    if (found.length === 0) return;
    const list = (out[path] ??= []);
    for (const p of found) list.push(arrayIndex === null ? p : { ...p, indices: [arrayIndex] });
    return;
  }
  if (Array.isArray(v)) {
    v.forEach((x, i) => collectPositions(x, path, words, index, out, i));
    return;
  }
  if (v !== null && typeof v === 'object') {
    for (const [k, x] of Object.entries(v as Record<string, unknown>)) collectPositions(x, path === '' ? k : `${path}.${k}`, words, index, out, arrayIndex);
  }
}

/** `_formatted` and `_matchesPosition` for one (already projected) hit. */
export function formatHit(index: TextIndex, doc: Record<string, unknown>, o: FormatOptions): FormattedParts {
  const parts: FormattedParts = {};
  const wantFormatted = o.attributesToHighlight !== null || o.attributesToCrop !== null;
  if (!wantFormatted && !o.showMatchesPosition) return parts;
  const words = matchSet(index, o.q);
  if (wantFormatted) {
    const formatted: Record<string, unknown> = {};
    for (const [attr, value] of Object.entries(doc)) {
      if (o.displayedFields !== null && !o.displayedFields.includes(attr)) continue;
      const hl = listed(o.attributesToHighlight, attr);
      const cr = listed(o.attributesToCrop, attr);
      formatted[attr] = formatValue(value, words, hl.on, cr.on ? (cr.length ?? o.cropLength) : null, o, index);
    }
    parts._formatted = formatted;
  }
  if (o.showMatchesPosition) {
    const mp: NonNullable<FormattedParts['_matchesPosition']> = {};
    for (const [attr, value] of Object.entries(doc)) collectPositions(value, attr, words, index, mp, null);
    parts._matchesPosition = mp;
  }
  return parts;
}

/** Facet search: the facet query matches a value by prefix of one of its words, with typos per the settings. */
export function facetValueMatches(facetQuery: string, value: string, typo: TypoToleranceConfig): boolean {
  const q = foldWord(facetQuery).trim();
  if (q === '') return true;
  const v = foldWord(value);
  if (v.startsWith(q)) return true;
  if (!typo.enabled) return false;
  const len = [...q].length;
  const allowed = len >= typo.minWordSizeForTypos.twoTypos ? 2 : len >= typo.minWordSizeForTypos.oneTypo ? 1 : 0;
  if (allowed === 0) return false;
  for (const cand of [v, ...tokenize(v).map((t) => t.word)]) {
    const head = cand.slice(0, q.length);
    const extra = head[0] === q[0] ? 0 : 1;
    if (editDistance(q, head, allowed) + extra <= allowed) return true;
    if (editDistance(q, cand, allowed) + extra <= allowed) return true;
  }
  return false;
}
