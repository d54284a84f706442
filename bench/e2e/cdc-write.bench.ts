// Write latency with CDC off and on (SPEC A13): time to the 202 of 10-document additions through Miroir (3 dev nodes
// in their own processes, S=16, RF=1, LMDB store), sequential (each write waits for its 202, as an SDK does) and 8
// writers at once. CDC on appends each task's event to the store's change log before the 202; "on + bodies" also
// keeps the documents (a webhook sink with include_body, delivering to a local receiver). Run after `npm run build`:
// `node dist/bench/e2e/cdc-write.bench.js` (writes bench/results/cdc-write.json).
import { mkdirSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { startBenchProxy } from './proxy.js';
import { startDevNodeProcess } from './devnode-process.js';

const WRITES = Number(process.env.BENCH_WRITES ?? 200);
const nodeKey = 'bench-node-key-000001';
const master = 'bench-master-key-00001';

const receiver = createServer((req, res) => {
  req.resume();
  req.on('end', () => res.writeHead(204).end());
});
await new Promise<void>((r) => receiver.listen(0, '127.0.0.1', () => r()));
const hookUrl = `http://127.0.0.1:${(receiver.address() as AddressInfo).port}/`;

const modes: Array<{ name: string; cdc: Record<string, unknown> }> = [
  { name: 'off', cdc: { enabled: false } },
  { name: 'on', cdc: { enabled: true } },
  { name: 'on + webhook', cdc: { enabled: true, sinks: { webhook: { url: hookUrl, batch_flush_ms: 100 } } } },
  {
    name: 'on + bodies',
    cdc: { enabled: true, sinks: { webhook: { url: hookUrl, include_body: true, batch_flush_ms: 100 } } },
  },
];

function pct(sorted: number[], p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))]!;
}

const nodes = await Promise.all([0, 1, 2].map(() => startDevNodeProcess(nodeKey)));
const rows: Array<Record<string, number | string>> = [];
try {
  // A first pass with CDC off is thrown away: the dev node processes get faster over their first thousand writes
  // (JIT, LMDB growth), which the first mode measured would otherwise pay alone.
  const passes = [{ name: 'warm-up', cdc: { enabled: false } }, ...modes];
  for (const [m, mode] of passes.entries()) {
    const { app, close } = await startBenchProxy(
      nodes.map((n) => n.url),
      master,
      nodeKey,
      { config: { cdc: mode.cdc } },
    );
    try {
      let next = 0;
      // Each mode writes indexes of its own, so every mode pays the nodes' index creations alike.
      const write = async (name: string): Promise<number> => {
        const index = `m${m}-${name}`;
        const docs = Array.from({ length: 10 }, () => ({ id: next++, title: `document ${next}`, n: next }));
        const t0 = performance.now();
        const res = await fetch(`${app.url}/indexes/${index}/documents`, {
          method: 'POST',
          headers: { authorization: `Bearer ${master}`, 'content-type': 'application/json' },
          body: JSON.stringify(docs),
        });
        await res.arrayBuffer();
        if (res.status !== 202) throw new Error(`write answered ${res.status}`);
        return performance.now() - t0;
      };
      for (let i = 0; i < 50; i++) await write('warm');
      const seq: number[] = [];
      for (let i = 0; i < WRITES; i++) seq.push(await write('seq'));
      const par: number[] = [];
      const started = performance.now();
      await Promise.all(
        Array.from({ length: 8 }, async (_, w) => {
          for (let i = 0; i < WRITES / 8; i++) par.push(await write(`par${w}`));
        }),
      );
      const parSeconds = (performance.now() - started) / 1000;
      seq.sort((a, b) => a - b);
      par.sort((a, b) => a - b);
      const row = {
        mode: mode.name,
        seq_p50_ms: pct(seq, 50),
        seq_p99_ms: pct(seq, 99),
        par8_p50_ms: pct(par, 50),
        par8_p99_ms: pct(par, 99),
        par8_writes_per_s: par.length / parSeconds,
      };
      if (m === 0) continue;
      rows.push(row);
      console.log(
        `CDC ${mode.name}: sequential p50 ${row.seq_p50_ms.toFixed(2)} ms, p99 ${row.seq_p99_ms.toFixed(2)} ms; 8 writers p50 ${row.par8_p50_ms.toFixed(2)} ms, p99 ${row.par8_p99_ms.toFixed(2)} ms, ${row.par8_writes_per_s.toFixed(0)} writes/s`,
      );
    } finally {
      await close();
    }
  }
} finally {
  for (const n of nodes) n.child.kill('SIGTERM');
  receiver.close();
}
mkdirSync('bench/results', { recursive: true });
writeFileSync(
  'bench/results/cdc-write.json',
  JSON.stringify({ at: new Date().toISOString(), writes: WRITES, docs_per_write: 10, rows }, null, 2) + '\n',
);
