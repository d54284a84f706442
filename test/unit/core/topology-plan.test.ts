import assert from 'node:assert/strict';
import { test } from 'node:test';
import { assignShard } from '../../../src/core/rendezvous.js';
import { cutover, obsoleteCopies, planMoves, type PlanTopology } from '../../../src/core/topology-plan.js';

const base = (
  nodes: PlanTopology['nodes'],
  rf = 1,
  groups: PlanTopology['groups'] = [{ id: 0, state: 'active' }],
): PlanTopology => ({ shards: 64, replication_factor: rf, groups, nodes });
const active = (id: string, g = 0) => ({ id, replica_group: g, state: 'active' as const });

test('node add: only the shards whose top-RF now includes the new node move, each from its old owner', () => {
  const t = base([
    active('node-0'),
    active('node-1'),
    active('node-2'),
    { id: 'node-3', replica_group: 0, state: 'joining' },
  ]);
  const moves = planMoves(t, []);
  const expected = Array.from({ length: 64 }, (_, s) => s).filter(
    (s) => assignShard(s, ['node-0', 'node-1', 'node-2', 'node-3'], 1)[0] === 'node-3',
  );
  assert.deepEqual(
    moves.map((m) => m.shard),
    expected,
  );
  assert.ok(expected.length > 8 && expected.length < 24, `≈ S/4 shards move (${expected.length})`);
  for (const m of moves) {
    assert.deepEqual(
      m.copies.map((c) => c.target),
      ['node-3'],
    );
    assert.deepEqual(m.copies[0]!.sources, [assignShard(m.shard, ['node-0', 'node-1', 'node-2'], 1)[0]]);
  }
  const after = cutover(t, []);
  assert.ok(after.nodes.every((n) => n.state === 'active'));
  const drops = obsoleteCopies(t, after);
  assert.equal(drops['node-3'], undefined, 'the new node keeps what it got');
  const dropped = Object.values(drops)
    .flat()
    .sort((a, b) => a - b);
  assert.deepEqual(dropped, expected, 'each moved shard is deleted from exactly its old owner');
});

test("drain at RF=2: the draining node's shards get a new second owner; it is removed and emptied at cut-over", () => {
  const t = base([active('a'), active('b'), { id: 'c', replica_group: 0, state: 'draining' }, active('d')], 2);
  const moves = planMoves(t, []);
  for (const m of moves) {
    for (const c of m.copies) {
      assert.notEqual(c.target, 'c');
      assert.ok(assignShard(m.shard, ['a', 'b', 'c', 'd'], 2).includes('c'), 'only shards the drained node held move');
    }
  }
  const after = cutover(t, []);
  assert.equal(after.nodes.find((n) => n.id === 'c')!.state, 'removed');
  const drops = obsoleteCopies(t, after);
  assert.deepEqual(Object.keys(drops), ['c']);
});

test('group add copies every shard into the new group from the active one; group remove copies nothing', () => {
  const t = base([active('a'), active('b'), { id: 'x', replica_group: 1, state: 'joining' }], 1, [
    { id: 0, state: 'active' },
    { id: 1, state: 'initializing' },
  ]);
  const moves = planMoves(t, []);
  assert.equal(moves.length, 64);
  assert.ok(moves.every((m) => m.copies.length === 1 && m.copies[0]!.target === 'x' && m.copies[0]!.group === 1));
  const after = cutover(t, []);
  assert.deepEqual(after.groups, [
    { id: 0, state: 'active' },
    { id: 1, state: 'active' },
  ]);
  const removing = base([active('a'), active('x', 1)], 1, [
    { id: 0, state: 'active' },
    { id: 1, state: 'draining' },
  ]);
  assert.deepEqual(planMoves(removing, []), []);
  const gone = cutover(removing, []);
  assert.deepEqual(gone.groups, [{ id: 0, state: 'active' }]);
  assert.equal(gone.nodes.find((n) => n.id === 'x')!.state, 'removed');
  assert.equal(obsoleteCopies(removing, gone).x!.length, 64);
});

test('catch-up re-verifies every shard of the node from a readable replica; RF=1 alone has no source', () => {
  const t = base([active('a'), active('b'), { ...active('c'), catching_up: true }], 3);
  const moves = planMoves(t, ['c']);
  assert.equal(moves.length, 64);
  for (const m of moves)
    assert.deepEqual(m.copies, [
      { target: 'c', group: 0, sources: assignShard(m.shard, ['a', 'b', 'c'], 3).filter((id) => id !== 'c') },
    ]);
  assert.equal(cutover(t, ['c']).nodes.find((n) => n.id === 'c')!.catching_up, undefined);
  const alone = base([{ ...active('a'), catching_up: true }], 1);
  assert.deepEqual(planMoves(alone, ['a']), []);
});
