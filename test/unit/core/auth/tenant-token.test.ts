// Tenant-token and API-key refusals with Meilisearch v1.50's texts (tests/auth/errors.rs, tests/auth/tenant_token.rs,
// extractors/authentication): decoding errors of jsonwebtoken/serde/base64/uuid, signature, expiry, index scope.
import assert from 'node:assert/strict';
import { createHmac } from 'node:crypto';
import { test } from 'node:test';
import {
  authAllIndexes,
  authorize,
  tenantFilter,
  type AuthResult,
  type KeyLookup,
} from '../../../../src/core/auth/authorize.js';
import { deriveKeyValue, validateCreateKey, type ApiKeyRecord } from '../../../../src/core/auth/keys.js';
import { routeAuth } from '../../../../src/core/auth/route-actions.js';
import { decodeBase64Url } from '../../../../src/core/auth/tenant-token.js';
import { parseUuid } from '../../../../src/core/auth/uuid.js';
import { MeiliError } from '../../../../src/core/errors.js';

const MASTER = 'MASTER_KEY';
const NOW = Date.parse('2026-01-01T00:00:00Z');
const NIL = '00000000-0000-0000-0000-000000000000';

const b64 = (v: unknown) => Buffer.from(typeof v === 'string' ? v : JSON.stringify(v)).toString('base64url');
function jwt(claims: unknown, secret: string, header: unknown = { alg: 'HS256', typ: 'JWT' }, hash = 'sha256'): string {
  const h = b64(header);
  const p = b64(claims);
  return `${h}.${p}.${createHmac(hash, secret).update(`${h}.${p}`).digest('base64url')}`;
}

function key(over: Partial<ApiKeyRecord>): ApiKeyRecord {
  return {
    ...validateCreateKey({ actions: ['search'], indexes: ['dog'], expiresAt: null, uid: NIL }, new Date(NOW)),
    ...over,
  };
}

function lookup(records: ApiKeyRecord[]): KeyLookup {
  return {
    byValue: (v) => records.find((r) => deriveKeyValue(MASTER, r.uid) === v) ?? null,
    byUid: (u) => records.find((r) => r.uid === u) ?? null,
  };
}

async function answer(
  authorization: string | undefined,
  path: string,
  index: string | null,
  records: ApiKeyRecord[],
  method = 'POST',
): Promise<AuthResult | string> {
  try {
    return await authorize({
      authorization,
      masterKey: MASTER,
      route: routeAuth(method, path),
      indexUid: index,
      tenantTokenAllowed: path.includes('search'),
      keys: lookup(records),
      nowMs: NOW,
    });
  } catch (err) {
    assert.ok(err instanceof MeiliError, String(err));
    return `${err.status} ${err.code} ${err.message}`;
  }
}

const SEARCH = '/indexes/:uid/search';

test('the cases of Meilisearch tests/auth/errors.rs answer the same texts', async () => {
  assert.equal(await answer('Bearer kefir', SEARCH, 'dog', []), '403 invalid_api_key The provided API key is invalid.');
  const dog = key({});
  assert.equal(
    deriveKeyValue(MASTER, NIL),
    'aeb94973e0b6e912d94165430bbe87dee91a7c4f891ce19050c3910ec96977e9',
    'the key value of the nil uid under MASTER_KEY, as in the snapshot',
  );
  const value = deriveKeyValue(MASTER, NIL);
  assert.equal(
    await answer(`Bearer ${value}`, SEARCH, 'doggo', [dog]),
    '403 invalid_api_key The API key cannot acces the index `doggo`, authorized indexes are ["dog"].',
  );
  const noRoute = jwt({ tamo: 'kefir' }, 'tamo');
  assert.equal(
    await answer(`Bearer ${noRoute}`, '/indexes/:uid/documents', 'dog', [], 'GET'),
    '403 invalid_api_key The provided API key is invalid.',
  );
  assert.equal(
    await answer(`Bearer ${noRoute}`, SEARCH, 'dog', []),
    '403 invalid_api_key Could not decode tenant token, JSON error: missing field `searchRules` at line 1 column 16.',
  );
  assert.equal(
    await answer(`Bearer ${jwt({ searchRules: 'kefir' }, 'tamo')}`, SEARCH, 'dog', []),
    '403 invalid_api_key Could not decode tenant token, JSON error: data did not match any variant of untagged enum SearchRules at line 1 column 23.',
  );
  assert.equal(
    await answer(`Bearer ${jwt({ searchRules: ['kefir'], apiKeyUid: NIL }, 'tamo')}`, SEARCH, 'dog', []),
    '403 invalid_api_key Could not decode tenant token, InvalidSignature.',
  );
  const token = jwt({ searchRules: ['doggo', 'catto'], apiKeyUid: NIL }, value);
  assert.equal(
    await answer(`Bearer ${token}`, SEARCH, 'dog', [dog]),
    '403 invalid_api_key The provided tenant token cannot acces the index `dog`, allowed indexes are ["catto", "doggo"].',
  );
  assert.equal(
    await answer(`Bearer ${token}`, SEARCH, 'doggo', [dog]),
    '403 invalid_api_key The API key used to generate this tenant token cannot acces the index `doggo`.',
  );
});

