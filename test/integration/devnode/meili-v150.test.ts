// Issue 21 through the official client against one dev node: each case a new user met where the dev node answered
// unlike Meilisearch v1.50 — `_formatted` values and attributes, the crop window, ranking score details and scores,
// the foreignKeys setting behind its feature, skipCreation, the empty delete filter, document-filter errors,
// index stats, sub-millisecond task dates, and --data on a dotted directory. Expected answers are Meilisearch's
// own (its integration tests and snapshots where they exist).
import assert from 'node:assert/strict';
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { Meilisearch, MeilisearchApiError } from 'meilisearch';
import { startDevNode, tempDir, type StartedNode } from '../../support/devnode.js';

const MASTER = 'meili-v150-master-key-0001';
let node: StartedNode;
let client: Meilisearch;
const auth = () => ({ authorization: `Bearer ${MASTER}`, 'content-type': 'application/json' });

/** The Meilisearch error a rejected client call carried: status, code, message. */
async function apiError(call: Promise<unknown>): Promise<{ status: number; code: string; message: string }> {
  try {
    await call;
  } catch (e) {
    if (!(e instanceof MeilisearchApiError)) throw e;
    const cause = e.cause as { code: string; message: string };
    return { status: e.response.status, code: cause.code, message: cause.message };
  }
  throw new Error('the call succeeded');
}

before(async () => {
  node = await startDevNode({ masterKey: MASTER });
  client = new Meilisearch({ host: node.url, apiKey: MASTER });
  await client
    .index('books')
    .addDocuments([
      {
        id: 1,
        title: 'The Little Prince',
        overview: 'It is a book about a prince that walks on tiny planets and meets a fox',
        available: true,
        pages: 96,
        series: null,
      },
      { id: 2, title: 'Dune', overview: 'A desert planet and its spice', available: false, pages: 412, series: 'Dune' },
    ])
    .waitTask();
  // Meilisearch's SCORE_DOCUMENTS (tests/common/mod.rs) for test_score / test_score_threshold.
  await client
    .index('score')
    .addDocuments([
      { title: 'Batman the dark knight returns: Part 1', id: 'A' },
      { title: 'Batman the dark knight returns: Part 2', id: 'B' },
      { title: 'Batman Returns', id: 'C' },
      { title: 'Batman', id: 'D' },
      { title: 'Badman', id: 'E' },
    ])
    .waitTask();
});
after(() => node.stop());

test('_formatted keeps booleans and null, turns numbers into strings (as Meilisearch)', async () => {
  const { hits } = await client.index('books').search('dune', { attributesToHighlight: ['*'] });
  assert.deepEqual(hits[0]!._formatted, {
    id: '2',
    title: '<em>Dune</em>',
    overview: 'A desert planet and its spice',
    available: false,
    pages: '412',
    series: '<em>Dune</em>',
  });
  const { hits: prince } = await client
    .index('books')
    .search('prince', { attributesToHighlight: ['available', 'series'] });
  assert.equal(prince[0]!._formatted!.available, true);
  assert.equal(prince[0]!._formatted!.series, null);
});

test('cropLength 6 centres the window on the match, the extra word before it', async () => {
  const { hits } = await client.index('books').search('prince', { attributesToCrop: ['overview'], cropLength: 6 });
  assert.equal(hits[0]!._formatted!.overview, '…book about a prince that walks…');
});

test('_formatted holds every displayed attribute when highlight/crop name *, whatever attributesToRetrieve says', async () => {
  const { hits } = await client.index('books').search('prince', {
    attributesToRetrieve: ['id', 'title'],
    attributesToHighlight: ['*'],
    attributesToCrop: ['*'],
    cropLength: 6,
  });
  const hit = hits[0]!;
  assert.deepEqual(Object.keys(hit).sort(), ['_formatted', 'id', 'title']);
  assert.deepEqual(hit._formatted, {
    id: '1',
    title: 'The Little <em>Prince</em>',
    overview: '…book about a <em>prince</em> that walks…',
    available: true,
    pages: '96',
    series: null,
  });
});

