// Rendezvous routing: the binding SPEC C2 vectors, and seeded properties — determinism, uniformity, minimal
// movement on add, RF stability, covering sets that cover every shard exactly once, unhealthy fallback.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { rendezvousScore, shardForKey, xxh64 } from '../../../src/core/hash.js';
import { assignShard, RoutingTable, withPlacement, type RouteNode } from '../../../src/core/rendezvous.js';
import { withShardFilter } from '../../../src/core/shard-filter.js';
import { canonicalJson, settingsHash } from '../../../src/core/canonical-json.js';

const ids = (n: number, prefix = 'node-') => Array.from({ length: n }, (_, i) => `${prefix}${i}`);

test('SPEC C2 vectors: scores, shard of keys, owners and movement', () => {
  assert.equal(rendezvousScore(0, 'meili-0'), 12731063314527458815n);
  assert.equal(rendezvousScore(0, 'meili-1'), 17669319149168694829n);
  assert.equal(rendezvousScore(0, 'meili-2'), 12282760645375418260n);
  assert.deepEqual(assignShard(0, ids(3, 'meili-'), 1), ['meili-1']);
  assert.equal(shardForKey('sku_123', 64), 62);
  assert.equal(shardForKey('1', 64), 36);
  assert.equal(shardForKey('doc-1', 64), 0);
  assert.equal(shardForKey('a', 16), 0);
  assert.equal(shardForKey('b', 16), 4);
  const counts = new Map<string, number>();
  const before: string[] = [];
  for (let s = 0; s < 64; s++) {
    const [owner] = assignShard(s, ids(3), 1);
    before.push(owner!);
    counts.set(owner!, (counts.get(owner!) ?? 0) + 1);
  }
  assert.deepEqual(Object.fromEntries(counts), { 'node-0': 22, 'node-1': 22, 'node-2': 20 });
  let moved = 0;
  for (let s = 0; s < 64; s++) if (assignShard(s, ids(4), 1)[0] !== before[s]) moved++;
  assert.equal(moved, 17);
});

test('XXH64 reference outputs', () => {
  const h = (s: string) => xxh64(Buffer.from(s), 0n);
  assert.equal(h(''), 0xef46db3751d8e999n);
  assert.equal(h('a'), 0xd24ec4f1a98c6e5bn);
  assert.equal(h('abc'), 0x44bc2cf5ad770999n);
  assert.equal(h('Nobody inspects the spammish repetition'), 0xfbcea83c8a378bf1n);
  assert.equal(h('The quick brown fox jumps over the lazy dog'), 0x0b242d361fda71bcn);
});

function rng(seed: number) {
  return () => (seed = (seed * 1664525 + 1013904223) >>> 0) / 2 ** 32;
}

test('properties over 1,000 seeded topologies', () => {
  const r = rng(42);
  for (let c = 0; c < 1000; c++) {
    const n = 3 + Math.floor(r() * 6);
    const S = [16, 32, 64][Math.floor(r() * 3)]!;
    const nodes = ids(n, `n${c}-`);
    const shard = Math.floor(r() * S);
    // determinism
    assert.deepEqual(assignShard(shard, nodes, 2), assignShard(shard, [...nodes].reverse(), 2));
    // RF=2 stability on add: the new top-2 keeps at least one old owner unless the new node takes both... it can take only one slot
    const old2 = assignShard(shard, nodes, 2);
    const new2 = assignShard(shard, [...nodes, `n${c}-new`], 2);
    assert.ok(new2.filter((x) => old2.includes(x)).length >= 1, 'adding a node replaces at most one of two owners');
    // removal of a non-owner changes nothing
    const nonOwner = nodes.find((x) => !old2.includes(x));
    if (nonOwner)
      assert.deepEqual(
        assignShard(
          shard,
          nodes.filter((x) => x !== nonOwner),
          2,
        ),
        old2,
      );
  }
});

test('uniformity and movement bounds for 3 → 4 nodes at S=64', () => {
  const per = new Map<string, number>();
  for (let s = 0; s < 64; s++) {
    const o = assignShard(s, ids(3), 1)[0]!;
    per.set(o, (per.get(o) ?? 0) + 1);
  }
  for (const v of per.values()) assert.ok(v >= 18 && v <= 26);
  let moved = 0;
  for (let s = 0; s < 64; s++) if (assignShard(s, ids(3), 1)[0] !== assignShard(s, ids(4), 1)[0]) moved++;
  assert.ok(moved <= 2 * (64 / 4));
});

function topo(n: number, rf: number, groups = 1, down: string[] = []) {
  const nodes: RouteNode[] = [];
  for (let g = 0; g < groups; g++)
    for (const id of ids(n, `g${g}-`))
      nodes.push({ id, replica_group: g, state: 'active', health: down.includes(id) ? 'unhealthy' : 'healthy' });
  return new RoutingTable({
    shards: 16,
    replication_factor: rf,
    groups: Array.from({ length: groups }, (_, id) => ({ id, state: 'active' as const })),
    nodes,
  });
}

