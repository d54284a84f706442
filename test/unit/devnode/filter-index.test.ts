// FilterIndex answers `=`, `!=`, `IN` and their AND / OR / NOT combinations from equality postings; whatever it
// answers must be exactly what evaluating the filter on every document gives, through writes, updates and deletes.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { compileFilter, parseFilter } from '../../../src/core/filter/index.js';
import { FilterIndex } from '../../../src/devnode/engine/filter-index.js';

let seed = 11;
const rnd = () => (seed = (seed * 1103515245 + 12345) & 0x7fffffff) / 0x7fffffff;
const pick = <T>(xs: readonly T[]): T => xs[Math.floor(rnd() * xs.length)]!;
const VALUES: unknown[] = [
  1,
  2,
  2.5,
  0,
  -3,
  '1',
  'Red',
  'red ',
  'Rouge',
  'rôtisserie',
  'rotisserie',
  true,
  false,
  'true',
  null,
  [],
  [1, 'red'],
  { x: 1 },
];

function randomDoc(id: number): Record<string, unknown> {
  const doc: Record<string, unknown> = { id };
  if (rnd() < 0.8) doc.color = pick(VALUES);
  if (rnd() < 0.7) doc.size = pick([1, 2, 3, '2', [1, 3]]);
  if (rnd() < 0.5) doc.meta = { tag: pick(VALUES), list: [{ k: pick(VALUES) }, { k: pick(VALUES) }] };
  if (rnd() < 0.6) doc._miroir_shard = Math.floor(rnd() * 16);
  return doc;
}

const LITERALS = [
  '1',
  '2',
  '2.5',
  '1.0',
  '0',
  '-3',
  'red',
  'RED',
  'rotisserie',
  'true',
  'false',
  '"red "',
  'missing',
  '3',
];
function randomFilter(depth: number): string {
  const attr = pick(['color', 'size', 'meta.tag', 'meta.list.k', '_miroir_shard', 'absent']);
  const r = rnd();
  if (depth <= 0 || r < 0.35) {
    const kind = rnd();
    if (kind < 0.4) return `${attr} = ${pick(LITERALS)}`;
    if (kind < 0.55) return `${attr} != ${pick(LITERALS)}`;
    if (kind < 0.75) return `${attr} IN [${pick(LITERALS)}, ${pick(LITERALS)}]`;
    if (kind < 0.85) return `${attr} > ${pick(['0', '1', '2'])}`; // not answerable from the postings
    if (kind < 0.93) return `${attr} EXISTS`;
    return `${attr} IS NULL`;
  }
  if (r < 0.6) return `(${randomFilter(depth - 1)}) AND (${randomFilter(depth - 1)})`;
  if (r < 0.85) return `(${randomFilter(depth - 1)}) OR (${randomFilter(depth - 1)})`;
  return `NOT (${randomFilter(depth - 1)})`;
}

test('filter postings match the evaluator on every filter, through updates and deletes', () => {
  const docs = new Map<number, Record<string, unknown>>();
  const index = new FilterIndex(() => docs.entries());
  const scan = (filter: string): number[] => {
    const predicate = compileFilter(parseFilter(filter, 'invalid_search_filter')!);
    return [...docs]
      .filter(([, d]) => predicate(d))
      .map(([s]) => s)
      .sort((a, b) => a - b);
  };
  const viaIndex = (filter: string): number[] => {
    const node = parseFilter(filter, 'invalid_search_filter')!;
    return [
      ...index.matching(
        { node, options: {}, predicate: compileFilter(node) },
        () => docs.keys(),
        (s) => docs.get(s)!,
      ),
    ].sort((a, b) => a - b);
  };
  for (let seq = 0; seq < 300; seq++) {
    const d = randomDoc(seq);
    docs.set(seq, d);
    index.add(seq, d);
  }
  let checked = 0;
  for (let round = 0; round < 4; round++) {
    for (let i = 0; i < 150; i++) {
      const filter = randomFilter(3);
      assert.deepEqual(viaIndex(filter), scan(filter), filter);
      checked++;
    }
    // Writes between rounds: replace some documents, delete some, add new ones.
    for (let i = 0; i < 60; i++) {
      const seq = Math.floor(rnd() * 400);
      const old = docs.get(seq);
      if (old !== undefined) index.remove(seq, old);
      if (rnd() < 0.3) docs.delete(seq);
      else {
        const d = randomDoc(seq);
        docs.set(seq, d);
        index.add(seq, d);
      }
    }
  }
  assert.equal(checked, 600);
});
