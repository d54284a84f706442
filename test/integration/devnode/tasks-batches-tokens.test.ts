// Issue 33 on one dev node through the official `meilisearch` client: `*` filters on tasks and batches, cancel and
// delete with any accepted filter, Meilisearch's batch object and /batches routes, tasks pointing at their batch,
// tenant-token refusals with Meilisearch's texts, and facet-search processingTimeMs in whole milliseconds.
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { Meilisearch, MeilisearchApiError, type Batch, type Task } from 'meilisearch';
import { generateTenantToken } from 'meilisearch/token';
import { startDevNode, tempDir, type StartedNode } from '../../support/devnode.js';

const MASTER = 'tasks-batches-master-key-33';
let node: StartedNode;
let client: Meilisearch;

before(async () => {
  node = await startDevNode({ masterKey: MASTER });
  client = new Meilisearch({ host: node.url, apiKey: MASTER });
  await client.createIndex('movies', { primaryKey: 'id' }).waitTask();
  await client
    .index('movies')
    .addDocuments([
      { id: 1, genre: 'drama' },
      { id: 2, genre: 'action' },
    ])
    .waitTask();
  await client.index('movies').updateFilterableAttributes(['genre']).waitTask();
});
after(() => node.stop());

async function apiError(p: Promise<unknown>): Promise<{ status: number; body: Record<string, unknown> }> {
  try {
    await p;
  } catch (err) {
    assert.ok(err instanceof MeilisearchApiError, `expected an API error, got ${String(err)}`);
    return { status: err.response.status, body: err.cause as Record<string, unknown> };
  }
  assert.fail('request succeeded');
}

const uids = (r: { results: Array<{ uid: number }> }) => r.results.map((t) => t.uid);

test('`*` means "any" for every date and list filter of getTasks and getBatches', async () => {
  const all = await client.tasks.getTasks();
  const allBatches = await client.batches.getBatches();
  for (const field of [
    'afterEnqueuedAt',
    'beforeEnqueuedAt',
    'afterStartedAt',
    'beforeStartedAt',
    'afterFinishedAt',
    'beforeFinishedAt',
  ] as const) {
    assert.deepEqual(uids(await client.tasks.getTasks({ [field]: '*' })), uids(all), field);
    assert.deepEqual(uids(await client.batches.getBatches({ [field]: '*' })), uids(allBatches), field);
  }
  const stars = await client.tasks.getTasks({
    uids: ['*'],
    batchUids: ['*'],
    canceledBy: ['*'],
    types: ['*'],
    statuses: ['*'],
    indexUids: ['*'],
  });
  assert.deepEqual([uids(stars), stars.total], [uids(all), all.total]);
});

test('cancelTasks/deleteTasks accept any filter parameter, `*` dates alone included', async () => {
  const before = await client.tasks.getTasks({ limit: 1000 });
  const cancel = await client.tasks.cancelTasks({ afterEnqueuedAt: '*' }).waitTask();
  assert.equal(cancel.status, 'succeeded');
  assert.deepEqual(cancel.details, {
    matchedTasks: before.total,
    canceledTasks: 0,
    originalFilter: '?afterEnqueuedAt=*',
  });
  const finished = (await client.tasks.getTasks({ statuses: ['succeeded', 'failed', 'canceled'], limit: 1000 })).total;
  const deletion = await client.tasks.deleteTasks({ beforeFinishedAt: '*' }).waitTask();
  assert.deepEqual(deletion.details, {
    matchedTasks: finished,
    deletedTasks: finished,
    originalFilter: '?beforeFinishedAt=*',
  });
  assert.deepEqual(uids(await client.tasks.getTasks()), [deletion.uid], 'only the deletion task itself is left');
  const missing = await apiError(client.tasks.deleteTasks({}));
  assert.deepEqual([missing.status, missing.body.code], [400, 'missing_task_filters']);
  assert.equal(
    missing.body.message,
    'Query parameters to filter the tasks to delete are missing. Available query parameters are: `uids`, `indexUids`, `statuses`, `types`, `canceledBy`, `beforeEnqueuedAt`, `afterEnqueuedAt`, `beforeStartedAt`, `afterStartedAt`, `beforeFinishedAt`, `afterFinishedAt`.',
  );
});

