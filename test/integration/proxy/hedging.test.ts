// Hedged reads (SPEC A2): once the hedge trigger is armed, a node request running past it is duplicated to another
// replica of the same shards and the first answer wins (searches and document GETs stay complete and correct while
// one replica stalls); writes are never hedged — every node receives each write exactly once.
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { Meilisearch } from 'meilisearch';
import { startCluster, type TestCluster } from '../../support/cluster.js';

let cluster: TestCluster;
let client: Meilisearch;

before(async () => {
  cluster = await startCluster({
    nodes: 3,
    rf: 2,
    shards: 8,
    // Round-robin selection keeps sending reads to the stalled node, so every one of them needs its hedge.
    config: { replica_selection: { strategy: 'round_robin' }, hedging: { max_hedges_per_query: 3 } },
  });
  client = new Meilisearch({ host: cluster.app.url, apiKey: cluster.masterKey });
  await client.createIndex('h', { primaryKey: 'id' }).waitTask();
  await client.index('h').updateFilterableAttributes(['cat']).waitTask();
  await client
    .index('h')
    .addDocuments(Array.from({ length: 60 }, (_, i) => ({ id: i, title: `doc ${i}`, cat: ['a', 'b', 'c'][i % 3] })))
    .waitTask();
});
after(() => cluster.close());

async function metric(name: string, labels = ''): Promise<number> {
  const text = await (await fetch(`http://127.0.0.1:${cluster.app.metricsPort}/metrics`)).text();
  const m = new RegExp(`^${name}${labels.replace(/[{}]/g, '\\$&')} ([\\d.e+-]+)`, 'm').exec(text);
  return m === null ? 0 : Number(m[1]);
}

async function faults(i: number, body: object): Promise<void> {
  await fetch(`${cluster.nodes[i]!.url}/_devnode/faults`, {
    method: 'POST',
    headers: { authorization: `Bearer ${cluster.nodeKey}`, 'content-type': 'application/json' },
    body: JSON.stringify(body),
  });
}

const writes = () =>
  cluster.nodes.map((n) => {
    let w = 0;
    for (const [route, count] of n.requestCounts)
      if (/^(POST|PUT|DELETE) \/indexes\/:uid\/documents/.test(route)) w += count;
    return w;
  });

test('a stalled replica: searches and document GETs are answered by hedges, complete', async () => {
  for (let i = 0; i < 15; i++) await client.index('h').search('doc', { facets: ['cat'] }); // arm the trigger
  const won = await metric('miroir_hedge_fired_total', '{outcome="won"}');
  await faults(0, { delay_ms: 2000 });
  try {
    for (let i = 0; i < 6; i++) {
      const r = await client.index('h').search('doc', { facets: ['cat'], limit: 100 });
      assert.equal(r.estimatedTotalHits, 60);
      assert.equal(r.hits.length, 60);
      assert.deepEqual(r.facetDistribution, { cat: { a: 20, b: 20, c: 20 } });
    }
    for (let i = 0; i < 6; i++) assert.equal((await client.index('h').getDocument(i)).id, i);
    assert.ok((await metric('miroir_hedge_fired_total', '{outcome="won"}')) > won, 'hedges won');
  } finally {
    await faults(0, { delay_ms: 0 });
  }
});

test('writes are never hedged: each node gets each write once, even with a stalled replica', async () => {
  await faults(0, { delay_ms: 300 });
  try {
    const before = writes();
    for (let b = 0; b < 3; b++)
      await client
        .index('h')
        .addDocuments(Array.from({ length: 10 }, (_, i) => ({ id: 100 + b * 10 + i, title: 'new', cat: 'a' })))
        .waitTask();
    await client.index('h').deleteDocument(100).waitTask();
    const after = writes();
    // Every node holds some of the new documents' shards: each batch reached it once (never twice).
    const delta = after.map((w, i) => w - before[i]!);
    for (const d of delta) assert.ok(d <= 4, `writes per node ${JSON.stringify(delta)}`);
    assert.equal(
      delta.reduce((a, b) => a + b, 0),
      cluster.nodes.length * 3 + 2,
      `3 batches to every node, the delete to both owners: ${JSON.stringify(delta)}`,
    );
  } finally {
    await faults(0, { delay_ms: 0 });
  }
});

test('the one-node pass-through is hedged to another node holding every shard', async () => {
  const two = await startCluster({
    nodes: 2,
    rf: 2,
    shards: 8,
    config: { replica_selection: { strategy: 'round_robin' } },
  });
  try {
    const m = new Meilisearch({ host: two.app.url, apiKey: two.masterKey });
    await m.createIndex('p', { primaryKey: 'id' }).waitTask();
    await m
      .index('p')
      .addDocuments(Array.from({ length: 30 }, (_, i) => ({ id: i, title: `doc ${i}` })))
      .waitTask();
    for (let i = 0; i < 25; i++) await m.index('p').search('doc'); // arm the trigger
    const won = async () => {
      const text = await (await fetch(`http://127.0.0.1:${two.app.metricsPort}/metrics`)).text();
      return Number(/^miroir_hedge_fired_total\{outcome="won"\} (\d+)/m.exec(text)?.[1] ?? 0);
    };
    const before = await won();
    await fetch(`${two.nodes[0]!.url}/_devnode/faults`, {
      method: 'POST',
      headers: { authorization: `Bearer ${two.nodeKey}`, 'content-type': 'application/json' },
      body: JSON.stringify({ delay_ms: 2000 }),
    });
    for (let i = 0; i < 4; i++) assert.equal((await m.index('p').search('doc', { limit: 50 })).hits.length, 30);
    assert.ok((await won()) > before, 'hedges won on the pass-through');
  } finally {
    await two.close();
  }
});
