// charts/miroir/values.schema.json: compiled with ajv (draft-07, strict), checked against values.yaml and every
// fixture in test/fixtures/helm/ merged over it the way Helm merges values; each bad fixture must fail for its reason.
// The schema's `config` must equal the JSON Schema of Miroir's own config (src/main/config/schema.ts).
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { Ajv, type ErrorObject, type ValidateFunction } from 'ajv';
import {
  CHART,
  ROOT,
  expectedConfigSchema,
  isObject,
  listFiles,
  mergeValues,
  readText,
  readYaml,
  type Json,
  type JsonObject,
} from './support.js';

const FIXTURES = join(ROOT, 'test', 'fixtures', 'helm');
const schema = JSON.parse(readText('charts', 'miroir', 'values.schema.json')) as JsonObject;
const defaults = readYaml('charts', 'miroir', 'values.yaml');

function compile(): ValidateFunction {
  // strict: unknown keywords, ignored keywords and missing types are compile errors, not silent no-ops.
  const ajv = new Ajv({ strict: true, allErrors: true, allowUnionTypes: true });
  return ajv.compile(schema);
}
const validate = compile();

function errorsFor(values: Json): ErrorObject[] {
  return validate(values) ? [] : [...(validate.errors ?? [])];
}

function fixture(name: string): Json {
  return mergeValues(defaults, (readYaml('test', 'fixtures', 'helm', name) ?? {}) as Json);
}

/** The `$comment` rule name (text before the colon) of the allOf entry an error's schemaPath points into. */
function ruleOf(error: ErrorObject): string | null {
  const m = /^#\/allOf\/(\d+)\//.exec(error.schemaPath);
  if (m === null) return null;
  const entry = (schema['allOf'] as JsonObject[])[Number(m[1])]!;
  return String(entry['$comment']).split(':')[0]!;
}

function show(errors: ErrorObject[]): string {
  return errors
    .map((e) => `${e.instancePath || '(root)'} ${e.keyword} ${e.message ?? ''} [${e.schemaPath}]`)
    .join('\n');
}

// Each bad fixture, with the error that must be among its errors: where (instancePath), which keyword failed, and
// for the cross-field rules which allOf rule (by the name its $comment starts with).
const BAD: Record<string, { instancePath: string; keyword: string; rule?: string }> = {
  'bad-replicas-lmdb.yaml': {
    instancePath: '/config/task_store/backend',
    keyword: 'const',
    rule: 'replicas-need-redis',
  },
  'bad-hpa-without-redis.yaml': {
    instancePath: '/config/task_store/backend',
    keyword: 'const',
    rule: 'hpa-needs-redis',
  },
  'bad-hpa-min-replicas-1.yaml': { instancePath: '/autoscaling/minReplicas', keyword: 'minimum', rule: 'hpa-min-2' },
  'bad-replica-count-type.yaml': { instancePath: '/replicaCount', keyword: 'type' },
  'bad-dns-discovery-lmdb.yaml': {
    instancePath: '/config/task_store/backend',
    keyword: 'const',
    rule: 'dns-discovery-needs-redis',
  },
  'bad-redis-without-url.yaml': { instancePath: '/config/task_store', keyword: 'required', rule: 'redis-needs-url' },
  'bad-unknown-config-key.yaml': { instancePath: '/config', keyword: 'additionalProperties' },
  'bad-ha-memory-rate-limit.yaml': {
    instancePath: '/config/search_ui/rate_limit/backend',
    keyword: 'not',
    rule: 'ha-rate-limit-needs-redis',
  },
};

test('values.schema.json declares draft-07 and compiles under ajv strict mode', () => {
  assert.equal(schema['$schema'], 'http://json-schema.org/draft-07/schema#');
  assert.equal(typeof validate, 'function');
  const rules = (schema['allOf'] as JsonObject[]).map((r) => String(r['$comment']).split(':')[0]);
  for (const r of ['replicas-need-redis', 'hpa-needs-redis', 'hpa-min-2'])
    assert.ok(rules.includes(r), `allOf rule ${r} missing`);
  for (const r of schema['allOf'] as JsonObject[])
    assert.ok('if' in r && 'then' in r, 'every cross-field rule is an if/then');
});

test('values.yaml validates and keeps the dev defaults of SPEC O1', () => {
  assert.deepEqual(errorsFor(defaults), [], show(errorsFor(defaults)));
  assert.ok(isObject(defaults));
  const d = defaults as JsonObject;
  assert.equal(d['replicaCount'], 1);
  const config = d['config'] as JsonObject;
  assert.equal(config['replication_factor'], 1);
  assert.equal(config['replica_groups'], 1);
  assert.equal((config['task_store'] as JsonObject)['backend'], 'lmdb');
  assert.equal((d['autoscaling'] as JsonObject)['enabled'], false);
  assert.equal((d['redis'] as JsonObject)['enabled'], false);
  const meili = d['meilisearch'] as JsonObject;
  assert.equal(meili['replicas'], 3);
  assert.equal(
    `${(meili['image'] as JsonObject)['repository']}:${(meili['image'] as JsonObject)['tag']}`,
    'getmeili/meilisearch:v1.50',
  );
});

test('fixtures: at least 3 good and 4 bad files, and every bad one has an expected error', () => {
  const good = listFiles(FIXTURES, '.yaml').filter((f) => f.startsWith('good-'));
  const bad = listFiles(FIXTURES, '.yaml').filter((f) => f.startsWith('bad-'));
  assert.ok(good.length >= 3, `good fixtures: ${good.join(', ')}`);
  assert.ok(bad.length >= 4, `bad fixtures: ${bad.join(', ')}`);
  assert.deepEqual(bad, Object.keys(BAD).sort());
});

