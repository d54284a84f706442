// One contract suite (test/support/store-contract.ts), run against both stores: LMDB in a temp dir and a real
// redis-server on a free port.
import { after, before, describe } from 'node:test';
import { LmdbStore } from '../../../src/store/lmdb.js';
import { RedisStore } from '../../../src/store/redis.js';
import { tempDir } from '../../support/devnode.js';
import { redisSkip, startRedis, type RedisServer } from '../../support/redis.js';
import { contract } from '../../support/store-contract.js';

const lmdbDir = tempDir('miroir-store-');
after(() => lmdbDir.cleanup());
contract('lmdb store', async () => new LmdbStore({ path: lmdbDir.dir }), { shared: false });

describe('on a real redis-server', { skip: redisSkip() }, () => {
  let redis: RedisServer;
  before(async () => {
    redis = await startRedis();
  });
  after(() => redis.stop());
  contract(
    'redis store',
    async () => RedisStore.open({ url: redis.url }),
    { shared: true },
    async () => RedisStore.open({ url: redis.url, indexStateTtlMs: 3_600_000 }),
  );
});
