// util/ring.ts: a bounded FIFO that refuses when full (shedding) or evicts the oldest (history).
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { Ring } from '../../../src/main/util/ring.js';

test('push refuses when full; shift answers the oldest; wraps around', () => {
  const r = new Ring<number>(3);
  assert.equal(r.push(1), true);
  assert.equal(r.push(2), true);
  assert.equal(r.push(3), true);
  assert.equal(r.push(4), false);
  assert.equal(r.size, 3);
  assert.equal(r.shift(), 1);
  assert.equal(r.push(5), true);
  assert.deepEqual([...r], [2, 3, 5]);
  assert.equal(r.shift(), 2);
  assert.equal(r.shift(), 3);
  assert.equal(r.shift(), 5);
  assert.equal(r.shift(), undefined);
  assert.throws(() => new Ring(0), RangeError);
});

test('pushEvicting keeps the newest `capacity` items', () => {
  const r = new Ring<number>(2);
  for (let i = 1; i <= 5; i++) r.pushEvicting(i);
  assert.deepEqual([...r], [4, 5]);
});