test('ranking score details name wordPosition; scores match Meilisearch test_score and its threshold', async () => {
  const res = await client
    .index('score')
    .search('Badman the dark knight returns 1', { showRankingScore: true, showRankingScoreDetails: true });
  assert.deepEqual(
    res.hits.map((h) => [h.id, h._rankingScore]),
    [
      ['A', 0.9746605609456898],
      ['B', 0.8055252965383685],
      ['E', 0.16666666666666666],
      ['C', 0.07702020202020202],
      ['D', 0.07702020202020202],
    ],
  );
  const details = res.hits[0]!._rankingScoreDetails as Record<string, { order: number }>;
  assert.deepEqual(Object.keys(details), ['words', 'typo', 'proximity', 'attributeRank', 'wordPosition', 'exactness']);
  assert.deepEqual(
    Object.values(details).map((d) => d.order),
    [0, 1, 2, 3, 4, 5],
  );
  const kept = await client
    .index('score')
    .search('Badman the dark knight returns 1', { showRankingScore: true, rankingScoreThreshold: 0.9 });
  assert.deepEqual(
    kept.hits.map((h) => h.id),
    ['A'],
  );
  const threshold = await client
    .index('score')
    .search('Badman dark returns 1', { showRankingScore: true, rankingScoreThreshold: 0 });
  // Meilisearch's snapshot says 0.93430081300813: its test client parses the body with serde_json's fast float
  // parser (no float_roundtrip), one ulp off the 114919/123000 the server sends; compare to that precision.
  assert.deepEqual(
    threshold.hits.map((h) => h.id),
    ['A', 'B', 'E', 'C', 'D'],
  );
  const near = (a: unknown, b: number) => Math.abs((a as number) - b) <= 1e-15;
  assert.ok(near(threshold.hits[0]!._rankingScore, 0.93430081300813), String(threshold.hits[0]!._rankingScore));
  assert.equal(threshold.hits[1]!._rankingScore, 0.6685627880184332);
});

test('foreignKeys: refused until its experimental feature is on, then a setting with its own route', async () => {
  const index = client.index('books');
  const refused = await apiError(
    index.updateSettings({ foreignKeys: [{ foreignIndexUid: 'authors', fieldName: 'author' }] }),
  );
  assert.deepEqual(refused, {
    status: 400,
    code: 'feature_not_enabled',
    message:
      'setting `foreignKeys` in the index settings requires enabling the `foreign_keys` experimental feature. See https://github.com/orgs/meilisearch/discussions/873',
  });
  assert.equal((await index.getSettings()).foreignKeys, undefined);
  await client.updateExperimentalFeatures({ foreignKeys: true });
  try {
    assert.deepEqual((await index.getSettings()).foreignKeys, []);
    const task = await index
      .updateSettings({ foreignKeys: [{ foreignIndexUid: 'authors', fieldName: 'author' }] })
      .waitTask();
    assert.equal(task.status, 'succeeded');
    const sub = await fetch(`${node.url}/indexes/books/settings/foreign-keys`, { headers: auth() });
    assert.deepEqual(await sub.json(), [{ foreignIndexUid: 'authors', fieldName: 'author' }]);
    const reset = await fetch(`${node.url}/indexes/books/settings/foreign-keys`, { method: 'DELETE', headers: auth() });
    assert.equal(reset.status, 202);
    await client.tasks.waitForTask(((await reset.json()) as { taskUid: number }).taskUid);
    assert.deepEqual((await index.getSettings()).foreignKeys, []);
  } finally {
    await client.updateExperimentalFeatures({ foreignKeys: false });
  }
});

