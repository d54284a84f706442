// A dump import survives a proxy crash: Miroir (a child process) is SIGKILLed mid-import and restarted on the same
// port; the `dump_import` job resumes from its saved cursor (index + document offset) and the import task ends
// succeeded with every document of the dump in the index exactly once. A dump being written when the proxy dies is
// written again by the restarted proxy.
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { createReadStream, existsSync } from 'node:fs';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { after, before, test } from 'node:test';
import { Meilisearch } from 'meilisearch';
import { DevNode } from '../../../src/devnode/node.js';
import { tempDir } from '../../support/devnode.js';
import { writeGeneratedDump } from '../../support/dumps.js';
import { startMiroirProcess, type MiroirProcess } from '../../support/miroir-process.js';
import { until } from '../../support/wait.js';

const DOCS = 40_000;
const tmp = tempDir('miroir-dump-resume-');
const nodeKey = randomBytes(12).toString('hex');
const masterKey = `master-${randomBytes(12).toString('hex')}`;
const adminKey = `admin-${randomBytes(12).toString('hex')}`;
const nodes: DevNode[] = [];
let proxy: MiroirProcess;
let dump: string;

before(async () => {
  for (let i = 0; i < 3; i++) nodes.push(await DevNode.start({ port: 0, masterKey: nodeKey }));
  dump = join(tmp.dir, 'generated.dump');
  await writeGeneratedDump(dump, { docsPerIndex: DOCS });
  proxy = await startMiroirProcess({
    shards: 8,
    replication_factor: 1,
    nodes: nodes.map((n, i) => ({ id: `node-${i}`, address: n.url, replica_group: 0 })),
    master_key: masterKey,
    node_master_key: nodeKey,
    admin: { api_key: adminKey },
    task_store: { backend: 'lmdb', path: join(tmp.dir, 'store') },
    leader_election: { lease_ttl_s: 3, renew_interval_s: 1 },
    dumps: { dir: join(tmp.dir, 'dumps') },
    dump_import: {
      spool_dir: join(tmp.dir, 'spool'),
      batch_size: 500,
      parallel_target_writes: 2,
      chunk_size_bytes: 50_000,
    },
  });
});

after(async () => {
  await proxy?.stop();
  await Promise.all(nodes.map((n) => n.stop()));
  tmp.cleanup();
});

async function importStatus(uid: number): Promise<Record<string, unknown>> {
  const res = await fetch(`${proxy.url}/_miroir/dumps/import/${uid}/status`, {
    headers: { authorization: `Bearer ${adminKey}` },
  });
  return (await res.json()) as Record<string, unknown>;
}

test('SIGKILL mid-import: the restarted proxy resumes the job from its cursor and every document lands once', async () => {
  const res = await fetch(`${proxy.url}/_miroir/dumps/import`, {
    method: 'POST',
    headers: { authorization: `Bearer ${adminKey}`, 'content-type': 'application/gzip' },
    body: Readable.toWeb(createReadStream(dump)),
    duplex: 'half',
  } as RequestInit);
  assert.equal(res.status, 202);
  const uid = ((await res.json()) as { taskUid: number }).taskUid;
  let before = 0;
  await until(
    async () => {
      const details = (await importStatus(uid)).details as Record<string, unknown> | null;
      before = Number(details?.routedDocuments ?? 0);
      return before >= 5_000;
    },
    'the import under way',
    60_000,
    50,
  );
  assert.ok(before < DOCS, 'killed before the end');
  await proxy.kill();
  await proxy.restart();
  const client = new Meilisearch({ host: proxy.url, apiKey: masterKey });
  const task = await client.tasks.waitForTask(uid, { timeout: 120_000, interval: 200 });
  assert.equal(task.status, 'succeeded', JSON.stringify(task.error));
  const status = await importStatus(uid);
  assert.equal((status.job as { state: string } | null)?.state, 'completed');
  const stats = await client.index('generated').getStats();
  assert.equal(stats.numberOfDocuments, DOCS);
  let onNodes = 0;
  for (const n of nodes) {
    const r = await fetch(`${n.url}/indexes/generated/stats`, { headers: { authorization: `Bearer ${nodeKey}` } });
    onNodes += ((await r.json()) as { numberOfDocuments: number }).numberOfDocuments;
  }
  assert.equal(onNodes, DOCS, 'no document twice across the nodes (RF=1)');
  for (const id of [0, 4_999, 20_000, DOCS - 1]) assert.equal((await client.index('generated').getDocument(id)).id, id);
});

test('SIGKILL while a dump is written: the restarted proxy writes it again and the task succeeds', async () => {
  const client = new Meilisearch({ host: proxy.url, apiKey: masterKey });
  const { taskUid } = await client.createDump();
  await until(async () => (await client.tasks.getTask(taskUid)).status !== 'enqueued', 'the dump started', 30_000, 20);
  await proxy.kill();
  await proxy.restart();
  const task = await client.tasks.waitForTask(taskUid, { timeout: 120_000, interval: 200 });
  assert.equal(task.status, 'succeeded', JSON.stringify(task.error));
  const dumpUid = (task.details as { dumpUid: string }).dumpUid;
  assert.ok(existsSync(join(tmp.dir, 'dumps', `${dumpUid}.dump`)));
});
