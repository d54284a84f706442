// Tail latency with one slow replica (SPEC A2, A3), side by side in one run: RF=2, one group of 3 dev nodes, S=16,
// 5,000 documents; node-0 waits 200 ms on 20 % of its requests (the dev node's `delay_probability` fault). Sides:
// *no slow node* (defaults: hedging and adaptive selection on), *slow node, hedging + ARS off* (round-robin, no
// hedges) and *slow node, hedging + ARS on* (defaults). Each side is its own Miroir over the same nodes; searches
// come from a forked load process (sequential, one connection). Two rounds; every side's samples pooled.
// Goal: p99 with the slow node (hedging + ARS on) ≤ 1.5 × p99 without it.
// Run after `npm run build`: `node dist/bench/e2e/tail-latency.bench.js` (writes bench/results/tail-latency.json).
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { fork } from 'node:child_process';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import pino from 'pino';
import { Meilisearch } from 'meilisearch';
import { DevNode } from '../../src/devnode/node.js';
import { startMiroir, type MiroirApp } from '../../src/main/app.js';
import { resolveConfig } from '../../src/main/config/load.js';
import { knowIndex } from './proxy.js';

const REQUESTS = Number(process.env.BENCH_REQUESTS ?? 600);
const WARMUP = 100;
const QUERIES = ['quick', 'brown fox', 'lazy', 'river', 'star', 'model 7', 'acme', 'moon'];

if (process.argv[2] === 'client') {
  const { request } = await import('undici');
  const [url, key] = [process.argv[3]!, process.argv[4]!];
  const lat: number[] = [];
  for (let i = 0; i < REQUESTS + WARMUP; i++) {
    const t0 = performance.now();
    const res = await request(`${url}/indexes/bench/search`, {
      method: 'POST',
      headers: { authorization: `Bearer ${key}`, 'content-type': 'application/json' },
      body: JSON.stringify({ q: QUERIES[i % QUERIES.length], limit: 10, facets: ['brand'] }),
    });
    await res.body.json();
    if (i >= WARMUP) lat.push(performance.now() - t0);
  }
  process.send!(lat);
  process.exit(0);
}

const master = 'tail-master-key-0001';
const nodeKey = 'tail-node-key-000001';
const docs = Array.from({ length: 5000 }, (_, i) => ({
  id: i,
  title: `${['quick brown fox', 'lazy dog', 'quiet river', 'bright star', 'silver moon'][i % 5]} model ${i % 50}`,
  brand: ['acme', 'globex'][i % 2],
}));

function measure(url: string): Promise<number[]> {
  return new Promise((resolve, reject) => {
    const child = fork(fileURLToPath(import.meta.url), ['client', url, master], { stdio: 'inherit' });
    child.once('message', (m) => resolve(m as number[]));
    child.once('error', reject);
  });
}

async function proxy(addresses: string[], extra: Record<string, unknown>): Promise<{ app: MiroirApp; dir: string }> {
  const dir = mkdtempSync(join(tmpdir(), 'miroir-tail-'));
  const app = await startMiroir(
    resolveConfig(
      {
        shards: 16,
        replication_factor: 2,
        nodes: addresses.map((address, i) => ({ id: `node-${i}`, address })),
        master_key: master,
        node_master_key: nodeKey,
        admin: { api_key: 'bench-admin-key' },
        task_store: { path: dir },
        server: { port: 0, bind: '127.0.0.1' },
        metrics: { port: 0, bind: '127.0.0.1' },
        ...extra,
      },
      {},
    ),
    { logger: pino({ level: 'silent' }) },
  );
  return { app, dir };
}

async function slow(node: DevNode, on: boolean): Promise<void> {
  await fetch(`${node.url}/_devnode/faults`, {
    method: 'POST',
    headers: { authorization: `Bearer ${nodeKey}`, 'content-type': 'application/json' },
    body: JSON.stringify(on ? { delay_ms: 200, delay_probability: 0.2 } : { delay_ms: 0, delay_probability: 1 }),
  });
}

async function metricSum(app: MiroirApp, name: string): Promise<number> {
  const text = await app.metrics.registry.metrics();
  let sum = 0;
  for (const m of text.matchAll(new RegExp(`^${name}(?:\\{[^}]*\\})? ([\\d.e+-]+)$`, 'gm'))) sum += Number(m[1]);
  return sum;
}

