// Ingest throughput, side by side in one run: documents/s indexed via Miroir (3 dev nodes, S=16, RF=1) ÷ straight
// into one dev node. Each side receives the same 20 batches of 1,000 documents and is timed until every task
// succeeded. Run after `npm run build`: `node dist/bench/e2e/ingest.bench.js` (writes bench/results/ingest.json).
import { mkdirSync, writeFileSync } from 'node:fs';
import { Meilisearch } from 'meilisearch';
import { DevNode } from '../../src/devnode/node.js';
import { startBenchProxy } from './proxy.js';

const BATCHES = 20;
const PER_BATCH = 1000;
const batches = Array.from({ length: BATCHES }, (_, b) =>
  Array.from({ length: PER_BATCH }, (_, i) => ({ id: b * PER_BATCH + i, title: `product ${b}-${i} quick brown`, price: (i * 31) % 500, color: ['red', 'green', 'blue'][i % 3] })),
);

async function ingest(client: Meilisearch): Promise<number> {
  await client.createIndex('bench', { primaryKey: 'id' }).waitTask();
  const t0 = performance.now();
  const tasks = [];
  for (const docs of batches) tasks.push(await client.index('bench').addDocuments(docs));
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
  const directRate = await ingest(new Meilisearch({ host: direct.url, apiKey: master }));
  const miroirRate = await ingest(new Meilisearch({ host: app.url, apiKey: master }));
  const ratio = miroirRate / directRate;
  const result = { date: new Date().toISOString(), documents: BATCHES * PER_BATCH, directDocsPerSec: Math.round(directRate), miroirDocsPerSec: Math.round(miroirRate), ratio: Number(ratio.toFixed(3)), target: 0.8, goal: 0.95 };
  console.log('| path | docs/s |\n|---|---|');
  console.log(`| one dev node, direct | ${result.directDocsPerSec} |\n| Miroir, 3 dev nodes, S=16, RF=1 | ${result.miroirDocsPerSec} |`);
  console.log(`ratio Miroir ÷ direct: ${result.ratio} (target ≥ 0.8, goal ≥ 0.95)`);
  const out = new URL('../results/', import.meta.url).pathname.replace('/dist/bench/', '/bench/');
  mkdirSync(out, { recursive: true });
  writeFileSync(`${out}ingest.json`, JSON.stringify(result, null, 2) + '\n');
} finally {
  await close();
  await Promise.all([direct, ...nodes].map((n) => n.stop()));
}
