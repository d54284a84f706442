// The rest of the dev node's surface through the official client: index update/rename/swap, every documents read
// and delete route, settings sub-routes with their verbs, task cancelation and deletion, stats, experimental
// features and /network as a CE node answers them.
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { Meilisearch, MeilisearchApiError } from 'meilisearch';
import { startDevNode, type StartedNode } from '../../support/devnode.js';

const MASTER = 'routes-master-key-00000001';
let node: StartedNode;
let client: Meilisearch;
const auth = () => ({ authorization: `Bearer ${MASTER}`, 'content-type': 'application/json' });

before(async () => {
  node = await startDevNode({ masterKey: MASTER });
  client = new Meilisearch({ host: node.url, apiKey: MASTER });
  await client
    .index('shop')
    .addDocuments(
      Array.from({ length: 30 }, (_, i) => ({ sku: `s${i}`, color: ['red', 'blue', 'green'][i % 3], price: i })),
      { primaryKey: 'sku' },
    )
    .waitTask();
  await client
    .index('shop')
    .updateSettings({ filterableAttributes: ['color', 'price'], sortableAttributes: ['price'] })
    .waitTask();
});
after(() => node.stop());

test('documents reads: GET and POST fetch with filter, ids, sort, fields, offset/limit', async () => {
  const page = await client
    .index('shop')
    .getDocuments({ filter: 'color = red', sort: ['price:desc'], fields: ['sku', 'price'], limit: 3, offset: 1 });
  assert.deepEqual(page.results, [
    { sku: 's24', price: 24 },
    { sku: 's21', price: 21 },
    { sku: 's18', price: 18 },
  ]);
  assert.equal(page.total, 10);
  const byIds = await client.index('shop').getDocuments({ ids: ['s3', 's1', 'nope'] });
  assert.deepEqual(
    byIds.results.map((d) => d.sku),
    ['s1', 's3'],
  );
  const get = await fetch(`${node.url}/indexes/shop/documents?filter=price%20%3C%202&fields=sku`, { headers: auth() });
  assert.deepEqual(((await get.json()) as { results: unknown[] }).results, [{ sku: 's0' }, { sku: 's1' }]);
  assert.deepEqual(await client.index('shop').getDocument('s5', { fields: ['color'] }), { color: 'green' });
  const bad = await fetch(`${node.url}/indexes/shop/documents/fetch`, {
    method: 'POST',
    headers: auth(),
    body: JSON.stringify({ sort: ['sku:asc'] }),
  });
  assert.equal(((await bad.json()) as { code: string }).code, 'invalid_document_sort');
});

test('deletes: one, batch, by filter, all — one task each with Meilisearch details', async () => {
  await client.createIndex('tmp', { primaryKey: 'id' }).waitTask();
  await client
    .index('tmp')
    .addDocuments(Array.from({ length: 10 }, (_, i) => ({ id: i, even: i % 2 === 0 })))
    .waitTask();
  await client.index('tmp').updateFilterableAttributes(['even']).waitTask();
  const one = await client.index('tmp').deleteDocument(0).waitTask();
  assert.deepEqual(one.details, { providedIds: 1, deletedDocuments: 1, originalFilter: null });
  const batch = await client.index('tmp').deleteDocuments([1, 2, 99]).waitTask();
  assert.deepEqual(batch.details, { providedIds: 3, deletedDocuments: 2, originalFilter: null });
  const byFilter = await client.index('tmp').deleteDocuments({ filter: 'even = true' }).waitTask();
  assert.equal(byFilter.details?.deletedDocuments, 3);
  const all = await client.index('tmp').deleteAllDocuments().waitTask();
  assert.deepEqual(all.details, { deletedDocuments: 4 });
  assert.equal((await client.index('tmp').getStats()).numberOfDocuments, 0);
});