test('a cancelation runs first and its batch holds the tasks it canceled', async () => {
  node.inProcess!.pauseTasks(true);
  const a = await client.index('movies').addDocuments([{ id: 3 }]);
  const b = await client.index('movies').addDocuments([{ id: 4 }, { id: 5 }]);
  const enqueued = client.tasks.cancelTasks({ statuses: ['enqueued'] });
  const cancelUid = (await enqueued).taskUid;
  node.inProcess!.pauseTasks(false);
  const cancel = await enqueued.waitTask();
  assert.deepEqual(cancel.details, { matchedTasks: 2, canceledTasks: 2, originalFilter: '?statuses=enqueued' });
  const canceled = await Promise.all([a.taskUid, b.taskUid].map((u) => client.tasks.getTask(u)));
  for (const t of canceled) {
    assert.deepEqual(
      [t.status, t.canceledBy, t.batchUid, t.details?.indexedDocuments],
      ['canceled', cancelUid, cancel.batchUid, 0],
    );
    assert.equal(t.startedAt, cancel.startedAt);
    assert.equal(t.finishedAt, cancel.finishedAt);
  }
  const batch = await client.batches.getBatch(cancel.batchUid!);
  assert.deepEqual(batch.stats.status, { succeeded: 1, canceled: 2 });
  assert.deepEqual(batch.stats.types, { documentAdditionOrUpdate: 2, taskCancelation: 1 });
  assert.deepEqual([batch.stats.totalNbTasks, batch.stats.indexUids], [3, { movies: 2 }]);
  assert.deepEqual(batch.details, {
    receivedDocuments: 3,
    indexedDocuments: 0,
    matchedTasks: 2,
    canceledTasks: 2,
    originalFilter: '?statuses=enqueued',
  });
  assert.equal(
    batch.batchStrategy,
    `created batch containing only task with id ${cancelUid} of type \`taskCancelation\` that cannot be batched with any other task.`,
  );
  assert.deepEqual(uids(await client.batches.getBatches({ canceledBy: [cancelUid] })), [cancel.batchUid]);
  assert.deepEqual(
    uids(await client.batches.getBatches({ uids: [a.taskUid] })),
    [cancel.batchUid],
    '`uids` on batches are task uids',
  );
});

test("batches: Meilisearch's object, every task's batchUid points at it, filters and paging", async () => {
  const created = await client.createIndex('books').waitTask();
  const added = await client
    .index('books')
    .addDocuments([{ id: 1 }])
    .waitTask();
  const failed = await client.createIndex('books').waitTask();
  assert.equal(failed.status, 'failed');
  const batch: Batch = await client.batches.getBatch(added.batchUid!);
  assert.deepEqual(Object.keys(batch), [
    'uid',
    'progress',
    'details',
    'stats',
    'duration',
    'startedAt',
    'finishedAt',
    'batchStrategy',
  ]);
  assert.deepEqual(Object.keys(batch.stats), ['totalNbTasks', 'status', 'types', 'indexUids', 'progressTrace']);
  assert.deepEqual(
    [batch.progress, batch.details, batch.stats.status, batch.stats.types, batch.stats.indexUids],
    [
      null,
      { receivedDocuments: 1, indexedDocuments: 1 },
      { succeeded: 1 },
      { documentAdditionOrUpdate: 1 },
      { books: 1 },
    ],
  );
  assert.deepEqual(
    [batch.startedAt, batch.finishedAt, batch.duration],
    [added.startedAt, added.finishedAt, added.duration],
  );
  assert.deepEqual(Object.keys(batch.stats.progressTrace!), [
    'processing tasks > indexing',
    'processing tasks',
    'writing tasks to disk',
  ]);
  for (const v of Object.values(batch.stats.progressTrace!)) assert.match(String(v), /^\d+\.\d\d(ns|\u00b5s|ms|s)$/);
  assert.equal(batch.batchStrategy, 'batched all enqueued tasks');
  const creation = await client.batches.getBatch(created.batchUid!);
  assert.deepEqual(creation.details, {}, 'a stored batch drops the null primaryKey, as Meilisearch');
  assert.match(
    creation.batchStrategy!,
    /^created batch containing only task with id \d+ of type `indexCreation` that cannot be batched with any other task\.$/,
  );
  assert.deepEqual((await client.batches.getBatch(failed.batchUid!)).stats.status, { failed: 1 });

  const all = await client.batches.getBatches({ limit: 1000 });
  assert.ok(
    all.results.every((b, i) => i === 0 || b.uid < all.results[i - 1]!.uid),
    'newest first',
  );
  const page = await client.batches.getBatches({ limit: 2, from: added.batchUid! });
  assert.deepEqual(
    [uids(page), page.next, page.total],
    [[added.batchUid, added.batchUid! - 1], added.batchUid! - 2, all.total],
  );
  const reversed = await client.batches.getBatches({ limit: 2, reverse: true });
  assert.deepEqual(uids(reversed), uids(all).reverse().slice(0, 2));
  assert.deepEqual(uids(await client.batches.getBatches({ statuses: ['failed'] })), [failed.batchUid]);
  assert.deepEqual(uids(await client.batches.getBatches({ types: ['indexCreation'], indexUids: ['books'] })), [
    failed.batchUid,
    created.batchUid,
  ]);
  assert.deepEqual(uids(await client.batches.getBatches({ batchUids: [created.batchUid!] })), [created.batchUid]);
  const tasks = await client.tasks.getTasks({ batchUids: [added.batchUid!] });
  assert.deepEqual(uids(tasks), [added.uid]);

  const missing = await apiError(client.batches.getBatch(4_000_000_000));
  assert.deepEqual(
    [missing.status, missing.body.message, missing.body.code],
    [404, 'Batch `4000000000` not found.', 'batch_not_found'],
  );
});

