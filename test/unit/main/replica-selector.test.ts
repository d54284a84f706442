// Adaptive replica selection (SPEC A3) with a fake clock and a seeded random source: equal nodes share reads by
// rotation, a slower node loses them, a node past 5× the fleet median is excluded except for exploration, errors and
// in-flight reads raise the score, and the hedge trigger is the fleet p95 × multiplier (never below the minimum).
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { ReplicaSelector, type ReplicaSelectionConfig } from '../../../src/main/cluster/replica-selector.js';
import { rng } from '../../support/pk-filters.js';

const CFG: ReplicaSelectionConfig = {
  strategy: 'adaptive',
  latency_weight: 1,
  inflight_weight: 2,
  error_weight: 10,
  ewma_half_life_ms: 5000,
  exploration_epsilon: 0,
};

function selector(cfg: Partial<ReplicaSelectionConfig> = {}, seed = 1) {
  let now = 0;
  const s = new ReplicaSelector({ ...CFG, ...cfg }, null, rng(seed), () => now);
  const sample = (id: string, ms: number, failed = false) => {
    now += 10;
    s.started(id);
    s.finished(id, ms, failed);
  };
  const pick = (candidates: string[], seq: number) => {
    now += 200; // past the refresh interval: exclusions recomputed
    s.begin();
    const id = s.choose(candidates, seq, false);
    s.end();
    return id;
  };
  return { s, sample, pick };
}

test('equal nodes share reads by rotation; a slower one loses them', () => {
  const { sample, pick } = selector();
  for (let i = 0; i < 20; i++) {
    sample('a', 5);
    sample('b', 5.2);
  }
  assert.deepEqual(
    [0, 1, 2, 3].map((seq) => pick(['a', 'b'], seq)),
    ['a', 'b', 'a', 'b'],
  );
  for (let i = 0; i < 50; i++) sample('b', 12);
  assert.deepEqual(
    [0, 1, 2, 3].map((seq) => pick(['a', 'b'], seq)),
    ['a', 'a', 'a', 'a'],
  );
});

test('past 5× the fleet median a node is excluded; strict picks then give null, exploration still reaches it', () => {
  const { s, sample, pick } = selector({ exploration_epsilon: 0.5 }, 7);
  for (let i = 0; i < 30; i++) {
    sample('a', 4);
    sample('b', 4);
    sample('slow', 60);
  }
  pick(['a'], 0);
  assert.equal(s.isExcluded('slow'), true);
  assert.equal(s.isExcluded('a'), false);
  assert.equal(s.choose(['slow'], 0, true), null, 'strict: look elsewhere');
  assert.equal(s.choose(['slow'], 0, false), 'slow', 'not strict: the only replica after all');
  let explored = 0;
  for (let seq = 0; seq < 400; seq++) if (pick(['a', 'slow'], seq) === 'slow') explored++;
  assert.ok(explored > 40 && explored < 160, `exploration reached the slow node ${explored} times of 400`);
});

test('errors and reads in flight raise the score', () => {
  const { s, sample } = selector();
  for (let i = 0; i < 20; i++) {
    sample('a', 5);
    sample('b', 5, i % 2 === 0);
  }
  assert.ok(s.score('b') > s.score('a') + 100, `errors: ${s.score('b')} vs ${s.score('a')}`);
  const before = s.score('a');
  s.started('a');
  s.started('a');
  assert.equal(Math.round(s.score('a') - before), 4);
});

test('the hedge trigger: unarmed below 20 samples, then fleet p95 × multiplier, at least min_trigger_ms', () => {
  const { s, sample } = selector();
  for (let i = 0; i < 19; i++) sample('a', 10);
  assert.equal(s.hedgeTriggerMs(1.2, 15), null);
  for (let i = 0; i < 97; i++) sample('a', i < 87 ? 10 : 40); // the p95 is recomputed every 32 samples
  assert.equal(s.hedgeTriggerMs(1.2, 15), 48);
  assert.equal(s.hedgeTriggerMs(1.2, 100), 100);
});