const pct = (xs: number[], p: number) => {
  const s = [...xs].sort((a, b) => a - b);
  return Number(s[Math.min(s.length - 1, Math.floor((p / 100) * s.length))]!.toFixed(2));
};

const nodes = await Promise.all([0, 1, 2].map(() => DevNode.start({ port: 0, masterKey: nodeKey })));
const addresses = nodes.map((n) => n.url);
const on = await proxy(addresses, {});
const off = await proxy(addresses, { hedging: { enabled: false }, replica_selection: { strategy: 'round_robin' } });
try {
  const c = new Meilisearch({ host: on.app.url, apiKey: master });
  await c.createIndex('bench', { primaryKey: 'id' }).waitTask();
  await c.index('bench').updateFilterableAttributes(['brand']).waitTask();
  await c.index('bench').addDocuments(docs).waitTask();
  await knowIndex(off.app, 'bench');
  // `knowIndex` records default settings: give the second proxy the same filterable attributes.
  await new Meilisearch({ host: off.app.url, apiKey: master })
    .index('bench')
    .updateFilterableAttributes(['brand'])
    .waitTask();
  const samples = { none: [] as number[], off: [] as number[], on: [] as number[] };
  for (let round = 0; round < 2; round++) {
    await slow(nodes[0]!, false);
    samples.none.push(...(await measure(on.app.url)));
    await slow(nodes[0]!, true);
    samples.off.push(...(await measure(off.app.url)));
    samples.on.push(...(await measure(on.app.url)));
  }
  await slow(nodes[0]!, false);
  const side = (xs: number[]) => ({ p50: pct(xs, 50), p90: pct(xs, 90), p99: pct(xs, 99), max: pct(xs, 100) });
  const result = {
    date: new Date().toISOString(),
    documents: docs.length,
    requests_per_side: samples.on.length,
    topology: { nodes: 3, replica_groups: 1, replication_factor: 2, shards: 16 },
    slow_node: { node: 'node-0', delay_ms: 200, delay_probability: 0.2 },
    no_slow_node: side(samples.none),
    slow_hedging_ars_off: side(samples.off),
    slow_hedging_ars_on: side(samples.on),
    p99_ratio_on_vs_no_slow: Number((pct(samples.on, 99) / pct(samples.none, 99)).toFixed(2)),
    p99_ratio_off_vs_no_slow: Number((pct(samples.off, 99) / pct(samples.none, 99)).toFixed(2)),
    hedges: {
      won: await metricSum(on.app, 'miroir_hedge_fired_total\\{outcome="won"\\}'),
      lost: await metricSum(on.app, 'miroir_hedge_fired_total\\{outcome="lost"\\}'),
      budget_exhausted: await metricSum(on.app, 'miroir_hedge_budget_exhausted_total'),
    },
    explorations: await metricSum(on.app, 'miroir_replica_selection_exploration_total'),
    goal: 'p99 with the slow node (hedging + ARS on) ≤ 1.5 × p99 without it',
  };
  console.log('| side | p50 (ms) | p90 (ms) | p99 (ms) | max (ms) |\n|---|---|---|---|---|');
  for (const [name, s] of [
    ['no slow node (hedging + ARS on)', result.no_slow_node],
    ['slow node, hedging + ARS off', result.slow_hedging_ars_off],
    ['slow node, hedging + ARS on', result.slow_hedging_ars_on],
  ] as const)
    console.log(`| ${name} | ${s.p50} | ${s.p90} | ${s.p99} | ${s.max} |`);
  console.log(
    `p99 slow-node ÷ no-slow-node: on ${result.p99_ratio_on_vs_no_slow} (goal ≤ 1.5), off ${result.p99_ratio_off_vs_no_slow}; hedges ${JSON.stringify(result.hedges)}; explorations ${result.explorations}`,
  );
  const out = new URL('../results/', import.meta.url).pathname.replace('/dist/bench/', '/bench/');
  mkdirSync(out, { recursive: true });
  writeFileSync(`${out}tail-latency.json`, JSON.stringify(result, null, 2) + '\n');
} finally {
  for (const p of [on, off]) {
    await p.app.close();
    rmSync(p.dir, { recursive: true, force: true });
  }
  await Promise.all(nodes.map((n) => n.stop()));
}
