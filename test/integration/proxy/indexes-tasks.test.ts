// Index creation and deletion through Miroir with the official client: one Miroir task per broadcast, the
// aggregated status (incl. Meilisearch's task errors), physical settings on every node, Miroir's own index view,
// task listing with filters and paging, persistence across a proxy restart, and refusal when a node is missing.
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { Meilisearch, MeilisearchApiError } from 'meilisearch';
import { startCluster, type TestCluster } from '../../support/cluster.js';

let cluster: TestCluster;
const client = () => new Meilisearch({ host: cluster.app.url, apiKey: cluster.masterKey });

before(async () => {
  cluster = await startCluster({ nodes: 3, rf: 1, shards: 8 });
});
after(() => cluster.close());

async function nodeGet(i: number, path: string): Promise<{ status: number; body: Record<string, unknown> }> {
  const res = await fetch(cluster.nodes[i]!.url + path, { headers: { authorization: `Bearer ${cluster.nodeKey}` } });
  return { status: res.status, body: (await res.json()) as Record<string, unknown> };
}

test('createIndex: one task that waitTask sees succeed; every node holds the index with _miroir_shard filterable', async () => {
  const task = await client().createIndex('movies', { primaryKey: 'id' }).waitTask();
  assert.equal(task.status, 'succeeded');
  assert.equal(task.type, 'indexCreation');
  assert.deepEqual(task.details, { primaryKey: 'id' });
  assert.equal(task.batchUid, task.uid, 'one task per batch, under the task uid');
  const info = await client().index('movies').getRawInfo();
  assert.equal(info.primaryKey, 'id');
  for (let i = 0; i < 3; i++) {
    const settings = await nodeGet(i, '/indexes/movies/settings');
    assert.deepEqual(settings.body.filterableAttributes, ['_miroir_shard'], `node-${i} physical settings`);
  }
  assert.deepEqual(
    (await client().getIndexes()).results.map((r) => r.uid),
    ['movies'],
  );
});

test('a second create fails the task with index_already_exists, like Meilisearch', async () => {
  const task = await client().createIndex('movies').waitTask();
  assert.equal(task.status, 'failed');
  assert.equal(task.error?.code, 'index_already_exists');
});

test('task list: filters, newest first, from/next paging and reverse, like one node', async () => {
  const failed = await client().tasks.getTasks({ statuses: ['failed'] });
  assert.equal(failed.results.length, 1);
  assert.equal(failed.results[0]!.error?.code, 'index_already_exists');
  await client().createIndex('books').waitTask();
  await client().createIndex('songs').waitTask();
  const page1 = await client().tasks.getTasks({ limit: 2 });
  assert.deepEqual(
    page1.results.map((t) => t.indexUid),
    ['songs', 'books'],
  );
  assert.equal(page1.total, 4);
  const page2 = await client().tasks.getTasks({ limit: 2, from: page1.next! });
  assert.deepEqual(
    page2.results.map((t) => t.indexUid),
    ['movies', 'movies'],
  );
  assert.equal(page2.next, null);
  const oldest = await client().tasks.getTasks({ reverse: true, limit: 1 });
  assert.equal(oldest.results[0]!.uid, 0);
  const bad = await client()
    .tasks.getTasks({ statuses: ['nope' as never] })
    .catch((e: MeilisearchApiError) => (e.cause as { code: string }).code);
  assert.equal(bad, 'invalid_task_statuses');
});

test('deleteIndex removes it everywhere; deleting a missing index fails with index_not_found', async () => {
  const task = await client().deleteIndex('books').waitTask();
  assert.equal(task.status, 'succeeded');
  for (let i = 0; i < 3; i++) assert.equal((await nodeGet(i, '/indexes/books')).status, 404);
  const status = await client()
    .index('books')
    .getRawInfo()
    .then(
      () => 200,
      (e: MeilisearchApiError) => e.response.status,
    );
  assert.equal(status, 404);
  const missing = await client().deleteIndex('never-was').waitTask();
  assert.equal(missing.error?.code, 'index_not_found');
});

test('tasks survive a proxy restart and uids keep increasing', async () => {
  const before = await client().tasks.getTasks({ limit: 1 });
  await cluster.restartProxy();
  const again = await client().tasks.getTask(before.results[0]!.uid);
  assert.equal(again.status, before.results[0]!.status);
  const next = await client().createIndex('after-restart').waitTask();
  assert.ok(next.uid > before.results[0]!.uid);
});

test('index creation needs every node: with one node down it is refused and nothing is left behind', async () => {
  await cluster.stopNode(2);
  try {
    const res = await fetch(`${cluster.app.url}/indexes`, {
      method: 'POST',
      headers: { authorization: `Bearer ${cluster.masterKey}`, 'content-type': 'application/json' },
      body: '{"uid":"partial"}',
    });
    assert.equal(res.status, 503);
    assert.equal(((await res.json()) as { code: string }).code, 'miroir_no_quorum');
    for (let i = 0; i < 2; i++)
      assert.equal((await nodeGet(i, '/indexes/partial')).status, 404, `node-${i} rolled back`);
  } finally {
    await cluster.startNode(2);
  }
});
