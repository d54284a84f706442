// Meilisearch's filter language (v1.50, meili-api.md §2): string and array forms parsed into one AST, with
// Meilisearch-style errors carrying a `line:col filter` position suffix. Pure; used by the dev node and the proxy.
import { MeiliError, type ErrorCode } from '../errors.js';

export interface FilterValue {
  value: string;
  quoted: boolean;
  /** Character offsets in the source string, for error messages. */
  start: number;
  end: number;
}

export type FilterNode =
  | { type: 'or'; children: FilterNode[] }
  | { type: 'and'; children: FilterNode[] }
  | { type: 'not'; child: FilterNode }
  | { type: 'cmp'; attr: FilterValue; op: '=' | '!=' | '>' | '>=' | '<' | '<='; value: FilterValue }
  | { type: 'range'; attr: FilterValue; from: FilterValue; to: FilterValue }
  | { type: 'in'; attr: FilterValue; values: FilterValue[] }
  | { type: 'exists'; attr: FilterValue }
  | { type: 'null'; attr: FilterValue }
  | { type: 'empty'; attr: FilterValue }
  | { type: 'contains'; attr: FilterValue; value: FilterValue }
  | { type: 'starts'; attr: FilterValue; value: FilterValue }
  | { type: 'geo'; fn: '_geoRadius' | '_geoBoundingBox' | '_geoPolygon'; args: number[][]; start: number; end: number };

const KEYWORDS = new Set([
  'AND',
  'OR',
  'IN',
  'NOT',
  'TO',
  'EXISTS',
  'IS',
  'NULL',
  'EMPTY',
  'CONTAINS',
  'STARTS',
  'WITH',
  '_geoRadius',
  '_geoBoundingBox',
]);
const MAX_DEPTH = 150;

type Tok =
  | { kind: 'word'; text: string; start: number; end: number }
  | { kind: 'string'; text: string; start: number; end: number }
  | { kind: 'punct'; text: string; start: number; end: number }
  | { kind: 'eof'; text: ''; start: number; end: number };

const OPERATION_LIST =
  '`=`, `!=`, `>=`, `>`, `<=`, `<`, `IN`, `NOT IN`, `TO`, `EXISTS`, `NOT EXISTS`, `IS NULL`, `IS NOT NULL`, `IS EMPTY`, `IS NOT EMPTY`, `CONTAINS`, `NOT CONTAINS`, `STARTS WITH`, `NOT STARTS WITH`, `_geoRadius`, `_geoBoundingBox` or `_geoPolygon`';
const RESERVED_GEO = new Set(['_geo', '_geoDistance', '_geoPoint']);

/** Parser options: with `containsFilter` given, CONTAINS needs it true (Meilisearch checks the feature while parsing). */
export interface ParseOptions {
  containsFilter?: boolean;
}

function isWordChar(ch: string): boolean {
  return /[\p{L}\p{N}_.-]/u.test(ch);
}

class FilterParser {
  private readonly src: string;
  private readonly code: ErrorCode;
  private readonly opts: ParseOptions;
  private toks: Tok[] = [];
  private i = 0;
  private depth = 0;

  constructor(src: string, code: ErrorCode, opts: ParseOptions = {}) {
    this.src = src;
    this.code = code;
    this.opts = opts;
  }

  fail(message: string, start: number, end: number, code: ErrorCode = this.code): never {
    const s = Math.max(0, Math.min(start, this.src.length));
    const e = Math.max(s, Math.min(end, this.src.length));
    throw new MeiliError(code, `${message}\n${s + 1}:${e + 1} ${this.src}`);
  }

