// Adaptive replica selection (SPEC A3): with one replica much slower than the other, ≥ 90 % of its shards' reads go
// to the other replica after warm-up, yet exploration still sends it some (counted in
// miroir_replica_selection_exploration_total), so when it recovers its share comes back.
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { Meilisearch } from 'meilisearch';
import { startCluster, type TestCluster } from '../../support/cluster.js';
import { until } from '../../support/wait.js';

let cluster: TestCluster;
let client: Meilisearch;

before(async () => {
  cluster = await startCluster({
    nodes: 2,
    rf: 2,
    shards: 8,
    // Hedging off: only selection decides where reads go. A short half-life so recovery shows within the test.
    config: { hedging: { enabled: false }, replica_selection: { ewma_half_life_ms: 1000 } },
  });
  client = new Meilisearch({ host: cluster.app.url, apiKey: cluster.masterKey });
  await client.createIndex('r', { primaryKey: 'id' }).waitTask();
  await client.index('r').updateFilterableAttributes(['cat']).waitTask();
  await client
    .index('r')
    .addDocuments(Array.from({ length: 40 }, (_, i) => ({ id: i, title: `doc ${i}`, cat: ['a', 'b'][i % 2] })))
    .waitTask();
});
after(() => cluster.close());

const reads = (i: number) => {
  const c = cluster.nodes[i]!.requestCounts;
  return (c.get('POST /indexes/:uid/search') ?? 0) + (c.get('GET /indexes/:uid/documents/:id') ?? 0);
};

async function metric(name: string, labels = ''): Promise<number> {
  const text = await (await fetch(`http://127.0.0.1:${cluster.app.metricsPort}/metrics`)).text();
  const m = new RegExp(`^${name}${labels.replace(/[{}]/g, '\\$&')} ([\\d.e+-]+)`, 'm').exec(text);
  return m === null ? 0 : Number(m[1]);
}

async function scoresText(): Promise<string> {
  const res = await fetch(`${cluster.app.url}/indexes/r/explain`, {
    method: 'POST',
    headers: { authorization: `Bearer ${cluster.masterKey}`, 'content-type': 'application/json' },
    body: '{}',
  });
  return JSON.stringify(((await res.json()) as { plan: { node_scores: unknown } }).plan.node_scores);
}

async function faults(i: number, body: object): Promise<void> {
  await fetch(`${cluster.nodes[i]!.url}/_devnode/faults`, {
    method: 'POST',
    headers: { authorization: `Bearer ${cluster.nodeKey}`, 'content-type': 'application/json' },
    body: JSON.stringify(body),
  });
}

/** Searches (half with facets: the merge path; half without: the one-node pass-through) and document reads. */
async function load(n: number): Promise<void> {
  for (let i = 0; i < n; i++) {
    if (i % 3 === 2) await client.index('r').getDocument(i % 40);
    else
      assert.equal(
        (await client.index('r').search('doc', i % 2 === 0 ? { facets: ['cat'] } : {})).estimatedTotalHits,
        40,
      );
  }
}

test('a node much slower than its replica gets ≤ 10 % of the reads after warm-up, and some through exploration', async () => {
  await load(20); // both fast: reads spread over both replicas
  assert.ok(reads(0) > 3 && reads(1) > 3, `spread while equal (${reads(0)} / ${reads(1)})`);
  await faults(0, { delay_ms: 200 });
  try {
    await load(30); // warm-up: the selector learns node-0 is slow
    const [a0, a1] = [reads(0), reads(1)];
    const explored = await metric('miroir_replica_selection_exploration_total');
    await load(300);
    const slow = reads(0) - a0;
    const fast = reads(1) - a1;
    const share = slow / (slow + fast);
    const scores = `${await scoresText()} explorations ${(await metric('miroir_replica_selection_exploration_total')) - explored}`;
    assert.ok(share <= 0.1, `slow node share ${(share * 100).toFixed(1)} % (${slow} of ${slow + fast}); ${scores}`);
    assert.ok(slow > 0, 'exploration still reaches the slow node');
    assert.ok((await metric('miroir_replica_selection_exploration_total')) > explored, 'explorations counted');
    const s0 = await metric('miroir_replica_selection_score', '{node_id="node-0"}');
    const s1 = await metric('miroir_replica_selection_score', '{node_id="node-1"}');
    assert.ok(s0 > s1, `scores: node-0 ${s0} > node-1 ${s1}`);
  } finally {
    await faults(0, { delay_ms: 0 });
  }
  // Recovered: exploration reads see it fast again and its share comes back.
  await until(
    async () => {
      const [b0, b1] = [reads(0), reads(1)];
      await load(30);
      return (reads(0) - b0) / (reads(0) - b0 + reads(1) - b1) >= 0.25;
    },
    'the recovered node to get reads again',
    30_000,
    0,
  );
});
