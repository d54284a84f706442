// Online reshard (issue 26, SPEC A1): backfill rate with and without `throttle_docs_per_sec`, and search p99 while a
// reshard runs ÷ before it. Two dev nodes in their own processes, a Miroir in this process (S=16, RF=1) with
// resharding on; each run reshards a fresh index of N documents 16 → 32 and is timed from the first status seen in
// `backfilling` to the first one past it. A sequential searcher runs for the before-window (5 s, after 1 s of rest) and during the
// unthrottled run. Run after `npm run build`: `node dist/bench/e2e/reshard.bench.js` (BENCH_DOCS to change N,
// BENCH_THROTTLE for the throttled run; writes bench/results/reshard.json).
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pino from 'pino';
import { startMiroir, type MiroirApp } from '../../src/main/app.js';
import { resolveConfig } from '../../src/main/config/load.js';
import { startDevNodeProcess } from './devnode-process.js';
import { json, waitTask } from './api.js';

const N = Number(process.env.BENCH_DOCS ?? 20_000);
const THROTTLE = Number(process.env.BENCH_THROTTLE ?? 2_000);
const nodeKey = 'bench-node-key-000001';
const master = 'bench-master-key-00001';
const admin = 'bench-admin-key';

async function load(app: MiroirApp, index: string): Promise<void> {
  for (let from = 0; from < N; from += 5_000) {
    const docs = [];
    for (let i = from; i < Math.min(N, from + 5_000); i++)
      docs.push({ id: i, title: `document ${i}`, body: 'lorem ipsum dolor sit amet '.repeat(3), n: i });
    const task = await json(`${app.url}/indexes/${index}/documents?primaryKey=id`, {
      method: 'POST',
      headers: { authorization: `Bearer ${master}`, 'content-type': 'application/json' },
      body: JSON.stringify(docs),
    });
    await waitTask(app.url, master, task.taskUid as number, 100);
  }
}

function p(sorted: number[], q: number): number {
  return sorted.length === 0 ? NaN : sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))]!;
}

/** Sequential searches until `done()`; latencies in ms, sorted. */
async function searcher(app: MiroirApp, index: string, done: () => boolean): Promise<number[]> {
  const out: number[] = [];
  for (let i = 0; !done(); i++) {
    const t0 = performance.now();
    await json(`${app.url}/indexes/${index}/search`, {
      method: 'POST',
      headers: { authorization: `Bearer ${master}`, 'content-type': 'application/json' },
      body: JSON.stringify({ q: `document ${i % 997}`, limit: 10 }),
    });
    out.push(performance.now() - t0);
  }
  return out.sort((a, b) => a - b);
}

/** Reshards `index` 16 → 32 and times its backfill phase. */
async function reshard(
  app: MiroirApp,
  index: string,
  throttle: number,
): Promise<{ seconds: number; documents: number; total_seconds: number }> {
  const headers = { 'x-admin-key': admin, 'content-type': 'application/json' };
  const t0 = performance.now();
  await json(`${app.url}/_miroir/indexes/${index}/reshard`, {
    method: 'POST',
    headers,
    body: JSON.stringify({ new_shards: 32, throttle_docs_per_sec: throttle }),
  });
  let from: number | null = null;
  for (;;) {
    const s = await json(`${app.url}/_miroir/indexes/${index}/reshard/status`, { headers });
    if (s.phase === 'failed') throw new Error(`reshard failed: ${String(s.error)}`);
    if (s.phase === 'backfilling' && from === null) from = performance.now();
    if (from !== null && s.phase !== 'backfilling') {
      const now = performance.now();
      await new Promise<void>(function wait(resolve) {
        void json(`${app.url}/_miroir/indexes/${index}/reshard/status`, { headers }).then((x) =>
          x.phase === 'flipped' || x.phase === 'done' ? resolve() : setTimeout(() => wait(resolve), 50),
        );
      });
      return {
        seconds: (now - from) / 1000,
        documents: Number(s.documents_backfilled),
        total_seconds: (performance.now() - t0) / 1000,
      };
    }
    await new Promise((r) => setTimeout(r, 20));
  }
}

const nodes = await Promise.all([0, 1].map(() => startDevNodeProcess(nodeKey, 4096)));
const dir = mkdtempSync(join(tmpdir(), 'miroir-bench-reshard-'));
let app: MiroirApp | null = null;
try {
  app = await startMiroir(
    resolveConfig(
      {
        shards: 16,
        replication_factor: 1,
        nodes: nodes.map((n, i) => ({ id: `node-${i}`, address: n.url })),
        master_key: master,
        node_master_key: nodeKey,
        admin: { api_key: admin },
        task_store: { path: dir },
        server: { port: 0, bind: '127.0.0.1' },
        metrics: { port: 0, bind: '127.0.0.1' },
        resharding: { enabled: true },
      },
      {},
    ),
    { logger: pino({ level: 'silent' }) },
  );
  const a = app;
  await load(a, 'fast');
  await load(a, 'slow');
  console.log(`loaded 2 × ${N} documents`);
  await new Promise((r) => setTimeout(r, 1_000)); // let the nodes settle after the load
  const beforeEnd = performance.now() + 5_000;
  const before = await searcher(a, 'slow', () => performance.now() > beforeEnd);
  let running = true;
  const [fast, during] = await Promise.all([
    reshard(a, 'fast', 0).finally(() => (running = false)),
    searcher(a, 'slow', () => !running),
  ]);
  const slow = await reshard(a, 'slow', THROTTLE);
  const result = {
    documents: N,
    unthrottled: { ...fast, docs_per_sec: Math.round(fast.documents / fast.seconds) },
    throttled: { throttle_docs_per_sec: THROTTLE, ...slow, docs_per_sec: Math.round(slow.documents / slow.seconds) },
    search: {
      before: { requests: before.length, p50_ms: p(before, 0.5), p99_ms: p(before, 0.99) },
      during: { requests: during.length, p50_ms: p(during, 0.5), p99_ms: p(during, 0.99) },
      p99_ratio: p(during, 0.99) / p(before, 0.99),
    },
  };
  console.log(JSON.stringify(result, null, 2));
  mkdirSync('bench/results', { recursive: true });
  writeFileSync('bench/results/reshard.json', `${JSON.stringify(result, null, 2)}\n`);
} finally {
  await app?.close();
  for (const n of nodes) n.child.kill();
  rmSync(dir, { recursive: true, force: true });
}
