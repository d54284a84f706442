// The error code table: every code is documented in docs/errors.md, shapes and statuses follow Meilisearch.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { MEILI_ERROR_CODES } from '../../../src/core/meili-error-codes.js';
import { MIROIR_ERROR_CODES, MeiliError, errorBody, internalError } from '../../../src/core/errors.js';

const repoRoot = fileURLToPath(
  new URL(import.meta.url.includes('/dist/') ? '../../../../' : '../../../', import.meta.url),
);
const docs = readFileSync(`${repoRoot}docs/errors.md`, 'utf8');

test('every Meilisearch and Miroir code appears in docs/errors.md with its status and type', () => {
  for (const [code, [type, status]] of Object.entries({ ...MEILI_ERROR_CODES, ...MIROIR_ERROR_CODES })) {
    const row = docs.split('\n').find((l) => l.includes(`\`${code}\``));
    assert.ok(row, `docs/errors.md lacks ${code}`);
    assert.match(
      row,
      new RegExp(`\\| ${status} \\| ${type} \\|`),
      `docs/errors.md row for ${code} disagrees with the table`,
    );
  }
});

/** Refusals of who is asking (C12 auth codes; C14's CSRF and Origin checks; the console's read-only sessions). */
const AUTH_CODES = new Set([
  'miroir_invalid_auth',
  'miroir_csrf_token_invalid',
  'miroir_origin_not_allowed',
  'miroir_admin_read_only',
]);

test('miroir codes follow SPEC C12: auth codes are type auth, 503s are system, the rest invalid_request', () => {
  for (const [code, [type, status]] of Object.entries(MIROIR_ERROR_CODES)) {
    if (code.includes('jwt') || AUTH_CODES.has(code)) assert.equal(type, 'auth', code);
    else if (status === 503) assert.equal(type, 'system', code);
    else assert.equal(type, 'invalid_request', code);
  }
  assert.equal(MIROIR_ERROR_CODES.miroir_no_quorum[1], 503);
  assert.equal(MIROIR_ERROR_CODES.miroir_node_exists[1], 409);
  assert.equal(MIROIR_ERROR_CODES.miroir_not_supported[1], 501);
});

test('error bodies have exactly message, code, type, link in that order', () => {
  const err = new MeiliError('index_not_found', 'Index `movies` not found.');
  assert.equal(err.status, 404);
  assert.deepEqual(Object.keys(err.toJSON()), ['message', 'code', 'type', 'link']);
  assert.equal(err.link, 'https://docs.meilisearch.com/errors#index_not_found');
  assert.equal(
    JSON.stringify(errorBody('invalid_api_key', 'x')),
    '{"message":"x","code":"invalid_api_key","type":"auth","link":"https://docs.meilisearch.com/errors#invalid_api_key"}',
  );
  assert.match(new MeiliError('miroir_no_quorum', 'x').link, /docs\/errors\.md#miroir_no_quorum$/);
});

test('MeiliError instanceof holds for branded objects and internalError wraps anything', () => {
  const err = new MeiliError('bad_request', 'nope');
  assert.ok(err instanceof MeiliError);
  assert.ok(!(new Error('x') instanceof MeiliError));
  assert.equal(internalError(err), err);
  const wrapped = internalError(new TypeError('boom'));
  assert.equal(wrapped.code, 'internal');
  assert.equal(wrapped.status, 500);
  assert.ok(!wrapped.message.includes('at '), 'no stack trace in the message');
});
