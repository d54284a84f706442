// Query coalescing on vs off (issue 24): 32 connections sending the same search for 3 s to Miroir over three dev
// nodes (S=16, RF=1, 5,000 documents); search p50, throughput, the proxy's CPU per request and how many searches the
// nodes were asked. Miroir runs in a process of its own (one per side, the same LMDB store), the dev nodes in
// processes of their own, the load from a third (`loadgen.ts`). Medians over `BENCH_ROUNDS` (default 3) rounds, the
// side that goes first alternating. Run after `npm run build`: `node dist/bench/e2e/coalescing.bench.js`
// (writes bench/results/coalescing.json).
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { Meilisearch } from 'meilisearch';
import { startDevNodeProcess, type DevNodeProcess } from './devnode-process.js';
import { forkLoadGen, type Target } from './loadgen.js';
import { cpuMs } from './proc.js';

const MASTER = 'coalesce-master-key-01';
const NODE_KEY = 'coalesce-node-key-0001';
const ADMIN = 'coalesce-admin-key-001';
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 3);
const DURATION_MS = 3000;
const CONNECTIONS = 32;
const DOCS = 5000;
const cli = join(dirname(fileURLToPath(import.meta.url)), '../../src/main/cli.js');

interface Proxy {
  url: string;
  child: ChildProcess;
  stop(): Promise<void>;
}

async function startProxy(dir: string, nodes: readonly DevNodeProcess[], coalescing: boolean): Promise<Proxy> {
  const file = join(dir, `config-${coalescing ? 'on' : 'off'}.json`);
  writeFileSync(
    file,
    JSON.stringify({
      shards: 16,
      replication_factor: 1,
      nodes: nodes.map((n, i) => ({ id: `node-${i}`, address: n.url })),
      master_key: MASTER,
      node_master_key: NODE_KEY,
      admin: { api_key: ADMIN },
      task_store: { path: join(dir, 'store') },
      server: { port: 0, bind: '127.0.0.1' },
      metrics: { port: 0, bind: '127.0.0.1' },
      log: { level: 'warn' },
      query_coalescing: { enabled: coalescing, window_ms: 50 },
    }),
  );
  const child = spawn(process.execPath, [cli, 'serve', '--config', file], { stdio: ['ignore', 'pipe', 'inherit'] });
  const port = await new Promise<number>((resolve, reject) => {
    child.once('exit', (code) => reject(new Error(`miroir exited with ${code}`)));
    createInterface({ input: child.stdout! }).on('line', (line) => {
      try {
        const msg = JSON.parse(line) as { event?: string; port?: number };
        if (msg.event === 'listening' && typeof msg.port === 'number') resolve(msg.port);
      } catch {
        /* a log line */
      }
    });
  });
  child.removeAllListeners('exit');
  const exited = new Promise<void>((r) => child.once('exit', () => r()));
  return {
    url: `http://127.0.0.1:${port}`,
    child,
    async stop() {
      child.kill('SIGTERM');
      await exited;
    },
  };
}

/** Searches the proxy sent to nodes so far (its own metrics). */
async function nodeSearches(url: string): Promise<number> {
  const text = await (await fetch(`${url}/_miroir/metrics`, { headers: { authorization: `Bearer ${ADMIN}` } })).text();
  let n = 0;
  for (const m of text.matchAll(/^miroir_node_request_duration_seconds_count\{[^}]*operation="search"\} (\d+)$/gm))
    n += Number(m[1]);
  return n;
}

interface Side {
  p50Ms: number;
  reqPerS: number;
  cpuMsPerRequest: number;
  nodeSearchesPerRequest: number;
}

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
const round3 = (x: number) => Number(x.toFixed(3));

const dir = mkdtempSync(join(tmpdir(), 'miroir-coalesce-'));
const nodes = await Promise.all([0, 1, 2].map(() => startDevNodeProcess(NODE_KEY)));
const load = await forkLoadGen();
try {
  {
    const setup = await startProxy(dir, nodes, false);
    const ms = new Meilisearch({ host: setup.url, apiKey: MASTER });
    await ms.createIndex('bench', { primaryKey: 'id' }).waitTask();
    const words = ['quick brown fox', 'lazy dog', 'quiet river', 'bright star', 'silver moon'];
    await ms
      .index('bench')
      .addDocuments(Array.from({ length: DOCS }, (_, i) => ({ id: i, title: `${words[i % 5]} model ${i % 50}` })))
      .waitTask({ timeout: 120_000 });
    await setup.stop();
  }
  const runs: Record<'off' | 'on', Side[]> = { off: [], on: [] };
  for (let r = 0; r < ROUNDS; r++) {
    const order: Array<'off' | 'on'> = r % 2 === 0 ? ['off', 'on'] : ['on', 'off'];
    for (const side of order) {
      const proxy = await startProxy(dir, nodes, side === 'on');
      const target: Target = {
        url: proxy.url,
        path: '/indexes/bench/search',
        body: '{"q":"quick","limit":20}',
        headers: { authorization: `Bearer ${MASTER}` },
      };
      await load.load(target, CONNECTIONS, 500); // warm-up
      const asked0 = await nodeSearches(proxy.url);
      const cpu0 = cpuMs(proxy.child.pid!);
      const res = await load.load(target, CONNECTIONS, DURATION_MS);
      const cpu = cpuMs(proxy.child.pid!) - cpu0;
      const asked = (await nodeSearches(proxy.url)) - asked0;
      if (res.errors > 0) throw new Error(`${side}: ${res.errors} errors`);
      runs[side].push({
        p50Ms: res.p50Ms ?? 0,
        reqPerS: (res.done * 1000) / res.elapsedMs,
        cpuMsPerRequest: cpu / Math.max(1, res.done),
        nodeSearchesPerRequest: asked / Math.max(1, res.done),
      });
      await proxy.stop();
    }
  }
  const summary = (s: Side[]) => ({
    p50Ms: round3(median(s.map((x) => x.p50Ms))),
    reqPerS: Math.round(median(s.map((x) => x.reqPerS))),
    cpuMsPerRequest: round3(median(s.map((x) => x.cpuMsPerRequest))),
    nodeSearchesPerRequest: round3(median(s.map((x) => x.nodeSearchesPerRequest))),
  });
  const result = {
    date: new Date().toISOString(),
    documents: DOCS,
    connections: CONNECTIONS,
    durationMs: DURATION_MS,
    rounds: ROUNDS,
    window_ms: 50,
    off: summary(runs.off),
    on: summary(runs.on),
  };
  console.log(
    '| query_coalescing | search p50 (ms) | req/s | proxy CPU per request (ms) | node searches per request |',
  );
  console.log('|---|---|---|---|---|');
  for (const k of ['off', 'on'] as const)
    console.log(
      `| ${k} | ${result[k].p50Ms} | ${result[k].reqPerS} | ${result[k].cpuMsPerRequest} | ${result[k].nodeSearchesPerRequest} |`,
    );
  const out = new URL('../results/', import.meta.url).pathname.replace('/dist/bench/', '/bench/');
  mkdirSync(out, { recursive: true });
  writeFileSync(`${out}coalescing.json`, JSON.stringify(result, null, 2) + '\n');
} finally {
  await load.close();
  for (const n of nodes) n.child.kill('SIGTERM');
  rmSync(dir, { recursive: true, force: true });
}
