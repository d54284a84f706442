// `npm run bench`: the micro benchmarks of src/core (benchmark.js) with their SPEC targets, printed as a table and
// written to bench/results/micro.json. Runs the native and TypeScript hash paths side by side when the addon exists.
import { writeFileSync, mkdirSync } from 'node:fs';
import Benchmark from 'benchmark';
import { enableNative, loadAddon } from '../native/index.js';
import { canonicalJson, settingsHash } from '../src/core/canonical-json.js';
import { setHashBackend, typescriptBackend } from '../src/core/hash.js';
import { mergeSearchResults } from '../src/core/merge.js';
import { routeBatch } from '../src/core/route-batch.js';
import { parseDocuments } from '../src/core/payload.js';
import { planPkFilter } from '../src/core/query-plan.js';
import { RoutingTable } from '../src/core/rendezvous.js';
import { ReplicaSelector } from '../src/main/cluster/replica-selector.js';
import { bigBody, documents, shardAnswers, SHARDS, TARGETS } from './core/fixtures.js';

interface Row {
  name: string;
  meanMs: number;
  rme: number;
  targetMs: number | null;
  goalMs: number | null;
}

const docs10k = documents(10_000);
const ids10k = docs10k.map((d) => String(d.id));
const answers = shardAnswers(1000);
const body100k = bigBody(100 * 1024);
const ndjson = Buffer.from(docs10k.map((d) => JSON.stringify(d)).join('\n'));
const mergeSettings = {
  primaryKey: 'id',
  maxTotalHits: 1000,
  maxValuesPerFacet: 100,
  sortFacetValuesBy: { '*': 'alpha' },
  distinctAttribute: null,
};

async function main(): Promise<void> {
  const { shardsForIds } = await import('../src/core/route-batch.js');
  const rows: Row[] = [];
  const suite = new Benchmark.Suite();
  const add = (name: string, fn: () => void, targetMs: number | null, goalMs: number | null, setup?: () => void) => {
    suite.add(name, { fn, onStart: setup, minSamples: 20 });
    (suite as unknown as { __meta: Record<string, [number | null, number | null]> }).__meta ??= {};
    (suite as unknown as { __meta: Record<string, [number | null, number | null]> }).__meta[name] = [targetMs, goalMs];
  };
  const native = loadAddon();
  if (native !== null)
    add(
      'route 10k ids → shards (native)',
      () => {
        enableNative();
        shardsForIds(ids10k, SHARDS);
      },
      1,
      0.3,
    );
  add(
    'route 10k ids → shards (TypeScript)',
    () => {
      setHashBackend(typescriptBackend);
      shardsForIds(ids10k, SHARDS);
    },
    1,
    0.3,
  );
  add(
    'routeBatch 10k docs (ids, shards, inject, per-node JSON)',
    () => {
      enableNative();
      routeBatch({ docs: docs10k, primaryKey: 'id', shards: SHARDS, targets: TARGETS });
    },
    null,
    null,
  );
  add(
    `NDJSON parse + route 10k docs (${(ndjson.length / 1048576).toFixed(2)} MB)`,
    () => {
      enableNative();
      routeBatch({ docs: parseDocuments(ndjson, 'ndjson'), primaryKey: 'id', shards: SHARDS, targets: TARGETS });
    },
    null,
    null,
  );
  add(
    'merge 1,000 hits × 3 shards + facets',
    () => {
      mergeSearchResults(answers, { q: 'x', limit: 1000, facets: ['color', 'brand'] }, mergeSettings);
    },
    1,
    0.25,
  );
  add(
    'merge top 20 of 3 × 1,000 hits + facets',
    () => {
      mergeSearchResults(answers, { q: 'x', limit: 20, facets: ['color', 'brand'] }, mergeSettings);
    },
    1,
    0.25,
  );
  add(
    'PK plan: `id IN [3 ids] AND color = red` (parse + narrow)',
    () => {
      planPkFilter('id IN [12, 4711, 99] AND color = red', 'id', SHARDS, 128);
    },
    null,
    0.01,
  );
  add(
    'PK plan: filter without the key (text check only)',
    () => {
      planPkFilter('color = red AND price > 10', 'sku', SHARDS, 128);
    },
    null,
    0.001,
  );
  const table = new RoutingTable({
    shards: SHARDS,
    replication_factor: 2,
    groups: [{ id: 0, state: 'active' }],
    nodes: ['node-0', 'node-1', 'node-2'].map((id) => ({ id, replica_group: 0, state: 'active', health: 'healthy' })),
  });
  const selector = new ReplicaSelector(
    {
      strategy: 'adaptive',
      latency_weight: 1,
      inflight_weight: 2,
      error_weight: 10,
      ewma_half_life_ms: 5000,
      exploration_epsilon: 0.05,
    },
    null,
  );
  for (let i = 0; i < 50; i++)
    for (const id of ['node-0', 'node-1', 'node-2']) {
      selector.started(id);
      selector.finished(id, id === 'node-0' ? 40 : 4 + (i % 3), false);
    }
  let seq = 0;
  add(
    `covering set of ${SHARDS} shards, RF=2: round-robin rotation`,
    () => {
      table.coveringSet(seq++);
    },
    null,
    null,
  );
  add(
    `covering set of ${SHARDS} shards, RF=2, adaptive replica selection`,
    () => {
      table.coveringSet(seq++, null, selector);
    },
    null,
    0.02,
  );
  add(
    'canonical JSON of a 100 KB body',
    () => {
      canonicalJson(body100k);
    },
    null,
    null,
  );
  add(
    'sha256(canonical JSON) of a 100 KB body',
    () => {
      settingsHash(body100k);
    },
    null,
    null,
  );
  const meta = (suite as unknown as { __meta: Record<string, [number | null, number | null]> }).__meta;
  await new Promise<void>((resolve) => {
    suite
      .on('cycle', (e: { target: Benchmark }) => {
        const t = e.target;
        const [targetMs, goalMs] = meta[String(t.name)]!;
        rows.push({ name: String(t.name), meanMs: t.stats.mean * 1000, rme: t.stats.rme, targetMs, goalMs });
      })
      .on('complete', () => resolve())
      .run({ async: false });
  });
  enableNative();
  const fmt = (v: number | null) => (v === null ? '—' : `${v}`);
  console.log(`native addon: ${native !== null ? 'loaded' : 'not built'}`);
  console.log('| benchmark | mean (ms) | ±% | target (ms) | goal (ms) |');
  console.log('|---|---|---|---|---|');
  for (const r of rows)
    console.log(`| ${r.name} | ${r.meanMs.toFixed(4)} | ${r.rme.toFixed(1)} | ${fmt(r.targetMs)} | ${fmt(r.goalMs)} |`);
  const nd = rows.find((r) => r.name.startsWith('NDJSON'));
  if (nd) console.log(`NDJSON routing throughput: ${(ndjson.length / 1048576 / (nd.meanMs / 1000)).toFixed(1)} MB/s`);
  mkdirSync(new URL('./results/', import.meta.url).pathname.replace('/dist/bench/', '/bench/'), { recursive: true });
  const out = new URL('./results/micro.json', import.meta.url).pathname.replace('/dist/bench/', '/bench/');
  writeFileSync(
    out,
    JSON.stringify({ date: new Date().toISOString(), node: process.version, native: native !== null, rows }, null, 2) +
      '\n',
  );
}

await main();
