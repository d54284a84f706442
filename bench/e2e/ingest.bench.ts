// Ingest throughput, side by side in one run: documents/s indexed via Miroir (3 dev nodes, S=16, RF=1) ÷ straight
// into one dev node. A third side, "split", has the client itself cut each batch by shard and post the parts
// straight to the same three nodes (with `_miroir_shard`, as Miroir sends them): no proxy at all, so split ÷ direct
// is what three in-process nodes cost against one here, and Miroir ÷ split is what Miroir itself adds. Each side receives the same 20 batches of 1,000 documents into a fresh index and is timed until
// every task succeeded; one warm-up round, then 5 rounds alternating the sides, and the median of the per-round
// ratios is reported (this 2-core machine is noisy: single rounds vary by ±20%). Run after `npm run build`:
// `node dist/bench/e2e/ingest.bench.js` (writes bench/results/ingest.json).
import { mkdirSync, writeFileSync } from 'node:fs';
import { Meilisearch } from 'meilisearch';
import { DevNode } from '../../src/devnode/node.js';
import { startBenchProxy } from './proxy.js';
import { shardForKey } from '../../src/core/hash.js';

// 20,000 documents per side, in batches of `BENCH_BATCH` (default 1,000): bigger batches spread the fixed cost of
// each request (and of the extra hop through Miroir) over more documents.
const PER_BATCH = Number(process.env.BENCH_BATCH ?? 1000);
const BATCHES = Math.ceil(20_000 / PER_BATCH);
const batches = Array.from({ length: BATCHES }, (_, b) =>
  Array.from({ length: PER_BATCH }, (_, i) => ({
    id: b * PER_BATCH + i,
    title: `product ${b}-${i} quick brown`,
    price: (i * 31) % 500,
    color: ['red', 'green', 'blue'][i % 3],
  })),
);

const ROUNDS = 5;

async function ingest(client: Meilisearch, index: string): Promise<number> {
  await client.createIndex(index, { primaryKey: 'id' }).waitTask();
  const t0 = performance.now();
  const tasks = [];
  for (const docs of batches) tasks.push(await client.index(index).addDocuments(docs));
  for (const t of tasks) {
    const done = await client.tasks.waitForTask(t.taskUid, { interval: 10, timeout: 120_000 });
    if (done.status !== 'succeeded') throw new Error(`task ${t.taskUid} ${done.status}: ${JSON.stringify(done.error)}`);
  }
  return ((BATCHES * PER_BATCH) / (performance.now() - t0)) * 1000;
}

/** The "split" side: each batch cut by shard over the three nodes (the proxy's own table), posted in parallel. */
async function ingestSplit(clients: Meilisearch[], owner: (shard: number) => number, index: string): Promise<number> {
  for (const c of clients) {
    await c.createIndex(index, { primaryKey: 'id' }).waitTask();
    await c
      .index(index)
      .updateSettings({
        filterableAttributes: ['_miroir_shard'],
        searchableAttributes: ['id', 'title', 'price', 'color'],
      })
      .waitTask();
  }
  const t0 = performance.now();
  const tasks: Array<Array<{ taskUid: number }>> = [];
  for (const docs of batches) {
    const parts: Array<Array<Record<string, unknown>>> = clients.map(() => []);
    for (const d of docs) {
      const shard = shardForKey(String(d.id), 16);
      parts[owner(shard)]!.push({ ...d, _miroir_shard: shard });
    }
    tasks.push(await Promise.all(parts.map((p, k) => clients[k]!.index(index).addDocuments(p))));
  }
  for (const ts of tasks)
    for (let k = 0; k < clients.length; k++)
      await clients[k]!.tasks.waitForTask(ts[k]!.taskUid, { interval: 10, timeout: 120_000 });
  return ((BATCHES * PER_BATCH) / (performance.now() - t0)) * 1000;
}

