// The primary-key planner (SPEC A4): what narrows and what does not, and — over seeded random filters — that every
// document a filter matches lives in a shard the plan keeps (so narrowed reads equal full fan-out ones).
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { compileFilter, parseFilter } from '../../../src/core/filter/index.js';
import { documentIdString } from '../../../src/core/document-id.js';
import { shardForKey } from '../../../src/core/hash.js';
import { planPkFilter } from '../../../src/core/query-plan.js';
import { pkDocs, pkFilter, rng } from '../../support/pk-filters.js';

const S = 16;

test('pk = x, pk IN [...], ORs of them and ANDs with other terms narrow; the rest does not', () => {
  const one = planPkFilter('id = 42', 'id', S, 128);
  assert.deepEqual(one, { narrowed: true, reason: 'pk_equality', shards: [shardForKey('42', S)], literals: 1 });
  const list = planPkFilter('id IN [1, 2, 3]', 'id', S, 128);
  assert.equal(list.narrowed, true);
  assert.deepEqual(
    list.shards,
    [...new Set([1, 2, 3].map((i) => shardForKey(String(i), S)))].sort((a, b) => a - b),
  );
  assert.equal(planPkFilter('id = 1 OR id = 2', 'id', S, 128).reason, 'pk_or');
  assert.equal(planPkFilter('cat = red AND id = 7', 'id', S, 128).reason, 'pk_and');
  assert.equal(planPkFilter(['cat = red', ['id = 1', 'id = 2']], 'id', S, 128).narrowed, true);
  assert.equal(planPkFilter('id = 1 OR cat = red', 'id', S, 128).reason, 'or_with_non_pk_branch');
  assert.equal(planPkFilter('NOT id = 1', 'id', S, 128).reason, 'not_over_pk');
  assert.equal(planPkFilter('id != 1', 'id', S, 128).reason, 'not_over_pk');
  assert.equal(planPkFilter('cat = red', 'id', S, 128).reason, 'no_pk_term');
  assert.equal(planPkFilter(undefined, 'id', S, 128).reason, 'no_filter');
  assert.equal(planPkFilter('id = 1 AND', 'id', S, 128).reason, 'filter_invalid');
  const many = `id IN [${Array.from({ length: 5 }, (_, i) => i).join(', ')}]`;
  assert.equal(planPkFilter(many, 'id', S, 4).reason, 'pk_literals_over_cap');
  // Case spellings count: "ab" stands for 4 ids; a literal no id can equal still asks one shard.
  assert.equal(planPkFilter('id = "ab"', 'id', S, 128).literals, 4);
  assert.equal(planPkFilter('id = "ab"', 'id', S, 3).narrowed, false);
  assert.deepEqual(planPkFilter('id = "a b"', 'id', S, 128).shards, [0]);
});

test('property: every matching document is in a kept shard (2,000 seeded random filters)', () => {
  const rand = rng(25);
  const docs = pkDocs(200, rand);
  let narrowed = 0;
  for (let i = 0; i < 2000; i++) {
    const filter = pkFilter(rand, docs.length);
    const plan = planPkFilter(filter, 'id', S, 128);
    if (!plan.narrowed) continue;
    narrowed++;
    const keep = new Set(plan.shards);
    const match = compileFilter(parseFilter(filter)!);
    for (const d of docs)
      if (match(d as unknown as Record<string, unknown>))
        assert.ok(
          keep.has(shardForKey(documentIdString(d.id)!, S)),
          `${JSON.stringify(filter)} matches ${JSON.stringify(d.id)} outside shards ${plan.shards}`,
        );
  }
  assert.ok(narrowed > 400, `enough narrowed filters (${narrowed})`);
});
