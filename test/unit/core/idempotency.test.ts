// Idempotency keys and request fingerprints (src/core/idempotency.ts): the key syntax, and which differences
// between two requests count (method, path, query, content type, body) and which do not (JSON key order and
// whitespace).
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { MeiliError } from '../../../src/core/errors.js';
import { CANONICAL_JSON_MAX_BYTES, parseIdempotencyKey, requestFingerprint } from '../../../src/core/idempotency.js';

test('keys: 1 to 255 printable ASCII characters, sent once', () => {
  for (const ok of ['a', 'order-42:retry', ' spaced key ', '~'.repeat(255)]) assert.equal(parseIdempotencyKey(ok), ok);
  for (const bad of ['', 'x'.repeat(256), 'caf\u00e9', 'tab\there', 'nl\n']) {
    assert.throws(
      () => parseIdempotencyKey(bad),
      (e: unknown) => e instanceof MeiliError && e.code === 'miroir_invalid_idempotency_key' && e.status === 400,
      JSON.stringify(bad),
    );
  }
  assert.throws(() => parseIdempotencyKey(['a', 'b']), MeiliError);
});

const base = {
  method: 'POST',
  path: '/indexes/movies/documents',
  query: '',
  contentType: 'application/json',
  body: Buffer.from('[{"id":1,"title":"Carol"}]'),
};

test('fingerprints: JSON canonicalized, everything else compared as sent', () => {
  const fp = requestFingerprint(base);
  assert.match(fp, /^[0-9a-f]{64}$/);
  assert.equal(requestFingerprint({ ...base, body: Buffer.from('[ { "title": "Carol", "id": 1 } ]') }), fp);
  assert.equal(requestFingerprint({ ...base, body: null, json: [{ title: 'Carol', id: 1 }] }), fp);
  for (const other of [
    { ...base, method: 'PUT' },
    { ...base, path: '/indexes/books/documents' },
    { ...base, query: 'primaryKey=id' },
    { ...base, contentType: 'application/x-ndjson' },
    { ...base, body: Buffer.from('[{"id":2,"title":"Carol"}]') },
  ])
    assert.notEqual(requestFingerprint(other), fp, JSON.stringify({ ...other, body: other.body.toString() }));
  const nd = { ...base, contentType: 'application/x-ndjson', body: Buffer.from('{"id":1}\n{"id":2}\n') };
  assert.notEqual(
    requestFingerprint(nd),
    requestFingerprint({ ...nd, body: Buffer.from('{"id":2}\n{"id":1}\n') }),
    'NDJSON by its bytes',
  );
  assert.equal(requestFingerprint({ ...base, body: null }), requestFingerprint({ ...base, body: Buffer.alloc(0) }));
  // Malformed JSON and JSON past the canonicalization limit are compared by their bytes.
  assert.notEqual(
    requestFingerprint({ ...base, body: Buffer.from('[{"id":1') }),
    requestFingerprint({ ...base, body: Buffer.from('[{"id": 1') }),
  );
  const big = Buffer.from(JSON.stringify([{ id: 1, pad: 'x'.repeat(CANONICAL_JSON_MAX_BYTES) }]));
  const bigSpaced = Buffer.from(JSON.stringify([{ id: 1, pad: 'x'.repeat(CANONICAL_JSON_MAX_BYTES) }], null, 1));
  assert.notEqual(requestFingerprint({ ...base, body: big }), requestFingerprint({ ...base, body: bigSpaced }));
});
