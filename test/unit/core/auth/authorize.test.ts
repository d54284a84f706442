// Meilisearch's key model as pure logic: action coverage, index patterns, default keys, key validation,
// and the authorization decision incl. tenant tokens.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { SignJWT } from 'jose';
import { actionCovers, actionsAllow, indexesAllow } from '../../../../src/core/auth/actions.js';
import { authAllowsIndex, authorize, tenantFilter, type KeyLookup } from '../../../../src/core/auth/authorize.js';
import {
  applyKeyUpdate,
  defaultKeys,
  deriveKeyValue,
  toKeyObject,
  validateCreateKey,
  type ApiKeyRecord,
} from '../../../../src/core/auth/keys.js';
import { routeAuth } from '../../../../src/core/auth/route-actions.js';
import { MeiliError } from '../../../../src/core/errors.js';

const MASTER = 'master-key-for-tests-0123456789';
const now = new Date('2026-01-01T00:00:00Z');

test('action coverage: exact, *, family.*, *.get (not keys.get)', () => {
  assert.ok(actionCovers('*', 'keys.delete'));
  assert.ok(actionCovers('documents.*', 'documents.add'));
  assert.ok(!actionCovers('documents.*', 'indexes.get'));
  assert.ok(actionCovers('*.get', 'settings.get'));
  assert.ok(actionCovers('*.get', 'version'));
  assert.ok(!actionCovers('*.get', 'keys.get'));
  assert.ok(!actionCovers('*.get', 'settings.update'));
  assert.ok(actionsAllow(['settings.*', 'documents.get'], ['settings.get', 'documents.get']));
  assert.ok(!actionsAllow(['settings.get'], ['settings.get', 'documents.get']));
  assert.ok(indexesAllow(['movies*'], 'movies_2024'));
  assert.ok(!indexesAllow(['movies'], 'movies_2024'));
});

test('default keys: four keys with Meilisearch names, stable uids, key = hex HMAC-SHA256(master, uid)', () => {
  const keys = defaultKeys(now.toISOString());
  assert.deepEqual(keys.map((k) => k.name).sort(), [
    'Default Admin API Key',
    'Default Chat API Key',
    'Default Read-Only Admin API Key',
    'Default Search API Key',
  ]);
  assert.deepEqual(
    defaultKeys('2030-01-01T00:00:00Z').map((k) => k.uid),
    keys.map((k) => k.uid),
    'uids are stable',
  );
  const obj = toKeyObject(keys[0]!, MASTER);
  assert.match(obj.key, /^[0-9a-f]{64}$/);
  assert.equal(obj.key, deriveKeyValue(MASTER, obj.uid));
  assert.deepEqual(Object.keys(obj), [
    'name',
    'description',
    'key',
    'uid',
    'actions',
    'indexes',
    'expiresAt',
    'createdAt',
    'updatedAt',
  ]);
});

function code(fn: () => unknown): string {
  try {
    fn();
  } catch (err) {
    assert.ok(err instanceof MeiliError, String(err));
    return err.code;
  }
  return 'no error';
}

test('POST /keys validation codes', () => {
  const ok = validateCreateKey({ actions: ['search'], indexes: ['movies'], expiresAt: null, name: 'n' }, now);
  assert.equal(ok.name, 'n');
  assert.match(ok.uid, /^[0-9a-f-]{36}$/);
  assert.equal(
    code(() => validateCreateKey({ indexes: ['*'], expiresAt: null }, now)),
    'missing_api_key_actions',
  );
  assert.equal(
    code(() => validateCreateKey({ actions: ['search'], expiresAt: null }, now)),
    'missing_api_key_indexes',
  );
  assert.equal(
    code(() => validateCreateKey({ actions: ['search'], indexes: ['*'] }, now)),
    'missing_api_key_expires_at',
  );
  assert.equal(
    code(() => validateCreateKey({ actions: ['fly'], indexes: ['*'], expiresAt: null }, now)),
    'invalid_api_key_actions',
  );
  assert.equal(
    code(() => validateCreateKey({ actions: ['search'], indexes: ['bad index'], expiresAt: null }, now)),
    'invalid_api_key_indexes',
  );
  assert.equal(
    code(() => validateCreateKey({ actions: ['search'], indexes: ['*'], expiresAt: '2000-01-01' }, now)),
    'invalid_api_key_expires_at',
  );
  assert.equal(
    code(() => validateCreateKey({ actions: ['search'], indexes: ['*'], expiresAt: null, uid: 'nope' }, now)),
    'invalid_api_key_uid',
  );
  assert.equal(
    code(() => validateCreateKey({ actions: ['search'], indexes: ['*'], expiresAt: null, colour: 1 }, now)),
    'bad_request',
  );
  assert.equal(
    code(() => validateCreateKey({ actions: ['indexes.create'], indexes: ['movies'], expiresAt: null }, now)),
    'index_scoped_api_key_with_global_action',
  );
  assert.equal(
    validateCreateKey({ actions: ['search'], indexes: ['*'], expiresAt: '2030-05-01' }, now).expiresAt,
    '2030-05-01T00:00:00Z',
  );
  assert.equal(
    code(() => applyKeyUpdate(ok, { actions: ['*'] }, now)),
    'immutable_api_key_actions',
  );
  assert.equal(applyKeyUpdate(ok, { description: 'd' }, now).description, 'd');
});

