// HOT PATH. The primary-key query planner (SPEC A4): which shards can hold a document a filter matches, when the
// filter pins the primary key. `pk = x`, `pk IN [...]`, an OR whose every branch is pinned, and an AND with at
// least one pinned term narrow the fan-out; an OR with any other branch, NOT, `!=`, ranges and lists over the cap
// do not. Exact, like Meilisearch's own equality: a string literal matches ids that differ from it only in case
// (Meilisearch compares normalized, lower-cased strings), so `id = "ab"` stands for `ab`, `aB`, `Ab` and `AB`; a
// numeric literal also matches the integer id it equals (`id = 1.0` finds document 1). Every spelling counts
// against `max_pk_literals_narrowable`. Pure; the scatter asks only the chosen shards' nodes.
import { parseFilter, type FilterNode, type FilterValue } from './filter/parse.js';
import { normalizeFacet } from './filter/evaluate.js';
import { shardForKey } from './hash.js';

export type PlanReason =
  | 'pk_equality'
  | 'pk_in'
  | 'pk_or'
  | 'pk_and'
  | 'planner_disabled'
  | 'no_filter'
  | 'no_primary_key'
  | 'no_pk_term'
  | 'or_with_non_pk_branch'
  | 'not_over_pk'
  | 'pk_literals_over_cap'
  | 'every_shard_targeted'
  | 'filter_invalid';

export interface PkPlan {
  narrowed: boolean;
  reason: PlanReason;
  /** The shards to ask (ascending) when narrowed; null otherwise (every shard). */
  shards: number[] | null;
  /** Document ids the pinned terms stand for (case spellings and integer forms included). */
  literals: number;
}

/** Text of a narrowed or not-narrowed decision, for explain and `log_plans`. */
export const PLAN_REASON_TEXT: Readonly<Record<PlanReason, string>> = Object.freeze({
  pk_equality: 'the filter pins the primary key to one value',
  pk_in: 'the filter pins the primary key to a list of values',
  pk_or: 'every branch of the OR pins the primary key',
  pk_and: 'an AND term pins the primary key',
  planner_disabled: 'query_planner.enabled is false',
  no_filter: 'the query has no filter',
  no_primary_key: 'the index has no primary key yet',
  no_pk_term: 'the filter does not pin the primary key',
  or_with_non_pk_branch: 'an OR has a branch that does not pin the primary key',
  not_over_pk: 'the primary key is only negated or compared with !=, >, <, TO',
  pk_literals_over_cap: 'the primary-key values (with their case spellings) exceed max_pk_literals_narrowable',
  every_shard_targeted: 'the primary-key values fall in every shard',
  filter_invalid: 'the filter does not parse (the nodes report the error)',
});

const ID_CHARS = /^[a-z0-9_-]{1,511}$/;
const NOT_PINNED: unique symbol = Symbol('not pinned');

interface Pinned {
  /** Bitmap over shards. */
  set: Uint8Array;
  reason: PlanReason;
}

class Planner {
  literals = 0;
  overCap = false;
  sawNot = false;
  sawOr = false;
  constructor(
    readonly pk: string,
    readonly shards: number,
    readonly cap: number,
  ) {}

  /** Marks the shards of every id a literal equals; false when the cap is passed. */
  private addLiteral(v: FilterValue, set: Uint8Array): boolean {
    const raw = v.value;
    let numeric: string | null = null;
    if (raw.trim() !== '') {
      const n = Number(raw);
      if (Number.isSafeInteger(n)) {
        if (++this.literals > this.cap) return false;
        numeric = String(n);
        set[shardForKey(numeric, this.shards)] = 1;
      }
    }
    const s = normalizeFacet(raw);
    if (s === numeric || !ID_CHARS.test(s)) return true; // counted already, or no string id can equal it
    let letters = 0;
    for (let i = 0; i < s.length; i++) {
      const c = s.charCodeAt(i);
      if (c >= 97 && c <= 122) letters++;
    }
    if (letters > 30 || this.literals + 2 ** letters > this.cap) return false;
    this.literals += 2 ** letters;
    if (letters === 0) {
      set[shardForKey(s, this.shards)] = 1;
      return true;
    }
    const chars = s.split('');
    const at: number[] = [];
    for (let i = 0; i < chars.length; i++) if (chars[i]! >= 'a' && chars[i]! <= 'z') at.push(i);
    for (let mask = 0; mask < 2 ** letters; mask++) {
      for (let b = 0; b < at.length; b++) {
        const i = at[b]!;
        chars[i] = mask & (1 << b) ? chars[i]!.toUpperCase() : chars[i]!.toLowerCase();
      }
      set[shardForKey(chars.join(''), this.shards)] = 1;
    }
    return true;
  }

