// The admin console's server parts without HTTP: cookie sealing, the backoff schedule, the login limiter over a real
// LMDB store on a fake clock, sessions (cache, revocation message), cookie and origin rules, and the admin_ui config.
import assert from 'node:assert/strict';
import type { IncomingMessage } from 'node:http';
import { after, test } from 'node:test';
import { ConfigError, resolveConfig } from '../../../../src/main/config/load.js';
import { clearedCookie, needsSecure, readCookie, sessionCookie } from '../../../../src/main/admin-ui/cookie.js';
import { BACKOFF_CAP_MS, backoffMs, LoginLimiter } from '../../../../src/main/admin-ui/login-limit.js';
import { originAllowed } from '../../../../src/main/admin-ui/origin.js';
import { SessionSeal } from '../../../../src/main/admin-ui/seal.js';
import { adminKeyHash, AdminSessions, SESSION_CACHE_MS } from '../../../../src/main/admin-ui/sessions.js';
import { LmdbStore } from '../../../../src/store/lmdb.js';
import { tempDir } from '../../../support/devnode.js';

const MIN = 60_000;

test('a sealed cookie opens only with the same key and unaltered; the store id is an HMAC, the same on every pod', () => {
  const { seal, random } = SessionSeal.fromEnv('x'.repeat(64));
  assert.equal(random, false);
  const secret = SessionSeal.newSecret();
  const cookie = seal.seal(secret);
  assert.match(cookie, /^[A-Za-z0-9_-]{80}$/);
  assert.notEqual(seal.seal(secret), cookie, 'a fresh IV each time');
  assert.deepEqual(seal.open(cookie), secret);
  const flipped = cookie[10] === 'A' ? 'B' : 'A';
  assert.equal(seal.open(cookie.slice(0, 10) + flipped + cookie.slice(11)), null, 'altered');
  assert.equal(seal.open('short'), null);
  assert.equal(SessionSeal.fromEnv('y'.repeat(64)).seal.open(cookie), null, 'another key');
  const samePod = SessionSeal.fromEnv('x'.repeat(64)).seal;
  assert.deepEqual(samePod.open(cookie), secret, 'another pod with the same key opens it');
  assert.equal(samePod.sessionId(secret), seal.sessionId(secret));
  assert.match(seal.sessionId(secret), /^[0-9a-f]{64}$/);
  assert.equal(SessionSeal.fromEnv(undefined).random, true);
  assert.throws(() => SessionSeal.fromEnv('too-short'), /ADMIN_SESSION_SEAL_KEY must be at least 32 characters/);
});

test('backoff: none for 4 failures, 10 min at the 5th, doubling with each further one, capped at 24 h', () => {
  assert.deepEqual([0, 1, 4].map(backoffMs), [0, 0, 0]);
  assert.deepEqual([5, 6, 7, 8].map(backoffMs), [10 * MIN, 20 * MIN, 40 * MIN, 80 * MIN]);
  assert.equal(backoffMs(12), 1280 * MIN);
  assert.equal(backoffMs(13), BACKOFF_CAP_MS);
  assert.equal(backoffMs(1000), BACKOFF_CAP_MS);
});

const dir = tempDir('miroir-admin-ui-');
let clock = Date.parse('2026-01-01T00:00:00Z');
const store = new LmdbStore({ path: dir.dir, now: () => clock });
after(async () => {
  await store.close();
  dir.cleanup();
});

test('login limiter: the 6th attempt after 5 failures is refused for 10 min; the next failure doubles it; a success clears it', async () => {
  const limiter = new LoginLimiter(store, () => clock);
  for (let i = 0; i < 5; i++) {
    assert.equal(await limiter.admit('10.1.1.1'), null);
    await limiter.failed('10.1.1.1');
  }
  const refused = await limiter.admit('10.1.1.1');
  assert.equal(refused?.retryAfterS, 600);
  assert.match(refused!.message, /Too many failed logins .* try again in 10 minutes/);
  assert.equal(await limiter.admit('10.1.1.2'), null, 'other addresses are not affected');
  clock += 10 * MIN;
  assert.equal(await limiter.admit('10.1.1.1'), null, 'the backoff ended');
  await limiter.failed('10.1.1.1');
  assert.equal((await limiter.admit('10.1.1.1'))?.retryAfterS, 1200, 'the 6th failure: 20 min');
  clock += 20 * MIN;
  assert.equal(await limiter.admit('10.1.1.1'), null);
  await limiter.succeeded('10.1.1.1');
  await limiter.failed('10.1.1.1');
  assert.equal(await limiter.admit('10.1.1.1'), null, 'a success started the count again');
});

test('login limiter: at most 10 attempts a minute per address, whatever their outcome', async () => {
  clock += 60 * MIN;
  const limiter = new LoginLimiter(store, () => clock);
  for (let i = 0; i < 10; i++) assert.equal(await limiter.admit('10.2.2.2'), null, `attempt ${i + 1}`);
  const refused = await limiter.admit('10.2.2.2');
  assert.ok(refused !== null && refused.retryAfterS > 0 && refused.retryAfterS <= 60);
  assert.match(refused.message, /More than 10 login attempts a minute/);
  clock += MIN;
  assert.equal(await limiter.admit('10.2.2.2'), null, 'a new minute');
});

