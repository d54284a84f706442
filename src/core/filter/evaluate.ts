// Evaluates a parsed filter against documents with Meilisearch's facet semantics (dotted paths through nested
// objects and arrays, any-element matching, case-insensitive string equality, numeric and string comparisons),
// checks filters against the `filterableAttributes` setting, and prints a filter back to canonical text.
import { MeiliError, type ErrorCode } from '../errors.js';
import type { FilterNode, FilterValue } from './parse.js';

export type Doc = Record<string, unknown>;
export type Predicate = (doc: Doc) => boolean;

const MISSING = Symbol('missing');

/** Facet normalization: trimmed, compatibility-decomposed, lowercase. */
export function normalizeFacet(s: string): string {
  // Meilisearch's facet normalization: compatibility decomposition and lowercase; accents stay (é ≠ e).
  return s.trim().normalize('NFKD').toLowerCase();
}

/** Every leaf value at a dotted path (arrays flattened); MISSING when the path does not exist. */
export function valuesAt(doc: unknown, path: string): unknown[] | typeof MISSING {
  if (
    doc !== null &&
    typeof doc === 'object' &&
    !Array.isArray(doc) &&
    Object.prototype.hasOwnProperty.call(doc, path)
  ) {
    const v = (doc as Doc)[path];
    return Array.isArray(v) ? v.flat(Infinity) : [v];
  }
  const dot = path.indexOf('.');
  if (dot === -1 || doc === null || typeof doc !== 'object') return MISSING;
  // Try every split point so keys that contain dots still resolve.
  const out: unknown[] = [];
  let found = false;
  for (let i = dot; i !== -1; i = path.indexOf('.', i + 1)) {
    const head = path.slice(0, i);
    const rest = path.slice(i + 1);
    const containers = Array.isArray(doc) ? doc : [doc];
    for (const c of containers) {
      if (c === null || typeof c !== 'object' || Array.isArray(c) || !Object.prototype.hasOwnProperty.call(c, head))
        continue;
      const child = (c as Doc)[head];
      const items = Array.isArray(child) ? child.flat(Infinity) : [child];
      for (const item of items) {
        const r = valuesAt(item, rest);
        if (r !== MISSING) {
          found = true;
          out.push(...r);
        }
      }
    }
  }
  return found ? out : MISSING;
}

function asNumber(v: FilterValue): number | null {
  if (v.value.trim() === '') return null;
  const n = Number(v.value);
  return Number.isFinite(n) ? n : null;
}

function equalsLiteral(literal: FilterValue): (v: unknown) => boolean {
  const n = asNumber(literal);
  const s = normalizeFacet(literal.value);
  return (v) => {
    if (typeof v === 'number') return n !== null && v === n;
    if (typeof v === 'string') return normalizeFacet(v) === s;
    if (typeof v === 'boolean') return String(v) === s;
    return false;
  };
}

function anyValue(attr: string, test: (v: unknown) => boolean): Predicate {
  return (doc) => {
    const vals = valuesAt(doc, attr);
    if (vals === MISSING) return false;
    for (const v of vals) if (test(v)) return true;
    return false;
  };
}

export interface CompileOptions {
  /** Experimental feature `containsFilter`: CONTAINS is refused without it (feature_not_enabled). */
  containsFilter?: boolean;
  code?: ErrorCode;
}