  /** The shards a node's matches can live in, or NOT_PINNED. */
  visit(node: FilterNode): Pinned | typeof NOT_PINNED {
    switch (node.type) {
      case 'cmp': {
        if (node.attr.value !== this.pk) return NOT_PINNED;
        if (node.op !== '=') {
          this.sawNot = true;
          return NOT_PINNED;
        }
        const set = new Uint8Array(this.shards);
        if (!this.addLiteral(node.value, set)) {
          this.overCap = true;
          return NOT_PINNED;
        }
        return { set, reason: 'pk_equality' };
      }
      case 'in': {
        if (node.attr.value !== this.pk) return NOT_PINNED;
        const set = new Uint8Array(this.shards);
        for (const v of node.values)
          if (!this.addLiteral(v, set)) {
            this.overCap = true;
            return NOT_PINNED;
          }
        return { set, reason: 'pk_in' };
      }
      case 'and': {
        let out: Uint8Array | null = null;
        for (const c of node.children) {
          const p = this.visit(c);
          if (p === NOT_PINNED) continue;
          if (out === null) out = p.set;
          else for (let i = 0; i < out.length; i++) out[i]! &= p.set[i]!;
        }
        return out === null ? NOT_PINNED : { set: out, reason: 'pk_and' };
      }
      case 'or': {
        const out = new Uint8Array(this.shards);
        for (const c of node.children) {
          const p = this.visit(c);
          if (p === NOT_PINNED) {
            this.sawOr = true;
            return NOT_PINNED;
          }
          for (let i = 0; i < out.length; i++) out[i]! |= p.set[i]!;
        }
        return { set: out, reason: 'pk_or' };
      }
      case 'not':
        if (mentions(node.child, this.pk)) this.sawNot = true;
        return NOT_PINNED;
      case 'range':
        if (node.attr.value === this.pk) this.sawNot = true;
        return NOT_PINNED;
      default:
        return NOT_PINNED;
    }
  }
}

function mentions(node: FilterNode, pk: string): boolean {
  switch (node.type) {
    case 'and':
    case 'or':
      return node.children.some((c) => mentions(c, pk));
    case 'not':
      return mentions(node.child, pk);
    case 'geo':
      return false;
    default:
      return node.attr.value === pk;
  }
}

/** Whether the filter's text names the primary key at all (a cheap test before parsing). */
function textMentions(filter: unknown, pk: string): boolean {
  if (typeof filter === 'string') return filter.includes(pk);
  if (Array.isArray(filter)) return filter.some((f) => textMentions(f, pk));
  return false;
}

function notNarrowed(reason: PlanReason, literals = 0): PkPlan {
  return { narrowed: false, reason, shards: null, literals };
}

/**
 * The shards a filter's matches can live in when it pins the primary key (`filter` in either of Meilisearch's
 * forms, tenant rules already ANDed in); otherwise not narrowed, with the reason.
 */
export function planPkFilter(filter: unknown, primaryKey: string | null, shards: number, maxLiterals: number): PkPlan {
  if (filter === undefined || filter === null || filter === '') return notNarrowed('no_filter');
  if (primaryKey === null) return notNarrowed('no_primary_key');
  if (!textMentions(filter, primaryKey)) return notNarrowed('no_pk_term');
  let root: FilterNode | null;
  try {
    root = parseFilter(filter);
  } catch {
    return notNarrowed('filter_invalid');
  }
  if (root === null) return notNarrowed('no_filter');
  const p = new Planner(primaryKey, shards, maxLiterals);
  const pinned = p.visit(root);
  if (pinned === NOT_PINNED) {
    if (p.overCap) return notNarrowed('pk_literals_over_cap', p.literals);
    if (p.sawOr) return notNarrowed('or_with_non_pk_branch', p.literals);
    if (p.sawNot) return notNarrowed('not_over_pk', p.literals);
    return notNarrowed('no_pk_term', p.literals);
  }
  const out: number[] = [];
  for (let s = 0; s < shards; s++) if (pinned.set[s] === 1) out.push(s);
  if (out.length === shards) return notNarrowed('every_shard_targeted', p.literals);
  // No id can match (e.g. `id = "a b"`): one shard still answers, so the reply keeps its shape and its errors.
  if (out.length === 0) out.push(0);
  return { narrowed: true, reason: pinned.reason, shards: out, literals: p.literals };
}
