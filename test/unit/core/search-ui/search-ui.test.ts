// Pure search-UI rules: rate specs and windows, rotation due/revocable decisions, JWT shape dispatch (tenant tokens
// keep Meilisearch's rules), route scopes, oauth_proxy filters, page model; and the session signer's failures.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { SignJWT } from 'jose';
import { LatencyWindow } from '../../../../src/core/search-ui/latency.js';
import { facetAttributes, pageModel, sortOptions } from '../../../../src/core/search-ui/page-model.js';
import { countHit, parseRate, retryAfterSeconds } from '../../../../src/core/search-ui/rate.js';
import { revocable, rotated, rotationDue } from '../../../../src/core/search-ui/rotation.js';
import { isSessionJwtShaped, oauthFilter, parseGroups, scopeForRoute } from '../../../../src/core/search-ui/session.js';
import { keyId, SessionSigner } from '../../../../src/main/search-ui/jwt.js';
import { searchUiSchema } from '../../../../src/main/search-ui/config.js';

const DAY = 86_400_000;

test('rate specs parse N/unit and windows restart after their unit', () => {
  assert.deepEqual(parseRate('60/minute'), { limit: 60, windowMs: 60_000 });
  assert.deepEqual(parseRate(' 5 / second '), { limit: 5, windowMs: 1000 });
  for (const bad of ['0/minute', '60/min', 'sixty/minute', '60', '']) assert.equal(parseRate(bad), null, bad);
  let c = countHit(null, 1000, 60_000);
  c = countHit(c, 30_000, 60_000);
  assert.deepEqual(c, { count: 2, windowStart: 1000 });
  assert.equal(retryAfterSeconds(c, 30_000, 60_000), 31);
  assert.deepEqual(countHit(c, 61_000, 60_000), { count: 1, windowStart: 61_000 });
});

test('rotation is due rotate_before days before expiry; the old key is revocable only after every live pod beacons and the drain', () => {
  const now = Date.parse('2026-03-01T00:00:00Z');
  assert.equal(rotationDue(now + 31 * DAY, now, 30), false);
  assert.equal(rotationDue(now + 30 * DAY, now, 30), true);
  assert.equal(rotationDue(null, now, 30), false, 'a key without expiry never rotates by itself');
  const g2 = rotated(rotated(null, 'k1', now - 10_000), 'k2', now - 10_000);
  assert.deepEqual([g2.generation, g2.primary_uid, g2.previous_uid], [2, 'k2', 'k1']);
  const pods = ['http://a', 'http://b'];
  assert.equal(revocable(g2, { 'http://a': 2 }, pods, now, 0), false, 'pod b has not beaconed');
  assert.equal(revocable(g2, { 'http://a': 2, 'http://b': 1 }, pods, now, 0), false, 'pod b still uses generation 1');
  assert.equal(revocable(g2, { 'http://a': 2, 'http://b': 3 }, pods, now, 0), true);
  assert.equal(revocable(g2, { 'http://a': 2, 'http://b': 2 }, pods, now, 60_000), false, 'drain not over');
  assert.equal(
    revocable({ ...g2, previous_uid: null }, { 'http://a': 2, 'http://b': 2 }, pods, now, 0),
    false,
    'nothing to revoke',
  );
});

const seg = (v: unknown) => Buffer.from(JSON.stringify(v)).toString('base64url');

test('JWT-shaped bearer tokens go to the search UI unless they carry tenant-token claims; API keys never do', () => {
  assert.equal(isSessionJwtShaped(`${seg({ alg: 'HS256' })}.${seg({ iss: 'miroir' })}.sig`), true);
  assert.equal(
    isSessionJwtShaped(`${seg({ alg: 'HS256' })}.${seg({ apiKeyUid: 'x', searchRules: {} })}.sig`),
    false,
    'tenant token',
  );
  assert.equal(
    isSessionJwtShaped(`${seg({ alg: 'HS256' })}.not-json.sig`),
    true,
    'a broken JWT is judged (and refused) as a session token',
  );
  assert.equal(
    isSessionJwtShaped('a5f0c1d2e3b4a5f0c1d2e3b4a5f0c1d2e3b4a5f0c1d2e3b4a5f0c1d2e3b4a5f0'),
    false,
    'an API key',
  );
  assert.equal(isSessionJwtShaped(`${seg({ typ: 'JWT' })}.${seg({})}.sig`), false, 'no alg');
  assert.equal(scopeForRoute('POST', '/multi-search'), 'multi_search');
  assert.equal(scopeForRoute('GET', '/indexes/:uid/search'), 'search');
  assert.equal(scopeForRoute('POST', '/ui/search/:uid/beacon'), 'beacon');
  assert.equal(scopeForRoute('POST', '/indexes/:uid/documents'), null);
});