/** Compiles a filter into a predicate over documents. */
export function compileFilter(node: FilterNode, opts: CompileOptions = {}): Predicate {
  const code = opts.code ?? 'invalid_search_filter';
  switch (node.type) {
    case 'or': {
      const parts = node.children.map((c) => compileFilter(c, opts));
      return (doc) => {
        for (const p of parts) if (p(doc)) return true;
        return false;
      };
    }
    case 'and': {
      const parts = node.children.map((c) => compileFilter(c, opts));
      return (doc) => {
        for (const p of parts) if (!p(doc)) return false;
        return true;
      };
    }
    case 'not': {
      const inner = compileFilter(node.child, opts);
      return (doc) => !inner(doc);
    }
    case 'cmp': {
      const attr = node.attr.value;
      if (node.op === '=') return anyValue(attr, equalsLiteral(node.value));
      if (node.op === '!=') {
        const eq = anyValue(attr, equalsLiteral(node.value));
        return (doc) => !eq(doc);
      }
      // Like Meilisearch, a comparison bounds numbers numerically (when the literal is a number) and strings (booleans
      // as strings) by their normalized text.
      const n = asNumber(node.value);
      const t = normalizeFacet(node.value.value);
      const op = node.op;
      const cmp = (a: number): boolean => (op === '>' ? a > 0 : op === '>=' ? a >= 0 : op === '<' ? a < 0 : a <= 0);
      return anyValue(attr, (v) => {
        if (typeof v === 'number') return n !== null && cmp(v - n);
        if (typeof v === 'string' || typeof v === 'boolean') {
          const x = normalizeFacet(String(v));
          return cmp(x < t ? -1 : x > t ? 1 : 0);
        }
        return false;
      });
    }
    case 'range': {
      const lo = asNumber(node.from);
      const hi = asNumber(node.to);
      const from = normalizeFacet(node.from.value);
      const to = normalizeFacet(node.to.value);
      return anyValue(node.attr.value, (v) => {
        if (typeof v === 'number') return lo !== null && hi !== null && v >= lo && v <= hi;
        if (typeof v === 'string' || typeof v === 'boolean') {
          const x = normalizeFacet(String(v));
          return x >= from && x <= to;
        }
        return false;
      });
    }
    case 'in': {
      const tests = node.values.map(equalsLiteral);
      return anyValue(node.attr.value, (v) => tests.some((t) => t(v)));
    }
    case 'exists':
      return (doc) => valuesAt(doc, node.attr.value) !== MISSING;
    case 'null':
      return (doc) => {
        const vals = valuesAt(doc, node.attr.value);
        return vals !== MISSING && vals.length === 1 && vals[0] === null;
      };
    case 'empty':
      return (doc) => {
        if (Object.prototype.hasOwnProperty.call(doc, node.attr.value)) {
          const v = doc[node.attr.value];
          return (
            v === '' ||
            (Array.isArray(v) && v.length === 0) ||
            (v !== null && typeof v === 'object' && !Array.isArray(v) && Object.keys(v).length === 0)
          );
        }
        const vals = valuesAt(doc, node.attr.value);
        return vals !== MISSING && vals.length === 0;
      };
    case 'contains': {
      if (opts.containsFilter !== true) {
        throw new MeiliError(
          'feature_not_enabled',
          'Using `CONTAINS` in a filter requires enabling the `contains filter` experimental feature. See https://github.com/orgs/meilisearch/discussions/763',
        );
      }
      const needle = normalizeFacet(node.value.value);
      return anyValue(
        node.attr.value,
        (v) => (typeof v === 'string' || typeof v === 'number') && normalizeFacet(String(v)).includes(needle),
      );
    }
    case 'starts': {
      const prefix = normalizeFacet(node.value.value);
      return anyValue(
        node.attr.value,
        (v) => (typeof v === 'string' || typeof v === 'number') && normalizeFacet(String(v)).startsWith(prefix),
      );
    }
    case 'geo':
      throw new MeiliError(
        code,
        `The dev node does not index \`_geo\` coordinates: \`${node.fn}\` filters are not supported here.`,
      );
  }
}

/**
 * The attributes a filter reads in evaluation order, with the operator Meilisearch's granular filterable features
 * check (`IN` is checked as `=`; EXISTS, IS NULL, IS EMPTY, CONTAINS and STARTS WITH only need the attribute to be
 * filterable: op null).
 */
export function filterAttributes(
  node: FilterNode,
  out: Array<{ attr: FilterValue; op: string | null }> = [],
): typeof out {
  switch (node.type) {
    case 'or':
    case 'and':
      for (const c of node.children) filterAttributes(c, out);
      break;
    case 'not':
      filterAttributes(node.child, out);
      break;
    case 'cmp':
      out.push({ attr: node.attr, op: node.op });
      break;
    case 'range':
      out.push({ attr: node.attr, op: 'TO' });
      break;
    case 'in':
      out.push({ attr: node.attr, op: '=' });
      break;
    case 'starts':
    case 'contains':
    case 'exists':
    case 'null':
    case 'empty':
      out.push({ attr: node.attr, op: null });
      break;
    case 'geo':
      break;
  }
  return out;
}

/**
 * A filter as Meilisearch re-serializes it in attribute errors (every attribute and value as a JSON string, each
 * operand of AND/OR in parentheses), with where each attribute landed in that text.
 */