  lex(): void {
    const s = this.src;
    let i = 0;
    while (i < s.length) {
      const ch = s[i]!;
      if (/\s/.test(ch)) {
        i++;
        continue;
      }
      if (ch === '"' || ch === "'") {
        const start = i;
        let out = '';
        i++;
        let closed = false;
        while (i < s.length) {
          const c = s[i]!;
          if (c === '\\' && i + 1 < s.length) {
            const next = s[i + 1]!;
            out += next === ch ? ch : next === 'n' ? '\n' : next === 't' ? '\t' : next === '\\' ? '\\' : '\\' + next;
            i += 2;
            continue;
          }
          if (c === ch) {
            closed = true;
            i++;
            break;
          }
          out += c;
          i++;
        }
        if (!closed)
          this.fail(
            `Expression \`${s.slice(start)}\` is missing the following closing delimiter: \`${ch}\`.`,
            start,
            s.length,
          );
        this.toks.push({ kind: 'string', text: out, start, end: i });
        continue;
      }
      if (ch === '!' && s[i + 1] === '=') {
        this.toks.push({ kind: 'punct', text: '!=', start: i, end: i + 2 });
        i += 2;
        continue;
      }
      if ((ch === '>' || ch === '<') && s[i + 1] === '=') {
        this.toks.push({ kind: 'punct', text: ch + '=', start: i, end: i + 2 });
        i += 2;
        continue;
      }
      if ('()[],=<>!'.includes(ch)) {
        this.toks.push({ kind: 'punct', text: ch, start: i, end: i + 1 });
        i++;
        continue;
      }
      const start = i;
      while (i < s.length && !/\s/.test(s[i]!) && !'()[],=<>!\'"'.includes(s[i]!)) i++;
      const text = s.slice(start, i);
      this.toks.push({ kind: 'word', text, start, end: i });
    }
    this.toks.push({ kind: 'eof', text: '', start: s.length, end: s.length });
  }

  peek(offset = 0): Tok {
    return this.toks[Math.min(this.i + offset, this.toks.length - 1)]!;
  }

  next(): Tok {
    return this.toks[Math.min(this.i++, this.toks.length - 1)]!;
  }

  isKw(tok: Tok, kw: string): boolean {
    return tok.kind === 'word' && tok.text === kw;
  }

  parse(): FilterNode {
    this.lex();
    const node = this.parseOr();
    const t = this.peek();
    if (t.kind !== 'eof')
      this.fail(
        `Found unexpected characters at the end of the filter: \`${this.src.slice(t.start)}\`. You probably forgot an \`OR\` or an \`AND\` rule.`,
        t.start,
        this.src.length,
      );
    return node;
  }

  parseOr(): FilterNode {
    const children = [this.parseAnd()];
    while (this.isKw(this.peek(), 'OR')) {
      this.next();
      children.push(this.parseAnd());
    }
    return children.length === 1 ? children[0]! : { type: 'or', children };
  }

  parseAnd(): FilterNode {
    const children = [this.parseNot()];
    while (this.isKw(this.peek(), 'AND')) {
      this.next();
      children.push(this.parseNot());
    }
    return children.length === 1 ? children[0]! : { type: 'and', children };
  }

  parseNot(): FilterNode {
    if (this.isKw(this.peek(), 'NOT')) {
      const t = this.next();
      if (++this.depth > MAX_DEPTH)
        this.fail(
          'The filter exceeded the maximum depth limit. Try rewriting the filter so that it contains fewer nested conditions.',
          t.start,
          this.src.length,
        );
      const child = this.parseNot();
      this.depth--;
      return child.type === 'not' ? child.child : { type: 'not', child };
    }
    return this.parsePrimary();
  }

