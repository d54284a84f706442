// The dev node's inverted index: per document the tokens of each searchable field (in searchable order),
// and word → documents postings with a first-letter vocabulary for typo lookups. Also resolves a query word
// into its derivations (exact, prefix, typos, synonyms) the way meili-api.md §6 describes.
import type { RelevanceConfig } from './types.js';
import { editDistance, foldWord, tokenize } from './tokenize.js';

export interface FieldTokens {
  /** Flattened field name (`a.b` for nested). */
  attr: string;
  /** Position of the field in the searchable order (0 = most important). */
  rank: number;
  words: string[];
}

export interface DocEntry {
  fields: FieldTokens[];
}

/** One way a query term matches a word of the index. */
export interface Derivation {
  word: string;
  typos: number;
  prefix: boolean;
}

function flatten(value: unknown, prefix: string, out: Array<[string, string]>): void {
  if (value === null || value === undefined) return;
  if (Array.isArray(value)) {
    for (const v of value) flatten(v, prefix, out);
    return;
  }
  if (typeof value === 'object') {
    for (const [k, v] of Object.entries(value as Record<string, unknown>)) flatten(v, prefix === '' ? k : `${prefix}.${k}`, out);
    return;
  }
  out.push([prefix, String(value)]);
}

function attrMatches(pattern: string, attr: string): boolean {
  return pattern === attr || attr.startsWith(pattern + '.') || (pattern.endsWith('*') && attr.startsWith(pattern.slice(0, -1)));
}

export class TextIndex {
  config: RelevanceConfig;
  readonly docs = new Map<number, DocEntry>();
  private readonly raw = new Map<number, Record<string, unknown>>();
  readonly postings = new Map<string, Set<number>>();
  private readonly vocabByFirst = new Map<string, Set<string>>();
  /** Top-level fields in first-seen order (drives `["*"]`). */
  readonly fieldOrder: string[] = [];
  private readonly fieldSeen = new Set<string>();

  constructor(config: RelevanceConfig) {
    this.config = config;
  }

  /** Number of searchable attributes (attributeRank's scale). */
  get searchableCount(): number {
    const s = this.config.searchableAttributes;
    return s.length === 1 && s[0] === '*' ? Math.max(1, this.fieldOrder.length) : Math.max(1, s.length);
  }

  setConfig(config: RelevanceConfig): void {
    this.config = config;
    const docs = [...this.raw];
    this.docs.clear();
    this.postings.clear();
    this.vocabByFirst.clear();
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
        const set = this.postings.get(w);
        if (set !== undefined) {
          set.delete(docId);
          if (set.size === 0) {
            this.postings.delete(w);
            this.vocabByFirst.get(w[0]!)?.delete(w);
          }
        }
      }
    }
    this.docs.delete(docId);
    this.raw.delete(docId);
  }

  clear(): void {
    this.docs.clear();
    this.raw.clear();
    this.postings.clear();
    this.vocabByFirst.clear();
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

  private index(docId: number, doc: Record<string, unknown>): void {
    const pairs: Array<[string, string]> = [];
    flatten(doc, '', pairs);
    const fields: FieldTokens[] = [];
    for (const [attr, text] of pairs) {
      const rank = this.fieldRank(attr);
      if (rank < 0) continue;
      const words = tokenize(text, this.config.nonSeparatorTokens, this.config.separatorTokens, this.config.dictionary).map((t) => t.word);
      if (words.length === 0) continue;
      fields.push({ attr, rank, words });
      for (const w of words) {
        let set = this.postings.get(w);
        if (set === undefined) {
          this.postings.set(w, (set = new Set()));
          let v = this.vocabByFirst.get(w[0]!);
          if (v === undefined) this.vocabByFirst.set(w[0]!, (v = new Set()));
          v.add(w);
        }
        set.add(docId);
      }
    }
    fields.sort((a, b) => a.rank - b.rank);
    this.docs.set(docId, { fields });
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
    if (this.postings.has(term)) put({ word: term, typos: 0, prefix: false });
    const allowed = this.allowedTypos(term);
    const prefix = isLast && prefixEnabled;
    const scan = (candidates: Iterable<string>, firstDiffers: boolean) => {
      // A first-letter change costs one extra typo (meili-api.md §6), so it needs two allowed typos.
      const extra = firstDiffers ? 1 : 0;
      for (const w of candidates) {
        if (w === term) continue;
        if (!firstDiffers && prefix && w.startsWith(term)) {
          put({ word: w, typos: 0, prefix: true });
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
        if (d >= 1 && d <= allowed) put({ word: w, typos: d, prefix: isPrefix });
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
      if (phrase.length < 2 || start + phrase.length > words.length || !phrase.every((w, i) => words[start + i] === w)) continue;
      const alternatives = list.map((alt) => tokenize(alt).map((t) => t.word)).filter((a) => a.length > 0);
      if (alternatives.length > 0) out.push({ length: phrase.length, alternatives });
    }
    return out;
  }

  rawDocument(docId: number): Record<string, unknown> | undefined {
    return this.raw.get(docId);
  }
}