export function serializeFilter(node: FilterNode): { text: string; spans: Map<FilterValue, [number, number]> } {
  const spans = new Map<FilterValue, [number, number]>();
  let text = '';
  const attr = (v: FilterValue): void => {
    const q = JSON.stringify(v.value);
    spans.set(v, [text.length + 1, text.length + q.length - 1]);
    text += q;
  };
  const lit = (v: FilterValue): string => JSON.stringify(v.value);
  const walk = (n: FilterNode): void => {
    switch (n.type) {
      case 'or':
      case 'and':
        n.children.forEach((c, i) => {
          if (i > 0) text += n.type === 'or' ? ' OR ' : ' AND ';
          text += '(';
          walk(c);
          text += ')';
        });
        return;
      case 'not':
        text += 'NOT (';
        walk(n.child);
        text += ')';
        return;
      case 'cmp':
        attr(n.attr);
        text += ` ${n.op} ${lit(n.value)}`;
        return;
      case 'range':
        attr(n.attr);
        text += ` ${lit(n.from)} TO ${lit(n.to)}`;
        return;
      case 'in':
        attr(n.attr);
        text += ` IN [${n.values.map(lit).join(', ')}]`;
        return;
      case 'exists':
        attr(n.attr);
        text += ' EXISTS';
        return;
      case 'null':
        attr(n.attr);
        text += ' IS NULL';
        return;
      case 'empty':
        attr(n.attr);
        text += ' IS EMPTY';
        return;
      case 'contains':
        attr(n.attr);
        text += ` CONTAINS ${lit(n.value)}`;
        return;
      case 'starts':
        attr(n.attr);
        text += ` STARTS WITH ${lit(n.value)}`;
        return;
      case 'geo':
        text += filterToString(n);
    }
  };
  walk(node);
  return { text, spans };
}

interface FilterableRule {
  patterns: string[];
  /** A plain string entry: it also covers the fields nested under it; object rules' patterns match exactly or by `*`. */
  legacy: boolean;
  filter: { equality: boolean; comparison: boolean };
  facetSearch: boolean;
}

/** Matches an attribute against a filterable pattern (`*` wildcards; a pattern also covers nested fields). */
export function attributePatternMatches(pattern: string, attr: string): boolean {
  if (pattern === attr) return true;
  if (!pattern.includes('*')) return attr.startsWith(pattern + '.');
  const re = new RegExp(
    '^' +
      pattern
        .split('*')
        .map((p) => p.replace(/[.+?^${}()|[\]\\]/g, '\\$&'))
        .join('.*') +
      '$',
  );
  return re.test(attr);
}

/** An `attributePatterns` entry: the attribute itself or, with `*`, any text in its place (dots included). */
function patternMatchesExactly(pattern: string, attr: string): boolean {
  if (!pattern.includes('*')) return pattern === attr;
  return attributePatternMatches(pattern, attr);
}

/** The `filterableAttributes` setting (string and object forms) as rules. */
export class FilterableAttributes {
  private readonly rules: FilterableRule[];
  readonly patterns: string[];

  constructor(setting: unknown) {
    this.rules = [];
    for (const entry of Array.isArray(setting) ? setting : []) {
      if (typeof entry === 'string') {
        this.rules.push({
          patterns: [entry],
          legacy: true,
          filter: { equality: true, comparison: true },
          facetSearch: true,
        });
      } else if (entry !== null && typeof entry === 'object') {
        const e = entry as {
          attributePatterns?: string[];
          features?: { facetSearch?: boolean; filter?: { equality?: boolean; comparison?: boolean } };
        };
        this.rules.push({
          patterns: e.attributePatterns ?? [],
          legacy: false,
          filter: {
            equality: e.features?.filter?.equality ?? true,
            comparison: e.features?.filter?.comparison ?? false,
          },
          facetSearch: e.features?.facetSearch ?? false,
        });
      }
    }
    this.patterns = this.rules.flatMap((r) => r.patterns);
  }

  private ruleFor(attr: string): FilterableRule | null {
    const i = this.ruleIndexFor(attr);
    return i === null ? null : this.rules[i]!;
  }

  /** Index of the first rule whose patterns match `attr` (Meilisearch's "matched rule #n"), or null. */
  ruleIndexFor(attr: string): number | null {
    for (let i = 0; i < this.rules.length; i++) {
      const r = this.rules[i]!;
      for (const p of r.patterns)
        if (r.legacy ? attributePatternMatches(p, attr) : patternMatchesExactly(p, attr)) return i;
    }
    return null;
  }

  /** The patterns of the rules that enable facet search. */
  facetSearchablePatterns(): string[] {
    return this.rules.filter((r) => r.facetSearch).flatMap((r) => r.patterns);
  }

  /** The patterns of the rules that enable filtering. */
  filterablePatterns(): string[] {
    return this.rules.filter((r) => r.filter.equality || r.filter.comparison).flatMap((r) => r.patterns);
  }

  isFilterable(attr: string): boolean {
    const r = this.ruleFor(attr);
    return r !== null && (r.filter.equality || r.filter.comparison);
  }

  isFacetSearchable(attr: string): boolean {
    return this.ruleFor(attr)?.facetSearch === true;
  }

