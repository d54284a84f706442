// core/shadow-diff.ts: Kendall τ over the common hits (same order 1, reversed -1, partial agreement in between,
// fewer than two common hits null) and the kind a comparison folds into, first that applies: error, hits_differ,
// order_differs, latency; identical answers have no kind.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { compareShadow, kendallTau } from '../../../src/core/shadow-diff.js';

test('Kendall τ over the common hits', () => {
  assert.equal(kendallTau([1, 2, 3, 4], [1, 2, 3, 4]), 1);
  assert.equal(kendallTau([1, 2, 3, 4], [4, 3, 2, 1]), -1);
  // One swapped pair out of six: (5 - 1) / 6.
  assert.equal(kendallTau([1, 2, 3, 4], [2, 1, 3, 4]), 4 / 6);
  // Only the common hits count: 9 and 8 are ignored; "1" and 1 are one document.
  assert.equal(kendallTau([1, 9, 2, 3], ['3', 8, '2', '1']), -1);
  assert.equal(kendallTau([1, 2], [2, 3]), null);
  assert.equal(kendallTau([], []), null);
});

test('kinds: error, hits_differ, order_differs, latency, identical', () => {
  const ok = (ids: Array<string | number>) => ({ status: 200, ids });
  assert.equal(compareShadow(ok([1]), { status: 404, ids: null }, 0, 100).kind, 'error');
  assert.equal(compareShadow(ok([1]), { status: 200, ids: null }, 0, 100).kind, 'error');
  const differ = compareShadow(ok([1, 2, 3]), ok([3, 1, 7]), 5, 100);
  assert.deepEqual(differ, {
    kind: 'hits_differ',
    kendall_tau: -1,
    missing_ids: [2],
    extra_ids: [7],
    latency_delta_ms: 5,
  });
  const order = compareShadow(ok([1, 2, 3]), ok([1, 3, 2]), -2.345, 100);
  assert.equal(order.kind, 'order_differs');
  assert.equal(order.kendall_tau, 1 / 3);
  assert.equal(order.latency_delta_ms, -2.35);
  assert.equal(compareShadow(ok([1, 2]), ok([1, 2]), 150, 100).kind, 'latency');
  assert.equal(compareShadow(ok([1, 2]), ok([1, 2]), -150, 100).kind, 'latency');
  assert.equal(compareShadow(ok([1, 2]), ok([1, 2]), 99, 100).kind, null);
  assert.equal(compareShadow(ok([]), ok([]), 0, 100).kind, null);
  // Documents compare by content when both sides answered one.
  assert.equal(
    compareShadow(
      { status: 200, ids: ['a'], content: '{"x":1}' },
      { status: 200, ids: ['a'], content: '{"x":2}' },
      0,
      100,
    ).kind,
    'hits_differ',
  );
});