async function raw(path: string, init: RequestInit = {}): Promise<{ status: number; body: Record<string, unknown> }> {
  const res = await fetch(`${node.url}${path}`, { ...init, headers: { authorization: `Bearer ${MASTER}` } });
  return { status: res.status, body: (await res.json()) as Record<string, unknown> };
}

test("task and batch routes refuse bad parameters with Meilisearch's codes, texts and order", async () => {
  const cases: Array<[string, string, number, string, string]> = [
    [
      'GET',
      '/tasks?uids=1,dogo',
      400,
      'invalid_task_uids',
      'Invalid value in parameter `uids[1]`: could not parse `dogo` as a positive integer',
    ],
    [
      'GET',
      '/batches?beforeStartedAt=pied',
      400,
      'invalid_task_before_started_at',
      'Invalid value in parameter `beforeStartedAt`: `pied` is an invalid date-time. It should follow the YYYY-MM-DD or RFC 3339 date-time format.',
    ],
    [
      'GET',
      '/tasks?reverse=*',
      400,
      'invalid_task_reverse',
      'Invalid value in parameter `reverse`: could not parse `*` as a boolean, expected either `true` or `false`',
    ],
    [
      'GET',
      '/tasks?statuses=nope&limit=x',
      400,
      'invalid_task_statuses',
      'Invalid value in parameter `statuses`: `nope` is not a valid task status. Available statuses are `enqueued`, `processing`, `succeeded`, `failed`, `canceled`.',
    ],
    [
      'POST',
      '/tasks/cancel?from=1',
      400,
      'bad_request',
      'Unknown parameter `from`: expected one of `uids`, `batchUids`, `canceledBy`, `types`, `statuses`, `indexUids`, `afterEnqueuedAt`, `beforeEnqueuedAt`, `afterStartedAt`, `beforeStartedAt`, `afterFinishedAt`, `beforeFinishedAt`',
    ],
    [
      'DELETE',
      '/tasks?batchUids=x',
      400,
      'invalid_batch_uids',
      'Invalid value in parameter `batchUids`: could not parse `x` as a positive integer',
    ],
    [
      'GET',
      '/tasks/abc',
      400,
      'invalid_task_uids',
      'Task uid `abc` is invalid. It should only contain numeric characters.',
    ],
    ['GET', '/tasks/4294967295', 404, 'task_not_found', 'Task `4294967295` not found.'],
    [
      'GET',
      '/batches/abc',
      400,
      'invalid_batch_uids',
      'Batch uid `abc` is invalid. It should only contain numeric characters.',
    ],
  ];
  for (const [method, path, status, code, message] of cases) {
    const r = await raw(path, { method });
    assert.deepEqual([r.status, r.body.code, r.body.message], [status, code, message], `${method} ${path}`);
  }
});

