// Tasks in Meilisearch's order with one owner for index state (issue "Tasks in Meilisearch's order"), through the
// official client with its own habits: a creation not awaited before settings and documents (100 rounds at
// RG∈{1,2}×RF∈{1,2}); settings racing writes that bring new fields (no learned field lost); a task deletion
// right after an addition (it waits for it and deletes it); GET /tasks/{uid} answering while a settings verify is
// held by a slow node; a search whose every node failed (503, never an empty 200).
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { Meilisearch, MeilisearchApiError } from 'meilisearch';
import { startCluster, type TestCluster } from '../../support/cluster.js';
import { until } from '../../support/wait.js';

const client = (c: TestCluster) => new Meilisearch({ host: c.app.url, apiKey: c.masterKey });

async function nodeSettings(c: TestCluster, i: number, uid: string): Promise<Record<string, unknown>> {
  const res = await fetch(`${c.nodes[i]!.url}/indexes/${uid}/settings`, {
    headers: { authorization: `Bearer ${c.nodeKey}` },
  });
  return (await res.json()) as Record<string, unknown>;
}

async function fault(c: TestCluster, i: number, body: Record<string, unknown> | null): Promise<void> {
  await fetch(`${c.nodes[i]!.url}/_devnode/faults${body === null ? '/reset' : ''}`, {
    method: 'POST',
    headers: { authorization: `Bearer ${c.nodeKey}`, 'content-type': 'application/json' },
    body: body === null ? undefined : JSON.stringify(body),
  });
}

/** The client pattern: createIndex not awaited → settings → documents → a search filtering on the new setting. */
async function createSettingsDocumentsSearch(c: TestCluster, uid: string): Promise<void> {
  const ms = client(c);
  void ms.createIndex(uid); // not awaited, as the client's own examples do
  await ms
    .index(uid)
    .updateSettings({ filterableAttributes: ['genre'] })
    .waitTask();
  const docs = [
    { id: 1, title: 'Carol', genre: 'drama' },
    { id: 2, title: 'Alien', genre: 'horror' },
    { id: 3, title: 'Heat', genre: 'drama' },
  ];
  const added = await ms.index(uid).addDocuments(docs).waitTask();
  assert.equal(added.status, 'succeeded', `${uid}: ${JSON.stringify(added.error)}`);
  const res = await ms.index(uid).search('', { filter: 'genre = drama' });
  assert.deepEqual(res.hits.map((h) => h.id).sort(), [1, 3], `${uid}: filtered search`);
  assert.deepEqual(await ms.index(uid).getFilterableAttributes(), ['genre'], `${uid}: logical settings`);
  for (let i = 0; i < c.nodes.length; i++)
    assert.deepEqual(
      (await nodeSettings(c, i, uid)).filterableAttributes,
      ['genre', '_miroir_shard'],
      `${uid}: node-${i} physical settings`,
    );
}

describe('a creation not awaited, then settings, documents and a filtered search: 100 rounds per layout', () => {
  const layouts = [
    { rg: 1, rf: 1 },
    { rg: 1, rf: 2 },
    { rg: 2, rf: 1 },
    { rg: 2, rf: 2 },
  ];
  const clusters: TestCluster[] = [];
  before(async () => {
    for (const l of layouts) clusters.push(await startCluster({ nodes: 2, replicaGroups: l.rg, rf: l.rf, shards: 8 }));
  });
  after(async () => {
    for (const c of clusters) await c.close();
  });

  test("0 failures in 100 rounds at RG∈{1,2}×RF∈{1,2}; logical and every node's physical settings are what the user set", async () => {
    await Promise.all(
      clusters.map(async (c) => {
        for (let round = 0; round < 100; round++) await createSettingsDocumentsSearch(c, `movies_${round}`);
      }),
    );
  });
});

