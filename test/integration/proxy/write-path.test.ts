// The write path over real dev nodes: documents land on exactly their rendezvous owners (RF 1 and 2), two-rule
// quorum (degraded 202 with X-Miroir-Degraded, 503 miroir_no_quorum, RF=3 surviving a loss), content problems as
// failed tasks with nothing sent, a lost answer never duplicates a node task, physical settings follow new fields.
import assert from 'node:assert/strict';
import { after, test } from 'node:test';
import { Meilisearch } from 'meilisearch';
import { shardForKey } from '../../../src/core/hash.js';
import { assignShard } from '../../../src/core/rendezvous.js';
import { startCluster, type TestCluster } from '../../support/cluster.js';

const clusters: TestCluster[] = [];
after(async () => {
  for (const c of clusters) await c.close();
});

async function cluster(opts: Parameters<typeof startCluster>[0]): Promise<TestCluster> {
  const c = await startCluster(opts);
  clusters.push(c);
  return c;
}

const client = (c: TestCluster) => new Meilisearch({ host: c.app.url, apiKey: c.masterKey });
const docs = (n: number, from = 0) =>
  Array.from({ length: n }, (_, i) => ({
    id: from + i,
    title: `document number ${from + i}`,
    color: ['red', 'green', 'blue'][i % 3],
  }));

async function nodeHas(c: TestCluster, i: number, index: string, id: number | string): Promise<boolean> {
  const res = await fetch(`${c.nodes[i]!.url}/indexes/${index}/documents/${id}`, {
    headers: { authorization: `Bearer ${c.nodeKey}` },
  });
  return res.status === 200;
}

async function nodeTasks(
  c: TestCluster,
  i: number,
  query: string,
): Promise<Array<{ type: string; customMetadata?: string }>> {
  const res = await fetch(`${c.nodes[i]!.url}/tasks?${query}`, { headers: { authorization: `Bearer ${c.nodeKey}` } });
  return ((await res.json()) as { results: Array<{ type: string; customMetadata?: string }> }).results;
}

function post(c: TestCluster, index: string, body: string, type = 'application/json'): Promise<Response> {
  return fetch(`${c.app.url}/indexes/${index}/documents`, {
    method: 'POST',
    headers: { authorization: `Bearer ${c.masterKey}`, 'content-type': type },
    body,
  });
}

test('1,000 documents at RF=1 are each on exactly their owner, every node holds ≥ 20%; RF=2 puts each on exactly two', async () => {
  for (const rf of [1, 2]) {
    const c = await cluster({ nodes: 3, rf, shards: 16 });
    const task = await client(c).index('items').addDocuments(docs(1000)).waitTask();
    assert.equal(task.status, 'succeeded');
    assert.deepEqual(task.details, { receivedDocuments: 1000, indexedDocuments: 1000 });
    const ids = c.config.nodes.map((n) => n.id);
    const perNode = [0, 0, 0];
    for (let d = 0; d < 1000; d += rf === 1 ? 1 : 7) {
      const owners = assignShard(shardForKey(String(d), 16), ids, rf);
      for (let i = 0; i < 3; i++) {
        const has = await nodeHas(c, i, 'items', d);
        assert.equal(has, owners.includes(ids[i]!), `doc ${d} on node-${i} (RF ${rf})`);
        if (has) perNode[i]!++;
      }
    }
    if (rf === 1) for (const n of perNode) assert.ok(n >= 200, `each node ≥ 20%: ${perNode}`);
    assert.equal((await client(c).index('items').getStats()).numberOfDocuments, 1000);
  }
});

