// Read plans (SPEC A4): the covering set only spans the shards a narrowed filter keeps, query_planner.enabled false
// turns narrowing off, log_plans logs each plan, and the planner metrics count narrowed and not-narrowed plans.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { shardForKey } from '../../../src/core/hash.js';
import { RoutingTable } from '../../../src/core/rendezvous.js';
import { planRead, type ScatterDeps } from '../../../src/main/cluster/scatter.js';
import type { TopologyService } from '../../../src/main/cluster/topology.js';
import type { Logger } from '../../../src/main/observability/logger.js';
import { createMetrics } from '../../../src/main/observability/metrics.js';

const table = new RoutingTable({
  shards: 16,
  replication_factor: 1,
  groups: [{ id: 0, state: 'active' }],
  nodes: [0, 1, 2, 3].map((i) => ({ id: `node-${i}`, replica_group: 0, state: 'active', health: 'healthy' })),
});

function deps(enabled: boolean, lines: unknown[]): ScatterDeps {
  return {
    topology: { routing: table, routingFor: () => table } as unknown as TopologyService,
    metrics: createMetrics({ defaultMetrics: false }),
    unavailablePolicy: 'partial',
    planner: { enabled, max_pk_literals_narrowable: 128, log_plans: true },
    logger: { info: (obj: unknown, msg: string) => lines.push([obj, msg]) } as unknown as Logger,
  };
}

test('a narrowed plan covers only the kept shards; log_plans logs it; metrics count it', async () => {
  const lines: unknown[] = [];
  const d = deps(true, lines);
  const plan = planRead(d, 'movies', 'id = 7 AND genre = drama', 'id');
  const shard = shardForKey('7', 16);
  assert.deepEqual(plan.pk.shards, [shard]);
  assert.deepEqual([...plan.cover.assignments], [[table.owners(shard, 0)[0]!, [shard]]]);
  const wide = planRead(d, 'movies', 'genre = drama', 'id');
  assert.equal(wide.pk.reason, 'no_pk_term');
  assert.equal([...wide.cover.assignments.values()].flat().length, 16);
  assert.equal(lines.length, 2);
  const [fields, msg] = lines[0] as [Record<string, unknown>, string];
  assert.equal(msg, 'read plan');
  assert.equal(fields.narrowed, true);
  assert.equal(fields.reason, 'pk_and');
  assert.deepEqual(fields.shards, [shard]);
  const text = await d.metrics.registry.metrics();
  assert.match(text, /miroir_query_plan_narrowable_total\{narrowed="true"\} 1/);
  assert.match(text, /miroir_query_plan_narrowable_total\{narrowed="false"\} 1/);
  // explain plans without recording
  planRead(d, 'movies', 'id = 1', 'id', false);
  assert.equal(lines.length, 2);
});

test('query_planner.enabled false: every shard, reason planner_disabled', () => {
  const plan = planRead(deps(false, []), 'movies', 'id = 7', 'id');
  assert.equal(plan.pk.narrowed, false);
  assert.equal(plan.pk.reason, 'planner_disabled');
  assert.equal([...plan.cover.assignments.values()].flat().length, 16);
});
