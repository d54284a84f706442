// core/canary.ts: definition validation (Meilisearch-shaped errors naming the field), every assertion type passing
// and failing with its observed value, the p95 window, and the assertions capture makes from an answer.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import {
  captureAssertions,
  evaluateCanary,
  hitIdsOf,
  p95,
  parseCanary,
  type CanaryObservation,
} from '../../../src/core/canary.js';
import { MeiliError } from '../../../src/core/errors.js';

const NOW = '2026-01-01T00:00:00.000Z';
const base = { name: 'top', index: 'movies', interval_s: 30, query: { q: 'alien' } };

function rejects(body: unknown, field: RegExp): void {
  assert.throws(
    () => parseCanary(body, NOW),
    (err: unknown) => err instanceof MeiliError && err.code === 'miroir_invalid_canary' && field.test(err.message),
  );
}

test('a valid definition round-trips with every assertion type', () => {
  const assertions = [
    { type: 'top_hit_id', id: 1 },
    { type: 'top_k_contains', k: 3, ids: ['a', 2] },
    { type: 'min_hits', n: 0 },
    { type: 'max_p95_ms', ms: 50 },
    { type: 'settings_version_at_least', version: 2 },
    { type: 'must_not_contain_id', id: 'spam' },
  ];
  const def = parseCanary({ ...base, assertions }, NOW);
  assert.deepEqual(def, { ...base, assertions, created_at: NOW });
});

test('invalid definitions name the field', () => {
  const ok = [{ type: 'min_hits', n: 1 }];
  rejects(null, /must be an object/);
  rejects({ ...base, name: '', assertions: ok }, /`name`/);
  rejects({ ...base, name: 'status', assertions: ok }, /reserved/);
  rejects({ ...base, index: 'bad index', assertions: ok }, /not a valid index uid/);
  rejects({ ...base, interval_s: 0.5, assertions: ok }, /`interval_s`/);
  rejects({ ...base, query: 'alien', assertions: ok }, /`query`/);
  rejects({ ...base, query: { q: 'x', offset: -1 }, assertions: ok }, /`query`/);
  rejects({ ...base }, /`assertions`/);
  rejects({ ...base, assertions: [{ type: 'min_hits', n: -1 }] }, /`assertions\[0\]\.n`/);
  rejects({ ...base, assertions: [{ type: 'top_hit_id' }] }, /`assertions\[0\]\.id`/);
  rejects({ ...base, assertions: [{ type: 'top_hit_id', id: 1, k: 2 }] }, /`k` at `assertions\[0\]`/);
  rejects({ ...base, assertions: [ok[0], { type: 'nope' }] }, /`assertions\[1\]\.type`/);
  rejects({ ...base, assertions: [{ type: 'top_k_contains', k: 1, ids: [1, 2] }] }, /top 1/);
  rejects({ ...base, assertions: ok, other: true }, /Unknown field `other`/);
});

const obs = (over: Partial<CanaryObservation> = {}): CanaryObservation => ({
  hitIds: [5, 'x', 3],
  totalHits: 3,
  latencyMs: 10,
  p95Ms: 12,
  settingsVersion: 4,
  ...over,
});

test('assertions pass on a matching answer (ids compare as strings: 5 and "5" are one document)', () => {
  assert.deepEqual(
    evaluateCanary(
      [
        { type: 'top_hit_id', id: '5' },
        { type: 'top_k_contains', k: 2, ids: ['x', 5] },
        { type: 'min_hits', n: 3 },
        { type: 'max_p95_ms', ms: 12 },
        { type: 'settings_version_at_least', version: 4 },
        { type: 'must_not_contain_id', id: 9 },
      ],
      obs(),
    ),
    [],
  );
});

test('failures report what was expected and observed', () => {
  assert.deepEqual(
    evaluateCanary(
      [
        { type: 'top_hit_id', id: 3 },
        { type: 'top_k_contains', k: 2, ids: [3] },
        { type: 'min_hits', n: 4 },
        { type: 'max_p95_ms', ms: 11 },
        { type: 'settings_version_at_least', version: 5 },
        { type: 'must_not_contain_id', id: 3 },
      ],
      obs(),
    ),
    [
      { type: 'top_hit_id', expected: 3, observed: 5 },
      { type: 'top_k_contains', expected: [3], observed: [5, 'x'] },
      { type: 'min_hits', expected: 4, observed: 3 },
      { type: 'max_p95_ms', expected: 11, observed: 12 },
      { type: 'settings_version_at_least', expected: 5, observed: 4 },
      { type: 'must_not_contain_id', expected: 3, observed: { rank: 3 } },
    ],
  );
  assert.deepEqual(evaluateCanary([{ type: 'top_hit_id', id: 3 }], obs({ hitIds: [] })), [
    { type: 'top_hit_id', expected: 3, observed: null },
  ]);
});

test('p95 is the nearest rank; capture guards the top hit, the top k and that something is found', () => {
  assert.equal(p95([]), 0);
  assert.equal(p95([7]), 7);
  assert.equal(p95(Array.from({ length: 100 }, (_, i) => i + 1)), 95);
  assert.equal(p95(Array.from({ length: 20 }, (_, i) => 20 - i)), 19);
  assert.equal(captureAssertions([], 3), null);
  assert.deepEqual(captureAssertions([4, 2], 3), [
    { type: 'top_hit_id', id: 4 },
    { type: 'top_k_contains', k: 2, ids: [4, 2] },
    { type: 'min_hits', n: 1 },
  ]);
  assert.deepEqual(hitIdsOf([{ id: 1 }, { other: 2 }, { id: 'b' }], 'id'), [1, 'b']);
  assert.deepEqual(hitIdsOf(undefined, 'id'), []);
});
