// Search latency side by side in one run: p50/p99 of small searches via Miroir (3 dev nodes, S=16, RF=1) ÷ the
// same searches straight to one dev node holding every document, and a third side where the load process fans out
// to the three nodes itself and merges (no proxy): the floor of a 3-node fan-out on this machine, so Miroir's own
// hop is the difference to it. Requests come from a separate process (a forked
// load generator using undici) so the client's own work does not sit on the measured event loop.
// Run after `npm run build`: `node dist/bench/e2e/search-latency.bench.js` (writes bench/results/search-latency.json).
import { mkdirSync, writeFileSync } from 'node:fs';
import { fork } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { Meilisearch } from 'meilisearch';
import { DevNode } from '../../src/devnode/node.js';
import { startBenchProxy } from './proxy.js';
import { latencySvg, percentileCurve } from '../chart.js';

const REQUESTS = 1500;
const QUERIES = ['quick', 'brown fox', 'lazy', 'river', 'star', 'model 7', 'acme', 'moon'];

if (process.argv[2] === 'client') {
  // Load generator process: sequential requests, one connection, reports sorted latencies in ms. Given several
  // URLs it is the "split" side: it asks every node itself in parallel and merges the answers with Miroir's own
  // merge, i.e. a fan-out with no proxy hop.
  const { request } = await import('undici');
  const { mergeSearchResults } = await import('../../src/core/merge.js');
  const [urls, key] = [JSON.parse(process.argv[3]!) as string[], process.argv[4]!];
  const settings = {
    primaryKey: 'id',
    maxTotalHits: 1000,
    maxValuesPerFacet: 100,
    sortFacetValuesBy: { '*': 'alpha' },
    distinctAttribute: null,
  };
  const ask = async (url: string, body: Record<string, unknown>) => {
    const res = await request(`${url}/indexes/bench/search`, {
      method: 'POST',
      headers: { authorization: `Bearer ${key}`, 'content-type': 'application/json' },
      body: JSON.stringify(body),
    });
    return (await res.body.json()) as Parameters<typeof mergeSearchResults>[0][number];
  };
  const lat: number[] = [];
  for (let i = 0; i < REQUESTS + 100; i++) {
    const query = { q: QUERIES[i % QUERIES.length], limit: 10 };
    const t0 = performance.now();
    if (urls.length === 1) await ask(urls[0]!, query);
    else
      JSON.stringify(
        mergeSearchResults(
          await Promise.all(urls.map((u) => ask(u, { ...query, showRankingScore: true }))),
          query,
          settings,
        ),
      );
    if (i >= 100) lat.push(performance.now() - t0);
  }
  process.send!(lat.sort((a, b) => a - b));
  process.exit(0);
}

// `BENCH_DOCS` sizes the corpus (default 10,000): the bigger it is, the more of each search is node work that the
// shards split, and the less the fixed cost of the extra hop weighs.
const DOCS = Number(process.env.BENCH_DOCS ?? 10_000);
const docs = Array.from({ length: DOCS }, (_, i) => ({
  id: i,
  title: `${['quick brown fox', 'lazy dog', 'quiet river', 'bright star', 'silver moon'][i % 5]} model ${i % 50}`,
  brand: ['acme', 'globex'][i % 2],
}));

function measure(urls: string | string[], key: string): Promise<number[]> {
  return new Promise((resolve, reject) => {
    const child = fork(fileURLToPath(import.meta.url), ['client', JSON.stringify([urls].flat()), key], {
      stdio: 'inherit',
    });
    child.once('message', (m) => resolve(m as number[]));
    child.once('error', reject);
  });
}