test('oauth_proxy filters quote values and AND the user and group rules', () => {
  assert.deepEqual(parseGroups(' acme, ,beta '), ['acme', 'beta']);
  assert.equal(
    oauthFilter('al"ice', ['acme'], { userAttribute: 'owner', groupsAttribute: null }),
    'owner = "al\\"ice"',
  );
  assert.equal(
    oauthFilter('alice', ['a', 'b\\c'], { userAttribute: 'owner', groupsAttribute: 'tenant' }),
    '(owner = "alice") AND (tenant IN ["a", "b\\\\c"])',
  );
  assert.equal(
    oauthFilter('alice', [], { userAttribute: null, groupsAttribute: 'tenant' }),
    'tenant IN []',
    'no group: nothing matches',
  );
  assert.equal(oauthFilter('alice', ['a'], { userAttribute: null, groupsAttribute: null }), null);
});

test('the page model takes facets from filterable and sort options from sortable attributes', () => {
  assert.deepEqual(
    facetAttributes([
      'genre',
      'tags.*',
      { attributePatterns: ['year', '_private'] },
      { attributePatterns: ['nofilter'], features: { filter: { equality: false } } },
    ]),
    ['genre', 'year'],
  );
  assert.deepEqual(
    sortOptions('movies', ['year']).map((o) => o.value),
    ['movies', 'movies:year:asc', 'movies:year:desc'],
  );
  const m = pageModel({
    index: 'movies',
    primaryKey: 'id',
    settings: { filterableAttributes: ['genre', 'tenant'], sortableAttributes: [] },
    config: { title: 'Films', facets: ['genre', 'missing'] },
    rateLimit: { limit: 1, window_s: 60 },
    sessionTtlS: 900,
    authMode: 'public',
  });
  assert.deepEqual([m.title, m.facets, m.hitsPerPage], ['Films', ['genre'], 10]);
});

test('latency window: nearest-rank p95 over the last N samples', () => {
  const w = new LatencyWindow(100);
  assert.equal(w.percentile(95), null);
  for (let i = 1; i <= 100; i++) w.record(i);
  assert.equal(w.percentile(95), 95);
  for (let i = 0; i < 100; i++) w.record(1);
  assert.equal(w.percentile(95), 1, 'old samples fall out');
});

test('config: off by default, A21 defaults, rotate_before below max_age, rates checked', () => {
  const d = searchUiSchema.parse(undefined);
  assert.equal(d.enabled, false);
  assert.deepEqual(
    [
      d.allowed_origins,
      d.scoped_key_max_age_days,
      d.scoped_key_rotate_before_expiry_days,
      d.scoped_key_rotation_drain_s,
    ],
    [['*'], 60, 30, 120],
  );
  assert.deepEqual(
    [d.auth.mode, d.auth.session_ttl_s, d.auth.session_rate_limit, d.auth.jwt_secret_env],
    ['public', 900, '10/minute', 'SEARCH_UI_JWT_SECRET'],
  );
  assert.deepEqual(
    [d.rate_limit.per_ip, d.rate_limit.backend, d.rate_limit.redis_ttl_s, d.analytics.enabled],
    ['60/minute', 'redis', 60, false],
  );
  assert.equal(
    searchUiSchema.safeParse({ scoped_key_max_age_days: 30, scoped_key_rotate_before_expiry_days: 30 }).success,
    false,
  );
  assert.equal(searchUiSchema.safeParse({ rate_limit: { per_ip: 'lots' } }).success, false);
});

test('session signer: A21 claims; expired, foreign, unknown-kid and wrong-issuer tokens are miroir_jwt_invalid; the previous secret still verifies', async () => {
  const primary = 'p'.repeat(64);
  const previous = 'q'.repeat(64);
  assert.throws(() => new SessionSigner('SECRET', {}), /env SECRET/);
  assert.throws(() => new SessionSigner('SECRET', { SECRET: 'short' }), /at least 32 bytes/);
  const signer = new SessionSigner('SECRET', { SECRET: primary, SECRET_PREVIOUS: previous });
  const now = Date.parse('2026-03-01T00:00:00Z');
  const { token, claims } = await signer.sign('movies', 900, now, 'tenant IN ["a"]');
  assert.deepEqual(Object.keys(claims).sort(), ['exp', 'iat', 'idx', 'injected_filter', 'iss', 'kid', 'scope', 'sub']);
  assert.equal(claims.kid, keyId(primary));
  assert.deepEqual(await signer.verify(token, now + 1000), claims);
  const code = async (t: string, at = now) =>
    signer.verify(t, at).then(
      () => 'ok',
      (e: { code: string; message: string }) => `${e.code}: ${e.message}`,
    );
  assert.match(await code(token, now + 901_000), /miroir_jwt_invalid: .*expired/);
  const sign = (secret: string, kid: string, over: Record<string, unknown> = {}) =>
    new SignJWT({ ...claims, kid, ...over })
      .setProtectedHeader({ alg: 'HS256', kid })
      .sign(new TextEncoder().encode(secret));
  assert.equal(await code(await sign(previous, keyId(previous))), 'ok', 'PREVIOUS verifies during a secret rotation');
  assert.match(await code(await sign('r'.repeat(64), keyId('r'.repeat(64)))), /unknown key/);
  assert.match(await code(await sign('r'.repeat(64), keyId(primary))), /signature/);
  assert.match(await code(await sign(primary, keyId(primary), { iss: 'someone' })), /issuer/);
  assert.match(await code(`${token.slice(0, -3)}abc`), /signature|decoded/);
});
