// IndexStateCache: entries live for the TTL, a forget drops them, a read that raced with a forget is not kept,
// missing indexes are never cached.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { IndexStateCache } from '../../../src/store/index-state-cache.js';
import type { IndexRecord } from '../../../src/store/store.js';

const state = (v: number): IndexRecord => ({
  uid: 'movies',
  version: v,
  committed: null,
  fields: ['id'],
  shards: 16,
  pending: [],
});

test('index state cache: TTL, forget, a read racing a forget, no negative entries', async () => {
  let clock = 0;
  const cache = new IndexStateCache(1000, () => clock);
  let stored: IndexRecord | null = null;
  let loads = 0;
  const load = async () => {
    loads++;
    return stored;
  };
  assert.equal(await cache.get('movies', load), null);
  stored = state(1);
  assert.equal((await cache.get('movies', load))?.version, 1, 'a missing index is not remembered');
  stored = state(2);
  assert.equal((await cache.get('movies', load))?.version, 1, 'served from the cache within the TTL');
  clock = 1001;
  assert.equal((await cache.get('movies', load))?.version, 2, 'reloaded after the TTL');
  stored = state(3);
  cache.forget('movies');
  assert.equal((await cache.get('movies', load))?.version, 3, 'reloaded after a forget');
  assert.equal(loads, 4);

  // A load that started before a forget returns its value but does not cache it.
  cache.forget('movies');
  let release!: (s: IndexRecord) => void;
  const slow = cache.get('movies', () => new Promise<IndexRecord>((r) => (release = r)));
  cache.forget('movies');
  release(state(3));
  assert.equal((await slow)?.version, 3);
  stored = state(4);
  assert.equal((await cache.get('movies', load))?.version, 4, 'the raced read was not cached');
});

test('while the store cannot be read an expired entry is served; other failures and forgotten entries are not', async () => {
  let clock = 0;
  const cache = new IndexStateCache(1000, () => clock);
  const down = new Error('Redis is unavailable');
  const unavailable = (err: unknown) => err === down;
  assert.equal((await cache.get('movies', async () => state(1), unavailable))?.version, 1);
  clock = 5000;
  const failing = async (): Promise<IndexRecord | null> => {
    throw down;
  };
  assert.equal((await cache.get('movies', failing, unavailable))?.version, 1, 'the last known state');
  await assert.rejects(cache.get('movies', failing), /unavailable/, 'only failures staleOk accepts');
  await assert.rejects(cache.get('books', failing, unavailable), /unavailable/, 'nothing known: the failure');
  cache.forget('movies');
  await assert.rejects(cache.get('movies', failing, unavailable), /unavailable/, 'a forgotten state is not served');
});
