// Dumps through Miroir over real HTTP: a dev node with 3 indexes (settings, 20,000 documents, 5 API keys) dumps;
// Miroir over 3 dev nodes imports it (`POST /_miroir/dumps/import`, the file streamed as the raw body) and answers
// every document, setting, key and search as the source; Miroir's own `POST /dumps` imported into a fresh dev node
// answers the same again. A malformed and a truncated dump fail the import task cleanly, nothing half-imported left.
import assert from 'node:assert/strict';
import { createReadStream, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { after, before, describe, test } from 'node:test';
import { Meilisearch } from 'meilisearch';
import { DevNode } from '../../../src/devnode/node.js';
import { startCluster, type TestCluster } from '../../support/cluster.js';
import { tempDir } from '../../support/devnode.js';
import { KEY_LINE, meiliOrdered, tarGz } from '../../support/dumps.js';
import { until } from '../../support/wait.js';

const MASTER = 'proxy-dumps-master-key-0001';
const WORDS = ['river', 'night', 'star', 'garden', 'machine', 'winter', 'ocean', 'shadow', 'city', 'dream'];
const GENRES = ['drama', 'action', 'comedy', 'horror', 'animation'];
const COUNTS: Record<string, number> = { movies: 10_000, books: 6_000, users: 4_000 };
const PKS: Record<string, string> = { movies: 'id', books: 'isbn', users: 'uid' };

function docs(uid: string, n: number): Array<Record<string, unknown>> {
  return Array.from({ length: n }, (_, i) => {
    if (uid === 'movies')
      return {
        id: i + 1,
        title: `${WORDS[i % 10]} ${WORDS[(i * 7) % 10]} ${i}`,
        genre: GENRES[i % 5],
        year: 1980 + (i % 40),
        tags: [WORDS[(i * 3) % 10]],
      };
    if (uid === 'books')
      return { isbn: `isbn-${i}`, title: `The ${WORDS[(i * 3) % 10]} of ${WORDS[i % 10]}`, pages: 100 + (i % 500) };
    return { uid: `u${i}`, name: `${WORDS[i % 10]}-${i}`, team: `team-${i % 9}`, active: i % 3 !== 0 };
  });
}

const SETTINGS: Record<string, Record<string, unknown>> = {
  movies: {
    filterableAttributes: ['genre', 'year'],
    sortableAttributes: ['year', 'id'],
    searchableAttributes: ['title', 'tags'],
    synonyms: { star: ['sun'] },
    stopWords: ['the'],
  },
  books: { filterableAttributes: ['pages'], sortableAttributes: ['pages', 'isbn'], pagination: { maxTotalHits: 5000 } },
  users: { filterableAttributes: ['team', 'active'], faceting: { maxValuesPerFacet: 5 } },
};

const SEARCHES: Array<[string, Record<string, unknown>]> = [
  ['movies', { q: 'river night', limit: 1000 }],
  ['movies', { q: 'star', filter: 'genre = drama AND year > 2000', facets: ['genre', 'year'], limit: 1000 }],
  ['movies', { q: '', filter: 'year = 1999', sort: ['id:desc'], limit: 50, offset: 20 }],
  ['books', { q: 'garden', sort: ['isbn:asc'], filter: 'pages < 300', limit: 100 }],
  ['users', { q: 'dream', facets: ['team', 'active'], limit: 1000 }],
];

const KEY_SPECS = [
  { uid: '11111111-1111-4111-8111-111111111111', name: 'search movies', actions: ['search'], indexes: ['movies'] },
  {
    uid: '22222222-2222-4222-8222-222222222222',
    description: 'reads books',
    actions: ['documents.get'],
    indexes: ['b*'],
  },
  { uid: '33333333-3333-4333-8333-333333333333', name: 'writer', actions: ['documents.*'], indexes: ['*'] },
  { uid: '44444444-4444-4444-8444-444444444444', name: 'tasks', actions: ['tasks.get'], indexes: ['*'] },
  { uid: '55555555-5555-4555-8555-555555555555', name: 'dumps', actions: ['dumps.create'], indexes: ['*'] },
].map((k) => ({ ...k, expiresAt: k.uid.startsWith('2') ? '2099-01-01T00:00:00Z' : null }));

const tmp = tempDir('miroir-proxy-dumps-');
let source: DevNode;
let sourceDump: string;
let c: TestCluster;
let miroir: Meilisearch;

/** A search answer reduced to what must match between any two deployments (hits ordered only where sorted). */
function comparable(q: Record<string, unknown>, res: Record<string, unknown>, pk: string): Record<string, unknown> {
  const hits = (res.hits as Array<Record<string, unknown>>).map((h) => h[pk]);
  return {
    total: res.estimatedTotalHits ?? res.totalHits,
    facets: res.facetDistribution,
    hits: q.sort === undefined ? hits.map(String).sort() : hits,
  };
}

async function allDocuments(m: Meilisearch, uid: string): Promise<Array<Record<string, unknown>>> {
  const out: Array<Record<string, unknown>> = [];
  for (let offset = 0; ; offset += 1000) {
    const page = await m.index(uid).getDocuments({ offset, limit: 1000 });
    out.push(...(page.results as Array<Record<string, unknown>>));
    if (page.results.length < 1000) break;
  }
  const pk = PKS[uid]!;
  return out.sort((a, b) => (String(a[pk]) < String(b[pk]) ? -1 : 1));
}

async function snapshot(m: Meilisearch): Promise<Record<string, unknown>> {
  const out: Record<string, unknown> = {};
  out.indexes = (await m.getRawIndexes({ limit: 100 })).results.map((i) => ({ uid: i.uid, primaryKey: i.primaryKey }));
  for (const spec of KEY_SPECS) {
    const k = await m.getKey(spec.uid);
    out[`key.${spec.uid}`] = [k.key, k.name, k.description, k.actions, k.indexes, k.expiresAt, k.createdAt];
  }
  for (const uid of Object.keys(COUNTS)) {
    out[`${uid}.settings`] = await m.index(uid).getSettings();
    out[`${uid}.documents`] = await allDocuments(m, uid);
  }
  out.searches = await Promise.all(
    SEARCHES.map(async ([uid, q]) =>
      comparable(q, (await m.index(uid).search(q.q as string, q)) as unknown as Record<string, unknown>, PKS[uid]!),
    ),
  );
  return out;
}

async function upload(body: Buffer | string, query = ''): Promise<{ status: number; json: Record<string, unknown> }> {
  const res = await fetch(`${c.app.url}/_miroir/dumps/import${query}`, {
    method: 'POST',
    headers: { authorization: `Bearer ${c.adminKey}`, 'content-type': 'application/gzip' },
    body: typeof body === 'string' ? Readable.toWeb(createReadStream(body)) : body,
    duplex: 'half',
  } as RequestInit);
  return { status: res.status, json: (await res.json()) as Record<string, unknown> };
}

before(async () => {
  source = await DevNode.start({ masterKey: MASTER, dumpDir: join(tmp.dir, 'source-dumps') });
  const s = new Meilisearch({ host: source.url, apiKey: MASTER });
  for (const [uid, n] of Object.entries(COUNTS)) {
    await s.createIndex(uid, { primaryKey: PKS[uid]! }).waitTask();
    await s.index(uid).updateSettings(SETTINGS[uid]!).waitTask();
    const all = docs(uid, n);
    for (let i = 0; i < all.length; i += 5000)
      await s
        .index(uid)
        .addDocuments(all.slice(i, i + 5000))
        .waitTask({ timeout: 60_000 });
  }
  for (const spec of KEY_SPECS) await s.createKey(spec as Parameters<Meilisearch['createKey']>[0]);
  const task = await s.createDump().waitTask({ timeout: 60_000 });
  assert.equal(task.status, 'succeeded', JSON.stringify(task.error));
  sourceDump = join(tmp.dir, 'source-dumps', `${(task.details as { dumpUid: string }).dumpUid}.dump`);
  c = await startCluster({
    nodes: 3,
    shards: 8,
    config: {
      master_key: MASTER,
      dump_import: { spool_dir: join(tmp.dir, 'spool'), batch_size: 1000 },
      dumps: { dir: join(tmp.dir, 'miroir-dumps') },
    },
  });
  miroir = new Meilisearch({ host: c.app.url, apiKey: MASTER });
});

after(async () => {
  await c?.close();
  await source?.stop();
  tmp.cleanup();
});

describe('dumps through Miroir', () => {
  test('a dev node dump imports into Miroir: documents, settings, keys and searches answer as on the source', async () => {
    const res = await upload(sourceDump);
    assert.equal(res.status, 202, JSON.stringify(res.json));
    assert.deepEqual(Object.keys(res.json).sort(), ['enqueuedAt', 'indexUid', 'status', 'taskUid', 'type']);
    assert.equal(res.json.type, 'miroirDumpImport');
    assert.equal(res.json.indexUid, null);
    const uid = res.json.taskUid as number;
    const task = await miroir.tasks.waitForTask(uid, { timeout: 120_000, interval: 100 });
    assert.equal(task.status, 'succeeded', JSON.stringify(task.error));
    const details = task.details as Record<string, unknown>;
    assert.equal(details.routedDocuments, 20_000);
    assert.equal(details.indexesDone, 3);
    const sourceKeys = (await new Meilisearch({ host: source.url, apiKey: MASTER }).getKeys({ limit: 100 })).total;
    assert.equal(details.importedKeys, sourceKeys); // the 5 created and the source's default keys
    const status = await fetch(`${c.app.url}/_miroir/dumps/import/${uid}/status`, {
      headers: { authorization: `Bearer ${c.adminKey}` },
    });
    assert.equal(status.status, 200);
    assert.equal(((await status.json()) as { status: string }).status, 'succeeded');
    const metrics = await (
      await fetch(`${c.app.url}/_miroir/metrics`, { headers: { authorization: `Bearer ${c.adminKey}` } })
    ).text();
    assert.match(metrics, /miroir_dump_import_documents_routed_total 20000/);
    assert.match(metrics, /miroir_dump_import_bytes_read_total [1-9]/);
    const want = await snapshot(new Meilisearch({ host: source.url, apiKey: MASTER }));
    assert.deepEqual(await snapshot(miroir), want);
    assert.deepEqual(readdirSync(join(tmp.dir, 'spool')), [], 'the spooled upload is removed');
  });

  test("Miroir's own dump imported into a fresh dev node answers the same again (round trip)", async () => {
    const { deriveKeyValue } = await import('../../../src/core/auth/keys.js');
    const refused = await fetch(`${c.app.url}/dumps`, {
      method: 'POST',
      headers: { authorization: `Bearer ${deriveKeyValue(MASTER, KEY_SPECS[3]!.uid)}` },
    });
    assert.equal(refused.status, 403, 'an imported key without dumps.create');
    const enqueued = await new Meilisearch({
      host: c.app.url,
      apiKey: deriveKeyValue(MASTER, KEY_SPECS[4]!.uid),
    }).createDump();
    const task = await miroir.tasks.waitForTask(enqueued.taskUid, { timeout: 120_000 });
    assert.equal(task.status, 'succeeded', JSON.stringify(task.error));
    const dumpUid = (task.details as { dumpUid: string }).dumpUid;
    assert.match(dumpUid, /^\d{8}-\d{9}$/);
    const fresh = await DevNode.start({
      masterKey: MASTER,
      importDump: join(tmp.dir, 'miroir-dumps', `${dumpUid}.dump`),
    });
    try {
      const m = new Meilisearch({ host: fresh.url, apiKey: MASTER });
      const docs = await allDocuments(m, 'movies');
      assert.ok(
        docs.every((d) => !Object.keys(d).some((k) => k.startsWith('_miroir_'))),
        'no _miroir_* field',
      );
      assert.deepEqual(await snapshot(m), await snapshot(new Meilisearch({ host: source.url, apiKey: MASTER })));
    } finally {
      await fresh.stop();
    }
  });

  test('a malformed dump fails the import task with a clear error and leaves no index or key behind', async () => {
    const bad = await tarGz(
      meiliOrdered({ './indexes/kefir/documents.jsonl': '{"id":1,"dog":"kefir"}\n{"id":3,"dog"\n' }),
    );
    const res = await upload(bad);
    assert.equal(res.status, 202);
    const task = await miroir.tasks.waitForTask(res.json.taskUid as number, { timeout: 30_000, interval: 50 });
    assert.equal(task.status, 'failed');
    assert.equal(task.error?.code, 'malformed_payload');
    assert.match(task.error!.message, /The dump is invalid: .*documents\.jsonl/);
    await until(async () => (await miroir.getRawIndexes()).results.every((i) => i.uid !== 'kefir'), 'kefir deleted');
    const keyUid = (JSON.parse(KEY_LINE) as { uid: string }).uid;
    await assert.rejects(miroir.getKey(keyUid), /not found/);
  });

  test('a truncated dump fails cleanly too; ?keep_partial=true keeps what was imported', async () => {
    const whole = await tarGz(meiliOrdered());
    const res = await upload(whole.subarray(0, Math.floor(whole.length * 0.8)));
    assert.equal(res.status, 202);
    const task = await miroir.tasks.waitForTask(res.json.taskUid as number, { timeout: 30_000, interval: 50 });
    assert.equal(task.status, 'failed');
    assert.equal(task.error?.code, 'malformed_payload');
    assert.match(task.error!.message, /truncated|ended before/);
    assert.ok((await miroir.getRawIndexes()).results.every((i) => i.uid !== 'kefir'));

    const bad = await tarGz(
      meiliOrdered({ './indexes/kefir/documents.jsonl': '{"id":1,"dog":"kefir"}\n{"id":3,"dog"\n' }),
    );
    const kept = await upload(bad, '?keep_partial=true');
    const t2 = await miroir.tasks.waitForTask(kept.json.taskUid as number, { timeout: 30_000, interval: 50 });
    assert.equal(t2.status, 'failed');
    assert.equal((await miroir.getIndex('kefir')).uid, 'kefir');
  });
});