test('covering sets cover every shard exactly once, rotate replicas, and fall back across groups', () => {
  for (let seq = 0; seq < 50; seq++) {
    const cs = topo(3, 2).coveringSet(seq);
    const all = [...cs.assignments.values()].flat().sort((a, b) => a - b);
    assert.deepEqual(
      all,
      Array.from({ length: 16 }, (_, i) => i),
    );
    assert.deepEqual(cs.uncovered, []);
  }
  const a = topo(3, 2).coveringSet(0).assignments;
  const b = topo(3, 2).coveringSet(1).assignments;
  assert.notDeepEqual([...a.entries()], [...b.entries()], 'the replica choice rotates with the query sequence');
  // RF=2 with one node down: still fully covered inside the group
  const oneDown = topo(3, 2, 1, ['g0-1']).coveringSet(3);
  assert.deepEqual(oneDown.uncovered, []);
  assert.ok(!oneDown.assignments.has('g0-1'));
  // RF=1 with one node down and a second group: its shards come from group 1
  const twoGroups = topo(3, 1, 2, ['g0-0']).coveringSet(0);
  assert.equal(twoGroups.group, 0);
  assert.deepEqual(twoGroups.uncovered, []);
  assert.ok(twoGroups.fallback.length > 0);
  assert.ok([...twoGroups.assignments.keys()].some((id) => id.startsWith('g1-')));
  // RF=1, one group, one node down: its shards are uncovered
  const lost = topo(3, 1, 1, ['g0-2']).coveringSet(0);
  assert.ok(lost.uncovered.length > 0);
  assert.deepEqual(
    lost.uncovered,
    Array.from({ length: 16 }, (_, s) => s).filter((s) => assignShard(s, ids(3, 'g0-'), 1)[0] === 'g0-2'),
  );
});

test('a read can be hedged only where some shard has a second copy (RF > 1 or a second group)', () => {
  assert.equal(topo(3, 1).hasSecondCopy, false);
  assert.equal(topo(3, 2).hasSecondCopy, true);
  assert.equal(topo(3, 1, 2).hasSecondCopy, true);
  assert.equal(topo(1, 1).hasSecondCopy, false);
});

test('write targets: every group, unhealthy skipped, draining and joining nodes dual-written, draining groups never', () => {
  const t = new RoutingTable({
    shards: 8,
    replication_factor: 2,
    groups: [
      { id: 0, state: 'active' },
      { id: 1, state: 'initializing' },
    ],
    nodes: [
      { id: 'a', replica_group: 0, state: 'active', health: 'healthy' },
      { id: 'b', replica_group: 0, state: 'active', health: 'unhealthy' },
      { id: 'c', replica_group: 0, state: 'draining', health: 'healthy' },
      { id: 'd', replica_group: 1, state: 'joining', health: 'healthy' },
      { id: 'e', replica_group: 1, state: 'active', health: 'healthy' },
    ],
  });
  for (let s = 0; s < 8; s++) {
    const w = t.writeTargets(s);
    // Group 0 reads from {a, b, c} and targets {a, b}: a draining node keeps getting writes until its shards moved.
    const readOwners = assignShard(s, ['a', 'b', 'c'], 2);
    assert.deepEqual([...w.get(0)!].sort(), [...new Set([...readOwners, 'a'])].filter((id) => id !== 'b').sort());
    assert.deepEqual([...w.get(1)!].sort(), ['d', 'e']);
    assert.deepEqual(
      [...t.quorumOwnersOf(s).get(1)!].sort(),
      ['d', 'e'],
      'an initializing group counts quorum on its targets',
    );
    assert.deepEqual(t.quorumOwnersOf(s).get(0), readOwners, 'an active group counts quorum on its read owners');
  }
  assert.deepEqual(t.activeGroups, [0], 'an initializing group gets writes but no reads');
  const draining = new RoutingTable({
    shards: 4,
    replication_factor: 1,
    groups: [
      { id: 0, state: 'active' },
      { id: 1, state: 'draining' },
    ],
    nodes: [
      { id: 'a', replica_group: 0, state: 'active', health: 'healthy' },
      { id: 'z', replica_group: 1, state: 'active', health: 'healthy' },
    ],
  });
  for (let s = 0; s < 4; s++)
    assert.deepEqual([...draining.writeTargets(s).keys()], [0], 'a draining group gets no writes');
  const catching = new RoutingTable({
    shards: 4,
    replication_factor: 2,
    groups: [{ id: 0, state: 'active' }],
    nodes: [
      { id: 'a', replica_group: 0, state: 'active', health: 'healthy', readable: false },
      { id: 'b', replica_group: 0, state: 'active', health: 'healthy' },
    ],
  });
  for (let seq = 0; seq < 4; seq++)
    assert.deepEqual([...catching.coveringSet(seq).assignments.keys()], ['b'], 'a catching-up node serves no reads');
  assert.deepEqual(catching.writeTargets(0).get(0)!.sort(), ['a', 'b'], 'but takes writes');
});

