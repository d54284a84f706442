// Vector search latency (issue 29): p50/p99 of semantic searches (hybrid semanticRatio 1, a 16-dimension query
// vector, limit 10) and hybrid searches (semanticRatio 0.5 with a keyword query) through Miroir over 3 dev nodes
// (S=16, RF=1) ÷ the same searches straight to one dev node holding all 50,000 vectors. The dev node's nearest
// neighbours are exact (a scan), so each node scans a third of the vectors; the nodes run in this one process, so
// their scans do not overlap as they would on separate machines. Requests come from a forked load process.
// Run after `npm run build`: `node dist/bench/e2e/vector-search.bench.js` (writes bench/results/vector-search.json).
// `BENCH_VECTORS` sizes the corpus (default 50,000).
import { mkdirSync, writeFileSync } from 'node:fs';
import { fork } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { Meilisearch } from 'meilisearch';
import { DevNode } from '../../src/devnode/node.js';
import { startBenchProxy } from './proxy.js';

const DIMS = 16;
const REQUESTS = Number(process.env.BENCH_REQUESTS ?? 300);

function rng(seed: number): () => number {
  let a = seed;
  return () => {
    a = (a + 0x6d2b79f5) | 0;
    let t = Math.imul(a ^ (a >>> 15), 1 | a);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}
const vec = (r: () => number) => Array.from({ length: DIMS }, () => r() * 2 - 1);

if (process.argv[2] === 'client') {
  const { request } = await import('undici');
  const [url, key, kind] = [process.argv[3]!, process.argv[4]!, process.argv[5]!];
  const r = rng(7);
  const lat: number[] = [];
  for (let i = 0; i < REQUESTS + 20; i++) {
    const body =
      kind === 'semantic'
        ? { vector: vec(r), hybrid: { embedder: 'emb', semanticRatio: 1 }, limit: 10 }
        : { q: `w${i % 50}`, vector: vec(r), hybrid: { embedder: 'emb', semanticRatio: 0.5 }, limit: 10 };
    const t0 = performance.now();
    const res = await request(`${url}/indexes/bench/search`, {
      method: 'POST',
      headers: { authorization: `Bearer ${key}`, 'content-type': 'application/json' },
      body: JSON.stringify(body),
    });
    await res.body.json();
    if (i >= 20) lat.push(performance.now() - t0);
  }
  process.send!(lat.sort((a, b) => a - b));
  process.exit(0);
}

const VECTORS = Number(process.env.BENCH_VECTORS ?? 50_000);
const r = rng(29);
const docs = Array.from({ length: VECTORS }, (_, id) => ({
  id,
  title: `w${Math.floor(r() * 50)} w${Math.floor(r() * 50)}`,
  _vectors: { emb: vec(r) },
}));

function measure(url: string, key: string, kind: string): Promise<number[]> {
  return new Promise((resolve, reject) => {
    const child = fork(fileURLToPath(import.meta.url), ['client', url, key, kind], { stdio: 'inherit' });
    child.once('message', (m) => resolve(m as number[]));
    child.once('error', reject);
  });
}

const pct = (xs: number[], p: number) => xs[Math.min(xs.length - 1, Math.floor((p / 100) * xs.length))]!;
const master = 'vector-master-key-0001';
const nodeKey = 'vector-node-key-00001';
const direct = await DevNode.start({ port: 0, masterKey: master });
const nodes = await Promise.all([0, 1, 2].map(() => DevNode.start({ port: 0, masterKey: nodeKey })));
const { app, close } = await startBenchProxy(
  nodes.map((n) => n.url),
  master,
  nodeKey,
);
try {
  for (const host of [direct.url, app.url]) {
    const c = new Meilisearch({ host, apiKey: master });
    await c.createIndex('bench', { primaryKey: 'id' }).waitTask();
    await c
      .index('bench')
      .updateSettings({
        searchableAttributes: ['title'],
        embedders: { emb: { source: 'userProvided', dimensions: DIMS } },
      } as never)
      .waitTask();
    for (let i = 0; i < docs.length; i += 10_000)
      await c
        .index('bench')
        .addDocuments(docs.slice(i, i + 10_000))
        .waitTask({ timeout: 600_000 });
  }
  const result: Record<string, unknown> = { date: new Date().toISOString(), vectors: VECTORS, dims: DIMS };
  console.log(
    '| search | one dev node p50 / p99 (ms) | Miroir, 3 nodes p50 / p99 (ms) | p50 ratio |\n|---|---|---|---|',
  );
  for (const kind of ['semantic', 'hybrid']) {
    const d = await measure(direct.url, master, kind);
    const m = await measure(app.url, master, kind);
    const row = {
      direct: { p50: Number(pct(d, 50).toFixed(3)), p99: Number(pct(d, 99).toFixed(3)) },
      miroir: { p50: Number(pct(m, 50).toFixed(3)), p99: Number(pct(m, 99).toFixed(3)) },
      ratio: { p50: Number((pct(m, 50) / pct(d, 50)).toFixed(3)), p99: Number((pct(m, 99) / pct(d, 99)).toFixed(3)) },
    };
    result[kind] = row;
    console.log(
      `| ${kind} | ${row.direct.p50} / ${row.direct.p99} | ${row.miroir.p50} / ${row.miroir.p99} | ${row.ratio.p50} |`,
    );
  }
  const out = new URL('../results/', import.meta.url).pathname.replace('/dist/bench/', '/bench/');
  mkdirSync(out, { recursive: true });
  writeFileSync(`${out}vector-search.json`, JSON.stringify(result, null, 2) + '\n');
} finally {
  await close();
  await Promise.all([direct, ...nodes].map((n) => n.stop()));
}
