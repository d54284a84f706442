// Miroir's own ceiling: three stub nodes answer canned Meilisearch search responses instantly (so nodes cost ~
// nothing; they run in a child process of their own, so neither their CPU nor their memory is charged to Miroir),
// a separate load process keeps 32 connections busy for 5 s, and we report small-search throughput of one Miroir
// process with 3-node fan-out, Miroir's CPU time per request, and its RSS idle and under load.
// Run after `npm run build`: `node dist/bench/e2e/ceiling.bench.js` (writes bench/results/ceiling.json).
import { mkdirSync, writeFileSync } from 'node:fs';
import { forkLoadGen, type Target } from './loadgen.js';
import { knowIndex, startBenchProxy } from './proxy.js';
import { forkStubs, STUB_INDEX } from './stubs.js';

const DURATION_MS = 5000;
const CONNECTIONS = 32;

await main();

async function main(): Promise<void> {
  const stubs = await forkStubs(3, 10);
  const master = 'ceiling-master-key-01';
  const { app, close } = await startBenchProxy(stubs.addresses, master, null);
  const loadgen = await forkLoadGen();
  try {
    await knowIndex(app, STUB_INDEX);
    const target: Target = {
      url: app.url,
      path: `/indexes/${STUB_INDEX}/search`,
      body: JSON.stringify({ q: 'quick', limit: 10 }),
      headers: { authorization: `Bearer ${master}` },
    };
    global.gc?.();
    const rssIdle = process.memoryUsage().rss;
    let rssPeak = rssIdle;
    const sampler = setInterval(() => (rssPeak = Math.max(rssPeak, process.memoryUsage().rss)), 100);
    // RSS at a paced 1,000 req/s for 3 s, then every connection busy for DURATION_MS.
    const paced = await loadgen.rate(target, 1000, 3000);
    const rssAt1k = rssPeak;
    const cpu1 = process.cpuUsage();
    const result = await loadgen.load(target, CONNECTIONS, DURATION_MS);
    clearInterval(sampler);
    const cpu = process.cpuUsage(cpu1);

    const rps = result.done / (result.elapsedMs / 1000);
    const out = {
      date: new Date().toISOString(),
      connections: CONNECTIONS,
      durationMs: DURATION_MS,
      requests: result.done,
      errors: result.errors,
      requestsPerSec: Math.round(rps),
      cpuMsPerRequest: Number(((cpu.user + cpu.system) / 1000 / Math.max(1, result.done)).toFixed(3)),
      rssIdleMB: Math.round(rssIdle / 1048576),
      rssAt1kRpsMB: Math.round(rssAt1k / 1048576),
      pacedRequests: paced.done,
      rssUnderLoadMB: Math.round(rssPeak / 1048576),
      goals: { requestsPerSec: 3000, rssIdleMB: 120, rssAt1kRpsMB: 400 },
      errorsPaced: paced.errors,
    };
    console.log('| measure | value | goal |\n|---|---|---|');
    console.log(`| small searches/s, one Miroir process, 3-node fan-out | ${out.requestsPerSec} | ≥ 3,000 |`);
    console.log(`| Miroir CPU per request | ${out.cpuMsPerRequest} ms | — |`);
    console.log(`| RSS idle (proxy process) | ${out.rssIdleMB} MB | ≤ 120 MB |`);
    console.log(`| RSS at 1,000 req/s (3 s paced) | ${out.rssAt1kRpsMB} MB | ≤ 400 MB |`);
    console.log(`| RSS at full load | ${out.rssUnderLoadMB} MB | — |`);
    console.log(`errors: ${out.errors}`);
    const dirOut = new URL('../results/', import.meta.url).pathname.replace('/dist/bench/', '/bench/');
    mkdirSync(dirOut, { recursive: true });
    writeFileSync(`${dirOut}ceiling.json`, JSON.stringify(out, null, 2) + '\n');
  } finally {
    await loadgen.close();
    await close();
    await stubs.stop();
  }
}
