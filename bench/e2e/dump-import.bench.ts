// Streaming dump import through Miroir (SPEC A9): a generated v6 dump (one index, `BENCH_DUMP_SIZES` documents,
// default 50,000 and 200,000; the goal statement is 1,000,000) is uploaded to `POST /_miroir/dumps/import` of Miroir
// (its own process) over 3 dev nodes (processes of their own, S=16, RF=1), timed from the upload's start until the
// import task succeeded. Reports documents per second and the proxy's peak RSS (VmHWM of a fresh proxy process per
// size) — the goal: peak RSS flat in the dump size. `node dist/bench/e2e/dump-import.bench.js` (writes
// bench/results/dump-import.json).
import { randomBytes } from 'node:crypto';
import { createReadStream, mkdirSync, writeFileSync } from 'node:fs';
import { loadavg } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { Meilisearch } from 'meilisearch';
import { membersOf } from '../../src/core/types.js';
import { tempDir } from '../../test/support/devnode.js';
import { writeGeneratedDump } from '../../test/support/dumps.js';
import { startMiroirProcess } from '../../test/support/miroir-process.js';
import { startDevNodeProcess, type DevNodeProcess } from './devnode-process.js';
import { cpuMs, statusKib } from './proc.js';

const SIZES = (process.env.BENCH_DUMP_SIZES ?? '50000,200000').split(',').map(Number);

async function stopNode(n: DevNodeProcess): Promise<void> {
  if (n.child.exitCode !== null) return;
  const gone = new Promise((r) => n.child.once('exit', r));
  n.child.kill('SIGTERM');
  await gone;
}

async function run(docs: number, tmp: string): Promise<Record<string, number>> {
  const nodeKey = randomBytes(12).toString('hex');
  const masterKey = `master-${randomBytes(12).toString('hex')}`;
  const adminKey = `admin-${randomBytes(12).toString('hex')}`;
  const dump = join(tmp, `dump-${docs}.dump`);
  const bytes = await writeGeneratedDump(dump, { docsPerIndex: docs });
  const nodes = await Promise.all([0, 1, 2].map(() => startDevNodeProcess(nodeKey)));
  const proxy = await startMiroirProcess({
    shards: 16,
    replication_factor: 1,
    nodes: nodes.map((n, i) => ({ id: `node-${i}`, address: n.url, replica_group: 0 })),
    master_key: masterKey,
    node_master_key: nodeKey,
    admin: { api_key: adminKey },
    task_store: { backend: 'lmdb', path: join(tmp, `store-${docs}`) },
    server: { request_timeout_ms: 600_000 },
    dump_import: { spool_dir: join(tmp, `spool-${docs}`) },
  });
  try {
    const idle = statusKib(proxy.pid, 'VmRSS');
    const cpu0 = cpuMs(proxy.pid) / 1000;
    const nodeCpu0 = nodes.reduce((a, n) => a + cpuMs(n.child.pid!) / 1000, 0);
    const started = performance.now();
    const res = await fetch(`${proxy.url}/_miroir/dumps/import`, {
      method: 'POST',
      headers: { authorization: `Bearer ${adminKey}`, 'content-type': 'application/gzip' },
      body: Readable.toWeb(createReadStream(dump)),
      duplex: 'half',
    } as RequestInit);
    if (res.status !== 202) throw new Error(`upload answered ${res.status}: ${await res.text()}`);
    const uploadedMs = performance.now() - started;
    const { taskUid } = (await res.json()) as { taskUid: number };
    const client = new Meilisearch({ host: proxy.url, apiKey: masterKey });
    // When every document was routed (phase `waiting`: the nodes are still indexing the last batches).
    let routedMs = 0;
    // Anonymous memory (heap, buffers) apart from file-backed pages (the LMDB store's memory map, code).
    let peakAnon = 0;
    let peakFile = 0;
    const watch = setInterval(() => {
      peakAnon = Math.max(peakAnon, statusKib(proxy.pid, 'RssAnon'));
      peakFile = Math.max(peakFile, statusKib(proxy.pid, 'RssFile'));
      void fetch(`${proxy.url}/_miroir/dumps/import/${taskUid}/status`, {
        headers: { authorization: `Bearer ${adminKey}` },
      })
        .then((r) => r.json())
        .then((s: unknown) => {
          const phase = membersOf(s).phase;
          if (routedMs === 0 && (phase === 'waiting' || phase === 'succeeded')) routedMs = performance.now() - started;
        })
        .catch(() => undefined);
    }, 250);
    const task = await client.tasks.waitForTask(taskUid, { timeout: 3_600_000, interval: 250 });
    clearInterval(watch);
    const seconds = (performance.now() - started) / 1000;
    const proxyCpu = cpuMs(proxy.pid) / 1000 - cpu0;
    const nodeCpu = nodes.reduce((a, n) => a + cpuMs(n.child.pid!) / 1000, 0) - nodeCpu0;
    if (task.status !== 'succeeded') throw new Error(`import ${task.status}: ${JSON.stringify(task.error)}`);
    // Checked after the clock stopped; a node slow to answer under load is asked again.
    let stats: { numberOfDocuments: number } | null = null;
    for (let i = 0; stats === null; i++) {
      stats = await client
        .index('generated')
        .getStats()
        .catch((err: unknown) => {
          if (i >= 10) throw err;
          return null;
        });
    }
    if (stats.numberOfDocuments !== docs) throw new Error(`${stats.numberOfDocuments} documents, not ${docs}`);
    return {
      documents: docs,
      dump_bytes: bytes,
      upload_ms: Math.round(uploadedMs),
      seconds: Math.round(seconds * 10) / 10,
      docs_per_sec: Math.round(docs / seconds),
      routed_seconds: Math.round(routedMs / 100) / 10,
      routed_docs_per_sec: routedMs === 0 ? 0 : Math.round(docs / (routedMs / 1000)),
      proxy_cpu_seconds: Math.round(proxyCpu * 10) / 10,
      nodes_cpu_seconds: Math.round(nodeCpu * 10) / 10,
      load_average: Math.round(loadavg()[0]! * 10) / 10,
      proxy_rss_idle_mib: Math.round(idle / 1024),
      proxy_peak_rss_mib: Math.round(statusKib(proxy.pid, 'VmHWM') / 1024),
      proxy_peak_anon_mib: Math.round(peakAnon / 1024),
      proxy_peak_file_mib: Math.round(peakFile / 1024),
    };
  } finally {
    await proxy.stop();
    await Promise.all(nodes.map(stopNode));
  }
}

const tmp = tempDir('miroir-dump-bench-');
try {
  const rows: Array<Record<string, number>> = [];
  for (const size of SIZES) {
    const row = await run(size, tmp.dir);
    rows.push(row);
    console.log(JSON.stringify(row));
  }
  const out = new URL('../results/', import.meta.url).pathname.replace('/dist/bench/', '/bench/');
  mkdirSync(out, { recursive: true });
  writeFileSync(join(out, 'dump-import.json'), JSON.stringify({ at: new Date().toISOString(), rows }, null, 2) + '\n');
} finally {
  tmp.cleanup();
}
