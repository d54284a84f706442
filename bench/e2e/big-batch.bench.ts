// Big document batches through Miroir (issue 19 §8): 20, 50 and 95 MB JSON batches into a proxy in its own process
// over 3 dev nodes (own processes, S=16, RF=1). While each batch is sent, accepted and delivered, the bench polls the
// proxy's `/health` every 10 ms (longest answer = how long the proxy's event loop stalled) and samples its resident
// memory from /proc (peak above the idle baseline, and that peak as a multiple of the batch size). Goals: /health
// never waits more than 100 ms; peak memory ≤ 4× the batch. Run after `npm run build`:
// `node dist/bench/e2e/big-batch.bench.js` (writes bench/results/big-batch.json; BENCH_MB=20,50 to choose sizes).
import { mkdirSync, writeFileSync } from 'node:fs';
import { startDevNodeProcess } from './devnode-process.js';
import { forkBenchProxy } from './proxy.js';
import { statusKib } from './proc.js';

const SIZES_MB = (process.env.BENCH_MB ?? '20,50,95').split(',').map(Number);
const master = 'bench-master-key-00001';
const INDEX = 'big';

/** A JSON array of ~1 KB documents adding up to about `mb` megabytes. */
function batch(mb: number, round: number): Buffer {
  const filler = 'lorem ipsum dolor sit amet consectetur adipiscing elit '.repeat(16);
  const parts: string[] = [];
  let size = 2;
  for (let i = 0; size < mb * 1e6; i++) {
    const doc = JSON.stringify({ id: `r${round}-${i}`, title: `document ${i}`, body: filler, n: i, tags: ['a', 'b'] });
    parts.push(doc);
    size += doc.length + 1;
  }
  return Buffer.from(`[${parts.join(',')}]`);
}

const nodes = await Promise.all([0, 1, 2].map(() => startDevNodeProcess(null, 8192)));
const proxy = await forkBenchProxy(
  nodes.map((n) => n.url),
  master,
  INDEX,
);
const auth = { authorization: `Bearer ${master}` };
const rows: Array<Record<string, number>> = [];
try {
  let round = 0;
  for (const mb of SIZES_MB) {
    const body = batch(mb, round++);
    await new Promise((r) => setTimeout(r, 500)); // let the proxy's heap settle after the previous round
    const baseline = statusKib(proxy.pid, 'VmRSS') * 1024;
    let peak = baseline;
    let worstHealthMs = 0;
    let sampling = true;
    const sampler = (async () => {
      while (sampling) {
        const t = performance.now();
        await fetch(`${proxy.url}/health`);
        worstHealthMs = Math.max(worstHealthMs, performance.now() - t);
        peak = Math.max(peak, statusKib(proxy.pid, 'VmRSS') * 1024);
        await new Promise((r) => setTimeout(r, 10));
      }
    })();
    const t0 = performance.now();
    const res = await fetch(`${proxy.url}/indexes/${INDEX}/documents`, {
      method: 'POST',
      headers: { ...auth, 'content-type': 'application/json' },
      body,
    });
    const accepted = performance.now() - t0;
    const task = (await res.json()) as { taskUid: number };
    if (res.status !== 202) throw new Error(`batch refused: ${res.status} ${JSON.stringify(task)}`);
    for (;;) {
      const t = (await (await fetch(`${proxy.url}/tasks/${task.taskUid}`, { headers: auth })).json()) as {
        status: string;
      };
      if (t.status === 'succeeded' || t.status === 'failed') {
        if (t.status === 'failed') throw new Error(`batch failed: ${JSON.stringify(t)}`);
        break;
      }
      await new Promise((r) => setTimeout(r, 50));
    }
    const done = performance.now() - t0;
    sampling = false;
    await sampler;
    const row = {
      batch_mb: Math.round(body.length / 1e5) / 10,
      accepted_ms: Math.round(accepted),
      applied_ms: Math.round(done),
      worst_health_ms: Math.round(worstHealthMs),
      peak_rss_over_idle_mb: Math.round((peak - baseline) / 1e5) / 10,
      peak_over_batch: Math.round(((peak - baseline) / body.length) * 10) / 10,
    };
    rows.push(row);
    console.log(
      `${row.batch_mb} MB: 202 after ${row.accepted_ms} ms, applied after ${row.applied_ms} ms; /health worst ${row.worst_health_ms} ms; proxy peak +${row.peak_rss_over_idle_mb} MB (${row.peak_over_batch}× the batch)`,
    );
  }
} finally {
  await proxy.stop();
  for (const n of nodes) n.child.kill('SIGTERM');
}
mkdirSync('bench/results', { recursive: true });
writeFileSync(
  'bench/results/big-batch.json',
  JSON.stringify({ at: new Date().toISOString(), goals: { health_ms: 100, peak_over_batch: 4 }, rows }, null, 2) + '\n',
);