  parsePrimary(): FilterNode {
    const t = this.peek();
    if (t.kind === 'punct' && t.text === '(') {
      this.next();
      if (++this.depth > MAX_DEPTH)
        this.fail(
          'The filter exceeded the maximum depth limit. Try rewriting the filter so that it contains fewer nested conditions.',
          t.start,
          this.src.length,
        );
      const inner = this.parseOr();
      this.depth--;
      const close = this.next();
      if (!(close.kind === 'punct' && close.text === ')')) {
        this.fail(
          `Expression \`${this.src.slice(t.start)}\` is missing the following closing delimiter: \`)\`.`,
          t.start,
          this.src.length,
        );
      }
      return inner;
    }
    if (t.kind === 'word' && (t.text === '_geoRadius' || t.text === '_geoBoundingBox' || t.text === '_geoPolygon'))
      return this.parseGeo();
    if (
      t.kind === 'word' &&
      (t.text === '_geo' || t.text === '_geoDistance' || t.text === '_geoPoint') &&
      this.peek(1).text === '('
    ) {
      this.fail(
        `\`${t.text}\` is a reserved keyword and thus can't be used as a filter expression. Use the \`_geoRadius(latitude, longitude, distance)\`, \`_geoBoundingBox([latitude, longitude], [latitude, longitude])\` or \`_geoPolygon([latitude, longitude], ...)\` built-in rules to filter on \`_geo\` coordinates.`,
        t.start,
        t.end,
      );
    }
    return this.parseCondition();
  }

