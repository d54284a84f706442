// A full anti-entropy pass (issue 27, SPEC A8) over 100,000 documents × RF=2: two dev nodes in their own processes
// (S=16, both hold every shard), a Miroir in this process with anti-entropy on. Documents are written through Miroir
// (so each copy carries `_miroir_version`); then three passes: replicas equal, unthrottled; replicas equal at the
// default rate limit (20 pages/s); 1% of the documents deleted behind Miroir's back on one node, repaired. For each:
// duration, pages read, and each node's CPU share during the pass (CPU seconds / wall seconds, from /proc; 1.0 = one
// core busy). Run after `npm run build`: `node dist/bench/e2e/antientropy.bench.js` (BENCH_DOCS to change N; writes
// bench/results/antientropy.json).
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pino from 'pino';
import { startMiroir, type MiroirApp } from '../../src/main/app.js';
import { resolveConfig } from '../../src/main/config/load.js';
import { startDevNodeProcess } from './devnode-process.js';
import { cpuMs } from './proc.js';
import { json, waitTask } from './api.js';

const N = Number(process.env.BENCH_DOCS ?? 100_000);
const nodeKey = 'bench-node-key-000001';
const master = 'bench-master-key-00001';
const admin = 'bench-admin-key';
const INDEX = 'ae';

const nodes = await Promise.all([0, 1].map(() => startDevNodeProcess(nodeKey, 8192)));
const dir = mkdtempSync(join(tmpdir(), 'miroir-bench-ae-'));
const base = {
  shards: 16,
  replication_factor: 2,
  nodes: nodes.map((n, i) => ({ id: `node-${i}`, address: n.url })),
  master_key: master,
  node_master_key: nodeKey,
  admin: { api_key: admin },
  task_store: { path: dir },
  server: { port: 0, bind: '127.0.0.1' },
  metrics: { port: 0, bind: '127.0.0.1' },
};
const rows: Array<Record<string, unknown>> = [];
let app: MiroirApp | null = null;
try {
  const start = (rate: number) =>
    startMiroir(
      resolveConfig({ ...base, anti_entropy: { enabled: true, schedule: 'every 1d', max_pages_per_second: rate } }, {}),
      { logger: pino({ level: 'silent' }) },
    );
  app = await start(0);
  const t0 = performance.now();
  for (let from = 0; from < N; from += 10_000) {
    const docs = [];
    for (let i = from; i < Math.min(N, from + 10_000); i++)
      docs.push({ id: `d${i}`, title: `document ${i}`, body: 'lorem ipsum dolor sit amet '.repeat(4), n: i });
    const task = await json(`${app.url}/indexes/${INDEX}/documents?primaryKey=id`, {
      method: 'POST',
      headers: { authorization: `Bearer ${master}`, 'content-type': 'application/json' },
      body: JSON.stringify(docs),
    });
    await waitTask(app.url, master, task.taskUid as number, 200);
  }
  console.log(`loaded ${N} documents × RF=2 in ${((performance.now() - t0) / 1000).toFixed(1)} s`);

  const pass = async (label: string, a: MiroirApp): Promise<void> => {
    const cpu0 = nodes.map((n) => cpuMs(n.child.pid!) / 1000);
    const pages0 = (await a.metrics.antiEntropyPagesRead.get()).values[0]?.value ?? 0;
    const t = performance.now();
    const summary = await json(`${a.url}/_miroir/antientropy/run`, {
      method: 'POST',
      headers: { authorization: `Bearer ${admin}`, 'content-type': 'application/json' },
      body: '{}',
    });
    const wall = (performance.now() - t) / 1000;
    const shares = nodes.map((n, i) => (cpuMs(n.child.pid!) / 1000 - cpu0[i]!) / wall);
    const pages = ((await a.metrics.antiEntropyPagesRead.get()).values[0]?.value ?? 0) - pages0;
    const row = {
      pass: label,
      documents: N,
      duration_s: Number(wall.toFixed(2)),
      pages_read: pages,
      mismatches: summary.mismatches,
      repaired: summary.repaired,
      node_cpu_share: shares.map((s) => Number(s.toFixed(3))),
    };
    rows.push(row);
    console.log(JSON.stringify(row));
  };
  await pass('equal replicas, no rate limit', app);
  // 1% deleted on node-1 behind Miroir's back.
  const gone = Array.from({ length: Math.floor(N / 100) }, (_, k) => `d${k * 100}`);
  const del = await json(`${nodes[1]!.url}/indexes/${INDEX}/documents/delete-batch`, {
    method: 'POST',
    headers: { authorization: `Bearer ${nodeKey}`, 'content-type': 'application/json' },
    body: JSON.stringify(gone),
  });
  for (;;) {
    const t = await json(`${nodes[1]!.url}/tasks/${del.taskUid as number}`, {
      headers: { authorization: `Bearer ${nodeKey}` },
    });
    if (t.status === 'succeeded') break;
    await new Promise((r) => setTimeout(r, 100));
  }
  await pass('1% missing on one node, repaired', app);
  await app.close();
  app = await start(20);
  await pass('equal replicas, default rate limit (20 pages/s)', app);
} finally {
  await app?.close();
  for (const n of nodes) n.child.kill();
  rmSync(dir, { recursive: true, force: true });
}
mkdirSync('bench/results', { recursive: true });
writeFileSync('bench/results/antientropy.json', `${JSON.stringify({ at: new Date().toISOString(), rows }, null, 2)}\n`);