test('sessions: opened with a CSRF token and the admin key hash, read through a short cache, revocation reaches every pod at once', async () => {
  const { seal } = SessionSeal.fromEnv('z'.repeat(64));
  const podA = new AdminSessions(store, seal, 3600_000, () => clock);
  const podB = new AdminSessions(store, seal, 3600_000, () => clock);
  await podA.start();
  await podB.start();
  const { cookie, session } = await podA.open('the-admin-key');
  assert.equal(session.admin_key_hash, adminKeyHash('the-admin-key'));
  assert.match(session.csrf_token, /^[A-Za-z0-9_-]{43}$/);
  assert.equal(session.expires_at - session.created_at, 3600_000);
  const id = podB.idOf(cookie)!;
  assert.equal(id, session.id);
  assert.deepEqual(await podB.find(id, false), session, 'another pod finds it in the store');
  await podA.revoke(id);
  assert.equal(await podB.find(id, false), null, "the revocation message dropped pod B's cached copy");
  assert.equal(await podB.find(id, true), null);
  assert.equal(podA.idOf('forged'), null);
  // Expired sessions are gone, cached or not.
  const other = await podA.open('the-admin-key');
  assert.notEqual(await podA.find(other.session.id, false), null);
  clock += 3600_000;
  assert.equal(await podA.find(other.session.id, false), null);
  assert.ok(SESSION_CACHE_MS <= 10_000);
  await podA.close();
  await podB.close();
});

function req(opts: { local?: string; proto?: string; origin?: string; host?: string }): IncomingMessage {
  const headers: Record<string, string> = {};
  if (opts.proto !== undefined) headers['x-forwarded-proto'] = opts.proto;
  if (opts.origin !== undefined) headers['origin'] = opts.origin;
  if (opts.host !== undefined) headers['host'] = opts.host;
  return { headers, socket: { localAddress: opts.local ?? '127.0.0.1' } } as unknown as IncomingMessage;
}

test('cookie: read from a Cookie header; Secure unless plain HTTP on loopback; HttpOnly, SameSite=Strict, Path /_miroir', () => {
  assert.equal(readCookie('a=1; miroir_admin_session=abc; b=2', 'miroir_admin_session'), 'abc');
  assert.equal(readCookie('miroir_admin_session_x=1', 'miroir_admin_session'), undefined);
  assert.equal(readCookie(undefined, 'x'), undefined);
  assert.equal(needsSecure(req({ local: '127.0.0.1' })), false);
  assert.equal(needsSecure(req({ local: '::1' })), false);
  assert.equal(needsSecure(req({ local: '::ffff:127.0.0.5' })), false);
  assert.equal(needsSecure(req({ local: '10.0.0.5' })), true, 'plain HTTP elsewhere still marks it Secure');
  assert.equal(needsSecure(req({ local: '127.0.0.1', proto: 'https' })), true, 'TLS in front');
  assert.equal(
    sessionCookie('v', 60, false),
    'miroir_admin_session=v; Path=/_miroir; Max-Age=60; HttpOnly; SameSite=Strict',
  );
  assert.equal(
    clearedCookie(true),
    'miroir_admin_session=; Path=/_miroir; Max-Age=0; HttpOnly; SameSite=Strict; Secure',
  );
});

test('origin: no Origin passes; same-origin matches the Host; listed origins match exactly; anything else is refused', () => {
  const same = ['same-origin'];
  assert.equal(originAllowed(req({ host: 'miroir:7700' }), same), true);
  assert.equal(originAllowed(req({ host: 'miroir:7700', origin: 'http://miroir:7700' }), same), true);
  assert.equal(
    originAllowed(req({ host: 'miroir:7700', origin: 'https://miroir:7700' }), same),
    true,
    'TLS terminated in front',
  );
  assert.equal(originAllowed(req({ host: 'miroir:7700', origin: 'http://evil.example' }), same), false);
  assert.equal(originAllowed(req({ host: 'miroir:7700', origin: 'null' }), same), false);
  assert.equal(
    originAllowed(req({ host: 'miroir:7700', origin: 'https://ops.example.com' }), ['https://ops.example.com']),
    true,
  );
  assert.equal(
    originAllowed(req({ host: 'miroir:7700', origin: 'http://miroir:7700' }), ['https://ops.example.com']),
    false,
    'same-origin only when listed',
  );
});

test("config: admin_ui is off by default with A19's defaults; bad values are refused naming the key", () => {
  const base = { admin: { api_key: 'k' } };
  const cfg = resolveConfig(base, {});
  assert.deepEqual(cfg.admin_ui, {
    enabled: false,
    path: '/_miroir/admin',
    auth: 'key',
    session_ttl_s: 3600,
    read_only_mode: false,
    allowed_origins: ['same-origin'],
  });
  const problems = (raw: unknown): string[] => {
    try {
      resolveConfig(raw, {});
    } catch (err) {
      assert.ok(err instanceof ConfigError);
      return err.problems;
    }
    return [];
  };
  assert.match(
    problems({ ...base, admin_ui: { path: '/admin' } }).join(),
    /admin_ui\.path: must be a path under \/_miroir\//,
  );
  assert.match(
    problems({ ...base, admin_ui: { allowed_origins: ['evil'] } }).join(),
    /admin_ui\.allowed_origins\[0\]: must be same-origin or an origin/,
  );
  assert.match(problems({ ...base, admin_ui: { auth: 'oauth' } }).join(), /admin_ui\.auth/);
  assert.match(problems({ ...base, admin_ui: { sessions: 1 } }).join(), /admin_ui\.sessions: unknown key/);
  assert.match(
    problems({ admin: { enabled: false }, admin_ui: { enabled: true } }).join(),
    /admin_ui\.enabled: the admin console drives the admin API, so it needs admin\.enabled/,
  );
  assert.equal(
    resolveConfig({ ...base }, { MIROIR__ADMIN_UI__ENABLED: 'true' }).admin_ui.enabled,
    true,
    'env override',
  );
});
