// Miroir's own ceiling: three stub nodes answer canned Meilisearch search responses instantly (so nodes cost ~
// nothing; they run in a child process of their own, so neither their CPU nor their memory is charged to Miroir),
// a separate load process keeps 32 connections busy for 5 s, and we report small-search throughput of one Miroir
// process with 3-node fan-out, Miroir's CPU time per request, and its RSS idle and under load.
// Run after `npm run build`: `node dist/bench/e2e/ceiling.bench.js` (writes bench/results/ceiling.json).
import { fork } from 'node:child_process';
import { createServer, type Server } from 'node:http';
import { mkdirSync, writeFileSync } from 'node:fs';
import { defaultSettings } from '../../src/core/settings.js';
import type { AddressInfo } from 'node:net';
import { fileURLToPath } from 'node:url';
import { startBenchProxy } from './proxy.js';

const DURATION_MS = 5000;
const CONNECTIONS = 32;

if (process.argv[2] === 'rate' || process.argv[2] === 'load') {
  // Load generator process. 'load': every connection busy for DURATION_MS. 'rate': paced 1,000 requests per second
  // for 3 s (10 every 10 ms), for the RSS-at-1k-req/s measure.
  const { Pool } = await import('undici');
  const [url, key] = [process.argv[3]!, process.argv[4]!];
  const pool = new Pool(url, { connections: CONNECTIONS });
  const body = JSON.stringify({ q: 'quick', limit: 10 });
  const counts = { done: 0, errors: 0 };
  const one = async () => {
    const res = await pool.request({ path: '/indexes/bench/search', method: 'POST', headers: { authorization: `Bearer ${key}`, 'content-type': 'application/json' }, body });
    await res.body.text();
    if (res.statusCode === 200) counts.done++;
    else counts.errors++;
  };
  if (process.argv[2] === 'rate') {
    const inflight: Array<Promise<void>> = [];
    for (let tick = 0; tick < 300; tick++) {
      for (let i = 0; i < 10; i++) inflight.push(one());
      await new Promise((r) => setTimeout(r, 10));
    }
    await Promise.all(inflight);
  } else {
    const stopAt = Date.now() + DURATION_MS;
    await Promise.all(
      Array.from({ length: CONNECTIONS }, async () => {
        while (Date.now() < stopAt) await one();
      }),
    );
  }
  process.send!(counts);
  await pool.close();
  process.exit(0);
}

function stubNode(shardHits: number): Promise<Server> {
  const hits = Array.from({ length: 10 }, (_, i) => ({ id: `${shardHits}-${i}`, title: `hit ${i}`, _rankingScore: 1 - i / 20, _miroir_shard: shardHits }));
  const search = Buffer.from(JSON.stringify({ hits, query: 'quick', processingTimeMs: 0, limit: 10, offset: 0, estimatedTotalHits: 120, requestUid: '00000000-0000-4000-8000-000000000000' }));
  const health = Buffer.from('{"status":"available"}');
  const server = createServer((req, res) => {
    req.resume();
    req.on('end', () => {
      const body = req.url === '/health' ? health : search;
      res.writeHead(200, { 'content-type': 'application/json', 'content-length': body.length }).end(body);
    });
  });
  return new Promise((r) => server.listen(0, '127.0.0.1', () => r(server)));
}

if (process.argv[2] === 'stubs') {
  // Stub-node process: three stub servers; reports their addresses, exits when the bench disconnects.
  const stubs = await Promise.all([0, 1, 2].map(stubNode));
  process.send!(stubs.map((st) => `http://127.0.0.1:${(st.address() as AddressInfo).port}`));
  process.on('disconnect', () => process.exit(0));
} else {
  await main();
}

async function main(): Promise<void> {
  const stubProcess = fork(fileURLToPath(import.meta.url), ['stubs'], { stdio: 'inherit' });
  const stubsExited = new Promise((r) => stubProcess.once('exit', r));
  const addresses = await new Promise<string[]>((resolve, reject) => {
    stubProcess.once('message', (m) => resolve(m as string[]));
    stubProcess.once('error', reject);
  });
  const master = 'ceiling-master-key-01';
  const { app, close } = await startBenchProxy(addresses, master, null);
  try {
    const now = new Date().toISOString();
    await app.store.casIndexes([{ uid: 'bench', expected: 0, next: { uid: 'bench', committed: { primaryKey: 'id', settings: defaultSettings(), settingsVersion: 1, createdAt: now, updatedAt: now }, fields: ['id', 'title'], shards: app.topology.current.shards, pending: [] } }]);
    global.gc?.();
    const rssIdle = process.memoryUsage().rss;
    let rssPeak = rssIdle;
    const sampler = setInterval(() => (rssPeak = Math.max(rssPeak, process.memoryUsage().rss)), 100);
    const runLoad = (mode: 'load' | 'rate') =>
      new Promise<{ done: number; errors: number }>((resolve, reject) => {
        const child = fork(fileURLToPath(import.meta.url), [mode, app.url, master], { stdio: 'inherit' });
        child.once('message', (m) => resolve(m as { done: number; errors: number }));
        child.once('error', reject);
      });
    const paced = await runLoad('rate');
    const rssAt1k = rssPeak;
    const cpu1 = process.cpuUsage();
    const result = await runLoad('load');
    clearInterval(sampler);
    const cpu = process.cpuUsage(cpu1);

    const rps = result.done / (DURATION_MS / 1000);
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
    await close();
    stubProcess.disconnect();
    await stubsExited;
  }
}
