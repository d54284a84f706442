import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { test } from 'node:test';
import { xxh64 } from '@node-rs/xxhash';
import { shardsOfPackedKeys, xxh64Js } from '../../../src/core/xxh64-js.js';
import { packKeys } from '../../support/keys.js';

test('the JavaScript XXH64 equals the reference for every length class (0–31, 32+ stripes, tails of 8/4/1)', () => {
  for (let len = 0; len < 130; len++) {
    for (let k = 0; k < 8; k++) {
      const data = randomBytes(len);
      assert.equal(xxh64Js(data), xxh64(data, 0n), `length ${len}`);
    }
  }
  assert.equal(xxh64Js(new Uint8Array(0)), 0xef46db3751d8e999n, 'XXH64 of the empty input');
});

test('batch shards equal XXH64(key ‖ 0xFF) mod S for powers of two and other shard counts, unicode keys included', () => {
  const ids = [
    ...Array.from({ length: 2000 }, (_, i) => String(i * 7919)),
    'é',
    'ключ-42',
    '🔑key',
    'a'.repeat(100),
    '',
  ];
  const enc = new TextEncoder();
  const parts = ids.map((s) => enc.encode(s));
  const { packed: keys, offsets } = packKeys(parts);
  for (const shards of [1, 7, 16, 64, 1000, 65536]) {
    const got = shardsOfPackedKeys(keys, offsets, shards);
    parts.forEach((p, i) => {
      const withFF = new Uint8Array([...p, 0xff]);
      assert.equal(got[i], Number(xxh64(withFF, 0n) % BigInt(shards)), `${ids[i]} with ${shards} shards`);
    });
  }
});
