// The online reshard's pure rules (src/core/reshard.ts): mirrors per phase, verify chunks, content hashes, throttle.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { shardForKey } from '../../../src/core/hash.js';
import {
  chunkShards,
  contentHash,
  differingIds,
  gcd,
  isShadowUid,
  mirrorOf,
  reshardRequestError,
  servedByShadow,
  shadowUid,
  throttleDelay,
  type ReshardRecord,
} from '../../../src/core/reshard.js';

function record(over: Partial<ReshardRecord>): ReshardRecord {
  return {
    index: 'items',
    live: 'items',
    shadow: 'items__reshard_32',
    old_shards: 16,
    new_shards: 32,
    phase: 'preparing',
    throttle_docs_per_sec: 0,
    documents_backfilled: 0,
    documents_repaired: 0,
    error: null,
    dual_writes: false,
    backfill_after: null,
    jobs: [],
    started_at: 1,
    updated_at: 1,
    flipped_at: null,
    drop_at: null,
    reverted: false,
    ...over,
  };
}

test('writes are mirrored to the other copy in each phase', () => {
  const shadow = { uid: 'items__reshard_32', shards: 32 };
  const old = { uid: 'items', shards: 16 };
  assert.equal(mirrorOf([record({})], 'items'), null, 'not before dual writes are on');
  for (const phase of ['preparing', 'backfilling', 'verifying'] as const)
    assert.deepEqual(mirrorOf([record({ phase, dual_writes: true })], 'items'), shadow);
  const flipped = record({ phase: 'flipped', dual_writes: true, flipped_at: 2 });
  assert.deepEqual(mirrorOf([flipped], 'items__reshard_32'), old, 'after the flip the old copy follows');
  assert.deepEqual(mirrorOf([flipped], 'items'), shadow, 'a late writer of the old copy still reaches the copy');
  assert.equal(mirrorOf([record({ phase: 'done' })], 'items__reshard_32'), null);
  assert.equal(mirrorOf([record({ phase: 'failed', dual_writes: false })], 'items'), null);
  assert.deepEqual(mirrorOf([record({ phase: 'failed', reverted: true })], 'items__reshard_32'), old);
  assert.equal(mirrorOf([record({ phase: 'backfilling', dual_writes: true })], 'other'), null);
});

test('the uid is served by the copy from the flip until a reverse flip', () => {
  assert.equal(servedByShadow(record({ phase: 'verifying' })), false);
  assert.equal(servedByShadow(record({ phase: 'flipped' })), true);
  assert.equal(servedByShadow(record({ phase: 'done' })), true);
  assert.equal(servedByShadow(record({ phase: 'failed', reverted: true })), false);
  assert.equal(shadowUid('items', 32), 'items__reshard_32');
  assert.ok(isShadowUid('items__reshard_32') && !isShadowUid('items'));
});

test('verify chunks pair old and new shards that hold the same ids', () => {
  assert.equal(gcd(16, 32), 16);
  assert.equal(gcd(16, 24), 8);
  assert.equal(gcd(7, 5), 1);
  for (const [a, b] of [
    [16, 32],
    [16, 24],
    [7, 5],
    [32, 16],
  ] as const) {
    const g = gcd(a, b);
    for (let id = 0; id < 500; id++) {
      const s = shardForKey(String(id), a);
      const t = shardForKey(String(id), b);
      assert.equal(s % g, t % g, `id ${id}: old ${s} and new ${t} in the same chunk of ${a}→${b}`);
      assert.ok(chunkShards(a, g, s % g).includes(s) && chunkShards(b, g, t % g).includes(t));
    }
  }
  assert.deepEqual(chunkShards(32, 16, 3), [3, 19]);
});

test('content hashes ignore Miroir fields and key order; differing ids both ways', () => {
  const a = contentHash('1', { id: 1, t: 'x', _miroir_shard: 3 });
  assert.equal(a, contentHash('1', { t: 'x', id: 1, _miroir_shard: 9 }));
  assert.notEqual(a, contentHash('1', { id: 1, t: 'y' }));
  assert.notEqual(a, contentHash('2', { id: 1, t: 'x' }));
  const left = new Map([
    ['1', 1n],
    ['2', 2n],
  ]);
  const right = new Map([
    ['2', 3n],
    ['3', 3n],
  ]);
  assert.deepEqual(differingIds(left, right), ['1', '2', '3']);
  assert.deepEqual(differingIds(left, new Map(left)), []);
});

test('throttle delays and request checks', () => {
  assert.equal(throttleDelay(0, 10_000, 0, 1), 0, 'unthrottled');
  assert.equal(throttleDelay(1000, 500, 0, 0), 500);
  assert.equal(throttleDelay(1000, 500, 0, 600), 0);
  assert.equal(reshardRequestError(16, 32, undefined), null);
  assert.match(reshardRequestError(16, 16, undefined)!, /already has 16/);
  assert.match(reshardRequestError(16, 0, undefined)!, /new_shards/);
  assert.match(reshardRequestError(16, 8, -1)!, /throttle/);
});
