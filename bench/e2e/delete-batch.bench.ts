// A 40,000-id `POST /documents/delete-batch` through Miroir (3 dev nodes in their own processes, S=16, RF=1): the
// longest event-loop gap of the proxy process while it routes and sends the batch (goal ≤ 50 ms), and the time to
// its 202. The nodes run as child processes so their own work never shows in the proxy's event loop. Run after
// `npm run build`: `node dist/bench/e2e/delete-batch.bench.js` (writes bench/results/delete-batch.json).
import { mkdirSync, writeFileSync } from 'node:fs';
import { monitorEventLoopDelay } from 'node:perf_hooks';
import { Meilisearch } from 'meilisearch';
import { startBenchProxy } from './proxy.js';
import { startDevNodeProcess } from './devnode-process.js';

const IDS = Number(process.env.BENCH_IDS ?? 40_000);
const ROUNDS = 3;
const nodeKey = 'bench-node-key-000001';
const master = 'bench-master-key-00001';

const nodes = await Promise.all([0, 1, 2].map(() => startDevNodeProcess(nodeKey)));
const { app, close } = await startBenchProxy(
  nodes.map((n) => n.url),
  master,
  nodeKey,
);
const client = new Meilisearch({ host: app.url, apiKey: master });
const rows: Array<{
  round: number;
  ids: number;
  max_loop_gap_ms: number;
  p99_loop_gap_ms: number;
  accepted_ms: number;
}> = [];
try {
  for (let round = 0; round < ROUNDS; round++) {
    const index = `deletes_${round}`;
    await client.createIndex(index, { primaryKey: 'id' }).waitTask();
    for (let from = 0; from < IDS; from += 10_000) {
      const docs = Array.from({ length: Math.min(10_000, IDS - from) }, (_, i) => ({
        id: from + i,
        title: `doc ${from + i}`,
      }));
      await client.index(index).addDocuments(docs).waitTask({ timeout: 120_000 });
    }
    const ids = Array.from({ length: IDS }, (_, i) => i);
    const loop = monitorEventLoopDelay({ resolution: 1 });
    loop.enable();
    const t0 = performance.now();
    const task = await client.index(index).deleteDocuments(ids);
    const accepted = performance.now() - t0;
    loop.disable();
    await client.tasks.waitForTask(task.taskUid, { timeout: 120_000 });
    rows.push({
      round,
      ids: IDS,
      max_loop_gap_ms: loop.max / 1e6,
      p99_loop_gap_ms: loop.percentile(99) / 1e6,
      accepted_ms: accepted,
    });
    console.log(
      `round ${round}: longest event-loop gap ${(loop.max / 1e6).toFixed(1)} ms (p99 ${(loop.percentile(99) / 1e6).toFixed(1)} ms), 202 after ${accepted.toFixed(0)} ms`,
    );
  }
} finally {
  await close();
  for (const n of nodes) n.child.kill('SIGTERM');
}
const worst = Math.max(...rows.map((r) => r.max_loop_gap_ms));
console.log(
  `${IDS}-id delete-batch: longest event-loop gap ${worst.toFixed(1)} ms over ${ROUNDS} rounds (goal ≤ 50 ms)`,
);
mkdirSync('bench/results', { recursive: true });
writeFileSync(
  'bench/results/delete-batch.json',
  JSON.stringify({ at: new Date().toISOString(), goal_ms: 50, worst_loop_gap_ms: worst, rounds: rows }, null, 2) + '\n',
);