  /**
   * Throws Meilisearch's error when a filter uses an attribute or operator the setting does not allow: first any
   * attribute that is not filterable (positioned in the re-serialized filter), then, in evaluation order, an operator
   * its rule does not enable. `_vectors` and `_shard` are Meilisearch's special attributes and pass. `serialized`:
   * positions refer to the re-serialized filter (search) or to `src` as sent (documents routes).
   */
  check(
    node: FilterNode,
    src: string | null,
    code: ErrorCode = 'invalid_search_filter',
    indexUid: string | null = null,
    serialized = true,
  ): void {
    const prefix = indexUid === null ? '' : `Index \`${indexUid}\`: `;
    const attrs = filterAttributes(node).filter(
      ({ attr }) => attr.value !== '_vectors' && !attr.value.startsWith('_vectors.') && attr.value !== '_shard',
    );
    for (const { attr } of attrs) {
      if (this.isFilterable(attr.value)) continue;
      const patterns = this.filterablePatterns();
      const available =
        patterns.length === 0
          ? 'This index does not have configured filterable attributes.'
          : `Available filterable attribute patterns are: ${[...new Set(patterns)]
              .sort()
              .map((p) => `\`${p}\``)
              .join(', ')}.`;
      // Search reports the position in the filter as it re-serializes it; the documents routes in the text sent.
      let where = '';
      if (serialized) {
        const { text, spans } = serializeFilter(node);
        const [s0, e0] = spans.get(attr) ?? [0, 0];
        where = `\n${s0 + 1}:${e0 + 1} ${text}`;
      } else if (src !== null) where = `\n${attr.start + 1}:${attr.end + 1} ${src}`;
      throw new MeiliError(code, `${prefix}Attribute \`${attr.value}\` is not filterable. ${available}${where}`);
    }
    for (const { attr, op } of attrs) {
      if (op === null) continue;
      const index = this.ruleIndexFor(attr.value)!;
      const rule = this.rules[index]!;
      const equality = op === '=' || op === '!=';
      if (equality ? rule.filter.equality : rule.filter.comparison) continue;
      const allowed = [
        'OR',
        'AND',
        'NOT',
        ...(rule.filter.equality ? ['=', '!=', 'IN'] : []),
        ...(rule.filter.comparison ? ['<', '>', '<=', '>=', 'TO'] : []),
        'IS EMPTY',
        'IS NULL',
        'EXISTS',
      ];
      throw new MeiliError(
        code,
        `${prefix}Filter operator \`${op}\` is not allowed for the attribute \`${attr.value}\`.\n  - Note: allowed operators: ${allowed.join(', ')}.\n  - Note: field \`${attr.value}\` matched rule #${index} in \`filterableAttributes\`\n  - Hint: enable ${equality ? 'equality' : 'comparison'} in rule #${index} by modifying the features.filter object\n  - Hint: prepend another rule matching \`${attr.value}\` with appropriate filter features before rule #${index}`,
      );
    }
  }
}

function quote(v: FilterValue): string {
  if (!v.quoted && /^[\p{L}\p{N}_.-]+$/u.test(v.value)) return v.value;
  return `"${v.value.replace(/\\/g, '\\\\').replace(/"/g, '\\"')}"`;
}

/** A canonical string form of a filter that parses back to the same tree. */
export function filterToString(node: FilterNode): string {
  switch (node.type) {
    case 'or':
      return node.children.map((c) => `(${filterToString(c)})`).join(' OR ');
    case 'and':
      return node.children.map((c) => `(${filterToString(c)})`).join(' AND ');
    case 'not':
      return `NOT (${filterToString(node.child)})`;
    case 'cmp':
      return `${quote(node.attr)} ${node.op} ${quote(node.value)}`;
    case 'range':
      return `${quote(node.attr)} ${quote(node.from)} TO ${quote(node.to)}`;
    case 'in':
      return `${quote(node.attr)} IN [${node.values.map(quote).join(', ')}]`;
    case 'exists':
      return `${quote(node.attr)} EXISTS`;
    case 'null':
      return `${quote(node.attr)} IS NULL`;
    case 'empty':
      return `${quote(node.attr)} IS EMPTY`;
    case 'contains':
      return `${quote(node.attr)} CONTAINS ${quote(node.value)}`;
    case 'starts':
      return `${quote(node.attr)} STARTS WITH ${quote(node.value)}`;
    case 'geo':
      return `${node.fn}(${node.args.map((a) => (a.length === 1 ? String(a[0]) : `[${a.join(', ')}]`)).join(', ')})`;
  }
}
