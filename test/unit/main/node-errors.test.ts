// A node's error passes through unchanged — its status, code, message, type and link — even for a code this
// Miroir does not know (a newer Meilisearch), instead of turning into a 500.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { MeiliError } from '../../../src/core/errors.js';
import { NodeResponseError } from '../../../src/main/cluster/node-api.js';

test('an unknown node error code keeps its status and body', () => {
  const body = {
    message: 'Something new went wrong.',
    code: 'brand_new_code',
    type: 'invalid_request',
    link: 'https://docs.meilisearch.com/errors#brand_new_code',
  };
  const err = new NodeResponseError('node-0', 422, body, 'POST /indexes/x/search').toMeiliError();
  assert.ok(err instanceof MeiliError);
  assert.equal(err.status, 422);
  assert.deepEqual(err.toJSON(), body);
});

test('a known code keeps its own table entry; a body without a code becomes a shaped error with the node status', () => {
  const known = new NodeResponseError(
    'node-0',
    400,
    { message: 'bad', code: 'invalid_search_filter', type: 'invalid_request', link: 'x' },
    'search',
  ).toMeiliError();
  assert.deepEqual(
    [known.status, known.code, known.link],
    [400, 'invalid_search_filter', 'https://docs.meilisearch.com/errors#invalid_search_filter'],
  );
  const bare = new NodeResponseError('node-0', 502, {}, 'search').toMeiliError();
  assert.deepEqual([bare.status, bare.code, bare.type], [502, 'internal', 'internal']);
  assert.equal(
    MeiliError.fromBody({ message: 'm', code: 'not_in_any_table', type: 'system', link: 'l' }).code,
    'not_in_any_table',
  );
});
