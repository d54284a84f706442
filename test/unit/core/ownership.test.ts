// Mode A ownership: every item has exactly one owner among the peers, removing a peer only moves that peer's
// items, the split is even, shard numbers score like node routing, and a pod alone owns everything.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { rendezvousScore } from '../../../src/core/hash.js';
import { ownedItems, ownerOf, ownershipScore, owns } from '../../../src/core/ownership.js';

const peers3 = ['http://10.0.0.1:7700', 'http://10.0.0.2:7700', 'http://10.0.0.3:7700'];
const items = (n: number): string[] => Array.from({ length: n }, (_, i) => `index-${i}`);

test('every item is owned by exactly one peer, and ownedItems partitions the items', () => {
  const all = [...items(2000), ...Array.from({ length: 256 }, (_, s) => s)];
  const parts = peers3.map((p) => ownedItems(all, p, peers3));
  assert.equal(
    parts.reduce((n, p) => n + p.length, 0),
    all.length,
  );
  for (const item of all) {
    const holders = peers3.filter((p) => owns(item, p, peers3));
    assert.equal(holders.length, 1, `item ${item} has exactly one owner`);
    assert.equal(ownerOf(item, peers3), holders[0]);
  }
});

test('the owner does not depend on the order of the peer list', () => {
  const reversed = [...peers3].reverse();
  for (const item of items(500)) assert.equal(ownerOf(item, reversed), ownerOf(item, peers3));
});

test("3 → 2 peers only moves the removed peer's items", () => {
  const removed = peers3[1]!;
  const peers2 = peers3.filter((p) => p !== removed);
  let moved = 0;
  for (const item of [...items(5000), ...Array.from({ length: 512 }, (_, s) => s)]) {
    const before = ownerOf(item, peers3);
    const after = ownerOf(item, peers2);
    if (before === removed) {
      moved++;
      assert.ok(after !== removed && peers2.includes(after!));
    } else assert.equal(after, before, `item ${item} stays with its owner`);
  }
  assert.ok(moved > 0);
});

test('distribution over 10k items is even within ±15%', () => {
  for (const peers of [peers3, [...peers3, 'http://10.0.0.4:7700', 'http://10.0.0.5:7700']]) {
    const counts = new Map<string, number>();
    for (const item of items(10_000)) {
      const o = ownerOf(item, peers)!;
      counts.set(o, (counts.get(o) ?? 0) + 1);
    }
    const ideal = 10_000 / peers.length;
    for (const p of peers) {
      const c = counts.get(p) ?? 0;
      assert.ok(Math.abs(c - ideal) <= ideal * 0.15, `${p} owns ${c} of 10000 (ideal ${ideal})`);
    }
  }
});

test('shard numbers score like node routing; other items hash the string form', () => {
  assert.equal(ownershipScore(7, 'pod-a'), rendezvousScore(7, 'pod-a'));
  assert.notEqual(ownershipScore('7', 'pod-a'), ownershipScore('7', 'pod-b'));
  assert.equal(ownershipScore(1.5, 'pod-a'), ownershipScore('1.5', 'pod-a'));
  assert.equal(ownershipScore('x', 'pod-a'), ownershipScore('x', 'pod-a'));
  // The separator keeps (item, peer) pairs that concatenate alike apart.
  assert.notEqual(ownershipScore('ab', 'c'), ownershipScore('a', 'bc'));
});

test('no peers: self owns everything; one peer: it owns everything', () => {
  assert.equal(ownerOf('x', []), null);
  assert.ok(owns('x', 'me', []));
  assert.deepEqual(ownedItems([1, 2, 3], 'me', []), [1, 2, 3]);
  assert.deepEqual(ownedItems([1, 2, 3], 'me', ['me']), [1, 2, 3]);
  assert.deepEqual(ownedItems(['a', 'b'], 'me', ['other']), []);
});
