// The dev node's inverted index: per document the tokens of each searchable field (in searchable order),
// and word → documents postings with a first-letter vocabulary for typo lookups. Also resolves a query word
// into its derivations (exact, prefix, typos, synonyms) the way meili-api.md §6 describes.
import type { RelevanceConfig } from './types.js';
import { editDistance, foldWord, tokenize, tokenizeFull, wordPositions } from './tokenize.js';
import { TokenArena } from './token-arena.js';

export interface FieldTokens {
  /** Flattened field name (`a.b` for nested). */
  attr: string;
  /** Position of the field in the searchable order (0 = most important). */
  rank: number;
  /** attributeRank weight: the searchable rank, or 0 for every field when searchableAttributes is `["*"]`. */
  weight: number;
  /**
   * Words by position as Meilisearch counts positions (+8 after a hard separator and between the values of an
   * array): `words[p]` is the word at position p, or `""` (FILLER) in a gap.
   */
  words: string[];
  /** Number of real words (fillers excluded). */
  count: number;
}

export interface DocEntry {
  fields: FieldTokens[];
}

/** A gap in FieldTokens.words (matches no query word). */
export const FILLER = '';
/** Packs a field weight and a word position into one number (`weight · POS + min(position, POS − 1)`). */
export const POS = 65536;
/** Posting flags (low two bits of a posting value): the word starts a field / is a whole field. */
export const STARTS_FIELD = 1;
export const WHOLE_FIELD = 2;

/** A posting value: `(minWeight · POS + minPosition) · 4 + flags`, each minimized over the document's fields. */
export function postingWeight(value: number): number {
  return Math.floor(value / (4 * POS));
}
export function postingMinPosition(value: number): number {
  return Math.floor(value / 4) % POS;
}
export function postingFlags(value: number): number {
  return value % 4;
}
function posting(weight: number, position: number, flags: number): number {
  return (weight * POS + Math.min(position, POS - 1)) * 4 + flags;
}
function mergePosting(a: number, b: number): number {
  return posting(
    Math.min(postingWeight(a), postingWeight(b)),
    Math.min(postingMinPosition(a), postingMinPosition(b)),
    postingFlags(a) | postingFlags(b),
  );
}

/** One way a query term matches a word of the index. */
export interface Derivation {
  word: string;
  typos: number;
  prefix: boolean;
  /** The word's id (TextIndex.postingsOf). */
  id: number;
}

function flatten(value: unknown, prefix: string, out: Array<[string, string]>): void {
  if (value === null || value === undefined) return;
  if (Array.isArray(value)) {
    for (const v of value) flatten(v, prefix, out);
    return;
  }
  if (typeof value === 'object') {
    for (const [k, v] of Object.entries(value as Record<string, unknown>))
      flatten(v, prefix === '' ? k : `${prefix}.${k}`, out);
    return;
  }
  out.push([prefix, String(value)]);
}

function attrMatches(pattern: string, attr: string): boolean {
  return (
    pattern === attr ||
    attr.startsWith(pattern + '.') ||
    (pattern.endsWith('*') && attr.startsWith(pattern.slice(0, -1)))
  );
}

export class TextIndex {
  config: RelevanceConfig;
  readonly docs = new Map<number, DocEntry>();
  private readonly raw = new Map<number, Record<string, unknown>>();
  /** The highest document id ever indexed (sizes per-query arrays indexed by document id). */
  maxDocId = -1;
  /** Every word ever indexed → a small id (never reused; ids index per-query lookup tables). */
  private readonly wordIds = new Map<string, number>();
  /**
   * Postings by word id (no string hashing for the thousands of words a prefix can expand to): documents holding
   * the word, each with `place · 4 + flags`: place = `rank · POS + position` minimized over the document's
   * searchable fields (the lowest field rank, then the earliest position in a field of that rank); flags =
   * STARTS_FIELD | WHOLE_FIELD or-ed over them. attributeRank, wordPosition and a one-word exactness read straight
   * from here (see preselect.ts). Undefined for a word no document holds now.
   */
  private readonly postingsById: Array<Map<number, number> | undefined> = [];
  /** Each document's searchable words as word ids, in its fields' order (scanned by preselect.ts). */
  readonly tokens = new TokenArena();
  /** Indexed words by first character, each with its word id (typo and prefix lookups scan one of these). */
  private readonly vocabByFirst = new Map<string, Map<string, number>>();
  /** Top-level fields in first-seen order (drives `["*"]`). */
  readonly fieldOrder: string[] = [];
  private readonly fieldSeen = new Set<string>();

  constructor(config: RelevanceConfig) {
    this.config = config;
    this.stopWords = new Set(config.stopWords.map(foldWord));
  }

