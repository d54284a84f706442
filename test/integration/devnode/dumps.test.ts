// Dev node dumps over real HTTP with the official client: POST /dumps writes a Meilisearch v6 `.dump`, a fresh node
// imports it (in process and as `miroir devnode --import-dump`) and answers every document, setting, key and
// search the same; a malformed or truncated dump stops the start with a clear error.
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { existsSync, readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { Meilisearch } from 'meilisearch';
import { DevNode } from '../../../src/devnode/node.js';
import { deriveKeyValue } from '../../../src/core/auth/keys.js';
import { cliPath, tempDir } from '../../support/devnode.js';
import { meiliOrdered, tarGz } from '../../support/dumps.js';
import { until } from '../../support/wait.js';

const MASTER = 'dumps-master-key-000000001';
const PER_INDEX = 1500;
const tmp = tempDir('miroir-dumps-test-');
let source: DevNode;
let client: Meilisearch;
let dumpFile: string;
let dumpUid: string;
const createdKeys: string[] = [];

const GENRES = ['drama', 'action', 'comedy', 'horror', 'animation', 'documentary'];
const WORDS = [
  'river',
  'night',
  'star',
  'garden',
  'machine',
  'winter',
  'ocean',
  'shadow',
  'city',
  'dream',
  'fire',
  'glass',
];

function movies(n: number): Array<Record<string, unknown>> {
  return Array.from({ length: n }, (_, i) => ({
    id: i + 1,
    title: `${WORDS[i % WORDS.length]} ${WORDS[(i * 7) % WORDS.length]} ${i}`,
    genre: GENRES[i % GENRES.length],
    year: 1980 + (i % 40),
    rating: Math.round((((i * 37) % 100) / 10) * 10) / 10,
    tags: [WORDS[(i * 3) % WORDS.length], WORDS[(i * 5) % WORDS.length]],
  }));
}

function books(n: number): Array<Record<string, unknown>> {
  return Array.from({ length: n }, (_, i) => ({
    isbn: `isbn-${i}`,
    title: `The ${WORDS[(i * 5) % WORDS.length]} of ${WORDS[i % WORDS.length]}`,
    pages: 100 + (i % 500),
    author: { name: `Author ${i % 50}` },
  }));
}

function users(n: number): Array<Record<string, unknown>> {
  return Array.from({ length: n }, (_, i) => ({
    uid: `u${i}`,
    name: `${WORDS[i % WORDS.length]}-${i}`,
    team: `team-${i % 9}`,
    active: i % 3 !== 0,
  }));
}

const SETTINGS: Record<string, Record<string, unknown>> = {
  movies: {
    filterableAttributes: ['genre', 'year', 'rating'],
    sortableAttributes: ['year', 'rating'],
    searchableAttributes: ['title', 'tags'],
    synonyms: { star: ['sun'] },
    stopWords: ['the'],
    typoTolerance: { minWordSizeForTypos: { oneTypo: 4, twoTypos: 8 } },
  },
  books: {
    filterableAttributes: ['pages'],
    sortableAttributes: ['pages'],
    displayedAttributes: ['isbn', 'title', 'pages'],
    pagination: { maxTotalHits: 500 },
    rankingRules: ['words', 'typo', 'proximity', 'attributeRank', 'sort', 'wordPosition', 'exactness', 'pages:desc'],
  },
  users: {
    filterableAttributes: ['team', 'active'],
    distinctAttribute: 'team',
    faceting: { maxValuesPerFacet: 5, sortFacetValuesBy: { team: 'count' } },
  },
};

const SEARCHES: Array<[string, Record<string, unknown>]> = [
  ['movies', { q: 'river night' }],
  [
    'movies',
    { q: 'star', filter: 'genre = drama AND year > 2000', sort: ['rating:desc'], facets: ['genre', 'year'], limit: 30 },
  ],
  ['movies', { q: 'machne', attributesToHighlight: ['title'], showRankingScore: true }],
  ['movies', { q: '', filter: ['genre IN [action, comedy]', 'rating >= 5'], hitsPerPage: 15, page: 3 }],
  ['books', { q: 'garden ocean', sort: ['pages:asc'], filter: 'pages < 300' }],
  ['books', { q: 'the winter', limit: 50, offset: 10 }],
  ['users', { q: 'dream', facets: ['team', 'active'] }],
  ['users', { q: '', filter: 'active = true', limit: 100 }],
];

/** A search answer without what legitimately differs between two nodes. */
function stable(res: Record<string, unknown>): Record<string, unknown> {
  const { processingTimeMs, requestUid, ...rest } = res;
  void processingTimeMs;
  void requestUid;
  return rest;
}

async function allDocuments(c: Meilisearch, uid: string): Promise<unknown[]> {
  const out: unknown[] = [];
  for (let offset = 0; ; offset += 1000) {
    const page = await c.index(uid).getDocuments({ offset, limit: 1000 });
    out.push(...page.results);
    if (page.results.length < 1000) return out;
  }
}

async function snapshot(c: Meilisearch): Promise<Record<string, unknown>> {
  const indexes = (await c.getRawIndexes({ limit: 100 })).results;
  const out: Record<string, unknown> = { indexes, keys: (await c.getKeys({ limit: 100 })).results };
  for (const uid of Object.keys(SETTINGS)) {
    out[`${uid}.settings`] = await c.index(uid).getSettings();
    out[`${uid}.documents`] = await allDocuments(c, uid);
    out[`${uid}.stats`] = await c.index(uid).getStats();
  }
  out.searches = await Promise.all(
    SEARCHES.map(async ([uid, q]) =>
      stable((await c.index(uid).search(q.q as string, q)) as unknown as Record<string, unknown>),
    ),
  );
  out.features = await (
    await fetch(`${c.config.host}/experimental-features`, { headers: { authorization: `Bearer ${MASTER}` } })
  ).json();
  return out;
}

/** `miroir devnode …` as a child process: resolves once it listens (port) or has exited (code, stderr). */
function spawnDevnode(
  args: string[],
): Promise<{ code: number | null; stderr: string; port: number | null; stop(): Promise<void> }> {
  const child = spawn(process.execPath, [cliPath(), 'devnode', '--port', '0', ...args], {
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stderr = '';
  let stdout = '';
  let closed = false;
  const closing = new Promise<void>((r) => child.once('close', () => ((closed = true), r())));
  child.stderr.on('data', (c: Buffer) => (stderr += c.toString()));
  const stop = async () => {
    if (!closed) child.kill('SIGTERM');
    await closing;
  };
  return new Promise((resolve) => {
    child.stdout.on('data', (c: Buffer) => {
      stdout += c.toString();
      const m = /"port":(\d+)/.exec(stdout);
      if (m !== null) resolve({ code: null, stderr, port: Number(m[1]), stop });
    });
    void closing.then(() => resolve({ code: child.exitCode, stderr, port: null, stop }));
  });
}

const KEY_SPECS = [
  {
    uid: '11111111-1111-4111-8111-111111111111',
    name: 'search movies',
    actions: ['search'],
    indexes: ['movies'],
    expiresAt: null,
  },
  {
    uid: '22222222-2222-4222-8222-222222222222',
    description: 'reads books',
    actions: ['documents.get', 'search'],
    indexes: ['books*'],
    expiresAt: '2099-01-01T00:00:00Z',
  },
  {
    uid: '33333333-3333-4333-8333-333333333333',
    name: 'writer',
    actions: ['documents.*', 'indexes.*'],
    indexes: ['*'],
    expiresAt: null,
  },
  {
    uid: '44444444-4444-4444-8444-444444444444',
    name: 'tasks',
    actions: ['tasks.get'],
    indexes: ['*'],
    expiresAt: null,
  },
  {
    uid: '55555555-5555-4555-8555-555555555555',
    name: 'dumps',
    description: 'makes dumps',
    actions: ['dumps.create', 'stats.get'],
    indexes: ['*'],
    expiresAt: null,
  },
];

before(async () => {
  source = await DevNode.start({ masterKey: MASTER, dumpDir: join(tmp.dir, 'dumps') });
  client = new Meilisearch({ host: source.url, apiKey: MASTER });
  const data: Record<string, Array<Record<string, unknown>>> = {
    movies: movies(PER_INDEX),
    books: books(PER_INDEX),
    users: users(PER_INDEX),
  };
  const pks: Record<string, string> = { movies: 'id', books: 'isbn', users: 'uid' };
  for (const [uid, docs] of Object.entries(data)) {
    await client.createIndex(uid, { primaryKey: pks[uid]! }).waitTask();
    await client.index(uid).updateSettings(SETTINGS[uid]!).waitTask();
    for (let i = 0; i < docs.length; i += 500)
      await client
        .index(uid)
        .addDocuments(docs.slice(i, i + 500))
        .waitTask();
  }
  // Writes after the first additions: a partial update, deletions by id and by filter.
  await client
    .index('movies')
    .updateDocuments([{ id: 3, title: 'glass machine replaced' }])
    .waitTask();
  await client.index('books').deleteDocuments(['isbn-1', 'isbn-2']).waitTask();
  await client.index('users').deleteDocuments({ filter: 'team = "team-8"' }).waitTask();
  await fetch(`${source.url}/experimental-features`, {
    method: 'PATCH',
    headers: { authorization: `Bearer ${MASTER}`, 'content-type': 'application/json' },
    body: JSON.stringify({ containsFilter: true }),
  });
  for (const spec of KEY_SPECS)
    createdKeys.push((await client.createKey(spec as Parameters<Meilisearch['createKey']>[0])).key);
  // The dump is asked for with the `dumps.create` key, as a user would.
  const enqueued = await new Meilisearch({ host: source.url, apiKey: createdKeys[4]! }).createDump();
  const task = await client.tasks.waitForTask(enqueued.taskUid, { timeout: 60_000 });
  assert.equal(task.status, 'succeeded', JSON.stringify(task.error));
  dumpUid = String((task.details as { dumpUid: string }).dumpUid);
  dumpFile = join(tmp.dir, 'dumps', `${dumpUid}.dump`);
});

after(async () => {
  await source.stop();
  tmp.cleanup();
});

describe('POST /dumps', () => {
  test('answers 202 dumpCreation and the task ends with a Meilisearch dump uid; the file is {dumpUid}.dump in --dump-dir', async () => {
    const res = await fetch(`${source.url}/dumps`, { method: 'POST', headers: { authorization: `Bearer ${MASTER}` } });
    assert.equal(res.status, 202);
    const body = (await res.json()) as Record<string, unknown>;
    assert.deepEqual(Object.keys(body).sort(), ['enqueuedAt', 'indexUid', 'status', 'taskUid', 'type']);
    assert.equal(body.type, 'dumpCreation');
    assert.equal(body.indexUid, null);
    const done = await client.tasks.waitForTask(body.taskUid as number, { timeout: 60_000 });
    assert.equal(done.status, 'succeeded');
    const uid = (done.details as { dumpUid: string }).dumpUid;
    assert.match(uid, /^\d{8}-\d{9}$/);
    assert.notEqual(uid, dumpUid, 'two dumps never share a uid');
    assert.ok(existsSync(join(tmp.dir, 'dumps', `${uid}.dump`)));
    assert.match(dumpUid, /^\d{8}-\d{9}$/);
    assert.ok(existsSync(dumpFile));
    assert.deepEqual(
      readdirSync(join(tmp.dir, 'dumps')).filter((f) => !f.endsWith('.dump')),
      [],
      'no partial or spool file is left behind',
    );
  });

  test('a dump that cannot be written fails its task (dumpUid stays null) and the node keeps serving', async () => {
    const notADir = join(tmp.dir, 'not-a-dir');
    writeFileSync(notADir, 'x');
    const node = await DevNode.start({ dumpDir: notADir });
    try {
      const c = new Meilisearch({ host: node.url });
      const task = await c.createDump().waitTask();
      assert.equal(task.status, 'failed');
      assert.equal(task.error?.code, 'internal');
      assert.deepEqual(task.details, { dumpUid: null });
      assert.equal((await c.health()).status, 'available');
    } finally {
      await node.stop();
    }
  });

  test('a key without dumps.create is refused', async () => {
    const res = await fetch(`${source.url}/dumps`, {
      method: 'POST',
      headers: { authorization: `Bearer ${createdKeys[3]}` },
    });
    assert.equal(res.status, 403);
    assert.equal(((await res.json()) as { code: string }).code, 'invalid_api_key');
  });
});

describe('--import-dump', () => {
  test('a fresh in-process node imports the dump: documents, settings, keys (same values), stats, features and searches answer the same', async () => {
    const expected = await snapshot(client);
    const fresh = await DevNode.start({ masterKey: MASTER, importDump: dumpFile });
    try {
      const c = new Meilisearch({ host: fresh.url, apiKey: MASTER });
      const got = await snapshot(c);
      for (const k of Object.keys(expected)) assert.deepEqual(got[k], expected[k], k);
      // The imported keys authenticate with the same values: a search-only key searches `movies`, not `books`.
      const searchKey = new Meilisearch({ host: fresh.url, apiKey: createdKeys[0]! });
      assert.equal((await searchKey.index('movies').search('river')).hits.length > 0, true);
      const denied = await fetch(`${fresh.url}/indexes/books/search`, {
        method: 'POST',
        headers: { authorization: `Bearer ${createdKeys[0]}`, 'content-type': 'application/json' },
        body: '{}',
      });
      assert.equal(denied.status, 403);
      // The task history comes along (the dump task itself as succeeded), and new tasks continue after it.
      const before = (await client.tasks.getTasks({ limit: 1000 })).results.filter((t) => t.type !== 'dumpCreation');
      const after = (await c.tasks.getTasks({ limit: 1000 })).results;
      const strip = (t: Record<string, unknown>) => ({ ...t, duration: undefined });
      assert.deepEqual(after.filter((t) => t.type !== 'dumpCreation').map(strip), before.map(strip));
      const dumpTasks = after.filter((t) => t.type === 'dumpCreation');
      assert.equal(dumpTasks.length, 1);
      assert.equal(dumpTasks[0]!.status, 'succeeded');
      const next = await c
        .index('movies')
        .addDocuments([{ id: 100000, title: 'after import' }])
        .waitTask();
      assert.equal(next.status, 'succeeded');
      assert.ok(next.uid > Math.max(...after.map((t) => t.uid)));
    } finally {
      await fresh.stop();
    }
  });

  test('`miroir devnode --import-dump FILE --data DIR` loads it; POST /dumps then writes under DIR/dumps', async () => {
    const data = join(tmp.dir, 'cli-data');
    const node = await spawnDevnode(['--master-key', MASTER, '--import-dump', dumpFile, '--data', data]);
    assert.ok(node.port !== null, node.stderr);
    try {
      const c = new Meilisearch({ host: `http://127.0.0.1:${node.port}`, apiKey: MASTER });
      assert.equal((await c.index('movies').getStats()).numberOfDocuments, PER_INDEX);
      assert.equal((await c.getKey(KEY_SPECS[1]!.uid)).key, createdKeys[1]);
      const task = await c.createDump().waitTask({ timeout: 60_000 });
      assert.equal(task.status, 'succeeded');
      const uid = (task.details as { dumpUid: string }).dumpUid;
      await until(() => existsSync(join(data, 'dumps', `${uid}.dump`)), 'the dump under --data/dumps');
    } finally {
      await node.stop();
    }
  });

  test('a node that already holds data refuses to import (as Meilisearch)', async () => {
    await assert.rejects(
      DevNode.start({ masterKey: MASTER, importDump: dumpFile, dataDir: join(tmp.dir, 'cli-data') }),
      /^Error: database already exists at .*cli-data, try to delete it or rename it$/,
    );
  });

  test('a dump shaped as Meilisearch writes it imports: its keys derive from the master key, its enqueued task runs', async () => {
    const file = join(tmp.dir, 'meili.dump');
    writeFileSync(file, await tarGz(meiliOrdered()));
    const node = await DevNode.start({ masterKey: MASTER, importDump: file });
    try {
      const c = new Meilisearch({ host: node.url, apiKey: MASTER });
      const key = await c.getKey('42092c55-5496-4579-8a51-768ad7866998');
      assert.equal(key.key, deriveKeyValue(MASTER, '42092c55-5496-4579-8a51-768ad7866998'));
      assert.equal(key.name, 'Default Search API Key');
      assert.equal((await c.getKeys()).total, 1, 'the dump keys replace the default keys');
      const index = await c.index('kefir').getRawInfo();
      assert.equal(index.createdAt, '2025-02-04T10:14:43.560230749Z');
      assert.equal(index.primaryKey, 'id');
      assert.deepEqual((await c.index('kefir').getSettings()).rankingRules, [
        'words',
        'typo',
        'proximity',
        'attribute',
        'sort',
        'exactness',
      ]);
      const enqueued = await c.tasks.waitForTask(1);
      assert.equal(enqueued.status, 'succeeded');
      assert.deepEqual(enqueued.details, { receivedDocuments: 1, indexedDocuments: 1 });
      assert.deepEqual((await c.index('kefir').getDocuments()).results, [
        { id: 1, dog: 'kefir' },
        { id: 3, dog: 'echo' },
        { id: 2, dog: 'intel' },
      ]);
      const created = await c.tasks.getTask(0);
      assert.equal(created.duration, 'PT0.032902186S');
      assert.equal(created.type, 'indexCreation');
      const features = (await (
        await fetch(`${node.url}/experimental-features`, { headers: { authorization: `Bearer ${MASTER}` } })
      ).json()) as Record<string, unknown>;
      assert.equal(features.containsFilter, true);
    } finally {
      await node.stop();
    }
  });

  test('a truncated dump stops the start with a malformed_payload error, in process and on the command line', async () => {
    const full = readFileSync(dumpFile);
    const cut = join(tmp.dir, 'truncated.dump');
    writeFileSync(cut, full.subarray(0, Math.floor(full.length / 2)));
    await assert.rejects(DevNode.start({ masterKey: MASTER, importDump: cut }), (err: Error & { code?: string }) => {
      assert.equal(err.code, 'malformed_payload');
      assert.match(err.message, /^The dump is invalid: the archive is truncated/);
      return true;
    });
    const node = await spawnDevnode(['--import-dump', cut]);
    await node.stop();
    assert.equal(node.port, null);
    assert.equal(node.code, 1);
    assert.match(node.stderr, /^miroir: The dump is invalid: the archive is truncated/);
    assert.doesNotMatch(node.stderr, /\n\s+at /, 'no stack trace');
  });

  test('a file that is not a dump, or is missing, fails clearly', async () => {
    const junk = join(tmp.dir, 'junk.dump');
    writeFileSync(junk, 'this is not a gzip file at all');
    await assert.rejects(DevNode.start({ importDump: junk }), /The dump is invalid: it is not a gzip file/);
    await assert.rejects(
      DevNode.start({ importDump: join(tmp.dir, 'nope.dump') }),
      (err: Error & { code?: string }) => err.code === 'dump_not_found',
    );
  });
});
