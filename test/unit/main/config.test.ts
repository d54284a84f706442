// Config loading: defaults, the `miroir:` wrapper, env overrides, and a table of bad configs each refused with a
// message naming the offending key.
import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { ConfigError, loadConfigFile, resolveConfig } from '../../../src/main/config/load.js';

const nodes3 = [
  { id: 'node-0', address: 'http://127.0.0.1:7701' },
  { id: 'node-1', address: 'http://127.0.0.1:7702' },
  { id: 'node-2', address: 'http://127.0.0.1:7703' },
];
const base = { nodes: nodes3, replication_factor: 1, admin: { api_key: 'admin-key' } };

function problemsOf(raw: unknown, env: NodeJS.ProcessEnv = {}): string[] {
  try {
    resolveConfig(raw, env);
  } catch (err) {
    assert.ok(err instanceof ConfigError, String(err));
    return err.problems;
  }
  assert.fail('config was accepted');
}

test('defaults fill every section and the result is frozen', () => {
  const cfg = resolveConfig(base, {});
  assert.equal(cfg.shards, 64);
  assert.equal(cfg.server.port, 7700);
  assert.equal(cfg.server.bind, '0.0.0.0');
  assert.equal(cfg.server.max_body_bytes, 104857600);
  assert.equal(cfg.metrics.port, 9090);
  assert.equal(cfg.health.interval_ms, 5000);
  assert.equal(cfg.health.unhealthy_threshold, 3);
  assert.equal(cfg.scatter.node_timeout_ms, 5000);
  assert.equal(cfg.scatter.unavailable_shard_policy, 'partial');
  assert.equal(cfg.task_store.backend, 'lmdb');
  assert.equal(cfg.task_store.path, './miroir-data');
  assert.equal(cfg.connection_pool_per_node.max_total, 128);
  assert.equal(cfg.leader_election.lease_ttl_s, 10);
  assert.equal(cfg.nodes[0]!.replica_group, 0);
  assert.ok(Object.isFrozen(cfg) && Object.isFrozen(cfg.server) && Object.isFrozen(cfg.nodes[0]));
});

test('a root `miroir:` wrapper is accepted', () => {
  assert.equal(resolveConfig({ miroir: { ...base, shards: 16 } }, {}).shards, 16);
});

test('env overrides: secrets and MIROIR__SECTION__KEY with JSON values', () => {
  const cfg = resolveConfig(base, {
    MIROIR_MASTER_KEY: 'mk',
    MIROIR_NODE_MASTER_KEY: 'nmk',
    MIROIR_ADMIN_API_KEY: 'from-env',
    MIROIR__SERVER__PORT: '0',
    MIROIR__SCATTER__RETRY_ON_TIMEOUT: 'false',
    MIROIR__TASK_STORE__PATH: '/data/x',
    MIROIR_NATIVE: '0',
  });
  assert.equal(cfg.master_key, 'mk');
  assert.equal(cfg.node_master_key, 'nmk');
  assert.equal(cfg.admin.api_key, 'from-env');
  assert.equal(cfg.server.port, 0);
  assert.equal(cfg.scatter.retry_on_timeout, false);
  assert.equal(cfg.task_store.path, '/data/x');
});