test('shard filter composition and canonical JSON', () => {
  assert.equal(withShardFilter(undefined, [1, 2]), '_miroir_shard IN [1, 2]');
  assert.deepEqual(withShardFilter('a = 1 OR b = 2', [3]), ['a = 1 OR b = 2', '_miroir_shard IN [3]']);
  // A client filter cannot close a parenthesis of Miroir's: each array element is parsed on its own.
  assert.deepEqual(withShardFilter('a = 1) OR (a = 1', [3]), ['a = 1) OR (a = 1', '_miroir_shard IN [3]']);
  assert.deepEqual(withShardFilter(['a = 1', ['b = 2', 'c = 3']], [0]), [
    'a = 1',
    ['b = 2', 'c = 3'],
    '_miroir_shard IN [0]',
  ]);
  assert.equal(withShardFilter('a = 1', null), 'a = 1');
  assert.equal(canonicalJson({ b: [1, { d: 2, c: null }], a: 'x' }), '{"a":"x","b":[1,{"c":null,"d":2}]}');
  assert.equal(settingsHash({ a: 1, b: 2 }), settingsHash({ b: 2, a: 1 }));
});

test('a read policy pins the group (while it is active) and keeps excluded nodes out', () => {
  for (let seq = 0; seq < 6; seq++) {
    const pinned = topo(3, 1, 2).coveringSet(seq, null, null, { group: 1, groups: null, exclude: null });
    assert.equal(pinned.group, 1, 'the pin wins over the rotation');
    assert.ok([...pinned.assignments.keys()].every((id) => id.startsWith('g1-')));
  }
  assert.equal(
    topo(3, 1, 2).coveringSet(0, null, null, { group: 7, groups: null, exclude: null }).group,
    0,
    'an unknown group is no pin',
  );
  // RF 2: excluding one node leaves its replicas to answer; excluding every owner of a shard leaves it uncovered.
  const one = topo(3, 2).coveringSet(0, null, null, { group: null, groups: null, exclude: new Set(['g0-1']) });
  assert.ok(!one.assignments.has('g0-1'));
  assert.deepEqual(one.uncovered, []);
  const all = topo(3, 2).coveringSet(0, null, null, {
    group: null,
    groups: null,
    exclude: new Set(['g0-0', 'g0-1', 'g0-2']),
  });
  assert.equal(all.uncovered.length, 16);
  // Excluded nodes of the pinned group are replaced from the other group.
  const across = topo(3, 1, 2).coveringSet(0, null, null, { group: 0, groups: null, exclude: new Set(['g0-0']) });
  assert.deepEqual(across.uncovered, []);
  assert.ok([...across.assignments.keys()].some((id) => id.startsWith('g1-')));
});

test('a pinned read keeps to its group when the replica chooser avoids a slow node; an unpinned one leaves it', () => {
  // A chooser that strictly avoids g0-1 (an outlier), and takes it when asked for the best after all.
  const avoiding = {
    begin() {},
    end() {},
    choose(candidates: readonly string[], _seq: number, strict: boolean): string | null {
      const ok = candidates.filter((id) => id !== 'g0-1');
      return ok[0] ?? (strict ? null : (candidates[0] ?? null));
    },
  };
  const t = topo(3, 1, 2);
  for (const pin of [
    { policy: { group: 0, groups: null, exclude: null }, placement: undefined },
    { policy: null, placement: { group: 0, groups: [0, 1] } },
  ]) {
    const cs = t.coveringSet(0, null, avoiding, withPlacement(pin.policy, pin.placement));
    assert.equal(cs.group, 0);
    assert.ok(cs.assignments.has('g0-1'), 'the slow node still serves its shards');
    assert.ok(
      [...cs.assignments.keys()].every((id) => id.startsWith('g0-')),
      'nothing leaves the pinned group',
    );
    assert.deepEqual(cs.fallback, []);
  }
  const free = t.coveringSet(0, null, avoiding);
  assert.ok(!free.assignments.has('g0-1'));
  if (free.group === 0) assert.ok([...free.assignments.keys()].some((id) => id.startsWith('g1-')));
});

test('withPlacement folds a tenant placement into a read policy; a session pin wins over the tenant group', () => {
  const exclude = new Set(['g0-1']);
  assert.equal(withPlacement(null, undefined), null);
  const session = { group: 1, groups: null, exclude };
  assert.equal(withPlacement(session, undefined), session);
  assert.deepEqual(withPlacement(null, { group: 0, groups: [0, 1] }), { group: 0, groups: [0, 1], exclude: null });
  assert.deepEqual(withPlacement(session, { group: 0, groups: [0, 1] }), { group: 1, groups: [0, 1], exclude });
  assert.deepEqual(withPlacement({ group: null, groups: null, exclude }, { group: null, groups: [1] }), {
    group: null,
    groups: [1],
    exclude,
  });
  // A placement's groups confine rotation and fallback: group 0 is never used.
  const t = topo(3, 1, 2);
  for (let seq = 0; seq < 6; seq++) {
    const cs = t.coveringSet(seq, null, null, withPlacement(null, { group: null, groups: [1] }));
    assert.equal(cs.group, 1);
    assert.ok([...cs.assignments.keys()].every((id) => id.startsWith('g1-')));
  }
});
