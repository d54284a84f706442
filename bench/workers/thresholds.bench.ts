// Chooses the inline/pool thresholds of src/workers/pool.ts: times each job inline and through one Piscina worker
// at growing sizes (mean of repeated runs after warm-up) and prints where the pool starts to pay for its hop.
import { enableNative } from '../../native/index.js';
import { mergeSearchResults } from '../../src/core/merge.js';
import { ingestBatch } from '../../src/core/ingest-batch.js';
import { WorkerPool } from '../../src/workers/pool.js';
import { documents, shardAnswers, SHARDS, TARGETS } from '../core/fixtures.js';

enableNative();
const pool = new WorkerPool({
  maxThreads: 1,
  thresholds: { ingestBatch: 0, mergeResults: 0, fingerprintPage: 0, canonicalHash: 0 },
});
const settings = {
  primaryKey: 'id',
  maxTotalHits: 100000,
  maxValuesPerFacet: 100,
  sortFacetValuesBy: { '*': 'alpha' },
  distinctAttribute: null,
};

async function time(fn: () => unknown | Promise<unknown>, runs: number): Promise<number> {
  for (let i = 0; i < 5; i++) await fn();
  const t0 = performance.now();
  for (let i = 0; i < runs; i++) await fn();
  return (performance.now() - t0) / runs;
}

/** Event-loop busy time per call (eventLoopUtilization's active time): what a job costs the main thread. */
async function loopBusy(fn: () => unknown | Promise<unknown>, runs: number): Promise<number> {
  for (let i = 0; i < 5; i++) await fn();
  const e0 = performance.eventLoopUtilization();
  for (let i = 0; i < runs; i++) await fn();
  return performance.eventLoopUtilization(e0).active / runs;
}

console.log('| job | size | inline (ms) | pool round trip (ms) | event loop busy via pool (ms) |');
console.log('|---|---|---|---|---|');
for (const n of [10, 100, 500, 1000, 2000, 5000, 10000]) {
  const body = Buffer.from(JSON.stringify(documents(n)));
  const input = {
    body,
    format: 'json' as const,
    csvDelimiter: ',',
    primaryKey: 'id',
    shards: SHARDS,
    targets: TARGETS,
  };
  const inline = await time(() => ingestBatch(input), 30);
  const pooled = await time(() => pool.run('ingestBatch', input, body.length), 30);
  const cpu = await loopBusy(() => pool.run('ingestBatch', input, body.length), 30);
  console.log(
    `| ingestBatch | ${n} docs (${(body.length / 1024).toFixed(0)} KB) | ${inline.toFixed(3)} | ${pooled.toFixed(3)} | ${cpu.toFixed(3)} |`,
  );
}
for (const n of [100, 1000, 5000]) {
  const input = { answers: shardAnswers(n), query: { q: 'x', limit: n, facets: ['color', 'brand'] }, settings };
  const inline = await time(() => mergeSearchResults(input.answers, input.query, settings), 30);
  const pooled = await time(() => pool.run('mergeResults', input, n), 30);
  console.log(`| mergeResults | 3 × ${n} hits | ${inline.toFixed(3)} | ${pooled.toFixed(3)} | |`);
}
await pool.close();