test('skipCreation=true updates existing documents and creates none', async () => {
  const index = client.index('skip');
  // As in Meilisearch, the flag skips documents, not the index: the addition creates an empty index.
  const noIndex = await index.updateDocuments([{ id: 1, v: 'x' }], { skipCreation: true }).waitTask();
  assert.equal(noIndex.status, 'succeeded');
  assert.equal((await index.getStats()).numberOfDocuments, 0);
  await index.addDocuments([{ id: 1, v: 'a', keep: true }]).waitTask();
  const replaced = await index
    .addDocuments(
      [
        { id: 1, v: 'b' },
        { id: 2, v: 'new' },
      ],
      { skipCreation: true },
    )
    .waitTask();
  assert.equal(replaced.status, 'succeeded');
  // Meilisearch counts the payload's distinct ids as indexedDocuments, skipped ones included.
  assert.deepEqual(replaced.details, { receivedDocuments: 2, indexedDocuments: 2 });
  const updated = await index
    .updateDocuments(
      [
        { id: 1, w: 'c' },
        { id: 3, v: 'new' },
      ],
      { skipCreation: true },
    )
    .waitTask();
  assert.equal(updated.status, 'succeeded');
  assert.deepEqual((await index.getDocuments({ sort: undefined })).results, [{ id: 1, v: 'b', w: 'c' }]);
});

test('an empty delete filter is refused at once: 400 invalid_document_filter, no task', async () => {
  const before = (await client.tasks.getTasks({ limit: 1 })).results[0]!.uid;
  const err = await apiError(client.index('books').deleteDocuments({ filter: '' }));
  assert.deepEqual(err, {
    status: 400,
    code: 'invalid_document_filter',
    message: 'Sending an empty filter is forbidden.',
  });
  assert.equal((await client.tasks.getTasks({ limit: 1 })).results[0]!.uid, before);
});

test('document-filter errors carry no "Index `x`: " prefix', async () => {
  const err = await apiError(client.index('books').getDocuments({ filter: 'pages > 10' }));
  assert.equal(err.code, 'invalid_document_filter');
  assert.ok(!err.message.startsWith('Index'), err.message);
  assert.match(err.message, /^Attribute `pages` is not filterable\./);
});

test('index stats count embeddings and embedded documents', async () => {
  const stats = await client.index('books').getStats();
  assert.equal(stats.numberOfEmbeddings, 0);
  assert.equal(stats.numberOfEmbeddedDocuments, 0);
  const all = await client.getStats();
  assert.equal(all.indexes.books!.numberOfEmbeddings, 0);
  assert.equal(all.indexes.books!.numberOfEmbeddedDocuments, 0);
});

test('task dates keep sub-millisecond precision: afterEnqueuedAt keeps a task of the same millisecond', async () => {
  const tasks = await Promise.all(Array.from({ length: 8 }, (_, i) => client.index('dates').addDocuments([{ id: i }])));
  const listed = (await client.tasks.getTasks({ indexUids: ['dates'], limit: 20 })).results;
  assert.equal(listed.length, 8);
  for (const t of listed) assert.match(String(t.enqueuedAt), /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{4,9}Z$/);
  const first = listed.find((t) => t.uid === tasks[0]!.taskUid)!;
  const after = await client.tasks.getTasks({
    indexUids: ['dates'],
    afterEnqueuedAt: String(first.enqueuedAt),
    limit: 20,
  });
  // Every later task comes back, even one enqueued within the same millisecond as the first.
  assert.deepEqual(
    after.results.map((t) => t.uid).sort((a, b) => a - b),
    tasks.slice(1).map((t) => t.taskUid),
  );
  await client.tasks.waitForTasks(tasks.map((t) => t.taskUid));
});

test('--data on an existing directory whose name contains a dot keeps its data across a restart', async () => {
  const tmp = tempDir();
  const dir = join(tmp.dir, 'miroir.data');
  mkdirSync(dir);
  const child = await startDevNode({ masterKey: MASTER, dataDir: dir, childProcess: true });
  try {
    const c = new Meilisearch({ host: child.url, apiKey: MASTER });
    await c
      .index('kept')
      .addDocuments([{ id: 1, name: 'dot' }])
      .waitTask();
    await child.stop();
    await child.restart();
    assert.deepEqual(await c.index('kept').getDocument(1), { id: 1, name: 'dot' });
  } finally {
    await child.stop();
    tmp.cleanup();
  }
});
