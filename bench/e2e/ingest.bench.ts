// Ingest throughput, side by side in one run: documents/s indexed via Miroir (3 dev nodes, S=16, RF=1) ÷ straight
// into one dev node. Each side receives the same 20 batches of 1,000 documents into a fresh index and is timed until
// every task succeeded; one warm-up round, then 5 rounds alternating the sides, and the median of the per-round
// ratios is reported (this 2-core machine is noisy: single rounds vary by ±20%). Run after `npm run build`:
// `node dist/bench/e2e/ingest.bench.js` (writes bench/results/ingest.json).
import { mkdirSync, writeFileSync } from 'node:fs';
import { Meilisearch } from 'meilisearch';
import { DevNode } from '../../src/devnode/node.js';
import { startBenchProxy } from './proxy.js';

const BATCHES = 20;
const PER_BATCH = 1000;
const batches = Array.from({ length: BATCHES }, (_, b) =>
  Array.from({ length: PER_BATCH }, (_, i) => ({ id: b * PER_BATCH + i, title: `product ${b}-${i} quick brown`, price: (i * 31) % 500, color: ['red', 'green', 'blue'][i % 3] })),
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

const nodeKey = 'bench-node-key-000001';
const master = 'bench-master-key-00001';
const direct = await DevNode.start({ port: 0, masterKey: master });
const nodes = await Promise.all([0, 1, 2].map(() => DevNode.start({ port: 0, masterKey: nodeKey })));
const { app, close } = await startBenchProxy(nodes.map((n) => n.url), master, nodeKey);
try {
  const directClient = new Meilisearch({ host: direct.url, apiKey: master });
  const miroirClient = new Meilisearch({ host: app.url, apiKey: master });
  await ingest(directClient, 'warmup');
  await ingest(miroirClient, 'warmup');
  await Promise.all([directClient, miroirClient].map((c) => c.deleteIndex('warmup').waitTask()));
  const rounds: Array<{ direct: number; miroir: number; ratio: number }> = [];
  for (let r = 0; r < ROUNDS; r++) {
    // Alternate which side goes first so neither always runs on a warmer (or busier) machine.
    const first = r % 2 === 0 ? await ingest(directClient, `bench-${r}`) : await ingest(miroirClient, `bench-${r}`);
    const second = r % 2 === 0 ? await ingest(miroirClient, `bench-${r}`) : await ingest(directClient, `bench-${r}`);
    const [d, m] = r % 2 === 0 ? [first, second] : [second, first];
    rounds.push({ direct: Math.round(d), miroir: Math.round(m), ratio: Number((m / d).toFixed(3)) });
    // Drop the round's indexes so every round starts from the same heap (growing heaps make later rounds slower).
    await Promise.all([directClient, miroirClient].map((c) => c.deleteIndex(`bench-${r}`).waitTask()));
  }
  const median = [...rounds].sort((a, b) => a.ratio - b.ratio)[Math.floor(ROUNDS / 2)]!;
  const directRate = median.direct;
  const miroirRate = median.miroir;
  const ratio = median.ratio;
  const result = { date: new Date().toISOString(), documents: BATCHES * PER_BATCH, rounds, directDocsPerSec: directRate, miroirDocsPerSec: miroirRate, ratio, target: 0.8, goal: 0.95 };
  console.log('| path | docs/s |\n|---|---|');
  console.log(`| one dev node, direct | ${result.directDocsPerSec} |\n| Miroir, 3 dev nodes, S=16, RF=1 | ${result.miroirDocsPerSec} |`);
  console.log(`ratio Miroir ÷ direct: ${result.ratio} (median of ${ROUNDS} rounds: ${rounds.map((x) => x.ratio).join(', ')}; target ≥ 0.8, goal ≥ 0.95)`);
  const out = new URL('../results/', import.meta.url).pathname.replace('/dist/bench/', '/bench/');
  mkdirSync(out, { recursive: true });
  writeFileSync(`${out}ingest.json`, JSON.stringify(result, null, 2) + '\n');
} finally {
  await close();
  await Promise.all([direct, ...nodes].map((n) => n.stop()));
}
