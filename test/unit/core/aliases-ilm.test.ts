// The pure rules of aliases (core/aliases.ts) and ILM rollover (core/ilm.ts): body parsing, history trimming, no
// chains of user aliases, internal aliases, rights carried from the alias name; policy validation, triggers,
// retention with the safety lock.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import {
  authForTargets,
  normalizeAliasTable,
  parseAliasBody,
  resolveName,
  withAlias,
  withoutAlias,
  type AliasTable,
} from '../../../src/core/aliases.js';
import type { ApiKeyRecord } from '../../../src/core/auth/keys.js';
import { tenantFilter, authAllowsIndex } from '../../../src/core/auth/authorize.js';
import { firedTrigger, generationUid, parseAge, parsePolicy, retentionPlan } from '../../../src/core/ilm.js';

const now = new Date('2026-01-01T00:00:00Z');
const table = (t: Omit<AliasTable, 'version'>, version = 1): AliasTable => ({ ...t, version });

test('alias bodies: target or targets, name checked, unknown fields refused', () => {
  assert.deepEqual(parseAliasBody({ name: 'a', target: 'x' }, true), { name: 'a', targets: ['x'] });
  assert.deepEqual(parseAliasBody({ targets: ['x', 'y'] }, false), { name: null, targets: ['x', 'y'] });
  for (const bad of [
    { name: 'a' },
    { name: 'a', target: 'x', targets: ['y'] },
    { name: 'a', targets: [] },
    { name: 'a', targets: ['x', 'x'] },
    { name: 'a', target: 'a' },
    { name: 'a', target: 'x', extra: 1 },
    { name: 'bad name', target: 'x' },
  ])
    assert.throws(() => parseAliasBody(bad, true), /alias|index uid|target/i, JSON.stringify(bad));
});

test('withAlias keeps history newest first, trimmed; no user-alias chains; internal aliases resolve through', () => {
  let t = table(withAlias(table({ aliases: {} }, 0), 'a', ['x'], now, 2));
  for (const next of ['y', 'z', 'w']) t = table(withAlias(t, 'a', [next], now, 2));
  assert.deepEqual(t.aliases.a!.targets, ['w']);
  assert.deepEqual(
    t.aliases.a!.history.map((h) => h.targets[0]),
    ['z', 'y'],
  );
  assert.throws(() => withAlias(t, 'b', ['a'], now, 2), /is an alias/);
  assert.throws(() => withAlias(t, 'w', ['q'], now, 2), /target of alias/);
  // the reshard flip: an internal alias named like the index `w`, which user alias `a` targets
  const r = table(withAlias(t, 'w', ['w__reshard_32'], now, 2, true));
  assert.equal(r.aliases.w!.internal, true);
  assert.deepEqual(resolveName(r, 'w'), { uids: ['w__reshard_32'], alias: 'w', internal: true });
  assert.deepEqual(resolveName(r, 'plain'), { uids: ['plain'], alias: null, internal: false });
  assert.deepEqual(table(withAlias(r, 'b', ['w'], now, 2)).aliases.b!.targets, ['w'], 'may target a resharded uid');
  assert.equal(withoutAlias(r, 'w').aliases.w, undefined);
  assert.deepEqual(normalizeAliasTable(JSON.parse(JSON.stringify(r))), r);
  assert.deepEqual(normalizeAliasTable(null), { version: 0, aliases: {} });
});

test('rights carry from the alias name to its targets (API key patterns, tenant rules)', () => {
  const key = { uid: 'k', indexes: ['books*'], actions: ['search'] } as unknown as ApiKeyRecord;
  const keyed = authForTargets({ kind: 'key', key }, 'books', ['library_v2']);
  assert.equal(authAllowsIndex(keyed, 'library_v2'), true);
  assert.equal(authAllowsIndex(keyed, 'other'), false);
  const denied = authForTargets({ kind: 'key', key }, 'movies', ['library_v2']);
  assert.equal(authAllowsIndex(denied, 'library_v2'), false, 'not allowed on the name: nothing carried');
  const tenant = authForTargets({ kind: 'tenant', key, searchRules: { books: { filter: 'user = 1' } } }, 'books', [
    'a',
    'b',
  ]);
  assert.equal(tenantFilter(tenant, 'a'), 'user = 1');
  assert.equal(tenantFilter(tenant, 'b'), 'user = 1');
  assert.deepEqual(authForTargets({ kind: 'master' }, 'books', ['a']), { kind: 'master' });
});

test('ILM policies: validation, triggers, generation uids, retention with the safety lock', () => {
  const p = parsePolicy(
    {
      name: 'logs',
      write_alias: 'logs_w',
      read_alias: 'logs',
      index_template: { uid_prefix: 'logs' },
      triggers: { max_docs: 10, max_age: '1h', max_size_gb: null },
      retention: { keep_indexes: 2 },
    },
    0,
  );
  assert.equal(p.index_template.primaryKey, null);
  assert.throws(
    () => parsePolicy({ name: 'x', write_alias: 'a', read_alias: 'a', index_template: { uid_prefix: 'p' } }, 0),
    /must differ/,
  );
  assert.throws(
    () => parsePolicy({ name: 'x', write_alias: 'a', read_alias: 'b', index_template: {} }, 0),
    /uid_prefix/,
  );
  assert.throws(
    () =>
      parsePolicy(
        {
          name: 'x',
          write_alias: 'a',
          read_alias: 'b',
          index_template: { uid_prefix: 'p' },
          triggers: { max_age: 'soon' },
        },
        0,
      ),
    /max_age/,
  );
  const d = parsePolicy({ name: 'x', write_alias: 'a', read_alias: 'b', index_template: { uid_prefix: 'p' } }, 0);
  assert.deepEqual(d.triggers, { max_docs: 10_000_000, max_age: '7d', max_size_gb: 50 });
  assert.equal(d.retention.keep_indexes, 30);
  assert.equal(parseAge('7d'), 604_800_000);
  assert.equal(generationUid('logs', 12), 'logs-000012');
  assert.equal(firedTrigger(p, { documents: 9, sizeBytes: 0, createdAt: 0 }, 1000), null);
  assert.equal(firedTrigger(p, { documents: 10, sizeBytes: 0, createdAt: 0 }, 1000), 'max_docs');
  assert.equal(firedTrigger(p, { documents: 0, sizeBytes: 0, createdAt: 0 }, 3_600_000), 'max_age');
  const idx = [1, 2, 3, 4].map((i) => ({ uid: `i${i}`, createdAt: i * 1000 }));
  const plain = retentionPlan(idx, 2, 0, 10_000);
  assert.deepEqual(
    plain.kept.map((e) => e.uid),
    ['i3', 'i4'],
  );
  assert.deepEqual(
    plain.deleted.map((e) => e.uid),
    ['i1', 'i2'],
  );
  const locked = retentionPlan(idx, 2, 8_500, 10_000);
  assert.deepEqual(
    locked.deleted.map((e) => e.uid),
    ['i1'],
    'i2 is younger than the safety lock',
  );
});