test('expired tokens, unknown keys, keys without search, expired parent keys, audiences, algorithms', async () => {
  const parent = key({ indexes: ['*'] });
  const value = deriveKeyValue(MASTER, NIL);
  const exp = NOW / 1000 - 3600;
  assert.equal(
    await answer(`Bearer ${jwt({ searchRules: ['*'], apiKeyUid: NIL, exp }, value)}`, SEARCH, 'dog', [parent]),
    `403 invalid_api_key Tenant token expired. Was valid up to \`${exp}\` and we're now \`${NOW / 1000}\`.`,
  );
  assert.equal(
    typeof (await answer(
      `Bearer ${jwt({ searchRules: ['*'], apiKeyUid: NIL, exp: NOW / 1000 }, value)}`,
      SEARCH,
      'dog',
      [parent],
    )),
    'object',
    'valid up to and including exp',
  );
  assert.equal(
    await answer(`Bearer ${jwt({ searchRules: ['*'], apiKeyUid: NIL }, value)}`, SEARCH, 'dog', []),
    '403 invalid_api_key The provided API key is invalid.',
    'key deleted',
  );
  const noSearch = key({ indexes: ['*'], actions: ['documents.get'] });
  assert.equal(
    await answer(`Bearer ${jwt({ searchRules: ['*'], apiKeyUid: NIL }, value)}`, SEARCH, 'dog', [noSearch]),
    '403 invalid_api_key The provided API key is invalid.',
  );
  const expired = key({ indexes: ['*'], expiresAt: '2025-01-01T00:00:00Z' });
  assert.equal(
    await answer(`Bearer ${jwt({ searchRules: ['*'], apiKeyUid: NIL }, value)}`, SEARCH, 'dog', [expired]),
    '403 invalid_api_key The provided API key is invalid.',
  );
  assert.equal(
    await answer(`Bearer ${jwt({ searchRules: ['*'], apiKeyUid: NIL, aud: 'x' }, value)}`, SEARCH, 'dog', [parent]),
    '403 invalid_api_key Could not decode tenant token, InvalidAudience.',
  );
  assert.equal(
    await answer(`Bearer ${jwt({ searchRules: ['*'], apiKeyUid: NIL }, value, { alg: 'RS256' })}`, SEARCH, 'dog', [
      parent,
    ]),
    '403 invalid_api_key Could not decode tenant token, InvalidAlgorithm.',
  );
  const hs512 = await answer(
    `Bearer ${jwt({ searchRules: ['*'], apiKeyUid: NIL }, value, { alg: 'HS512' }, 'sha512')}`,
    SEARCH,
    'dog',
    [parent],
  );
  assert.equal(typeof hs512 === 'object' && hs512.kind, 'tenant');
});

test('malformed tokens and claims: base64, JSON, uuid and header errors as jsonwebtoken reports them', async () => {
  const bad = async (token: string) =>
    ((await answer(`Bearer ${token}`, SEARCH, 'dog', [])) as string).replace(
      '403 invalid_api_key Could not decode tenant token, ',
      '',
    );
  assert.equal(await bad('a.b.c'), 'Base64 error: Invalid input length: 1.');
  assert.equal(await bad('ab.cd.ef'), 'Base64 error: Invalid last symbol 98, offset 1..');
  assert.equal(await bad('a!b.cd.ef'), 'Base64 error: Invalid symbol 33, offset 1..');
  assert.equal(
    await bad(jwt({ searchRules: ['x'], apiKeyUid: 'nope' }, 'k')),
    'JSON error: UUID parsing failed: invalid character: found `n` at 1 at line 1 column 39.',
  );
  assert.equal(
    await bad(jwt({ searchRules: ['x'], apiKeyUid: NIL, exp: 'soon' }, 'k')),
    'JSON error: invalid type: string "soon", expected i64 at line 1 column 84.',
  );
  assert.equal(
    await bad(jwt({ searchRules: ['x'], apiKeyUid: NIL, exp: 1.5 }, 'k')),
    'JSON error: invalid type: floating point `1.5`, expected i64 at line 1 column 81.',
  );
  assert.equal(
    await bad(jwt({ searchRules: ['x'] }, 'k')),
    'JSON error: missing field `apiKeyUid` at line 1 column 21.',
  );
  assert.equal(
    await bad(jwt({ searchRules: { x: 'y' }, apiKeyUid: NIL }, 'k')),
    'JSON error: data did not match any variant of untagged enum SearchRules at line 1 column 24.',
  );
  assert.equal(
    await bad(jwt({ searchRules: ['x'], apiKeyUid: NIL }, 'k', { alg: 'none' })),
    'JSON error: unknown variant `none`, expected one of `HS256`, `HS384`, `HS512`, `ES256`, `ES384`, `RS256`, `RS384`, `RS512`, `PS256`, `PS384`, `PS512`, `EdDSA` at line 1 column 13.',
  );
  assert.equal(
    await bad(jwt({ searchRules: ['x'], apiKeyUid: NIL }, 'k', { typ: 'JWT' })),
    'JSON error: missing field `alg` at line 1 column 13.',
  );
  assert.equal(
    await bad(`${b64({ alg: 'HS256' })}.${b64('{"searchRules":[}')}.x`),
    'JSON error: expected value at line 1 column 17.',
  );
  assert.throws(() => decodeBase64Url('ab=c'), /Invalid symbol 61, offset 2\./);
  assert.equal(decodeBase64Url('YWJj').toString(), 'abc');
});

