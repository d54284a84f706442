// Equality postings for the dev node's filters, so `attr = value`, `attr != value` and `attr IN [...]` (alone or
// combined with AND / OR / NOT) find their documents without evaluating the filter on every document — the
// `_miroir_shard IN [...]` filter Miroir adds to searches and the `_miroir_shard = s` pages of a shard move hit this
// on every request. Keys follow the filter evaluator's equality exactly (src/core/filter/evaluate.ts): a number
// equals a numeric literal, a string or boolean equals the normalized literal text. An attribute's postings are
// built on its first equality filter and then kept up to date by every document write. Filters the postings
// cannot answer (ranges, EXISTS, CONTAINS, …) are evaluated by predicate, on the candidates of an AND's indexed
// parts when there are some, else on every document.
import {
  compileFilter,
  normalizeFacet,
  valuesAt,
  type CompileOptions,
  type Predicate,
} from '../../core/filter/index.js';
import type { FilterNode, FilterValue } from '../../core/filter/parse.js';

type Doc = Record<string, unknown>;

/** A parsed and checked filter with its evaluator options and its predicate over the whole filter. */
export interface CompiledFilter {
  node: FilterNode;
  options: CompileOptions;
  predicate: Predicate;
}

/** The equality keys of one document at one attribute. */
function keysOf(doc: Doc, attr: string): string[] {
  const values = valuesAt(doc, attr);
  if (!Array.isArray(values)) return [];
  const out: string[] = [];
  for (const v of values) {
    if (typeof v === 'number') out.push(`n:${v}`);
    else if (typeof v === 'string') out.push(`s:${normalizeFacet(v)}`);
    else if (typeof v === 'boolean') out.push(`s:${String(v)}`);
  }
  return out;
}

/** The keys a literal equals: its normalized text, and its number when it is one. */
function literalKeys(literal: FilterValue): string[] {
  const keys = [`s:${normalizeFacet(literal.value)}`];
  if (literal.value.trim() !== '') {
    const n = Number(literal.value);
    if (Number.isFinite(n)) keys.push(`n:${n}`);
  }
  return keys;
}

export class FilterIndex {
  private readonly attrs = new Map<string, Map<string, Set<number>>>();

  /** `documents` lists every (seq, document) of the index, for building an attribute's postings on first use. */
  constructor(private readonly documents: () => Iterable<[number, Doc]>) {}

  add(seq: number, doc: Doc): void {
    for (const [attr, postings] of this.attrs) {
      for (const key of keysOf(doc, attr)) {
        let set = postings.get(key);
        if (set === undefined) postings.set(key, (set = new Set()));
        set.add(seq);
      }
    }
  }

  remove(seq: number, doc: Doc): void {
    for (const [attr, postings] of this.attrs) {
      for (const key of keysOf(doc, attr)) {
        const set = postings.get(key);
        if (set === undefined) continue;
        set.delete(seq);
        if (set.size === 0) postings.delete(key);
      }
    }
  }

  /** Documents whose attribute equals the literal (a shared set: do not modify). */
  private equal(attr: string, literal: FilterValue): ReadonlySet<number> {
    let postings = this.attrs.get(attr);
    if (postings === undefined) {
      postings = new Map();
      this.attrs.set(attr, postings);
      for (const [seq, doc] of this.documents()) {
        for (const key of keysOf(doc, attr)) {
          let set = postings.get(key);
          if (set === undefined) postings.set(key, (set = new Set()));
          set.add(seq);
        }
      }
    }
    const keys = literalKeys(literal);
    if (keys.length === 1) return postings.get(keys[0]!) ?? new Set();
    return union(keys.map((k) => postings.get(k) ?? new Set<number>()));
  }

  /** The documents matching a filter. `all` lists every document's seq, `docOf` gives a document by seq. */
  matching(filter: CompiledFilter, all: () => Iterable<number>, docOf: (seq: number) => Doc): Set<number> {
    const { node, options } = filter;
    const everything = (): Set<number> => new Set(all());
    const where = (seqs: Iterable<number>, predicate: Predicate): Set<number> => {
      const out = new Set<number>();
      for (const seq of seqs) if (predicate(docOf(seq))) out.add(seq);
      return out;
    };
    // The documents of a node from the postings, or null when the postings cannot answer it.
    const evaluate = (n: FilterNode): ReadonlySet<number> | null => {
      switch (n.type) {
        case 'cmp':
          if (n.op === '=') return this.equal(n.attr.value, n.value);
          if (n.op === '!=') return minus(everything(), this.equal(n.attr.value, n.value));
          return null;
        case 'in':
          return union(n.values.map((v) => this.equal(n.attr.value, v)));
        case 'not': {
          const inner = evaluate(n.child);
          return inner === null ? null : minus(everything(), inner);
        }
        case 'or': {
          const parts: Array<ReadonlySet<number>> = [];
          for (const c of n.children) {
            const p = evaluate(c);
            if (p === null) return null;
            parts.push(p);
          }
          return union(parts);
        }
        case 'and': {
          const indexed: Array<ReadonlySet<number>> = [];
          const rest: FilterNode[] = [];
          for (const c of n.children) {
            const p = evaluate(c);
            if (p === null) rest.push(c);
            else indexed.push(p);
          }
          if (indexed.length === 0) return null;
          indexed.sort((a, b) => a.size - b.size);
          let out = new Set(indexed[0]);
          for (const p of indexed.slice(1)) out = new Set([...out].filter((s) => p.has(s)));
          for (const c of rest) out = where(out, compileFilter(c, options));
          return out;
        }
        default:
          return null;
      }
    };
    const found = evaluate(node);
    return found === null ? where(all(), filter.predicate) : new Set(found);
  }
}

function union(sets: ReadonlyArray<ReadonlySet<number>>): ReadonlySet<number> {
  if (sets.length === 1) return sets[0]!;
  const out = new Set<number>();
  for (const s of sets) for (const v of s) out.add(v);
  return out;
}

function minus(all: Set<number>, remove: ReadonlySet<number>): Set<number> {
  for (const v of remove) all.delete(v);
  return all;
}
