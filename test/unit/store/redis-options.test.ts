// task_store.redis: the accepted shapes (url and its short form, sentinels + name, cluster), the env password, the
// store options they become, and every combination refused at start with a message naming the key to change.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { ConfigError, resolveConfig } from '../../../src/main/config/load.js';
import { redisOptionsOf } from '../../../src/main/config/open-store.js';
import { redisKeys } from '../../../src/store/redis-keys.js';

const base = {
  nodes: [{ id: 'node-0', address: 'http://127.0.0.1:7701' }],
  replication_factor: 1,
  admin: { api_key: 'k' },
};

function store(task_store: unknown, env: NodeJS.ProcessEnv = {}) {
  return resolveConfig({ ...base, task_store }, env).task_store;
}

function problemsOf(task_store: unknown): string[] {
  try {
    resolveConfig({ ...base, task_store }, {});
  } catch (err) {
    assert.ok(err instanceof ConfigError, String(err));
    return err.problems;
  }
  assert.fail('config was accepted');
}

test('task_store.url stays the short form of task_store.redis.url', () => {
  const short = redisOptionsOf(store({ backend: 'redis', url: 'redis://r:6379/0' }));
  const long = redisOptionsOf(store({ backend: 'redis', redis: { url: 'redis://r:6379/0' } }));
  assert.equal(short.url, 'redis://r:6379/0');
  assert.deepEqual(short, long);
  assert.equal(short.waitReplicas, 0, 'one node: nothing to wait for');
  assert.equal(short.keyPrefix, 'miroir:');
});

test('sentinels wait for one replica by default; the env password wins over the file', () => {
  const cfg = store(
    {
      backend: 'redis',
      redis: { sentinels: [{ host: 's1', port: 26379 }], name: 'mymaster', username: 'miroir', password: 'file' },
    },
    { MIROIR_REDIS_PASSWORD: 'from-env' },
  );
  const opts = redisOptionsOf(cfg);
  assert.deepEqual(opts.sentinels, [{ host: 's1', port: 26379 }]);
  assert.equal(opts.name, 'mymaster');
  assert.equal(opts.username, 'miroir');
  assert.equal(opts.password, 'from-env');
  assert.equal(opts.waitReplicas, 1);
  const none = redisOptionsOf(
    store({ backend: 'redis', redis: { sentinels: [{ host: 's1', port: 26379 }], name: 'm', wait_replicas: 0 } }),
  );
  assert.equal(none.waitReplicas, 0, 'an explicit wait_replicas wins');
});

test('cluster seeds and TLS files pass through', () => {
  const opts = redisOptionsOf(
    store({
      backend: 'redis',
      redis: {
        cluster: ['rediss://a:7000', 'rediss://b:7001'],
        tls: { ca: '/etc/ca.pem', cert: '/etc/c.pem', key: '/etc/k.pem', reject_unauthorized: false },
        key_prefix: 'tenant1:',
      },
    }),
  );
  assert.deepEqual(opts.cluster, ['rediss://a:7000', 'rediss://b:7001']);
  assert.deepEqual(opts.tls, {
    enabled: false,
    ca: '/etc/ca.pem',
    cert: '/etc/c.pem',
    key: '/etc/k.pem',
    rejectUnauthorized: false,
  });
  assert.equal(opts.keyPrefix, 'tenant1:');
});

