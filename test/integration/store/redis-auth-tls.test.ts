// Redis with an ACL user + password and with TLS (a CA and server certificate generated here with openssl): the store
// connects with the right credentials and CA, and a wrong password, a missing CA or a refused user is a clear
// start-up error naming the config key — from RedisStore.open and from `miroir serve` alike — never a hang.
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { promisify } from 'node:util';
import { DevNode } from '../../../src/devnode/node.js';
import { RedisStore } from '../../../src/store/redis.js';
import type { RedisTls } from '../../../src/store/redis-connect.js';
import { StoreUnavailableError } from '../../../src/store/store.js';
import { requireBinary } from '../../support/binaries.js';
import { tempDir } from '../../support/devnode.js';
import { startMiroirProcess } from '../../support/miroir-process.js';
import { redisSkip, startRedis, type TlsRedisServer } from '../../support/redis.js';
import { until } from '../../support/wait.js';

const run = promisify(execFile);
const password = `pw-${randomBytes(6).toString('hex')}`;
/** An ACL user limited to Miroir's keys and channels (docs/operations.md); the default user is off. */
const aclArgs = [
  ...['--user', 'miroir', 'on', `>${password}`, '~miroir:*', '~{miroir:*', '&miroir:*', '+@all'],
  ...['--user', 'default', 'off'],
];

/** A CA and a server certificate for 127.0.0.1 signed by it, in `dir`. */
async function makeCertificates(dir: string): Promise<{ ca: string; cert: string; key: string }> {
  const f = (name: string) => join(dir, name);
  const openssl = (...args: string[]) => run('openssl', args);
  await openssl(
    ...['req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-days', '1', '-subj', '/CN=miroir-test-ca'],
    ...['-keyout', f('ca.key'), '-out', f('ca.crt')],
  );
  await openssl(
    ...['req', '-newkey', 'rsa:2048', '-nodes', '-subj', '/CN=127.0.0.1'],
    ...['-keyout', f('redis.key'), '-out', f('redis.csr')],
  );
  writeFileSync(f('san.ext'), 'subjectAltName=IP:127.0.0.1\n');
  await openssl(
    ...['x509', '-req', '-in', f('redis.csr'), '-CA', f('ca.crt'), '-CAkey', f('ca.key'), '-CAcreateserial'],
    ...['-days', '1', '-out', f('redis.crt'), '-extfile', f('san.ext')],
  );
  return { ca: f('ca.crt'), cert: f('redis.crt'), key: f('redis.key') };
}

const skip = redisSkip() || requireBinary('openssl', 'openssl');

describe('Redis with an ACL user and TLS', { skip }, () => {
  const dir = tempDir('miroir-redis-tls-');
  let files: { ca: string; cert: string; key: string };
  let redis: TlsRedisServer;
  const tls = (over: Partial<RedisTls> = {}): RedisTls => ({
    enabled: false,
    ca: files.ca,
    cert: null,
    key: null,
    rejectUnauthorized: true,
    ...over,
  });
  before(async () => {
    files = await makeCertificates(dir.dir);
    redis = await startRedis({ args: aclArgs, tls: files });
  });
  after(async () => {
    await redis.stop();
    dir.cleanup();
  });

  test('the ACL user with its password connects, over plain TCP and over TLS with the CA; pub/sub too', async () => {
    for (const opts of [
      { url: redis.url, username: 'miroir', password },
      { url: redis.tlsUrl, username: 'miroir', password, tls: tls() },
    ]) {
      const store = await RedisStore.open(opts);
      try {
        const uid = await store.enqueueTask(['acl'], 'proc-1');
        assert.deepEqual((await store.queuedTasks('acl')).slice(-1), [uid]);
        const heard: string[] = [];
        const off = await store.subscribe('keys', (m) => heard.push(m));
        await store.publish('keys', 'hello');
        await until(() => heard.includes('hello'), 'the message on the authenticated subscriber');
        await off();
      } finally {
        await store.close();
      }
    }
  });

  test('a wrong password, an unknown user, no credentials: a start-up error naming the key, at once', async () => {
    for (const [opts, expected] of [
      [{ url: redis.url, username: 'miroir', password: 'wrong' }, /^task_store\.redis\.password: Redis refused/],
      [{ url: redis.url, username: 'nobody', password }, /^task_store\.redis\.password: Redis refused/],
      [{ url: redis.tlsUrl, username: 'miroir', password: 'wrong', tls: tls() }, /^task_store\.redis\.password: /],
      [{ url: redis.url }, /^task_store\.redis\.password: Redis refused|NOAUTH/],
    ] as const) {
      const started = Date.now();
      await assert.rejects(RedisStore.open({ ...opts, connectTimeoutMs: 10_000 }), (err: Error) => {
        assert.ok(err instanceof StoreUnavailableError, String(err));
        assert.match(err.message, expected);
        return true;
      });
      assert.ok(Date.now() - started < 3_000, `refused within ${Date.now() - started} ms, not after a timeout`);
    }
  });

  test('TLS without the CA that signed the server certificate is refused, naming task_store.redis.tls', async () => {
    await assert.rejects(
      RedisStore.open({ url: redis.tlsUrl, username: 'miroir', password, tls: tls({ ca: null }) }),
      (err: Error) => {
        assert.ok(err instanceof StoreUnavailableError, String(err));
        assert.match(err.message, /^task_store\.redis\.tls: the TLS connection to .* failed: .*(self.signed|issuer)/);
        return true;
      },
    );
  });

  test('miroir serve: starts on rediss:// with the ACL user (password from MIROIR_REDIS_PASSWORD); a wrong one exits with one clear line', async () => {
    const node = await DevNode.start({ port: 0, masterKey: 'node-key-0123456789' });
    try {
      const config = {
        shards: 4,
        replication_factor: 1,
        nodes: [{ id: 'node-0', address: node.url }],
        master_key: 'client-master-key-01',
        node_master_key: 'node-key-0123456789',
        admin: { api_key: 'admin-key' },
        task_store: {
          backend: 'redis',
          redis: { url: redis.tlsUrl, username: 'miroir', tls: { ca: files.ca }, connect_timeout_ms: 10_000 },
        },
      };
      const pod = await startMiroirProcess(config, { MIROIR_REDIS_PASSWORD: password });
      try {
        const res = await fetch(`${pod.url}/indexes`, { headers: { authorization: 'Bearer client-master-key-01' } });
        assert.equal(res.status, 200);
      } finally {
        await pod.stop();
      }
      const started = Date.now();
      await assert.rejects(startMiroirProcess(config, { MIROIR_REDIS_PASSWORD: 'wrong' }), (err: Error) => {
        assert.match(err.message, /miroir exited with 1/);
        assert.match(err.message, /miroir: cannot start: task_store\.redis\.password: Redis refused the credentials/);
        assert.ok(!err.message.includes(password), 'the password is never printed');
        return true;
      });
      assert.ok(Date.now() - started < 5_000, `gave up within ${Date.now() - started} ms`);
    } finally {
      await node.stop();
    }
  });
});
