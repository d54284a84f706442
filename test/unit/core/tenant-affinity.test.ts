// core/tenant-affinity.ts: where a read goes (SPEC A15): hashed, static, dedicated, explicit, and the fallbacks.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { placeRead, tenantHashGroup, type TenantAffinity } from '../../../src/core/tenant-affinity.js';

const base: TenantAffinity = { mode: 'header', fallback: 'hash', staticMap: {}, dedicatedGroups: {} };
const all = () => true;

test('header mode: a tenant hashes to one group, the same every time; no tenant rotates over every group', () => {
  const d = placeRead(base, 'acme', [0, 1, 2], all);
  assert.equal(d.pinned, tenantHashGroup('acme', [0, 1, 2]));
  assert.deepEqual(placeRead(base, 'acme', [0, 1, 2], all), d);
  assert.deepEqual(placeRead(base, null, [0, 1, 2], all).placement, { group: null, groups: [0, 1, 2] });
  const groups = new Set(Array.from({ length: 40 }, (_, i) => placeRead(base, `t${i}`, [0, 1, 2], all).pinned));
  assert.equal(groups.size, 3);
});

test('dedicated groups serve only their tenants; static_map pins; explicit mode falls back for unknown tenants', () => {
  const cfg = { ...base, dedicatedGroups: { '2': ['vip'] }, staticMap: { acme: 1 } };
  assert.equal(placeRead(cfg, 'vip', [0, 1, 2], all).pinned, 2);
  assert.equal(placeRead(cfg, 'acme', [0, 1, 2], all).pinned, 1);
  for (let i = 0; i < 30; i++) assert.notEqual(placeRead(cfg, `t${i}`, [0, 1, 2], all).pinned, 2);
  assert.deepEqual(placeRead(cfg, null, [0, 1, 2], all).placement.groups, [0, 1]);
  const explicit = { ...cfg, mode: 'explicit' as const, fallback: 'rotate' as const };
  const d = placeRead(explicit, 'stranger', [0, 1, 2], all);
  assert.deepEqual([d.pinned, d.fallback, d.placement.groups], [null, 'unknown_tenant', [0, 1]]);
});

test('a group that cannot answer: hash re-pins over the shared groups that can; rotate reads like no tenant', () => {
  const cfg = { ...base, dedicatedGroups: { '2': ['vip'] } };
  const lost = (g: number) => g !== 2;
  const d = placeRead(cfg, 'vip', [0, 1, 2], lost);
  assert.equal(d.fallback, 'group_unavailable');
  assert.ok(d.pinned === 0 || d.pinned === 1);
  const r = placeRead({ ...cfg, fallback: 'rotate' }, 'vip', [0, 1, 2], lost);
  assert.deepEqual([r.pinned, r.placement.group], [null, null]);
});
