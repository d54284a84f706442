// The shard mover's verify pass over one big shard: two dev nodes (own processes) hold the same shard of N
// documents, the target with 1% missing and 1% changed; one verify pass repairs it. Reports the pass's duration and
// the proxy process's peak RSS for N = 50,000, 100,000 and 200,000 (goal: flat in shard size — the pass holds ids
// and hashes of one partition at a time, never a whole shard). Run after `npm run build`:
// `node dist/bench/e2e/verify.bench.js` (writes bench/results/verify.json).
import type { ChildProcess } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import { NodeApi } from '../../src/main/cluster/node-api.js';
import { verifyPass } from '../../src/main/rebalance/shard-mover.js';
import { startDevNodeProcess } from './devnode-process.js';

const SIZES = (process.env.BENCH_SIZES ?? '50000,100000,200000').split(',').map(Number);
const key = 'bench-node-key-000001';

async function startNode(): Promise<{ api: NodeApi; child: ChildProcess }> {
  const { url, child } = await startDevNodeProcess(key);
  const api = new NodeApi('node', url, {
    nodeMasterKey: key,
    timeoutMs: 120_000,
    maxConnections: 4,
    idleTimeoutMs: 10_000,
  });
  return { api, child };
}

async function load(
  api: NodeApi,
  uid: string,
  docs: (i: number) => Record<string, unknown> | null,
  count: number,
): Promise<void> {
  const ready = [
    await api.createIndex(uid, 'id'),
    await api.patchSettings(uid, { filterableAttributes: ['_miroir_shard'], searchableAttributes: ['title'] }),
  ];
  await api.waitTasks(ready, { timeoutMs: 60_000 });
  const tasks: number[] = [];
  for (let from = 0; from < count; from += 10_000) {
    const batch: Array<Record<string, unknown>> = [];
    for (let i = from; i < Math.min(count, from + 10_000); i++) {
      const d = docs(i);
      if (d !== null) batch.push(d);
    }
    tasks.push(await api.addDocuments(uid, JSON.stringify(batch), { timeoutMs: 120_000 }));
  }
  await api.waitTasks(tasks, { timeoutMs: 600_000 });
}

const [source, target] = [await startNode(), await startNode()];
const rows: Array<{
  documents: number;
  repaired: number;
  seconds: number;
  peak_rss_mb: number;
  baseline_rss_mb: number;
}> = [];
try {
  for (const n of SIZES) {
    const uid = `verify_${n}`;
    const doc = (i: number, v = 0) => ({
      id: i,
      title: `document ${i} v${v}`,
      body: 'x'.repeat(200),
      _miroir_shard: 0,
    });
    await load(source.api, uid, (i) => doc(i), n);
    await load(target.api, uid, (i) => (i % 100 === 0 ? null : i % 100 === 1 ? doc(i, 1) : doc(i)), n);
    global.gc?.();
    const baseline = process.memoryUsage().rss;
    let peak = baseline;
    const sampler = setInterval(() => (peak = Math.max(peak, process.memoryUsage().rss)), 20);
    const t0 = performance.now();
    const pass = await verifyPass(source.api, target.api, uid, 'id', 0, { pageSize: 1000, taskTimeoutMs: 600_000 });
    const seconds = (performance.now() - t0) / 1000;
    clearInterval(sampler);
    peak = Math.max(peak, process.memoryUsage().rss);
    rows.push({
      documents: n,
      repaired: pass?.repaired ?? 0,
      seconds,
      peak_rss_mb: peak / 1048576,
      baseline_rss_mb: baseline / 1048576,
    });
    console.log(
      `${n} documents: ${pass?.repaired ?? 0} repaired in ${seconds.toFixed(1)} s, proxy peak RSS ${(peak / 1048576).toFixed(0)} MB (baseline ${(baseline / 1048576).toFixed(0)} MB)`,
    );
    await Promise.all([
      source.api.waitTasks([await source.api.deleteIndex(uid)], { timeoutMs: 60_000 }),
      target.api.waitTasks([await target.api.deleteIndex(uid)], { timeoutMs: 60_000 }),
    ]);
  }
} finally {
  await Promise.all([source.api.close(), target.api.close()]);
  source.child.kill('SIGTERM');
  target.child.kill('SIGTERM');
}
mkdirSync('bench/results', { recursive: true });
writeFileSync('bench/results/verify.json', JSON.stringify({ at: new Date().toISOString(), rows }, null, 2) + '\n');
