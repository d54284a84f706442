// Chooses the inline/pool thresholds of src/workers/pool.ts: times each job inline and through one Piscina worker
// at growing sizes (mean of repeated runs after warm-up) and prints where the pool starts to pay for its hop.
import { enableNative } from '../../native/index.js';
import { mergeSearchResults } from '../../src/core/merge.js';
import { routeBatch } from '../../src/core/route-batch.js';
import { WorkerPool } from '../../src/workers/pool.js';
import { documents, shardAnswers, SHARDS, TARGETS } from '../core/fixtures.js';

enableNative();
const pool = new WorkerPool({ maxThreads: 1, thresholds: { routeBatch: 0, mergeResults: 0, fingerprintPage: 0, canonicalHash: 0 } });
const settings = { primaryKey: 'id', maxTotalHits: 100000, maxValuesPerFacet: 100, sortFacetValuesBy: { '*': 'alpha' }, distinctAttribute: null };

async function time(fn: () => unknown | Promise<unknown>, runs: number): Promise<number> {
  for (let i = 0; i < 5; i++) await fn();
  const t0 = performance.now();
  for (let i = 0; i < runs; i++) await fn();
  return (performance.now() - t0) / runs;
}

console.log('| job | size | inline (ms) | pool round trip (ms) |');
console.log('|---|---|---|---|');
for (const n of [100, 500, 1000, 2000, 5000, 10000]) {
  const input = { docs: documents(n), primaryKey: 'id', shards: SHARDS, targets: TARGETS };
  const inline = await time(() => routeBatch(input), 30);
  const pooled = await time(() => pool.run('routeBatch', input, n), 30);
  console.log(`| routeBatch | ${n} docs | ${inline.toFixed(3)} | ${pooled.toFixed(3)} |`);
}
for (const n of [100, 1000, 5000]) {
  const input = { answers: shardAnswers(n), query: { q: 'x', limit: n, facets: ['color', 'brand'] }, settings };
  const inline = await time(() => mergeSearchResults(input.answers, input.query, settings), 30);
  const pooled = await time(() => pool.run('mergeResults', input, n), 30);
  console.log(`| mergeResults | 3 × ${n} hits | ${inline.toFixed(3)} | ${pooled.toFixed(3)} |`);
}
await pool.close();