test('Authorization header as Meilisearch reads it', async () => {
  assert.equal(
    await answer(undefined, SEARCH, 'dog', []),
    '401 missing_authorization_header The Authorization header is missing. It must use the bearer authorization method.',
  );
  assert.match(String(await answer('Basic abc', SEARCH, 'dog', [])), /^401 missing_authorization_header/);
  assert.match(
    String(await answer('bearer abc', SEARCH, 'dog', [])),
    /^401 missing_authorization_header/,
    'the scheme is case-sensitive',
  );
  assert.equal(await answer('Bearer', SEARCH, 'dog', []), '403 invalid_api_key The provided API key is invalid.');
  assert.equal(await answer('Bearer ', SEARCH, 'dog', []), '403 invalid_api_key The provided API key is invalid.');
  assert.equal(((await answer(`Bearer ${MASTER}`, SEARCH, 'dog', [])) as AuthResult).kind, 'master');
});

test('the most specific search rule applies (exact uid, then the longest prefix); all-index callers', async () => {
  const parent = key({ indexes: ['*'] });
  const value = deriveKeyValue(MASTER, NIL);
  const rules = { '*': { filter: 'a = 1' }, 'sal*': { filter: 'b = 2' }, 'sales*': null, sales: { filter: 'c = 3' } };
  const auth = (await answer(`Bearer ${jwt({ searchRules: rules, apiKeyUid: NIL }, value)}`, SEARCH, null, [
    parent,
  ])) as AuthResult;
  assert.deepEqual(
    [
      tenantFilter(auth, 'sales'),
      tenantFilter(auth, 'sales_fr'),
      tenantFilter(auth, 'salt'),
      tenantFilter(auth, 'books'),
    ],
    ['c = 3', null, 'b = 2', 'a = 1'],
  );
  assert.ok(authAllIndexes(auth));
  const arr = (await answer(
    `Bearer ${jwt({ searchRules: { sales: ['x = 1'] }, apiKeyUid: NIL }, value)}`,
    SEARCH,
    'sales',
    [parent],
  )) as AuthResult;
  assert.equal(tenantFilter(arr, 'sales'), 'x = 1', 'a one-element array is IndexSearchRules read from a sequence');
  assert.ok(!authAllIndexes(arr));
});

test('uuid texts of the uuid crate', () => {
  assert.deepEqual(parseUuid('o'), { error: 'invalid character: found `o` at 1' });
  assert.deepEqual(parseUuid('0123'), { error: 'invalid length: expected length 32 for simple format, found 4' });
  assert.deepEqual(parseUuid('0000-00'), { error: 'invalid group count: expected 5, found 2' });
  assert.deepEqual(parseUuid('00000000-000-0000-0000-0000000000000'), {
    error: 'invalid group length in group 1: expected 4, found 3',
  });
  assert.deepEqual(parseUuid('{00000000-0000-0000-0000-00000000000A}'), {
    uuid: '00000000-0000-0000-0000-00000000000a',
  });
  assert.deepEqual(parseUuid('0000000000000000000000000000000A'), { uuid: '00000000-0000-0000-0000-00000000000a' });
  assert.throws(
    () => validateCreateKey({ actions: ['search'], indexes: ['*'], expiresAt: null, uid: 'o' }, new Date(NOW)),
    /Invalid value at `\.uid`: invalid character: found `o` at 1$/,
  );
});