  value(what: 'attribute' | 'value'): FilterValue {
    const t = this.peek();
    if (t.kind === 'string') {
      this.next();
      return { value: t.text, quoted: true, start: t.start, end: t.end };
    }
    if (t.kind === 'word') {
      if (KEYWORDS.has(t.text)) {
        if (t.text === '_geoRadius' || t.text === '_geoBoundingBox') {
          this.fail(`The \`${t.text}\` filter is an operation and can't be used as a value.`, t.start, t.end);
        }
        this.fail(`\`${t.text}\` is a keyword and cannot be used as a value.`, t.start, t.end);
      }
      for (const ch of t.text) {
        if (!isWordChar(ch)) this.fail(`Was expecting a value but instead got \`${t.text}\`.`, t.start, t.end);
      }
      this.next();
      return { value: t.text, quoted: false, start: t.start, end: t.end };
    }
    if (what === 'attribute') {
      this.fail(
        `Was expecting an operation ${OPERATION_LIST} at \`${this.src.slice(t.start)}\`.`,
        t.start,
        this.src.length,
      );
    }
    this.fail(
      `Was expecting a value but instead got ${t.kind === 'eof' ? 'nothing' : `\`${this.src.slice(t.start)}\``}.`,
      t.start,
      this.src.length,
    );
  }

  parseCondition(): FilterNode {
    const start = this.peek().start;
    const node = this.parseConditionBody();
    const attr = (node.type === 'not' ? node.child : node) as { attr?: FilterValue };
    if (attr.attr !== undefined && !attr.attr.quoted && RESERVED_GEO.has(attr.attr.value)) {
      this.fail(
        `\`${attr.attr.value}\` is a reserved keyword and thus can't be used as a filter expression. Use the \`_geoRadius(latitude, longitude, distance)\` or \`_geoBoundingBox([latitude, longitude], [latitude, longitude])\` built-in rules to filter on \`_geo\` coordinates.`,
        start,
        this.toks[this.i - 1]!.end,
      );
    }
    return node;
  }

  /** CONTAINS when the node runs with the `containsFilter` feature off: Meilisearch's error on the keyword. */
  private checkContains(t: Tok): void {
    if (this.opts.containsFilter === false) {
      this.fail(
        'Using `CONTAINS` in a filter requires enabling the `contains filter` experimental feature. See https://github.com/orgs/meilisearch/discussions/763',
        t.start,
        t.end,
        'feature_not_enabled',
      );
    }
  }

  parseConditionBody(): FilterNode {
    const attr = this.value('attribute');
    const t = this.next();
    if (t.kind === 'punct' && ['=', '!=', '>', '>=', '<', '<='].includes(t.text)) {
      return { type: 'cmp', attr, op: t.text as '=', value: this.value('value') };
    }
    if (this.isKw(t, 'IN')) return { type: 'in', attr, values: this.parseList() };
    if (this.isKw(t, 'EXISTS')) return { type: 'exists', attr };
    if (this.isKw(t, 'CONTAINS')) {
      this.checkContains(t);
      return { type: 'contains', attr, value: this.value('value') };
    }
    if (this.isKw(t, 'STARTS')) {
      const w = this.next();
      if (!this.isKw(w, 'WITH'))
        this.fail(
          `Was expecting an operation ${OPERATION_LIST} at \`${this.src.slice(attr.start)}\`.`,
          attr.start,
          this.src.length,
        );
      return { type: 'starts', attr, value: this.value('value') };
    }
    if (this.isKw(t, 'IS')) {
      const neg = this.isKw(this.peek(), 'NOT');
      if (neg) this.next();
      const w = this.next();
      let node: FilterNode;
      if (this.isKw(w, 'NULL')) node = { type: 'null', attr };
      else if (this.isKw(w, 'EMPTY')) node = { type: 'empty', attr };
      else
        this.fail(
          `Was expecting an operation ${OPERATION_LIST} at \`${this.src.slice(attr.start)}\`.`,
          attr.start,
          this.src.length,
        );
      return neg ? { type: 'not', child: node } : node;
    }
    if (this.isKw(t, 'NOT')) {
      const w = this.next();
      if (this.isKw(w, 'IN')) return { type: 'not', child: { type: 'in', attr, values: this.parseList() } };
      if (this.isKw(w, 'EXISTS')) return { type: 'not', child: { type: 'exists', attr } };
      if (this.isKw(w, 'CONTAINS')) {
        this.checkContains(w);
        return { type: 'not', child: { type: 'contains', attr, value: this.value('value') } };
      }
      if (this.isKw(w, 'STARTS') && this.isKw(this.next(), 'WITH'))
        return { type: 'not', child: { type: 'starts', attr, value: this.value('value') } };
      this.fail(
        `Was expecting an operation ${OPERATION_LIST} at \`${this.src.slice(attr.start)}\`.`,
        attr.start,
        this.src.length,
      );
    }
    if ((t.kind === 'word' || t.kind === 'string') && !KEYWORDS.has(t.text)) {
      // `attr from TO to`
      if (this.isKw(this.peek(), 'TO')) {
        const from: FilterValue = { value: t.text, quoted: t.kind === 'string', start: t.start, end: t.end };
        this.next();
        return { type: 'range', attr, from, to: this.value('value') };
      }
    }
    this.fail(
      `Was expecting an operation ${OPERATION_LIST} at \`${this.src.slice(attr.start)}\`.`,
      attr.start,
      this.src.length,
    );
  }

  parseList(): FilterValue[] {
    const open = this.next();
    if (!(open.kind === 'punct' && open.text === '['))
      this.fail(`Expected \`[\` after \`IN\` keyword.`, open.start, open.end);
    const values: FilterValue[] = [];
    for (;;) {
      const t = this.peek();
      if (t.kind === 'punct' && t.text === ']') {
        this.next();
        return values;
      }
      if (t.kind === 'eof') this.fail(`Expected matching \`]\` after the list of values.`, open.start, this.src.length);
      values.push(this.value('value'));
      const sep = this.peek();
      if (sep.kind === 'punct' && sep.text === ',') this.next();
      else if (!(sep.kind === 'punct' && sep.text === ']'))
        this.fail(
          `Expected only comma-separated field names inside \`IN[..]\` but instead found \`${this.src.slice(sep.start)}\`.`,
          sep.start,
          this.src.length,
        );
    }
  }

  parseGeo(): FilterNode {
    const name = this.next();
    const fn = name.text as '_geoRadius' | '_geoBoundingBox' | '_geoPolygon';
    const open = this.next();
    if (!(open.kind === 'punct' && open.text === '('))
      this.fail(`The \`${fn}\` filter expects arguments between parentheses.`, name.start, this.src.length);
    const args: number[][] = [];
    const num = (): number => {
      const t = this.next();
      const n = Number(t.text);
      if (t.kind !== 'word' || t.text === '' || !Number.isFinite(n))
        this.fail(`Could not parse \`${t.text}\` as a float.`, t.start, t.end);
      return n;
    };
    for (;;) {
      const t = this.peek();
      if (t.kind === 'punct' && t.text === ')') {
        this.next();
        break;
      }
      if (t.kind === 'eof')
        this.fail(
          `Expression \`${this.src.slice(name.start)}\` is missing the following closing delimiter: \`)\`.`,
          name.start,
          this.src.length,
        );
      if (t.kind === 'punct' && t.text === '[') {
        this.next();
        const pair: number[] = [];
        while (!(this.peek().kind === 'punct' && this.peek().text === ']')) {
          if (this.peek().kind === 'eof') this.fail(`Expected matching \`]\`.`, t.start, this.src.length);
          pair.push(num());
          if (this.peek().text === ',') this.next();
        }
        this.next();
        args.push(pair);
      } else {
        args.push([num()]);
      }
      if (this.peek().text === ',') this.next();
    }
    const end = this.toks[this.i - 1]!.end;
    if (fn === '_geoRadius' && (args.length < 3 || args.length > 4 || args.some((a) => a.length !== 1))) {
      this.fail(
        'The `_geoRadius` filter expects three or four arguments: `_geoRadius(latitude, longitude, radius)` or `_geoRadius(latitude, longitude, radius, resolution)`.',
        name.start,
        end,
      );
    }
    if (fn === '_geoBoundingBox' && (args.length !== 2 || args.some((a) => a.length !== 2))) {
      this.fail(
        'The `_geoBoundingBox` filter expects two pairs of arguments: `_geoBoundingBox([latitude, longitude], [latitude, longitude])`.',
        name.start,
        end,
      );
    }
    if (fn === '_geoPolygon' && (args.length < 3 || args.some((a) => a.length !== 2))) {
      this.fail(
        'The `_geoPolygon` filter expects at least three points: `_geoPolygon([latitude, longitude], [latitude, longitude], [latitude, longitude], ...)`.',
        name.start,
        end,
      );
    }
    return { type: 'geo', fn, args, start: name.start, end };
  }
}

