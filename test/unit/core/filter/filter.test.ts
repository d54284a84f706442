// Filter grammar and semantics: precedence, every operator, array forms, errors with positions, filterable
// checks, and the canonical printer round-tripping random trees.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { MeiliError } from '../../../../src/core/errors.js';
import {
  compileFilter,
  FilterableAttributes,
  filterToString,
  parseFilter,
  type FilterNode,
} from '../../../../src/core/filter/index.js';

const docs = [
  { id: 1, color: 'Red', price: 10, tags: ['a', 'b'], meta: { brand: 'Élan' }, empty: '', nul: null },
  { id: 2, color: 'blue', price: 20, tags: [], meta: { brand: 'acme' }, variants: [{ size: 'M' }, { size: 'L' }] },
  { id: 3, color: 'red', price: '30', tags: ['c'], flag: true },
  { id: 4, title: 'no color' },
];

function ids(filter: unknown, opts = {}): number[] {
  const node = parseFilter(filter);
  if (node === null) return docs.map((d) => d.id);
  const p = compileFilter(node, opts);
  return docs.filter(p).map((d) => d.id);
}

test('operators and facet semantics', () => {
  assert.deepEqual(ids('color = red'), [1, 3], 'case-insensitive string equality');
  assert.deepEqual(ids('color != red'), [2, 4], '!= includes missing fields');
  assert.deepEqual(
    ids('price > 10'),
    [2, 3],
    'comparisons bound numbers and, lexicographically, strings ("30" > "10")',
  );
  assert.deepEqual(ids('price >= 10'), [1, 2, 3]);
  assert.deepEqual(ids('price = 30'), [3], 'a number literal matches the string "30"');
  assert.deepEqual(ids('price 5 TO 20'), [1, 2]);
  assert.deepEqual(ids('tags IN [a, c]'), [1, 3], 'arrays match on any element');
  assert.deepEqual(ids('tags NOT IN [a, c]'), [2, 4]);
  assert.deepEqual(ids('tags IN []'), []);
  assert.deepEqual(ids('color EXISTS'), [1, 2, 3]);
  assert.deepEqual(ids('color NOT EXISTS'), [4]);
  assert.deepEqual(ids('nul IS NULL'), [1]);
  assert.deepEqual(ids('nul IS NOT NULL'), [2, 3, 4]);
  assert.deepEqual(ids('empty IS EMPTY'), [1]);
  assert.deepEqual(ids('tags IS EMPTY'), [2]);
  assert.deepEqual(ids('meta.brand = élan'), [1], 'nested path, case folded');
  assert.deepEqual(ids('meta.brand = elan'), [], 'accents kept, as Meilisearch normalizes facets (NFKD, lowercase)');
  assert.deepEqual(ids('variants.size = L'), [2], 'path through an array of objects');
  assert.deepEqual(ids('flag = true'), [3]);
  assert.deepEqual(ids('color STARTS WITH "bl"'), [2]);
  assert.deepEqual(ids('color CONTAINS ed', { containsFilter: true }), [1, 3]);
  assert.throws(
    () => ids('color CONTAINS ed'),
    (e: unknown) => e instanceof MeiliError && e.code === 'feature_not_enabled',
  );
});

test('precedence: OR < AND < NOT, parentheses, double NOT cancels', () => {
  assert.deepEqual(ids('color = blue OR color = red AND price = 10'), [1, 2]);
  assert.deepEqual(ids('(color = blue OR color = red) AND price = 10'), [1]);
  assert.deepEqual(ids('NOT color = red AND price EXISTS'), [2]);
  assert.deepEqual(ids('NOT NOT color = red'), [1, 3]);
  assert.equal(parseFilter('NOT NOT a = 1')!.type, 'cmp');
});

test('array forms: outer AND, inner OR; empty means no filter', () => {
  assert.deepEqual(ids(['color = red', 'price < 20']), [1]);
  assert.deepEqual(ids([['color = blue', 'price = 10'], 'tags EXISTS']), [1, 2]);
  assert.equal(parseFilter('  '), null);
  assert.equal(parseFilter([]), null);
  assert.deepEqual(ids("title = 'no color'"), [4]);
  assert.deepEqual(ids('title = "no \\"color"'), []);
});

function err(filter: unknown): MeiliError {
  try {
    parseFilter(filter);
  } catch (e) {
    assert.ok(e instanceof MeiliError);
    return e;
  }
  assert.fail(`accepted ${JSON.stringify(filter)}`);
}