test('quorum: one group losing a shard degrades (202 + header), both groups losing it refuses (503); RF=3 survives one loss', async () => {
  const c = await cluster({ nodes: 2, replicaGroups: 2, rf: 1, shards: 8 });
  await client(c).index('q').addDocuments(docs(10)).waitTask();
  await c.stopNode(0);
  const degraded = await post(c, 'q', JSON.stringify(docs(20, 100)));
  assert.equal(degraded.status, 202);
  assert.match(String(degraded.headers.get('x-miroir-degraded')), /^groups=0;shards=[\d,]+$/);
  await c.stopNode(2);
  const bothDown = docs(40, 200).filter(
    (d) =>
      assignShard(shardForKey(String(d.id), 8), ['node-0', 'node-1'], 1)[0] === 'node-0' &&
      assignShard(shardForKey(String(d.id), 8), ['node-2', 'node-3'], 1)[0] === 'node-2',
  );
  assert.ok(bothDown.length > 0);
  const refused = await post(c, 'q', JSON.stringify(bothDown));
  assert.equal(refused.status, 503);
  assert.equal(((await refused.json()) as { code: string }).code, 'miroir_no_quorum');
  assert.equal(refused.headers.get('retry-after'), '10');
  await c.startNode(0);
  await c.startNode(2);

  const rf3 = await cluster({ nodes: 3, rf: 3, shards: 8 });
  await client(rf3).index('r').addDocuments(docs(5)).waitTask();
  await rf3.stopNode(1);
  const ok = await post(rf3, 'r', JSON.stringify(docs(30, 50)));
  assert.equal(ok.status, 202, 'two of three ACKs pass quorum');
  assert.equal(ok.headers.get('x-miroir-degraded'), null);
  await rf3.startNode(1);
});

test('content problems fail the task and reach no node; malformed NDJSON is refused synchronously', async () => {
  const c = await cluster({ nodes: 3, rf: 1, shards: 8 });
  await client(c).index('v').addDocuments(docs(3)).waitTask();
  const before = await Promise.all([0, 1, 2].map((i) => nodeTasks(c, i, 'indexUids=v&types=documentAdditionOrUpdate')));
  const cases: Array<[unknown[], string]> = [
    [[{ id: 1, title: 'ok' }, { title: 'no id' }], 'missing_document_id'],
    [[{ id: 'bad id!' }], 'invalid_document_id'],
    [[{ id: 9, _miroir_shard: 3 }], 'miroir_reserved_field'],
  ];
  for (const [batch, code] of cases) {
    const task = await client(c)
      .index('v')
      .addDocuments(batch as Array<Record<string, unknown>>)
      .waitTask();
    assert.equal(task.status, 'failed');
    assert.equal(task.error?.code, code);
  }
  const nd = await post(c, 'v', '{"id":1}\n{"id":', 'application/x-ndjson');
  assert.equal(nd.status, 400);
  assert.equal(((await nd.json()) as { code: string }).code, 'malformed_payload');
  const after = await Promise.all([0, 1, 2].map((i) => nodeTasks(c, i, 'indexUids=v&types=documentAdditionOrUpdate')));
  assert.deepEqual(
    after.map((l) => l.length),
    before.map((l) => l.length),
    'no node received anything',
  );
  const noPk = await client(c)
    .index('nopk')
    .addDocuments([{ title: 'x' }])
    .waitTask();
  assert.equal(noPk.error?.code, 'index_primary_key_no_candidate_found');
});

test('a node that enqueues then fails its answer ends with exactly one node task for the batch', async () => {
  const c = await cluster({ nodes: 3, rf: 1, shards: 8 });
  await client(c).index('f').addDocuments(docs(3)).waitTask();
  for (let i = 0; i < 3; i++) {
    await fetch(`${c.nodes[i]!.url}/_devnode/faults`, {
      method: 'POST',
      headers: { authorization: `Bearer ${c.nodeKey}`, 'content-type': 'application/json' },
      body: '{"fail_after_enqueue":1}',
    });
  }
  const task = await client(c).index('f').addDocuments(docs(60, 1000)).waitTask();
  assert.equal(task.status, 'succeeded');
  for (let i = 0; i < 3; i++) {
    const tagged = (await nodeTasks(c, i, 'indexUids=f&types=documentAdditionOrUpdate&limit=100')).filter(
      (t) => t.customMetadata === `miroir-task-${task.uid}`,
    );
    assert.equal(tagged.length, 1, `node-${i} holds exactly one task for the batch`);
  }
});