const nodeKey = 'bench-node-key-000001';
const master = 'bench-master-key-00001';
const direct = await DevNode.start({ port: 0, masterKey: master });
const nodes = await Promise.all([0, 1, 2].map(() => DevNode.start({ port: 0, masterKey: nodeKey })));
const { app, close } = await startBenchProxy(
  nodes.map((n) => n.url),
  master,
  nodeKey,
);
try {
  const directClient = new Meilisearch({ host: direct.url, apiKey: master });
  const miroirClient = new Meilisearch({ host: app.url, apiKey: master });
  await ingest(directClient, 'warmup');
  await ingest(miroirClient, 'warmup');
  await Promise.all([directClient, miroirClient].map((c) => c.deleteIndex('warmup').waitTask()));
  const nodeClients = nodes.map((n) => new Meilisearch({ host: n.url, apiKey: nodeKey }));
  const table = app.topology.routing;
  // The proxy names its nodes node-0..node-2 (bench/e2e/proxy.ts): the split side sends each shard where Miroir does.
  const owner = (shard: number): number =>
    Number([...table.writeTargets(shard).values()].flat()[0]!.slice('node-'.length));
  const sides = {
    direct: (r: number) => ingest(directClient, `bench-${r}`),
    miroir: (r: number) => ingest(miroirClient, `bench-${r}`),
    split: (r: number) => ingestSplit(nodeClients, owner, `split-${r}`),
  };
  const orders: Array<Array<keyof typeof sides>> = [
    ['direct', 'miroir', 'split'],
    ['miroir', 'split', 'direct'],
    ['split', 'direct', 'miroir'],
  ];
  const rounds: Array<{ direct: number; miroir: number; split: number; ratio: number; splitRatio: number }> = [];
  for (let r = 0; r < ROUNDS; r++) {
    // Rotate which side goes first so none always runs on a warmer (or busier) machine.
    const rate: Record<string, number> = {};
    for (const side of orders[r % orders.length]!) rate[side] = await sides[side](r);
    const [d, m, sp] = [rate.direct!, rate.miroir!, rate.split!];
    rounds.push({
      direct: Math.round(d),
      miroir: Math.round(m),
      split: Math.round(sp),
      ratio: Number((m / d).toFixed(3)),
      splitRatio: Number((sp / d).toFixed(3)),
    });
    // Drop the round's indexes so every round starts from the same heap (growing heaps make later rounds slower).
    await Promise.all([directClient, miroirClient].map((c) => c.deleteIndex(`bench-${r}`).waitTask()));
    await Promise.all(nodeClients.map((c) => c.deleteIndex(`split-${r}`).waitTask()));
  }
  const median = [...rounds].sort((a, b) => a.ratio - b.ratio)[Math.floor(ROUNDS / 2)]!;
  const splitMedian = [...rounds].sort((a, b) => a.splitRatio - b.splitRatio)[Math.floor(ROUNDS / 2)]!.splitRatio;
  const result = {
    date: new Date().toISOString(),
    documents: BATCHES * PER_BATCH,
    batchSize: PER_BATCH,
    rounds,
    directDocsPerSec: median.direct,
    miroirDocsPerSec: median.miroir,
    ratio: median.ratio,
    splitRatio: splitMedian,
    miroirOverSplit: Number((median.ratio / splitMedian).toFixed(3)),
    target: 0.8,
    goal: 0.95,
  };
  console.log('| path | docs/s |\n|---|---|');
  console.log(
    `| one dev node, direct | ${result.directDocsPerSec} |\n| Miroir, 3 dev nodes, S=16, RF=1 | ${result.miroirDocsPerSec} |\n| split by the client over the same 3 nodes, no proxy | ${median.split} |`,
  );
  console.log(
    `ratio Miroir ÷ direct: ${result.ratio} (median of ${ROUNDS} rounds: ${rounds.map((x) => x.ratio).join(', ')}; target ≥ 0.8, goal ≥ 0.95)`,
  );
  console.log(
    `ratio split ÷ direct (three in-process nodes against one, no proxy): ${result.splitRatio}; Miroir ÷ split (what Miroir adds): ${result.miroirOverSplit}`,
  );
  const out = new URL('../results/', import.meta.url).pathname.replace('/dist/bench/', '/bench/');
  mkdirSync(out, { recursive: true });
  writeFileSync(
    `${out}${PER_BATCH === 1000 ? 'ingest' : `ingest-batch-${PER_BATCH}`}.json`,
    JSON.stringify(result, null, 2) + '\n',
  );
} finally {
  await close();
  await Promise.all([direct, ...nodes].map((n) => n.stop()));
}