test("tenant tokens: each refusal with Meilisearch's text, code invalid_api_key", async () => {
  const parent = await client.createKey({
    uid: 'b3c1b9a6-2f57-4a43-9d5e-6a7f2b1c0d33',
    actions: ['search'],
    indexes: ['movies', 'books'],
    expiresAt: null,
  });
  const noSearch = await client.createKey({ actions: ['documents.get'], indexes: ['*'], expiresAt: null });
  const search = (apiKey: string, index = 'movies') =>
    apiError(new Meilisearch({ host: node.url, apiKey }).index(index).search(''));
  const token = (opts: Partial<Parameters<typeof generateTenantToken>[0]> = {}) =>
    generateTenantToken({ apiKey: parent.key, apiKeyUid: parent.uid, searchRules: ['movies'], ...opts });
  const expired = await search(await token({ expiresAt: 1_700_000_000 }));
  assert.equal(expired.status, 403);
  assert.equal(expired.body.code, 'invalid_api_key');
  assert.match(
    String(expired.body.message),
    /^Tenant token expired\. Was valid up to `1700000000` and we're now `\d+`\.$/,
  );
  assert.equal(
    (await search(await token({ apiKey: 'x'.repeat(64) }))).body.message,
    'Could not decode tenant token, InvalidSignature.',
  );
  assert.equal(
    (await search(await token({ apiKeyUid: '0b7a1d5e-3c55-4e2b-8b1e-2f9a6c7d8e90' }))).body.message,
    'Could not decode tenant token, InvalidSignature.',
    'unknown key uid',
  );
  assert.equal(
    (await search(await token({ apiKey: noSearch.key, apiKeyUid: noSearch.uid }))).body.message,
    'The provided API key is invalid.',
  );
  assert.equal(
    (await search(await token(), 'books')).body.message,
    'The provided tenant token cannot acces the index `books`, allowed indexes are ["movies"].',
  );
  assert.equal(
    (await search(await token({ searchRules: ['*'] }), 'songs')).body.message,
    'The API key used to generate this tenant token cannot acces the index `songs`.',
  );
  assert.equal(
    (await search(parent.key, 'songs')).body.message,
    'The API key cannot acces the index `songs`, authorized indexes are ["books", "movies"].',
  );
  const ok = await new Meilisearch({
    host: node.url,
    apiKey: await token({ searchRules: { movies: { filter: 'genre = drama' } } }),
  })
    .index('movies')
    .search('');
  assert.deepEqual(
    ok.hits.map((h) => h.id),
    [1],
  );
});

test('facet search processingTimeMs is whole milliseconds, truncated', async () => {
  const started = performance.now();
  const r = await client.index('movies').searchForFacetValues({ facetName: 'genre', facetQuery: 'dr' });
  const elapsed = performance.now() - started;
  assert.ok(Number.isInteger(r.processingTimeMs));
  assert.ok(r.processingTimeMs <= Math.floor(elapsed), 'truncated: never rounded up past the time the call took');
});

test('every finished task points at a batch that exists', async () => {
  const listing = await client.tasks.getTasks({ limit: 1000 });
  const batches = new Set(uids(await client.batches.getBatches({ limit: 1000 })));
  for (const t of listing.results as Task[])
    if (t.finishedAt !== null) assert.ok(t.batchUid !== null && batches.has(t.batchUid), `task ${t.uid}`);
});

test('with --data, batches survive a restart and go with the last of their tasks', async () => {
  const data = tempDir('miroir-batches-');
  let n = await startDevNode({ masterKey: MASTER, dataDir: data.dir });
  try {
    let c = new Meilisearch({ host: n.url, apiKey: MASTER });
    const created = await c.createIndex('kept').waitTask();
    const before = await c.batches.getBatch(created.batchUid!);
    await n.stop();
    n = await startDevNode({ masterKey: MASTER, dataDir: data.dir });
    c = new Meilisearch({ host: n.url, apiKey: MASTER });
    assert.deepEqual(await c.batches.getBatch(created.batchUid!), before);
    const next = await c.createIndex('more').waitTask();
    assert.equal(next.batchUid, created.batchUid! + 1);
    await c.tasks.deleteTasks({ uids: [created.uid] }).waitTask();
    assert.equal((await apiError(c.batches.getBatch(created.batchUid!))).body.code, 'batch_not_found');
  } finally {
    await n.stop();
    data.cleanup();
  }
});