test('physical settings: _miroir_shard filterable, learned fields searchable, never _miroir_shard; deletes routed and broadcast', async () => {
  const c = await cluster({ nodes: 3, rf: 1, shards: 8 });
  await client(c).index('p').addDocuments(docs(30)).waitTask();
  await client(c)
    .index('p')
    .addDocuments([{ id: 500, title: 'late', extra: 'new field' }])
    .waitTask();
  for (let i = 0; i < 3; i++) {
    const s = (await (
      await fetch(`${c.nodes[i]!.url}/indexes/p/settings`, { headers: { authorization: `Bearer ${c.nodeKey}` } })
    ).json()) as Record<string, string[]>;
    assert.ok(s.filterableAttributes!.includes('_miroir_shard'));
    assert.deepEqual(s.searchableAttributes, ['id', 'title', 'color', 'extra']);
    const hits = (await (
      await fetch(`${c.nodes[i]!.url}/indexes/p/search`, {
        method: 'POST',
        headers: { authorization: `Bearer ${c.nodeKey}`, 'content-type': 'application/json' },
        body: '{"q":"5","limit":100}',
      })
    ).json()) as { hits: Array<Record<string, unknown>> };
    for (const h of hits.hits) {
      const { _miroir_shard: _shard, ...content } = h;
      void _shard;
      assert.match(
        JSON.stringify(content),
        /5/,
        `a search for "5" may only match real content, not the shard id (${JSON.stringify(h)})`,
      );
    }
  }
  assert.deepEqual(
    await client(c)
      .index('p')
      .getSettings()
      .then((s) => s.filterableAttributes),
    [],
    'clients see logical settings',
  );
  const one = await client(c).index('p').deleteDocument(3).waitTask();
  assert.deepEqual(one.details, { providedIds: 1, deletedDocuments: 1, originalFilter: null });
  const batch = await client(c).index('p').deleteDocuments([4, 5, 999]).waitTask();
  assert.equal(batch.details?.deletedDocuments, 2);
  await client(c).index('p').updateFilterableAttributes(['color']).waitTask();
  const byFilter = await client(c).index('p').deleteDocuments({ filter: 'color = red' }).waitTask();
  assert.equal(byFilter.status, 'succeeded');
  assert.equal(
    (await client(c).index('p').getStats()).numberOfDocuments,
    31 - 3 - (byFilter.details?.deletedDocuments as number),
  );
  await client(c).index('p').deleteAllDocuments().waitTask();
  assert.equal((await client(c).index('p').getStats()).numberOfDocuments, 0);
});

test('the first write to a new index needs every node (like POST /indexes): refused with a node down, fine after', async () => {
  const c = await cluster({ nodes: 3, rf: 2, shards: 8 });
  await c.stopNode(1);
  const refused = await post(c, 'fresh', JSON.stringify(docs(5)));
  assert.equal(refused.status, 503);
  assert.equal(((await refused.json()) as { code: string }).code, 'miroir_no_quorum');
  assert.equal((await client(c).getIndexes()).total, 0, 'Miroir does not know the index');
  await c.startNode(1);
  const task = await client(c).index('fresh').addDocuments(docs(5)).waitTask();
  assert.equal(task.status, 'succeeded');
  for (let i = 0; i < 3; i++) {
    const s = (await (
      await fetch(`${c.nodes[i]!.url}/indexes/fresh/settings`, { headers: { authorization: `Bearer ${c.nodeKey}` } })
    ).json()) as { filterableAttributes: string[] };
    assert.ok(s.filterableAttributes.includes('_miroir_shard'), `node-${i} has the physical settings`);
  }
});

test('concurrent batches with different new fields: every field ends up in the physical searchable list', async () => {
  const c = await cluster({ nodes: 2, rf: 1, shards: 4 });
  await client(c)
    .index('mix')
    .addDocuments([{ id: 0, a: 'x' }])
    .waitTask();
  const batches = Array.from({ length: 6 }, (_, i) =>
    client(c)
      .index('mix')
      .addDocuments([{ id: i + 1, [`field${i}`]: `v${i}` }]),
  );
  for (const t of await Promise.all(batches))
    assert.equal((await client(c).tasks.waitForTask(t.taskUid)).status, 'succeeded');
  const s = (await (
    await fetch(`${c.nodes[0]!.url}/indexes/mix/settings`, { headers: { authorization: `Bearer ${c.nodeKey}` } })
  ).json()) as { searchableAttributes: string[] };
  assert.deepEqual([...s.searchableAttributes].sort(), [
    'a',
    'field0',
    'field1',
    'field2',
    'field3',
    'field4',
    'field5',
    'id',
  ]);
});
