// The route trie: literals beat params, params are decoded, trailing slashes tolerated, 405 lists allowed methods.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { Router } from '../../../src/http/router.js';

test('router matches literals before params and decodes params', () => {
  const r = new Router<string>();
  r.add('GET', '/indexes', 'list');
  r.add('GET', '/indexes/:uid', 'get');
  r.add('POST', '/indexes/:uid/search', 'search');
  r.add('GET', '/indexes/:uid/documents/:id', 'doc');
  r.add('POST', '/indexes/:uid/documents/fetch', 'fetch');
  r.add('POST', '/indexes/:uid/documents/delete-batch', 'delbatch');
  assert.deepEqual(r.match('GET', '/indexes'), { kind: 'found', route: 'list', params: {} });
  assert.deepEqual(r.match('GET', '/indexes/movies/'), { kind: 'found', route: 'get', params: { uid: 'movies' } });
  assert.deepEqual(r.match('POST', '/indexes/movies/documents/fetch'), {
    kind: 'found',
    route: 'fetch',
    params: { uid: 'movies' },
  });
  assert.deepEqual(r.match('GET', '/indexes/a%20b/documents/x%2Fy'), {
    kind: 'found',
    route: 'doc',
    params: { uid: 'a b', id: 'x/y' },
  });
  assert.deepEqual(r.match('GET', '/indexes/movies/documents/fetch'), {
    kind: 'found',
    route: 'doc',
    params: { uid: 'movies', id: 'fetch' },
  });
  assert.deepEqual(r.match('HEAD', '/indexes'), { kind: 'found', route: 'list', params: {} });
  assert.deepEqual(r.match('DELETE', '/indexes'), { kind: 'method_not_allowed', allowed: ['GET'] });
  assert.deepEqual(r.match('GET', '/nope'), { kind: 'not_found' });
  assert.deepEqual(r.match('GET', '/indexes/movies/search/extra'), { kind: 'not_found' });
});

test('router refuses duplicate routes and clashing param names', () => {
  const r = new Router<string>();
  r.add('GET', '/a/:x', '1');
  assert.throws(() => r.add('GET', '/a/:x', '2'), /declared twice/);
  assert.throws(() => r.add('POST', '/a/:y', '3'), /clashes/);
});
