// What CDC adds to one write, measured apart from the nodes: reading the keys (and documents) of a routed batch
// (core/cdc.ts routedDocuments, 10 and 1,000 documents), and the durable LMDB write before the 202 — the task record
// alone (CDC off) against the task record and its event together (CDC on), in alternating rounds so machine noise
// hits both alike. Run after `npm run build`: `node dist/bench/core/cdc.bench.js`.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { routedDocuments } from '../../src/core/cdc.js';
import { routeBatch } from '../../src/core/route-batch.js';
import { LmdbStore } from '../../src/store/lmdb.js';
import type { TaskRow } from '../../src/store/store.js';
import { documents, SHARDS, TARGETS } from './fixtures.js';

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)]!;
}

for (const n of [10, 1000]) {
  const routed = routeBatch({ docs: documents(n), primaryKey: 'id', shards: SHARDS, targets: TARGETS });
  for (const bodies of [false, true]) {
    for (let i = 0; i < 200; i++) routedDocuments(routed.bodies, routed.nodeShards, 'id', bodies);
    const times: number[] = [];
    for (let i = 0; i < 2000; i++) {
      const t0 = performance.now();
      routedDocuments(routed.bodies, routed.nodeShards, 'id', bodies);
      times.push(performance.now() - t0);
    }
    console.log(
      `routedDocuments ${n} docs${bodies ? ' + bodies' : ''}: median ${(median(times) * 1000).toFixed(1)} µs`,
    );
  }
}

const dir = mkdtempSync(join(tmpdir(), 'miroir-cdc-bench-'));
const store = new LmdbStore({ path: dir });
const task = (uid: number): TaskRow => ({
  uid,
  indexUid: 'bench',
  type: 'documentAdditionOrUpdate',
  status: 'enqueued',
  nodeTasks: { 'node-0': [uid] },
  details: { receivedDocuments: 10, indexedDocuments: null },
  error: null,
  canceledBy: null,
  enqueuedAt: new Date().toISOString(),
  startedAt: null,
  finishedAt: null,
  queues: ['bench'],
});
const keys = Array.from({ length: 10 }, (_, i) => `sku_${i}`);
const off: number[] = [];
const on: number[] = [];
let uid = 0;
try {
  for (let round = 0; round < 10; round++)
    for (const cdc of [false, true])
      for (let i = 0; i < 50; i++) {
        const t = task(uid++);
        const t0 = performance.now();
        if (cdc)
          await Promise.all([
            store.putTask(t),
            store.appendChanges([
              {
                mtask_id: t.uid,
                index: 'bench',
                operation: 'document_add',
                primary_keys: keys,
                shard_ids: [1, 5, 9],
                settings_version: 1,
                timestamp: t.enqueuedAt,
              },
            ]),
          ]);
        else await store.putTask(t);
        (cdc ? on : off).push(performance.now() - t0);
      }
} finally {
  await store.close();
  rmSync(dir, { recursive: true, force: true });
}
console.log(
  `durable write before the 202 (LMDB): task record ${median(off).toFixed(2)} ms median; task record + event ${median(on).toFixed(2)} ms median (${on.length} each)`,
);
