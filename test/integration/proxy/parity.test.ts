// Task listing through Miroir behaves like one dev node's: the same operations against both give the same task
// types, statuses, index uids, paging and filter answers. Also the `sequential` settings strategy.
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { Meilisearch } from 'meilisearch';
import { startCluster, type TestCluster } from '../../support/cluster.js';
import { startDevNode, type StartedNode } from '../../support/devnode.js';

let cluster: TestCluster;
let single: StartedNode;

before(async () => {
  cluster = await startCluster({
    nodes: 2,
    rf: 1,
    shards: 4,
    config: { settings_broadcast: { strategy: 'sequential' } },
  });
  single = await startDevNode({ masterKey: cluster.masterKey });
});
after(async () => {
  await cluster.close();
  await single.stop();
});

async function script(c: Meilisearch): Promise<void> {
  await c.createIndex('movies', { primaryKey: 'id' }).waitTask();
  await c.createIndex('books').waitTask();
  await c.createIndex('movies').waitTask(); // fails: index_already_exists
  await c.index('movies').updateFilterableAttributes(['genre']).waitTask();
  await c.index('books').updateRankingRules(['words', 'sort']).waitTask();
  await c.deleteIndex('books').waitTask();
  await c.deleteIndex('ghost').waitTask(); // fails: index_not_found
}

const shape = (r: {
  results: Array<{ type: string; status: string; indexUid: string | null; error?: { code: string } | null }>;
}) => r.results.map((t) => `${t.type}:${t.status}:${t.indexUid}:${t.error?.code ?? ''}`);

test('the same operations give the same task list, filters and paging through Miroir and on one node', async () => {
  const viaMiroir = new Meilisearch({ host: cluster.app.url, apiKey: cluster.masterKey });
  const direct = new Meilisearch({ host: single.url, apiKey: cluster.masterKey });
  await script(viaMiroir);
  await script(direct);
  const queries: Array<Parameters<Meilisearch['tasks']['getTasks']>[0]> = [
    {},
    { limit: 3 },
    { limit: 2, from: 4 },
    { statuses: ['failed'] },
    { types: ['settingsUpdate', 'indexDeletion'] },
    { indexUids: ['movies'] },
    { reverse: true, limit: 4 },
  ];
  for (const q of queries) {
    const a = await viaMiroir.tasks.getTasks(q);
    const b = await direct.tasks.getTasks(q);
    assert.deepEqual(shape(a), shape(b), JSON.stringify(q));
    assert.deepEqual([a.total, a.limit, a.from, a.next], [b.total, b.limit, b.from, b.next], JSON.stringify(q));
  }
});

test('the sequential strategy applies settings node by node and verifies each', async () => {
  const c = new Meilisearch({ host: cluster.app.url, apiKey: cluster.masterKey });
  const task = await c.index('movies').updateSortableAttributes(['year']).waitTask();
  assert.equal(task.status, 'succeeded');
  for (const n of cluster.nodes) {
    const res = await fetch(`${n.url}/indexes/movies/settings/sortable-attributes`, {
      headers: { authorization: `Bearer ${cluster.nodeKey}` },
    });
    assert.deepEqual(await res.json(), ['year']);
  }
  assert.deepEqual(await c.index('movies').getSortableAttributes(), ['year']);
});