describe('index state under concurrency', () => {
  let cluster: TestCluster;
  before(async () => {
    cluster = await startCluster({ nodes: 3, rf: 1, shards: 8 });
  });
  after(() => cluster.close());

  test('settings updates racing writes that bring new fields: 30 rounds, no learned field lost', async () => {
    const ms = client(cluster);
    await ms.createIndex('race', { primaryKey: 'id' }).waitTask();
    for (let round = 0; round < 30; round++) {
      const field = `f${round}`;
      const [settings, docs] = await Promise.all([
        ms.index('race').updateSettings({ sortableAttributes: [`s${round}`], stopWords: [`w${round}`] }),
        ms.index('race').addDocuments([{ id: round, [field]: `needle${round}` }]),
      ]);
      await ms.tasks.waitForTasks([settings.taskUid, docs.taskUid]);
      const hits = await ms.index('race').search(`needle${round}`, { attributesToSearchOn: [field] });
      assert.deepEqual(
        hits.hits.map((h) => h.id),
        [round],
        `round ${round}: the document is searchable by its new field ${field}`,
      );
    }
    const physical = await nodeSettings(cluster, 0, 'race');
    for (let round = 0; round < 30; round++)
      assert.ok(
        (physical.searchableAttributes as string[]).includes(`f${round}`),
        `f${round} is in the physical searchable list`,
      );
  });

  test('a task deletion right after a document addition waits for it and deletes it, like Meilisearch', async () => {
    const ms = client(cluster);
    const added = await ms.index('race').addDocuments([{ id: 1000, title: 'later' }]); // not awaited
    const deletion = await ms.tasks.deleteTasks({ uids: [added.taskUid] }).waitTask();
    assert.equal(deletion.status, 'succeeded');
    assert.equal(deletion.details?.deletedTasks, 1);
    const gone = await ms.tasks
      .getTask(added.taskUid)
      .catch((e: MeilisearchApiError) => (e.cause as { code: string }).code);
    assert.equal(gone, 'task_not_found');
    assert.equal((await ms.index('race').getDocument(1000)).title, 'later', 'the write itself was applied');
  });

  test('GET /tasks/{uid} answers at once while a settings verify is held by a slow node', async () => {
    const ms = client(cluster);
    const enqueued = await ms.index('race').updateSettings({
      distinctAttribute: null,
      rankingRules: ['words', 'typo', 'proximity', 'attribute', 'sort', 'exactness'],
    });
    // The node's own task finishes, then every request to it takes 3 s: the verify (GET settings) is held.
    await until(async () => {
      const t = await fetch(`${cluster.nodes[1]!.url}/tasks?limit=1`, {
        headers: { authorization: `Bearer ${cluster.nodeKey}` },
      });
      return ((await t.json()) as { results: Array<{ status: string }> }).results[0]?.status === 'succeeded';
    }, 'the node task to finish');
    await fault(cluster, 1, { delay_ms: 3000 });
    try {
      for (let i = 0; i < 5; i++) {
        const started = performance.now();
        const task = await ms.tasks.getTask(enqueued.taskUid);
        const took = performance.now() - started;
        assert.ok(['enqueued', 'processing', 'succeeded'].includes(task.status));
        // Not a timing goal: a read that waited for the held verify would take the node's 3 s.
        assert.ok(took < 2500, `GET /tasks/{uid} answered without waiting for settlement (${Math.round(took)} ms)`);
      }
    } finally {
      await fault(cluster, 1, null);
    }
    assert.equal((await ms.tasks.waitForTask(enqueued.taskUid, { timeout: 30_000 })).status, 'succeeded');
  });
});

describe('a search whose every node failed', () => {
  let cluster: TestCluster;
  before(async () => {
    cluster = await startCluster({ nodes: 2, rf: 1, shards: 4, config: { health: { interval_ms: 60_000 } } });
  });
  after(() => cluster.close());

  test('answers 503 miroir_shard_unavailable, never an empty 200', async () => {
    const ms = client(cluster);
    await ms
      .index('gone')
      .addDocuments([{ id: 1, title: 'x' }])
      .waitTask();
    await fault(cluster, 0, { fail_requests: 1000 });
    await fault(cluster, 1, { fail_requests: 1000 });
    try {
      const res = await fetch(`${cluster.app.url}/indexes/gone/search`, {
        method: 'POST',
        headers: { authorization: `Bearer ${cluster.masterKey}`, 'content-type': 'application/json' },
        body: '{"q":"x"}',
      });
      assert.equal(res.status, 503);
      assert.equal(((await res.json()) as { code: string }).code, 'miroir_shard_unavailable');
    } finally {
      await fault(cluster, 0, null);
      await fault(cluster, 1, null);
    }
  });
});