/** Parses one filter string; null when empty or blank. */
export function parseFilterString(
  src: string,
  code: ErrorCode = 'invalid_search_filter',
  opts: ParseOptions = {},
): FilterNode | null {
  if (src.trim() === '') return null;
  return new FilterParser(src, code, opts).parse();
}

function arrayShapeError(code: ErrorCode, value: unknown): MeiliError {
  return new MeiliError(
    code,
    `Invalid syntax for the filter parameter: \`expected String, Array, found: ${JSON.stringify(value)}\`.`,
  );
}

/**
 * Parses a filter in either form: a string, or an array whose elements are strings (ANDed) or arrays of strings
 * (ORed). Returns null for no filter. Throws MeiliError(code) with Meilisearch's message otherwise.
 */
export function parseFilter(
  input: unknown,
  code: ErrorCode = 'invalid_search_filter',
  opts: ParseOptions = {},
): FilterNode | null {
  if (input === null || input === undefined) return null;
  if (typeof input === 'string') return parseFilterString(input, code, opts);
  if (!Array.isArray(input)) {
    throw new MeiliError(
      code,
      `Invalid syntax for the filter parameter: \`expected String, Array, found: ${JSON.stringify(input)}\`.`,
    );
  }
  const ands: FilterNode[] = [];
  for (const el of input) {
    if (typeof el === 'string') {
      const n = parseFilterString(el, code, opts);
      if (n !== null) ands.push(n);
    } else if (Array.isArray(el)) {
      const ors: FilterNode[] = [];
      for (const inner of el) {
        if (typeof inner !== 'string') throw arrayShapeError(code, inner);
        const n = parseFilterString(inner, code, opts);
        if (n !== null) ors.push(n);
      }
      if (ors.length === 1) ands.push(ors[0]!);
      else if (ors.length > 1) ands.push({ type: 'or', children: ors });
    } else {
      throw arrayShapeError(code, el);
    }
  }
  if (ands.length === 0) return null;
  return ands.length === 1 ? ands[0]! : { type: 'and', children: ands };
}
