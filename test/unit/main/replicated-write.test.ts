// The replica group a write pins for read-your-writes sessions (src/main/cluster/replicated-write.ts): the first
// group to reach write quorum on every shard, from the order the ACKs arrived; ties go to the lowest id.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { RoutingTable, type RouteNode } from '../../../src/core/rendezvous.js';
import { firstQuorumGroup } from '../../../src/main/cluster/replicated-write.js';

function table(perGroup: number, rf: number, groups: number): RoutingTable {
  const nodes: RouteNode[] = [];
  for (let g = 0; g < groups; g++)
    for (let i = 0; i < perGroup; i++)
      nodes.push({ id: `g${g}-${i}`, replica_group: g, state: 'active', health: 'healthy' });
  return new RoutingTable({
    shards: 16,
    replication_factor: rf,
    groups: Array.from({ length: groups }, (_, id) => ({ id, state: 'active' as const })),
    nodes,
  });
}

const shards = Array.from({ length: 16 }, (_, s) => s);
const g0 = ['g0-0', 'g0-1', 'g0-2'];
const g1 = ['g1-0', 'g1-1', 'g1-2'];

test('the group whose nodes all ACKed first is pinned; a group that never passed is not', () => {
  const t = table(3, 1, 2);
  assert.equal(firstQuorumGroup(t, 1, shards, [...g1, ...g0]), 1);
  assert.equal(firstQuorumGroup(t, 1, shards, ['g1-0', ...g0, 'g1-1', 'g1-2']), 0);
  assert.equal(firstQuorumGroup(t, 1, shards, [...g0]), 0);
  assert.equal(firstQuorumGroup(t, 1, shards, []), null);
  assert.equal(firstQuorumGroup(t, 1, [0], ['g0-0', 'g0-1', 'g0-2', 'g1-0', 'g1-1', 'g1-2'].reverse()), 1);
});

test('RF 2: a group passes a shard at 2 ACKs of its 2 owners', () => {
  const t = table(3, 2, 2);
  assert.equal(firstQuorumGroup(t, 2, shards, ['g1-0', 'g1-1', 'g0-0', 'g1-2', 'g0-1', 'g0-2']), 1);
  assert.equal(firstQuorumGroup(t, 2, shards, ['g0-0', 'g0-1', 'g1-0', 'g1-1', 'g0-2', 'g1-2']), 0);
});