  /** The highest attributeRank weight: 0 when searchableAttributes is `["*"]` (every field weighs 0), else its length − 1. */
  get maxWeight(): number {
    const s = this.config.searchableAttributes;
    return s.includes('*') ? 0 : Math.max(0, s.length - 1);
  }

  /** Stop words, normalized as indexed words are. */
  private stopWords: ReadonlySet<string> = new Set();

  setConfig(config: RelevanceConfig): void {
    this.config = config;
    this.stopWords = new Set(config.stopWords.map(foldWord));
    const docs = [...this.raw];
    this.docs.clear();
    this.postingsById.length = 0;
    this.vocabByFirst.clear();
    this.tokens.clear();
    for (const [id, doc] of docs) this.index(id, doc);
  }

  add(docId: number, doc: Record<string, unknown>): void {
    if (this.raw.has(docId)) this.remove(docId);
    for (const k of Object.keys(doc)) {
      if (!this.fieldSeen.has(k)) {
        this.fieldSeen.add(k);
        this.fieldOrder.push(k);
      }
    }
    this.raw.set(docId, doc);
    this.index(docId, doc);
  }

  remove(docId: number): void {
    const entry = this.docs.get(docId);
    if (entry === undefined) return;
    for (const f of entry.fields) {
      for (const w of f.words) {
        if (w === FILLER) continue;
        const id = this.wordIds.get(w)!;
        const docs = this.postingsById[id];
        if (docs !== undefined) {
          docs.delete(docId);
          if (docs.size === 0) {
            this.postingsById[id] = undefined;
            this.vocabByFirst.get(w[0]!)?.delete(w);
          }
        }
      }
    }
    this.docs.delete(docId);
    this.raw.delete(docId);
    this.tokens.delete(docId);
  }

  /** The postings of a word by its id (see `postingsById`), or undefined when no document holds it now. */
  postingsOf(id: number): ReadonlyMap<number, number> | undefined {
    return this.postingsById[id];
  }

  /** The postings of a word, or undefined when no document holds it now. */
  postingsOfWord(word: string): ReadonlyMap<number, number> | undefined {
    const id = this.wordIds.get(word);
    return id === undefined ? undefined : this.postingsById[id];
  }

  /** One more than the highest word id (the size of a lookup table over word ids). */
  get vocabularySize(): number {
    return this.wordIds.size;
  }

  clear(): void {
    this.docs.clear();
    this.raw.clear();
    this.postingsById.length = 0;
    this.vocabByFirst.clear();
    this.tokens.clear();
  }

  /** The searchable field rank of a flattened attribute, or -1 when not searchable. */
  fieldRank(attr: string): number {
    const s = this.config.searchableAttributes;
    if (s.length === 1 && s[0] === '*') {
      const top = attr.split('.')[0]!;
      return this.fieldOrder.indexOf(top);
    }
    for (let i = 0; i < s.length; i++) if (attrMatches(s[i]!, attr)) return i;
    return -1;
  }

  private wordId(w: string): number {
    let id = this.wordIds.get(w);
    if (id === undefined) this.wordIds.set(w, (id = this.wordIds.size));
    return id;
  }

  private index(docId: number, doc: Record<string, unknown>): void {
    const pairs: Array<[string, string]> = [];
    flatten(doc, '', pairs);
    // One field per flattened attribute: the values of an array continue 8 positions after the previous one.
    const byAttr = new Map<string, { rank: number; words: string[]; count: number; last: number | null }>();
    const stop = this.stopWords;
    for (const [attr, text] of pairs) {
      let field = byAttr.get(attr);
      if (field === undefined) {
        const rank = this.fieldRank(attr);
        if (rank < 0) continue;
        byAttr.set(attr, (field = { rank, words: [], count: 0, last: null }));
      }
      const start = field.last === null ? 0 : field.last + 8;
      field.last = start;
      const tokens = tokenizeFull(
        text,
        this.config.nonSeparatorTokens,
        this.config.separatorTokens,
        this.config.dictionary,
      );
      const positions = wordPositions(tokens, start);
      let n = 0;
      for (const t of tokens) {
        if (t.kind !== 'word') continue;
        const p = positions[n++]!;
        if (p >= POS) break;
        while (field.words.length < p) field.words.push(FILLER);
        // Stop words take their position but are not indexed (a query for one alone finds nothing).
        field.words.push(stop.has(t.word) ? FILLER : t.word);
        field.count++;
        field.last = p;
      }
    }
    const star = this.config.searchableAttributes.includes('*');
    const fields: Array<FieldTokens & { ids: number[] }> = [];
    for (const [attr, f] of byAttr) {
      if (f.count === 0) continue;
      const weight = star ? 0 : f.rank;
      const ids: number[] = [];
      fields.push({ attr, rank: f.rank, weight, words: f.words, count: f.count, ids });
      for (let p = 0; p < f.words.length; p++) {
        const w = f.words[p]!;
        const id = this.wordId(w);
        ids.push(id);
        if (w === FILLER) continue;
        const flags = p === 0 ? (f.count === 1 ? STARTS_FIELD | WHOLE_FIELD : STARTS_FIELD) : 0;
        let docs = this.postingsById[id];
        if (docs === undefined) {
          this.postingsById[id] = docs = new Map();
          let v = this.vocabByFirst.get(w[0]!);
          if (v === undefined) this.vocabByFirst.set(w[0]!, (v = new Map()));
          v.set(w, id);
        }
        const value = posting(weight, p, flags);
        const prev = docs.get(docId);
        docs.set(docId, prev === undefined ? value : mergePosting(prev, value));
      }
    }
    if (docId > this.maxDocId) this.maxDocId = docId;
    fields.sort((a, b) => a.rank - b.rank);
    this.tokens.put(
      docId,
      fields.map((f) => f.ids),
    );
    this.docs.set(docId, {
      fields: fields.map(({ attr, rank, weight, words, count }) => ({ attr, rank, weight, words, count })),
    });
  }

