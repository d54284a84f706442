// A Redis written by an earlier Miroir (plain `miroir:` keys, no hash tags) is moved to today's layout on the first
// start: tasks, queues, index records, node settings versions, API keys, jobs and scoped keys read back through the
// store, the task sequence goes on, and later starts only read the `miroir:layout` marker.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { Redis } from 'ioredis';
import { defaultKeys } from '../../../src/core/auth/keys.js';
import { RedisStore } from '../../../src/store/redis.js';
import { LAYOUT_KEY, newKeyName } from '../../../src/store/redis-migrate.js';
import { redisSkip, startRedis, type RedisServer } from '../../support/redis.js';

test('old key names map to the tagged families; short-lived and unchanged keys stay', () => {
  assert.equal(newKeyName('miroir:tasks:_seq'), '{miroir:tasks}#seq');
  assert.equal(newKeyName('miroir:tasks:42'), '{miroir:tasks}:42');
  assert.equal(newKeyName('miroir:tasks:_by_index:movies'), '{miroir:tasks}#by_index:movies');
  assert.equal(newKeyName('miroir:task_queue::control'), '{miroir:tasks}#queue::control');
  assert.equal(newKeyName('miroir:task_queue:_owner'), '{miroir:tasks}#queue_owner');
  assert.equal(newKeyName('miroir:indexes:movies'), '{miroir:indexes}:movies');
  assert.equal(
    newKeyName('miroir:node_settings_version:movies:node:0'),
    '{miroir:node_settings_version:movies}:node:0',
    'node ids may hold colons',
  );
  assert.equal(newKeyName('miroir:node_settings_version:movies:_index'), '{miroir:node_settings_version:movies}#index');
  assert.equal(newKeyName('miroir:jobs:_queued'), '{miroir:jobs}#queued');
  assert.equal(newKeyName('miroir:search_ui_scoped_key:movies'), '{miroir:search_ui_scoped_key}:movies');
  for (const same of [
    'miroir:topology',
    'miroir:lease:rebalance',
    'miroir:ratelimit:searchui:1.2.3.4',
    'miroir:admin_session:abc',
    'miroir:search_ui_config:movies',
    'miroir:search_ui_scoped_key_observed:http://pod:movies',
    'other:tasks:1',
  ])
    assert.equal(newKeyName(same), null, same);
});

describe('a Redis written by an earlier Miroir', { skip: redisSkip() }, () => {
  let redis: RedisServer;
  let raw: Redis;
  before(async () => {
    redis = await startRedis();
    raw = new Redis(redis.url);
  });
  after(async () => {
    raw.disconnect();
    await redis.stop();
  });

  test('moves to the current layout on the first start, once', async () => {
    const key = defaultKeys('2026-01-01T00:00:00Z')[0]!;
    const task = { uid: 4, indexUid: 'movies', type: 'indexCreation', status: 'succeeded', nodeTasks: {}, queues: [] };
    const index = { uid: 'movies', version: 7, committed: null, fields: ['id'], shards: 8, pending: [] };
    await raw
      .multi()
      .set('miroir:tasks:_seq', '6')
      .set('miroir:tasks:4', JSON.stringify(task))
      .zadd('miroir:tasks:_index', 4, '4')
      .zadd('miroir:tasks:_by_index:movies', 4, '4')
      .zadd('miroir:task_queue:movies', 5, '5')
      .sadd('miroir:task_queue:_index', 'movies')
      .hset('miroir:task_queue:_owner', '5', 'proc-old')
      .set('miroir:indexes:_version_seq', '7')
      .set('miroir:indexes:movies', JSON.stringify(index))
      .sadd('miroir:indexes:_index', 'movies')
      .set('miroir:node_settings_version:movies:node-0', '3')
      .sadd('miroir:node_settings_version:movies:_index', 'node-0')
      .set(`miroir:keys:${key.uid}`, JSON.stringify(key))
      .sadd('miroir:keys:_index', key.uid)
      .hset('miroir:jobs:j1', { id: 'j1', type: 'shard_move', payload: '{}', state: 'queued', owner: '' })
      .hset('miroir:jobs:j1', { leaseExpiresAt: '', cursor: 'null', attempts: '0', error: '' })
      .hset('miroir:jobs:j1', { createdAt: '1', updatedAt: '1' })
      .zadd('miroir:jobs:_queued', 1, 'j1')
      .sadd('miroir:jobs:_index', 'j1')
      .set('miroir:topology', JSON.stringify({ version: 3, shards: 8 }))
      .exec();
    const store = await RedisStore.open({ url: redis.url });
    try {
      assert.equal((await store.getTask(4))?.type, 'indexCreation');
      assert.deepEqual(
        (await store.getTasks([4])).map((t) => t?.uid),
        [4],
      );
      assert.equal(await store.countTasks(['movies']), 1);
      assert.deepEqual(await store.queuedTasks('movies'), [5]);
      assert.equal(await store.taskOwner(5), 'proc-old');
      assert.equal(await store.nextTaskUid(), 6, 'the sequence goes on');
      assert.equal((await store.getIndex('movies'))?.version, 7);
      assert.deepEqual(
        (await store.listIndexes()).map((i) => i.uid),
        ['movies'],
      );
      assert.deepEqual(await store.getNodeSettingsVersions('movies'), { 'node-0': 3 });
      assert.deepEqual(await store.getKey(key.uid), key);
      assert.equal((await store.getJob('j1'))?.state, 'queued');
      assert.equal((await store.getTopology())?.version, 3);
      const [written] = (await store.casIndexes([{ uid: 'books', expected: 0, next: { ...index, uid: 'books' } }]))!;
      assert.ok(written!.version > 7, 'index versions go on from the old sequence');
      assert.deepEqual(await raw.keys('miroir:tasks:*'), [], 'no old task key left');
      assert.equal(await raw.get(LAYOUT_KEY), '2');
    } finally {
      await store.close();
    }
    // A key written under an old name now is not moved again: the marker says the Redis is done.
    await raw.set('miroir:tasks:_seq', '100');
    const again = await RedisStore.open({ url: redis.url });
    try {
      assert.equal(await again.nextTaskUid(), 7);
    } finally {
      await again.close();
    }
  });
});