function lookup(records: ApiKeyRecord[]): KeyLookup {
  return {
    byValue: (v) => records.find((r) => deriveKeyValue(MASTER, r.uid) === v) ?? null,
    byUid: (u) => records.find((r) => r.uid === u) ?? null,
  };
}

async function decide(
  authorization: string | undefined,
  method: string,
  template: string,
  indexUid: string | null,
  records: ApiKeyRecord[],
  masterKey: string | null = MASTER,
) {
  return authorize({
    authorization,
    masterKey,
    route: routeAuth(method, template),
    indexUid,
    tenantTokenAllowed: template.includes('search'),
    keys: lookup(records),
    nowMs: now.getTime(),
  });
}

async function errCode(p: Promise<unknown>): Promise<string> {
  try {
    await p;
    return 'allowed';
  } catch (err) {
    assert.ok(err instanceof MeiliError);
    return `${err.status} ${err.code}`;
  }
}

test('authorize: master, missing header, bad key, actions, index scope, expiry, no master key', async () => {
  const indexesGet = validateCreateKey({ actions: ['indexes.get'], indexes: ['*'], expiresAt: null }, now);
  const moviesSearch = validateCreateKey({ actions: ['search'], indexes: ['movies'], expiresAt: null }, now);
  const expired = {
    ...validateCreateKey({ actions: ['*'], indexes: ['*'], expiresAt: '2026-06-01' }, now),
    expiresAt: '2025-06-01T00:00:00Z',
  };
  const keys = [indexesGet, moviesSearch, expired];
  const bearer = (r: ApiKeyRecord) => `Bearer ${deriveKeyValue(MASTER, r.uid)}`;
  assert.equal((await decide(`Bearer ${MASTER}`, 'POST', '/indexes', null, keys)).kind, 'master');
  assert.equal(await errCode(decide(undefined, 'GET', '/indexes', null, keys)), '401 missing_authorization_header');
  assert.equal(await errCode(decide('Bearer nope', 'GET', '/indexes', null, keys)), '403 invalid_api_key');
  assert.equal((await decide(bearer(indexesGet), 'GET', '/indexes', null, keys)).kind, 'key');
  assert.equal(await errCode(decide(bearer(indexesGet), 'POST', '/indexes', null, keys)), '403 invalid_api_key');
  assert.equal((await decide(bearer(moviesSearch), 'POST', '/indexes/:uid/search', 'movies', keys)).kind, 'key');
  assert.equal(
    await errCode(decide(bearer(moviesSearch), 'POST', '/indexes/:uid/search', 'books', keys)),
    '403 invalid_api_key',
  );
  assert.equal(await errCode(decide(bearer(expired), 'GET', '/indexes', null, keys)), '403 invalid_api_key');
  assert.equal((await decide(undefined, 'POST', '/indexes', null, keys, null)).kind, 'open');
  assert.equal((await decide(undefined, 'GET', '/health', null, keys)).kind, 'open');
});

test('tenant tokens: signed with an API key, searchRules filters, refused elsewhere or when tampered/expired', async () => {
  const searchKey = validateCreateKey({ actions: ['search'], indexes: ['*'], expiresAt: null }, now);
  const keys = [searchKey];
  const secret = new TextEncoder().encode(deriveKeyValue(MASTER, searchKey.uid));
  const token = await new SignJWT({
    apiKeyUid: searchKey.uid,
    searchRules: { movies: { filter: 'genre = comedy' }, 'books*': null },
  })
    .setProtectedHeader({ alg: 'HS256' })
    .setExpirationTime(Math.floor(now.getTime() / 1000) + 3600)
    .sign(secret);
  const auth = await decide(`Bearer ${token}`, 'POST', '/indexes/:uid/search', 'movies', keys);
  assert.equal(auth.kind, 'tenant');
  assert.equal(tenantFilter(auth, 'movies'), 'genre = comedy');
  assert.equal(tenantFilter(auth, 'books_fr'), null);
  assert.ok(authAllowsIndex(auth, 'books_fr'));
  assert.ok(!authAllowsIndex(auth, 'songs'));
  assert.equal(
    await errCode(decide(`Bearer ${token}`, 'POST', '/indexes/:uid/search', 'songs', keys)),
    '403 invalid_api_key',
  );
  assert.equal(await errCode(decide(`Bearer ${token}`, 'GET', '/indexes', null, keys)), '403 invalid_api_key');
  const tampered = token.slice(0, -2) + (token.endsWith('AA') ? 'BB' : 'AA');
  assert.equal(
    await errCode(decide(`Bearer ${tampered}`, 'POST', '/indexes/:uid/search', 'movies', keys)),
    '403 invalid_api_key',
  );
  const stale = await new SignJWT({ apiKeyUid: searchKey.uid, searchRules: ['*'] })
    .setProtectedHeader({ alg: 'HS256' })
    .setExpirationTime(Math.floor(now.getTime() / 1000) - 10)
    .sign(secret);
  assert.equal(
    await errCode(decide(`Bearer ${stale}`, 'POST', '/indexes/:uid/search', 'movies', keys)),
    '403 invalid_api_key',
  );
});
