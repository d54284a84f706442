// TokenArena: documents' word ids stay readable through replacements, deletions and compaction.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { TokenArena } from '../../../../src/devnode/engine/relevance/token-arena.js';

const read = (arena: TokenArena, doc: number): number[] =>
  Array.from(arena.tokens.subarray(arena.start[doc]!, arena.end[doc]!));

test('token arena keeps every live document exact through replacement, deletion and compaction', () => {
  const arena = new TokenArena();
  const expected = new Map<number, number[]>();
  const fieldsOf = (doc: number, round: number) => [
    [doc, round, doc + round],
    [7, doc % 13],
  ];
  const flat = (fields: number[][]) => fields.flatMap((f, fi) => [-1 - fi, ...f]);
  for (let round = 0; round < 6; round++) {
    for (let doc = 0; doc < 20_000; doc++) {
      if ((doc + round) % 3 === 0) {
        arena.delete(doc);
        expected.delete(doc);
      } else {
        arena.put(doc, fieldsOf(doc, round));
        expected.set(doc, flat(fieldsOf(doc, round)));
      }
    }
  }
  for (let doc = 0; doc < 20_000; doc++) assert.deepEqual(read(arena, doc), expected.get(doc) ?? [], `doc ${doc}`);
  // Garbage was compacted: the arena holds little more than the live tokens.
  const live = [...expected.values()].reduce((s, t) => s + t.length, 0);
  assert.ok(arena.tokens.length <= 4 * live, `${arena.tokens.length} slots for ${live} live tokens`);
  arena.clear();
  assert.deepEqual(read(arena, 5), []);
});