test('syntax errors are invalid_search_filter with a position suffix', () => {
  for (const bad of [
    'color =',
    'color',
    '(color = red',
    'color = "red',
    'a = 1 b = 2',
    'a IN [1, 2',
    'AND = 1',
    'a = OR',
    '_geo(1,2) = 3',
    '_geoRadius(1, 2)',
    'a = 1 AND',
  ]) {
    const e = err(bad);
    assert.equal(e.code, 'invalid_search_filter', bad);
    assert.match(e.message, /\n\d+:\d+ /, `position suffix for ${bad}`);
  }
  assert.equal(err(42).code, 'invalid_search_filter');
  assert.equal(err([1]).code, 'invalid_search_filter');
  assert.match(err('color').message, /Was expecting an operation/);
  assert.equal(parseFilter('a = 1', 'invalid_document_filter')!.type, 'cmp');
  const deep = 'NOT '.repeat(151) + 'a = 1';
  assert.match(err(deep).message, /maximum depth/);
});

test('filterable attributes: both setting forms, patterns, operator features', () => {
  const fa = new FilterableAttributes([
    'color',
    'meta.*',
    { attributePatterns: ['price'], features: { filter: { equality: true, comparison: false } } },
  ]);
  fa.check(parseFilter('color = red AND meta.brand = x AND price = 3')!, null);
  assert.throws(
    () => fa.check(parseFilter('size = 3')!, 'size = 3', 'invalid_search_filter', 'movies'),
    (e: unknown) =>
      e instanceof MeiliError &&
      /^Index `movies`: Attribute `size` is not filterable\. Available filterable attribute patterns are: `color`, `meta\.\*`, `price`\.\n2:6 "size" = "3"$/.test(
        e.message,
      ),
  );
  // Search errors quote the filter as Meilisearch re-serializes it; the documents routes quote the text sent.
  assert.throws(
    () => fa.check(parseFilter('size = 3')!, 'size = 3', 'invalid_document_filter', null, false),
    /is not filterable\. .*\n1:5 size = 3$/s,
  );
  assert.throws(
    () => fa.check(parseFilter('price > 3')!, 'price > 3'),
    /Filter operator `>` is not allowed for the attribute `price`\.\n {2}- Note: allowed operators: OR, AND, NOT, =, !=, IN, IS EMPTY, IS NULL, EXISTS\./,
  );
  assert.throws(
    () => new FilterableAttributes([]).check(parseFilter('a = 1')!, 'a = 1'),
    /does not have configured filterable attributes/,
  );
  assert.ok(fa.isFilterable('meta.brand'));
  assert.ok(!fa.isFacetSearchable('price'));
  assert.ok(fa.isFacetSearchable('color'));
});

function rng(seed: number) {
  return () => (seed = (seed * 1103515245 + 12345) >>> 0) / 2 ** 32;
}

function randomTree(r: () => number, depth: number): string {
  const attrs = ['a', 'b.c', 'price', '"with space"'];
  const vals = ['1', '2.5', 'red', '"x y"', "'q'", '-3'];
  const pick = <T>(xs: T[]) => xs[Math.floor(r() * xs.length)]!;
  if (depth > 0 && r() < 0.4)
    return `(${randomTree(r, depth - 1)}) ${pick(['AND', 'OR'])} (${randomTree(r, depth - 1)})`;
  if (depth > 0 && r() < 0.15) return `NOT (${randomTree(r, depth - 1)})`;
  const a = pick(attrs);
  switch (Math.floor(r() * 8)) {
    case 0:
      return `${a} ${pick(['=', '!=', '>', '>=', '<', '<='])} ${pick(vals)}`;
    case 1:
      return `${a} ${pick(vals)} TO ${pick(vals)}`;
    case 2:
      return `${a} ${pick(['IN', 'NOT IN'])} [${pick(vals)}, ${pick(vals)}]`;
    case 3:
      return `${a} ${pick(['EXISTS', 'NOT EXISTS'])}`;
    case 4:
      return `${a} ${pick(['IS NULL', 'IS NOT NULL', 'IS EMPTY', 'IS NOT EMPTY'])}`;
    case 5:
      return `${a} ${pick(['STARTS WITH', 'NOT STARTS WITH'])} ${pick(vals)}`;
    case 6:
      return `${a} ${pick(['CONTAINS', 'NOT CONTAINS'])} ${pick(vals)}`;
    default:
      return `${a} = ${pick(vals)}`;
  }
}

function strip(n: FilterNode): unknown {
  return JSON.parse(JSON.stringify(n, (k, v) => (k === 'start' || k === 'end' || k === 'quoted' ? undefined : v)));
}

test('filterToString round-trips 600 random trees', () => {
  const r = rng(7);
  for (let i = 0; i < 600; i++) {
    const src = randomTree(r, 3);
    const tree = parseFilter(src)!;
    const printed = filterToString(tree);
    assert.deepEqual(strip(parseFilter(printed)!), strip(tree), `${src} → ${printed}`);
  }
});