for (const name of listFiles(FIXTURES, '.yaml').filter((f) => f.startsWith('good-'))) {
  test(`good fixture ${name} validates`, () => {
    const errors = errorsFor(fixture(name));
    assert.deepEqual(errors, [], show(errors));
  });
}

for (const [name, expected] of Object.entries(BAD)) {
  test(`bad fixture ${name} is rejected at ${expected.instancePath} (${expected.keyword})`, () => {
    const errors = errorsFor(fixture(name));
    assert.ok(errors.length > 0, 'accepted');
    const hit = errors.find((e) => e.instancePath === expected.instancePath && e.keyword === expected.keyword);
    assert.ok(hit, `no ${expected.keyword} error at ${expected.instancePath}; got:\n${show(errors)}`);
    if (expected.rule !== undefined) assert.equal(ruleOf(hit), expected.rule, show([hit]));
    else assert.equal(ruleOf(hit), null, 'a plain property error, not a cross-field rule');
  });
}

test('the cross-field rules follow the values, not the fixture files', () => {
  const base = defaults as JsonObject;
  const redis = { config: { task_store: { backend: 'redis', url: 'redis://r:6379/0' } } };
  // Several pods are fine on Redis; the lmdb default is what the rule refuses.
  assert.deepEqual(errorsFor(mergeValues(base, { replicaCount: 5, ...redis })), []);
  assert.notDeepEqual(errorsFor(mergeValues(base, { replicaCount: 5 })), []);
  assert.notDeepEqual(
    errorsFor(mergeValues(base, { replicaCount: 2, config: { task_store: { backend: 'lmdb' } } })),
    [],
  );
  // One pod or zero pods on LMDB are fine.
  assert.deepEqual(errorsFor(mergeValues(base, { replicaCount: 0 })), []);
  // An HPA at min 2 on Redis passes; min 1 fails even on Redis.
  assert.deepEqual(errorsFor(mergeValues(base, { autoscaling: { enabled: true, minReplicas: 2 }, ...redis })), []);
  const min1 = errorsFor(mergeValues(base, { autoscaling: { enabled: true, minReplicas: 1 }, ...redis }));
  assert.deepEqual(
    min1.map((e) => e.instancePath).filter((p) => p !== ''),
    ['/autoscaling/minReplicas'],
  );
  // A disabled HPA's minReplicas is not checked against the HA minimum.
  assert.deepEqual(errorsFor(mergeValues(base, { autoscaling: { enabled: false, minReplicas: 1 } })), []);
  // The chart's Redis stands in for a URL.
  assert.deepEqual(
    errorsFor(mergeValues(base, { redis: { enabled: true }, config: { task_store: { backend: 'redis' } } })),
    [],
  );
});

test('Miroir config values are checked like Miroir checks them', () => {
  const base = defaults as JsonObject;
  const cases: Array<[Json, string, string]> = [
    [{ config: { task_store: { backend: 'sqlite' } } }, '/config/task_store/backend', 'enum'],
    [{ config: { shards: 0 } }, '/config/shards', 'minimum'],
    [{ config: { server: { port: 70000 } } }, '/config/server/port', 'maximum'],
    [{ config: { nodes: [{ id: 'node 0', address: 'http://a:7700' }] } }, '/config/nodes/0/id', 'pattern'],
    [{ config: { nodes: [{ id: 'node-0', address: 'ftp://a' }] } }, '/config/nodes/0/address', 'pattern'],
    [{ config: { nodes: [{ id: 'node-0' }] } }, '/config/nodes/0', 'required'],
    [{ config: { scatter: { unavailable_shard_policy: 'drop' } } }, '/config/scatter/unavailable_shard_policy', 'enum'],
    [{ config: { log: { level: 'verbose' } } }, '/config/log/level', 'enum'],
    [
      { config: { multi_search: { max_queries_per_batch: 0 } } },
      '/config/multi_search/max_queries_per_batch',
      'minimum',
    ],
    [{ config: { health: { interval: 5 } } }, '/config/health', 'additionalProperties'],
    [{ replicas: 2 }, '', 'additionalProperties'],
    [{ image: { repository: '' } }, '/image/repository', 'minLength'],
    [{ meilisearch: { replicas: 0 } }, '/meilisearch/replicas', 'minimum'],
  ];
  for (const [over, path, keyword] of cases) {
    const errors = errorsFor(mergeValues(base, over));
    assert.ok(
      errors.some((e) => e.instancePath === path && e.keyword === keyword),
      `${JSON.stringify(over)}: want ${keyword} at ${path}, got\n${show(errors)}`,
    );
  }
});

test('the chart schema of `config` is the JSON Schema of src/main/config/schema.ts', () => {
  const expected = expectedConfigSchema();
  if (process.env['UPDATE_HELM_SCHEMA'] === '1') {
    const updated = { ...schema, properties: { ...(schema['properties'] as JsonObject), config: expected } };
    writeFileSync(join(CHART, 'values.schema.json'), JSON.stringify(updated, null, 2) + '\n');
  }
  const actual = (JSON.parse(readText('charts', 'miroir', 'values.schema.json')) as { properties: JsonObject })
    .properties['config'];
  assert.deepEqual(
    actual,
    expected,
    'the config schema changed: rerun this test with UPDATE_HELM_SCHEMA=1 to rewrite charts/miroir/values.schema.json',
  );
});