const pct = (xs: number[], p: number) => xs[Math.min(xs.length - 1, Math.floor((p / 100) * xs.length))]!;
const master = 'latency-master-key-01';
const nodeKey = 'latency-node-key-0001';
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
    await c.index('bench').addDocuments(docs).waitTask();
  }
  // Three alternating rounds per side; the round with the median p50 ratio is reported (GC and scheduling noise).
  const rounds: Array<{ d: number[]; m: number[]; s: number[]; ratio: number }> = [];
  for (let r = 0; r < 3; r++) {
    const d = await measure(direct.url, master);
    const m = await measure(app.url, master);
    const sp = await measure(
      nodes.map((n) => n.url),
      nodeKey,
    );
    rounds.push({ d, m, s: sp, ratio: pct(m, 50) / pct(d, 50) });
  }
  rounds.sort((a, b) => a.ratio - b.ratio);
  const { d, m, s: sp } = rounds[1]!;
  const result = {
    date: new Date().toISOString(),
    documents: DOCS,
    requests: REQUESTS,
    rounds: rounds.map((x) => Number(x.ratio.toFixed(3))),
    direct: { p50: Number(pct(d, 50).toFixed(3)), p99: Number(pct(d, 99).toFixed(3)) },
    miroir: { p50: Number(pct(m, 50).toFixed(3)), p99: Number(pct(m, 99).toFixed(3)) },
    split: { p50: Number(pct(sp, 50).toFixed(3)), p99: Number(pct(sp, 99).toFixed(3)) },
    ratio: { p50: Number((pct(m, 50) / pct(d, 50)).toFixed(3)), p99: Number((pct(m, 99) / pct(d, 99)).toFixed(3)) },
    splitRatio: {
      p50: Number((pct(sp, 50) / pct(d, 50)).toFixed(3)),
      p99: Number((pct(sp, 99) / pct(d, 99)).toFixed(3)),
    },
    miroirAddedMs: {
      p50: Number((pct(m, 50) - pct(sp, 50)).toFixed(3)),
      p99: Number((pct(m, 99) - pct(sp, 99)).toFixed(3)),
    },
    targets: { p50: 2, goal_p50: 1.15, goal_p99: 1.3 },
  };
  console.log('| path | p50 (ms) | p99 (ms) |\n|---|---|---|');
  console.log(
    `| one dev node, direct | ${result.direct.p50} | ${result.direct.p99} |\n| Miroir, 3 dev nodes, S=16 | ${result.miroir.p50} | ${result.miroir.p99} |`,
  );
  console.log(
    `| the client fans out to the 3 nodes itself and merges (no proxy) | ${result.split.p50} | ${result.split.p99} |`,
  );
  console.log(
    `ratio Miroir ÷ direct: p50 ${result.ratio.p50}, p99 ${result.ratio.p99} (target < 2×; goal ≤ 1.15× p50, ≤ 1.3× p99); p50 ratios of the 3 rounds: ${result.rounds.join(', ')}`,
  );
  console.log(
    `fan-out without a proxy ÷ direct: p50 ${result.splitRatio.p50}, p99 ${result.splitRatio.p99}; Miroir's hop adds ${result.miroirAddedMs.p50} ms at p50`,
  );
  const out = new URL('../results/', import.meta.url).pathname.replace('/dist/bench/', '/bench/');
  mkdirSync(out, { recursive: true });
  const name = DOCS === 10_000 ? 'search-latency' : `search-latency-${DOCS}`;
  writeFileSync(
    `${out}${name}.json`,
    JSON.stringify(
      { ...result, curves: { direct: percentileCurve(d), miroir: percentileCurve(m), split: percentileCurve(sp) } },
      null,
      2,
    ) + '\n',
  );
  writeFileSync(
    `${out}${name}.svg`,
    latencySvg(`Small searches over ${DOCS.toLocaleString('en-US')} documents: latency percentiles (lower is better)`, [
      { name: 'one dev node, direct', color: '#1f77b4', points: percentileCurve(d) },
      { name: 'Miroir, 3 dev nodes, S=16', color: '#d62728', points: percentileCurve(m) },
      { name: 'client fan-out to the 3 nodes, no proxy', color: '#2ca02c', points: percentileCurve(sp) },
    ]),
  );
} finally {
  await close();
  await Promise.all([direct, ...nodes].map((n) => n.stop()));
}
