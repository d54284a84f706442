// IndexStateCache: entries live for the TTL, a forget drops them, a read that raced with a forget is not kept,
// missing indexes are never cached.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { IndexStateCache } from '../../../src/store/index-state-cache.js';
import type { IndexState } from '../../../src/store/store.js';

const state = (v: number): IndexState => ({ uid: 'movies', primaryKey: 'id', settings: {}, settingsVersion: v, fields: ['id'], createdAt: 'a', updatedAt: 'a' });

test('index state cache: TTL, forget, a read racing a forget, no negative entries', async () => {
  let clock = 0;
  const cache = new IndexStateCache(1000, () => clock);
  let stored: IndexState | null = null;
  let loads = 0;
  const load = async () => {
    loads++;
    return stored;
  };
  assert.equal(await cache.get('movies', load), null);
  stored = state(1);
  assert.equal((await cache.get('movies', load))?.settingsVersion, 1, 'a missing index is not remembered');
  stored = state(2);
  assert.equal((await cache.get('movies', load))?.settingsVersion, 1, 'served from the cache within the TTL');
  clock = 1001;
  assert.equal((await cache.get('movies', load))?.settingsVersion, 2, 'reloaded after the TTL');
  stored = state(3);
  cache.forget('movies');
  assert.equal((await cache.get('movies', load))?.settingsVersion, 3, 'reloaded after a forget');
  assert.equal(loads, 4);

  // A load that started before a forget returns its value but does not cache it.
  cache.forget('movies');
  let release!: (s: IndexState) => void;
  const slow = cache.get('movies', () => new Promise<IndexState>((r) => (release = r)));
  cache.forget('movies');
  release(state(3));
  assert.equal((await slow)?.settingsVersion, 3);
  stored = state(4);
  assert.equal((await cache.get('movies', load))?.settingsVersion, 4, 'the raced read was not cached');
});