const bad: Array<[string, unknown, RegExp]> = [
  ['redis without any address', { backend: 'redis' }, /^task_store\.url: required when task_store\.backend is redis/],
  [
    'short and long url',
    { backend: 'redis', url: 'redis://a:1', redis: { url: 'redis://b:2' } },
    /^task_store\.url: the short form of task_store\.redis\.url: set only one/,
  ],
  [
    'url and sentinels',
    { backend: 'redis', url: 'redis://a:1', redis: { sentinels: [{ host: 's', port: 26379 }], name: 'm' } },
    /^task_store\.redis: url, sentinels and cluster are alternatives/,
  ],
  [
    'sentinels and cluster',
    { backend: 'redis', redis: { sentinels: [{ host: 's', port: 1 }], name: 'm', cluster: ['redis://c:1'] } },
    /^task_store\.redis: url, sentinels and cluster are alternatives/,
  ],
  [
    'sentinels without a master group',
    { backend: 'redis', redis: { sentinels: [{ host: 's', port: 26379 }] } },
    /^task_store\.redis\.name: required with sentinels/,
  ],
  [
    'a master group without sentinels',
    { backend: 'redis', url: 'redis://a:1', redis: { name: 'm' } },
    /^task_store\.redis\.name: only used with task_store\.redis\.sentinels/,
  ],
  ['not a redis URL', { backend: 'redis', redis: { url: 'http://a:1' } }, /^task_store\.redis\.url: must be a redis/],
  [
    'a cluster seed that is not a redis URL',
    { backend: 'redis', redis: { cluster: ['a:1'] } },
    /^task_store\.redis\.cluster\[0\]: must be a redis/,
  ],
  [
    'mixed cluster schemes',
    { backend: 'redis', redis: { cluster: ['redis://a:1', 'rediss://b:2'] } },
    /^task_store\.redis\.cluster: mixes redis:\/\/ and rediss:\/\//,
  ],
  [
    'a CA while TLS is off',
    { backend: 'redis', url: 'redis://a:1', redis: { tls: { ca: '/ca.pem' } } },
    /^task_store\.redis\.tls\.ca: set but TLS is off/,
  ],
  [
    'a client certificate without its key',
    { backend: 'redis', url: 'rediss://a:1', redis: { tls: { cert: '/c.pem' } } },
    /^task_store\.redis\.tls\.key: a client certificate needs both cert and key/,
  ],
  [
    'TLS on with a redis:// URL',
    { backend: 'redis', url: 'redis://a:1', redis: { tls: { enabled: true } } },
    /^task_store\.redis\.tls\.enabled: TLS is on but the URL says redis:\/\//,
  ],
  [
    'braces in the key prefix',
    { backend: 'redis', url: 'redis://a:1', redis: { key_prefix: '{x}' } },
    /^task_store\.redis\.key_prefix: may only hold/,
  ],
  [
    'an unknown redis key',
    { backend: 'redis', url: 'redis://a:1', redis: { sentinel: [] } },
    /^task_store\.redis\.sentinel: unknown key/,
  ],
];

for (const [name, taskStore, expected] of bad) {
  test(`refused: ${name}`, () => {
    const problems = problemsOf(taskStore);
    assert.ok(
      problems.some((p) => expected.test(p)),
      `expected ${expected} among ${JSON.stringify(problems)}`,
    );
  });
}

test('key layout: what one script touches shares a hash tag; bookkeeping keys cannot collide with records', () => {
  const K = redisKeys('miroir:');
  const tagOf = (key: string) => /\{([^}]*)\}/.exec(key)?.[1];
  const family = (keys: string[]) => new Set(keys.map(tagOf));
  assert.equal(
    family([K.taskSeq, K.task(7), K.taskIndex, K.tasksOf('movies'), K.queue('movies'), K.queueIndex, K.queueOwner])
      .size,
    1,
  );
  assert.equal(family([K.indexVersionSeq, K.index('a'), K.index('b'), K.indexIndex]).size, 1);
  assert.equal(family([K.nodeVersion('movies', 'node-0'), K.nodeVersionIndex('movies')]).size, 1);
  assert.equal(family([K.job('j'), K.jobQueued, K.jobIndex, `${K.jobPrefix}j`]).size, 1);
  assert.equal(family([K.key('u'), K.keyIndex]).size, 1);
  assert.equal(family([K.scopedKey('movies'), K.scopedKeyIndex]).size, 1);
  assert.equal(
    family([K.scopedKeyObserved('http://pod-a', 'movies'), K.scopedKeyObserved('http://b', 'movies')]).size,
    1,
  );
  assert.notEqual(K.index('_index'), K.indexIndex, 'an index may be called _index');
  assert.notEqual(K.queue('_index'), K.queueIndex);
  assert.equal(K.topology, 'miroir:topology');
  assert.equal(tagOf(redisKeys('tenant1:').task(1)), 'tenant1:tasks', 'the prefix is part of the tag');
});