const badCases: Array<[string, unknown, RegExp]> = [
  ['unknown root key', { ...base, shardz: 3 }, /^shardz: unknown key/],
  [
    'shadow sample rate above 1',
    { ...base, shadow: { targets: [{ name: 't', url: 'http://127.0.0.1:1', sample_rate: 2 }] } },
    /^shadow\.targets\[0\]\.sample_rate: /,
  ],
  ['shadow target without url', { ...base, shadow: { targets: [{ name: 't' }] } }, /^shadow\.targets\[0\]\.url: /],
  ['shadow enabled without targets', { ...base, shadow: { enabled: true } }, /^shadow\.targets: shadow\.enabled needs/],
  [
    'duplicate shadow target names',
    {
      ...base,
      shadow: {
        targets: [
          { name: 't', url: 'http://127.0.0.1:1' },
          { name: 't', url: 'http://127.0.0.1:2' },
        ],
      },
    },
    /^shadow\.targets\[1\]\.name: duplicate target name "t"/,
  ],
  [
    'no concurrent canaries',
    { ...base, canary_runner: { max_concurrent_canaries: 0 } },
    /^canary_runner\.max_concurrent_canaries: /,
  ],
  ['unknown nested key', { ...base, server: { prot: 1 } }, /^server\.prot: unknown key/],
  ['wrong type', { ...base, shards: 'many' }, /^shards: /],
  ['zero shards', { ...base, shards: 0 }, /^shards: /],
  ['bad policy', { ...base, scatter: { unavailable_shard_policy: 'maybe' } }, /^scatter\.unavailable_shard_policy: /],
  ['bad node address', { ...base, nodes: [{ id: 'n', address: 'not a url' }] }, /^nodes\[0\]\.address: /],
  [
    'duplicate node ids',
    { ...base, nodes: [...nodes3, { id: 'node-1', address: 'http://127.0.0.1:1' }] },
    /^nodes\[3\]\.id: duplicate node id "node-1"/,
  ],
  [
    'RF above group size',
    { ...base, replication_factor: 4 },
    /^replication_factor: 4 exceeds the 3 node\(s\) of replica group 0/,
  ],
  [
    'group id outside seed groups',
    { ...base, nodes: [{ ...nodes3[0], replica_group: 2 }] },
    /^nodes\[0\]\.replica_group: 2 is not a seed group id/,
  ],
  ['empty seed group', { ...base, replica_groups: 2 }, /^nodes: replica group 1 has no node/],
  [
    'lmdb with several pods',
    { ...base, peer_discovery: { peers: ['http://127.0.0.1:1', 'http://127.0.0.1:2'] } },
    /^task_store\.backend: 2 Miroir pods must share the redis store/,
  ],
  [
    'lmdb with dns discovery',
    { ...base, peer_discovery: { mode: 'dns' } },
    /^task_store\.backend: peer discovery by DNS/,
  ],
  ['redis without url', { ...base, task_store: { backend: 'redis' } }, /^task_store\.url: required/],
  ['admin without key', { ...base, admin: {} }, /^admin\.api_key: required/],
  [
    'metrics port clash',
    { ...base, server: { port: 7700 }, metrics: { port: 7700 } },
    /^metrics\.port: 7700 is also server\.port/,
  ],
  [
    'lease renew too slow',
    { ...base, leader_election: { lease_ttl_s: 3, renew_interval_s: 3 } },
    /^leader_election\.renew_interval_s: /,
  ],
  ['not a mapping', ['a'], /^\(root\): /],
];

for (const [name, raw, expected] of badCases) {
  test(`refused: ${name}`, () => {
    const problems = problemsOf(raw);
    assert.ok(
      problems.some((p) => expected.test(p)),
      `expected ${expected} among ${JSON.stringify(problems)}`,
    );
  });
}

test('a bad env override is reported under its key', () => {
  const problems = problemsOf(base, { MIROIR__HEALTH__INTERVAL_MS: '"soon"' });
  assert.ok(
    problems.some((p) => p.startsWith('health.interval_ms: ')),
    JSON.stringify(problems),
  );
});

test('YAML files load; unreadable and invalid files are reported', () => {
  const dir = mkdtempSync(join(tmpdir(), 'miroir-config-'));
  const good = join(dir, 'good.yaml');
  writeFileSync(
    good,
    'miroir:\n  shards: 16\n  replication_factor: 1\n  admin: {api_key: k}\n  nodes:\n    - {id: node-0, address: "http://127.0.0.1:7701"}\n',
  );
  assert.equal(loadConfigFile(good, {}).shards, 16);
  const bad = join(dir, 'bad.yaml');
  writeFileSync(bad, 'shards: [1,\n');
  assert.throws(
    () => loadConfigFile(bad, {}),
    (e: unknown) => e instanceof ConfigError && /not valid YAML/.test(e.problems[0]!),
  );
  assert.throws(
    () => loadConfigFile(join(dir, 'missing.yaml'), {}),
    (e: unknown) => e instanceof ConfigError && /cannot read/.test(e.problems[0]!),
  );
});

test('docs/configuration.md is current with the schema (npm run docs:config rewrites it)', async () => {
  const { renderConfigReference } = await import('../../../src/main/config/reference.js');
  const { readFileSync } = await import('node:fs');
  const { fileURLToPath } = await import('node:url');
  const root = fileURLToPath(
    new URL(import.meta.url.includes('/dist/') ? '../../../../' : '../../../', import.meta.url),
  );
  assert.equal(
    readFileSync(`${root}docs/configuration.md`, 'utf8'),
    renderConfigReference(),
    'run `npm run docs:config`',
  );
});