test('index update sets a primary key, renames; swap exchanges two indexes', async () => {
  await client.createIndex('a').waitTask();
  const pk = await client.index('a').update({ primaryKey: 'code' }).waitTask();
  assert.equal(pk.status, 'succeeded');
  assert.equal((await client.index('a').getRawInfo()).primaryKey, 'code');
  await client
    .index('a')
    .addDocuments([{ code: 'x', side: 'a' }])
    .waitTask();
  await client
    .index('b')
    .addDocuments([{ id: 1, side: 'b' }])
    .waitTask();
  const swap = await client.swapIndexes([{ indexes: ['a', 'b'], rename: false }]).waitTask();
  assert.equal(swap.status, 'succeeded');
  assert.deepEqual((await client.index('a').search('')).hits, [{ id: 1, side: 'b' }]);
  const rename = await client
    .index('b')
    .update({ uid: 'c' } as never)
    .waitTask();
  assert.equal(rename.status, 'succeeded');
  assert.equal((await client.index('c').getRawInfo()).primaryKey, 'code');
  const [status, code] = await client
    .index('b')
    .getRawInfo()
    .then(
      () => [200, ''],
      (e: MeilisearchApiError) => [e.response.status, (e.cause as { code: string }).code],
    );
  assert.deepEqual([status, code], [404, 'index_not_found']);
  const deleted = await client.deleteIndex('missing-index').waitTask();
  assert.equal(deleted.error?.code, 'index_not_found');
});

test('settings sub-routes use Meilisearch verbs; reset restores defaults', async () => {
  await client
    .index('shop')
    .updateTypoTolerance({ minWordSizeForTypos: { oneTypo: 4 } })
    .waitTask();
  assert.equal((await client.index('shop').getTypoTolerance())!.minWordSizeForTypos?.oneTypo, 4);
  const wrongVerb = await fetch(`${node.url}/indexes/shop/settings/typo-tolerance`, {
    method: 'PUT',
    headers: auth(),
    body: '{}',
  });
  assert.equal(wrongVerb.status, 405);
  await client.index('shop').updateStopWords(['the']).waitTask();
  assert.deepEqual(await client.index('shop').getStopWords(), ['the']);
  await client.index('shop').resetStopWords().waitTask();
  assert.deepEqual(await client.index('shop').getStopWords(), []);
  const bad = await fetch(`${node.url}/indexes/shop/settings/pagination`, {
    method: 'PATCH',
    headers: auth(),
    body: '{"maxTotalHits":-1}',
  });
  assert.equal(((await bad.json()) as { code: string }).code, 'invalid_settings_pagination');
});

test('tasks: cancel enqueued tasks by filter; delete finished ones; stats', async () => {
  await fetch(`${node.url}/_devnode/faults`, { method: 'POST', headers: auth(), body: '{"delay_ms":0}' });
  const cancel = await client.tasks.cancelTasks({ statuses: ['enqueued'] });
  const done = await client.tasks.waitForTask(cancel.taskUid);
  assert.equal(done.type, 'taskCancelation');
  assert.equal(typeof done.details?.canceledTasks, 'number');
  const del = await client.tasks.deleteTasks({ types: ['indexCreation'] });
  const deleted = await client.tasks.waitForTask(del.taskUid);
  assert.ok((deleted.details?.deletedTasks as number) >= 2);
  assert.equal((await client.tasks.getTasks({ types: ['indexCreation'] })).results.length, 0);
  const stats = await client.getStats();
  assert.equal(stats.indexes.shop!.numberOfDocuments, 30);
  assert.deepEqual(stats.indexes.shop!.fieldDistribution, { sku: 30, color: 30, price: 30 });
});

test('experimental features and /network as one CE node answers them', async () => {
  const features = await fetch(`${node.url}/experimental-features`, { headers: auth() }).then(
    (r) => r.json() as Promise<Record<string, unknown>>,
  );
  assert.equal(features.containsFilter, false);
  const net = await fetch(`${node.url}/network`, { headers: auth() });
  assert.deepEqual([net.status, ((await net.json()) as { code: string }).code], [400, 'feature_not_enabled']);
  const patched = await fetch(`${node.url}/experimental-features`, {
    method: 'PATCH',
    headers: auth(),
    body: '{"containsFilter":true,"network":true}',
  }).then((r) => r.json() as Promise<Record<string, unknown>>);
  assert.equal(patched.containsFilter, true);
  assert.equal((await client.index('shop').search('', { filter: 'color CONTAINS ee' })).hits.length, 10);
  assert.equal((await fetch(`${node.url}/network`, { headers: auth() })).status, 200);
});