  /** Typos a query word may have under the typo settings. */
  allowedTypos(word: string): number {
    const t = this.config.typoTolerance;
    if (!t.enabled) return 0;
    if (t.disableOnWords.map(foldWord).includes(word)) return 0;
    if (t.disableOnNumbers && /^\p{N}+$/u.test(word)) return 0;
    const len = [...word].length;
    if (len >= t.minWordSizeForTypos.twoTypos) return 2;
    if (len >= t.minWordSizeForTypos.oneTypo) return 1;
    return 0;
  }

  /** Every index word a query term can match, with its typo cost (synonyms and exact cost 0). */
  derivations(term: string, isLast: boolean, prefixEnabled: boolean): Derivation[] {
    const out = new Map<string, Derivation>();
    const put = (d: Derivation) => {
      const prev = out.get(d.word);
      if (prev === undefined || d.typos < prev.typos) out.set(d.word, d);
    };
    if (this.postingsOfWord(term) !== undefined)
      put({ word: term, typos: 0, prefix: false, id: this.wordIds.get(term)! });
    const allowed = this.allowedTypos(term);
    const prefix = isLast && prefixEnabled;
    const scan = (candidates: Iterable<[string, number]>, firstDiffers: boolean) => {
      // A first-letter change costs one extra typo (meili-api.md §6), so it needs two allowed typos.
      const extra = firstDiffers ? 1 : 0;
      for (const [w, id] of candidates) {
        if (w === term) continue;
        if (!firstDiffers && prefix && w.startsWith(term)) {
          put({ word: w, typos: 0, prefix: true, id });
          continue;
        }
        if (allowed - extra < 1 && !firstDiffers) continue;
        let d = editDistance(term, w, allowed) + extra;
        let isPrefix = false;
        if (prefix && w.length > term.length) {
          const p = editDistance(term, w.slice(0, term.length), allowed) + extra;
          if (p < d) {
            d = p;
            isPrefix = true;
          }
        }
        if (d >= 1 && d <= allowed) put({ word: w, typos: d, prefix: isPrefix, id });
      }
    };
    scan(this.vocabByFirst.get(term[0]!) ?? [], false);
    if (allowed >= 2) {
      for (const [first, words] of this.vocabByFirst) if (first !== term[0]) scan(words, true);
    }
    return [...out.values()];
  }

  /** Synonym expansions of a query term: each alternative is a list of words that must all be present. */
  synonyms(term: string): string[][] {
    const out: string[][] = [];
    for (const [key, list] of Object.entries(this.config.synonyms)) {
      if (foldWord(key) !== term) continue;
      for (const alt of list) {
        const words = tokenize(alt).map((t) => t.word);
        if (words.length > 0) out.push(words);
      }
    }
    return out;
  }

  /**
   * Query-side multi-word synonyms: the alternatives of synonym keys of two or more words that occur as a phrase in
   * the query words starting at `start`, with the phrase length (e.g. `new york` → [["nyc"]] for `{"new york": ["nyc"]}`).
   */
  phraseSynonyms(words: readonly string[], start: number): Array<{ length: number; alternatives: string[][] }> {
    const out: Array<{ length: number; alternatives: string[][] }> = [];
    for (const [key, list] of Object.entries(this.config.synonyms)) {
      const phrase = tokenize(key).map((t) => t.word);
      if (phrase.length < 2 || start + phrase.length > words.length || !phrase.every((w, i) => words[start + i] === w))
        continue;
      const alternatives = list.map((alt) => tokenize(alt).map((t) => t.word)).filter((a) => a.length > 0);
      if (alternatives.length > 0) out.push({ length: phrase.length, alternatives });
    }
    return out;
  }

  rawDocument(docId: number): Record<string, unknown> | undefined {
    return this.raw.get(docId);
  }
}
