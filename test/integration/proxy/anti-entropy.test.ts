// Anti-entropy (issue 27, SPEC A8): at RF=2, four kinds of divergence made behind Miroir's back on one node — a
// document changed (its `_miroir_version` dropped), one deleted, a stray one added with a valid `_miroir_shard`, an
// older version of another restored — are all found by one pass; a report-only pass changes nothing; a repairing
// pass brings every copy back to the last acknowledged version (equal content hashes) and copies the stray to its
// other owner; the next pass finds nothing. A document deleted through Miroir while one of its owners missed the
// delete is gone from every copy after a pass (its tombstone is newer than the copy). `_miroir_version` stays hidden.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { Meilisearch } from 'meilisearch';
import { documentHash } from '../../../src/core/canonical-json.js';
import { shardForKey } from '../../../src/core/hash.js';
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import pino from 'pino';
import { DevNode } from '../../../src/devnode/node.js';
import { startMiroir, type MiroirApp } from '../../../src/main/app.js';
import { resolveConfig } from '../../../src/main/config/load.js';
import { startCluster, type TestCluster } from '../../support/cluster.js';
import { cliPath, tempDir } from '../../support/devnode.js';
import { until } from '../../support/wait.js';

type Doc = Record<string, unknown>;
const run = promisify(execFile);

async function node(
  c: TestCluster,
  i: number,
  method: string,
  path: string,
  body?: unknown,
): Promise<{ status: number; json: Record<string, unknown> }> {
  const res = await fetch(`${c.nodes[i]!.url}${path}`, {
    method,
    headers: { authorization: `Bearer ${c.nodeKey}`, 'content-type': 'application/json' },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const text = await res.text();
  return { status: res.status, json: text === '' ? {} : (JSON.parse(text) as Record<string, unknown>) };
}

/** A write straight to one node, behind Miroir's back, waited for. */
async function behindBack(c: TestCluster, i: number, method: string, path: string, body?: unknown): Promise<void> {
  const res = await node(c, i, method, path, body);
  assert.equal(res.status, 202, JSON.stringify(res.json));
  const uid = res.json.taskUid as number;
  await until(
    async () => (await node(c, i, 'GET', `/tasks/${uid}`)).json.status === 'succeeded',
    `node task ${uid} on node-${i}`,
  );
}

async function nodeDoc(c: TestCluster, i: number, uid: string, id: string): Promise<Doc | null> {
  const res = await node(c, i, 'GET', `/indexes/${uid}/documents/${id}`);
  return res.status === 200 ? res.json : null;
}

function index(c: TestCluster, id: string): number {
  return Number(id.replace('node-', ''));
}

/** The node positions holding a document's shard (group 0, rank order). */
function owners(c: TestCluster, id: string): number[] {
  const table = c.app.topology.routing;
  return table.owners(shardForKey(id, table.shards), 0).map((n) => index(c, n));
}

async function runPass(c: TestCluster, body: Record<string, unknown>): Promise<Record<string, unknown>> {
  const res = await fetch(`${c.app.url}/_miroir/antientropy/run`, {
    method: 'POST',
    headers: { authorization: `Bearer ${c.adminKey}`, 'content-type': 'application/json' },
    body: JSON.stringify(body),
  });
  const json = (await res.json()) as Record<string, unknown>;
  assert.equal(res.status, 200, JSON.stringify(json));
  return json;
}

describe('anti-entropy at RF=2: four divergences made behind Miroir’s back', () => {
  let c: TestCluster;
  const uid = 'ae-books';
  before(async () => {
    c = await startCluster({
      nodes: 3,
      rf: 2,
      shards: 8,
      config: { anti_entropy: { enabled: true, schedule: 'every 1d', max_pages_per_second: 0 } },
    });
  });
  after(() => c.close());

  test('one pass finds all four; report-only changes nothing; repair restores every copy', async () => {
    const ms = new Meilisearch({ host: c.app.url, apiKey: c.masterKey });
    const docs = Array.from({ length: 60 }, (_, i) => ({ id: `b${i}`, title: `Book ${i}`, n: i }));
    assert.equal((await ms.index(uid).addDocuments(docs, { primaryKey: 'id' }).waitTask()).status, 'succeeded');
    const updated = await ms
      .index(uid)
      .updateDocuments([{ id: 'b3', title: 'Book 3, second edition' }])
      .waitTask();
    assert.equal(updated.status, 'succeeded');

    // Every copy carries the version of the task that wrote it; clients never see it.
    const [o3] = owners(c, 'b3');
    const b3 = (await nodeDoc(c, o3!, uid, 'b3'))!;
    assert.equal(b3._miroir_version, updated.uid);
    const seen = await ms.index(uid).getDocument('b3');
    assert.equal(seen._miroir_version, undefined);
    assert.equal(seen._miroir_shard, undefined);
    const hits = await ms.index(uid).search('second');
    assert.equal((hits.hits[0] as Record<string, unknown>)._miroir_version, undefined);

    // 1. b1 changed on one owner, its version dropped.
    const [a0] = owners(c, 'b1');
    const b1 = (await nodeDoc(c, a0!, uid, 'b1'))!;
    const tampered: Doc = { ...b1, title: 'tampered' };
    delete tampered._miroir_version;
    await behindBack(c, a0!, 'POST', `/indexes/${uid}/documents`, [tampered]);
    // 2. b2 deleted on one owner.
    const [d0] = owners(c, 'b2');
    await behindBack(c, d0!, 'POST', `/indexes/${uid}/documents/delete-batch`, ['b2']);
    // 3. a stray document with a valid shard on one owner of that shard.
    const strayShard = shardForKey('stray-1', 8);
    const [s0, s1] = owners(c, 'stray-1');
    await behindBack(c, s0!, 'POST', `/indexes/${uid}/documents`, [
      { id: 'stray-1', title: 'Stray', n: -1, _miroir_shard: strayShard },
    ]);
    // 4. b3 restored to its first version (older task uid) on its second owner.
    const [, r1] = owners(c, 'b3');
    const older = { ...(await nodeDoc(c, r1!, uid, 'b3'))!, title: 'Book 3', _miroir_version: updated.uid - 1 };
    await behindBack(c, r1!, 'POST', `/indexes/${uid}/documents`, [older]);

    const report = await runPass(c, { index: uid, repair: false });
    assert.equal(report.mismatches, 4, JSON.stringify(report));
    assert.equal(report.repaired, 0);
    assert.deepEqual(report.by_kind, { stale: 2, missing: 2 });
    const found = (report.results as Array<{ samples: Array<{ id: string; action: string }> }>)
      .flatMap((r) => r.samples)
      .map((s) => s.id)
      .sort();
    assert.deepEqual(found, ['b1', 'b2', 'b3', 'stray-1']);
    // Nothing changed.
    assert.equal((await nodeDoc(c, a0!, uid, 'b1'))!.title, 'tampered');
    assert.equal(await nodeDoc(c, d0!, uid, 'b2'), null);
    assert.equal(await nodeDoc(c, s1!, uid, 'stray-1'), null);
    assert.equal((await nodeDoc(c, r1!, uid, 'b3'))!.title, 'Book 3');

    const repaired = await runPass(c, { index: uid });
    assert.equal(repaired.mismatches, 4, JSON.stringify(repaired));
    assert.equal(repaired.repaired, 4);
    for (const id of ['b1', 'b2', 'b3', 'stray-1']) {
      const copies = await Promise.all(owners(c, id).map((i) => nodeDoc(c, i, uid, id)));
      assert.ok(
        copies.every((d) => d !== null),
        `${id} on every owner`,
      );
      const hashes = new Set(copies.map((d) => documentHash(d)));
      assert.equal(hashes.size, 1, `${id}: equal content on every copy`);
    }
    assert.equal((await nodeDoc(c, a0!, uid, 'b1'))!.title, 'Book 1');
    assert.equal((await nodeDoc(c, d0!, uid, 'b2'))!.title, 'Book 2');
    assert.equal((await nodeDoc(c, r1!, uid, 'b3'))!.title, 'Book 3, second edition');
    assert.equal((await nodeDoc(c, s1!, uid, 'stray-1'))!.title, 'Stray');

    const clean = await runPass(c, { index: uid });
    assert.equal(clean.mismatches, 0, JSON.stringify(clean));

    const status = await fetch(`${c.app.url}/_miroir/antientropy/status`, {
      headers: { authorization: `Bearer ${c.adminKey}` },
    }).then((r) => r.json() as Promise<{ shards: Array<{ index: string; consecutive_with_mismatches: number }> }>);
    assert.equal(status.shards.filter((s) => s.index === uid).length, 8);
    assert.ok(status.shards.every((s) => s.consecutive_with_mismatches === 0));
    const metrics = await fetch(`${c.app.url}/_miroir/metrics`, {
      headers: { authorization: `Bearer ${c.adminKey}` },
    }).then((r) => r.text());
    assert.match(metrics, /miroir_antientropy_docs_repaired_total 4/);
    assert.match(metrics, /miroir_antientropy_mismatches_found_total\{kind="missing"\} 4/);
  });
});

describe('miroir ctl antientropy', () => {
  let c: TestCluster;
  before(async () => {
    c = await startCluster({
      nodes: 2,
      rf: 2,
      shards: 4,
      config: { anti_entropy: { enabled: true, schedule: 'every 1d', auto_repair: false, max_pages_per_second: 0 } },
    });
  });
  after(() => c.close());

  test('with auto_repair: false a pass only reports; run --repair repairs; status as a table', async () => {
    const ms = new Meilisearch({ host: c.app.url, apiKey: c.masterKey });
    await ms
      .index('ctl-ae')
      .addDocuments([{ id: 1 }, { id: 2 }], { primaryKey: 'id' })
      .waitTask();
    await behindBack(c, 1, 'POST', '/indexes/ctl-ae/documents/delete-batch', [2]);
    const ctl = async (args: string[]) =>
      run(process.execPath, [cliPath(), 'ctl', '--url', c.app.url, ...args], {
        env: { ...process.env, MIROIR_ADMIN_API_KEY: c.adminKey },
      });
    const report = JSON.parse((await ctl(['--json', 'antientropy', 'run'])).stdout) as {
      mismatches: number;
      repair: boolean;
    };
    assert.deepEqual([report.mismatches, report.repair], [1, false]);
    const table = (await ctl(['antientropy', 'status'])).stdout;
    assert.match(table, /most passes in a row with mismatches: 1/);
    assert.match(table, /ctl-ae/);
    assert.equal(await nodeDoc(c, 1, 'ctl-ae', '2'), null, 'a report-only pass changes nothing');
    const fixed = (await ctl(['antientropy', 'run', '--index', 'ctl-ae', '--repair'])).stdout;
    assert.match(fixed, /mismatches: 1, repaired: 1/);
    assert.notEqual(await nodeDoc(c, 1, 'ctl-ae', '2'), null);
  });
});

describe('scheduled anti-entropy', () => {
  let c: TestCluster;
  before(async () => {
    c = await startCluster({
      nodes: 2,
      rf: 2,
      shards: 4,
      config: {
        anti_entropy: {
          enabled: true,
          schedule: 'every 1s',
          shards_per_pass: 2,
          tombstone_retention_s: 1,
          max_pages_per_second: 0,
        },
      },
    });
  });
  after(() => c.close());

  test('passes walk the shards two at a time, repair on their own and prune old tombstones', async () => {
    const ms = new Meilisearch({ host: c.app.url, apiKey: c.masterKey });
    const docs = Array.from({ length: 20 }, (_, i) => ({ id: i }));
    await ms.index('sched').addDocuments(docs, { primaryKey: 'id' }).waitTask();
    await ms.index('sched').deleteDocument(19).waitTask();
    assert.equal((await c.app.store.listTombstones('sched')).length, 1);
    await behindBack(c, 0, 'POST', '/indexes/sched/documents/delete-batch', [3, 7]);
    await until(
      async () => (await nodeDoc(c, 0, 'sched', '3')) !== null && (await nodeDoc(c, 0, 'sched', '7')) !== null,
      'scheduled passes to repair node-0',
      15_000,
    );
    // Docs 3 and 7 may sit in shards the same pass covered: the other shards get their status on a later pass.
    const statusOf = async () => (await c.app.store.listAntiEntropyStatus()).filter((s) => s.index === 'sched');
    await until(async () => (await statusOf()).length === 4, 'every shard of sched walked by some pass', 15_000);
    assert.deepEqual(
      (await statusOf()).map((s) => s.shard).sort((a, b) => a - b),
      [0, 1, 2, 3],
    );
    await until(async () => (await c.app.store.listTombstones('sched')).length === 0, 'tombstone pruning', 10_000);
  });
});

describe('anti-entropy: a delete one owner missed', () => {
  let c: TestCluster;
  const uid = 'ae-missed';
  before(async () => {
    c = await startCluster({
      nodes: 1,
      replicaGroups: 2,
      rf: 1,
      shards: 4,
      config: {
        anti_entropy: { enabled: true, schedule: 'every 1d', max_pages_per_second: 0 },
        rebalancer: { auto_rebalance_on_recovery: false },
      },
    });
    // An index whose document 4 is older than the delete of document 4 below (for the swap test).
    const ms = new Meilisearch({ host: c.app.url, apiKey: c.masterKey });
    await ms
      .index('ae-swap')
      .addDocuments([{ id: 4, from: 'ae-swap' }], { primaryKey: 'id' })
      .waitTask();
  });
  after(() => c.close());

  test('is applied to every copy by the next pass (the tombstone is newer than the copy)', async () => {
    const ms = new Meilisearch({ host: c.app.url, apiKey: c.masterKey });
    const docs = Array.from({ length: 10 }, (_, i) => ({ id: i, color: i % 2 === 0 ? 'red' : 'blue' }));
    assert.equal((await ms.index(uid).addDocuments(docs, { primaryKey: 'id' }).waitTask()).status, 'succeeded');
    assert.equal((await ms.index(uid).updateFilterableAttributes(['id']).waitTask()).status, 'succeeded');
    // node-1 (group 1) refuses every request but health probes while two deletes go through Miroir.
    await node(c, 1, 'POST', '/_devnode/faults', { fail_requests: 1_000_000 });
    const byId = await fetch(`${c.app.url}/indexes/${uid}/documents/4`, {
      method: 'DELETE',
      headers: { authorization: `Bearer ${c.masterKey}` },
    });
    assert.equal(byId.status, 202);
    assert.match(byId.headers.get('x-miroir-degraded') ?? '', /groups=1/);
    const byFilter = await ms.index(uid).deleteDocuments({ filter: 'id > 7' });
    await node(c, 1, 'POST', '/_devnode/faults/reset');
    await ms.tasks.waitForTask(byFilter.taskUid);
    assert.ok((await nodeDoc(c, 1, uid, '4')) !== null, 'node-1 still holds document 4');
    assert.ok((await nodeDoc(c, 1, uid, '9')) !== null, 'node-1 still holds document 9');

    const pass = await runPass(c, { index: uid });
    assert.equal(pass.mismatches, 3, JSON.stringify(pass));
    assert.deepEqual(pass.by_kind, { deleted: 3 });
    for (const id of ['4', '8', '9'])
      for (const i of [0, 1]) assert.equal(await nodeDoc(c, i, uid, id), null, `${id} gone from node-${i}`);
    assert.ok((await nodeDoc(c, 1, uid, '5')) !== null, 'other documents stay');
    assert.equal((await runPass(c, { index: uid })).mismatches, 0);
  });

  test('after a swap, the index’s older tombstones no longer cover the documents it received', async () => {
    const ms = new Meilisearch({ host: c.app.url, apiKey: c.masterKey });
    const swap = await ms.swapIndexes([{ indexes: [uid, 'ae-swap'], rename: false }]).waitTask();
    assert.equal(swap.status, 'succeeded', JSON.stringify(swap.error));
    assert.equal((await nodeDoc(c, 1, uid, '4'))?.from, 'ae-swap');
    await behindBack(c, 1, 'POST', `/indexes/${uid}/documents/delete-batch`, [4]);
    const pass = await runPass(c, { index: uid });
    assert.deepEqual(pass.by_kind, { missing: 1 }, JSON.stringify(pass));
    assert.equal((await nodeDoc(c, 1, uid, '4'))?.from, 'ae-swap');
  });
});

describe('anti-entropy: a delete made while an owner was down (stopped, restarted with its disk)', () => {
  const nodeKey = 'ae-down-node-key';
  const master = 'ae-down-master';
  const admin = 'ae-down-admin';
  const dirs = [tempDir('miroir-ae-node-'), tempDir('miroir-ae-node-'), tempDir('miroir-ae-store-')];
  let nodes: DevNode[] = [];
  let app: MiroirApp;
  before(async () => {
    nodes = [
      await DevNode.start({ port: 0, masterKey: nodeKey, dataDir: dirs[0]!.dir }),
      await DevNode.start({ port: 0, masterKey: nodeKey, dataDir: dirs[1]!.dir }),
    ];
    app = await startMiroir(
      resolveConfig(
        {
          shards: 4,
          replication_factor: 1,
          replica_groups: 2,
          nodes: nodes.map((n, i) => ({ id: `node-${i}`, address: n.url, replica_group: i })),
          master_key: master,
          node_master_key: nodeKey,
          admin: { api_key: admin },
          task_store: { path: dirs[2]!.dir },
          server: { port: 0, bind: '127.0.0.1' },
          metrics: { port: 0, bind: '127.0.0.1' },
          health: { interval_ms: 100, unhealthy_threshold: 1, recovery_threshold: 1 },
          rebalancer: { auto_rebalance_on_recovery: false },
          anti_entropy: { enabled: true, schedule: 'every 1d', max_pages_per_second: 0 },
        },
        {},
      ),
      { logger: pino({ level: 'silent' }) },
    );
  });
  after(async () => {
    await app.close();
    for (const n of nodes) await n.stop();
    for (const d of dirs) d.cleanup();
  });

  test('is gone from every copy after the owner returns and a pass runs', async () => {
    const ms = new Meilisearch({ host: app.url, apiKey: master });
    const docs = Array.from({ length: 8 }, (_, i) => ({ id: i, title: `t${i}` }));
    assert.equal((await ms.index('down').addDocuments(docs, { primaryKey: 'id' }).waitTask()).status, 'succeeded');
    const port = Number(new URL(nodes[1]!.url).port);
    await nodes[1]!.stop();
    await until(() => !app.topology.health.isHealthy('node-1'), 'node-1 seen down');
    const del = await fetch(`${app.url}/indexes/down/documents/3`, {
      method: 'DELETE',
      headers: { authorization: `Bearer ${master}` },
    });
    assert.equal(del.status, 202);
    await ms.tasks.waitForTask(((await del.json()) as { taskUid: number }).taskUid);
    nodes[1] = await DevNode.start({ port, masterKey: nodeKey, dataDir: dirs[1]!.dir });
    await until(() => app.topology.health.isHealthy('node-1'), 'node-1 back');
    const direct = await fetch(`${nodes[1]!.url}/indexes/down/documents/3`, {
      headers: { authorization: `Bearer ${nodeKey}` },
    });
    assert.equal(direct.status, 200, 'node-1 came back with document 3');
    const res = await fetch(`${app.url}/_miroir/antientropy/run`, {
      method: 'POST',
      headers: { authorization: `Bearer ${admin}` },
    });
    const pass = (await res.json()) as { by_kind: Record<string, number> };
    assert.deepEqual(pass.by_kind, { deleted: 1 }, JSON.stringify(pass));
    for (const n of nodes) {
      const r = await fetch(`${n.url}/indexes/down/documents/3`, { headers: { authorization: `Bearer ${nodeKey}` } });
      assert.equal(r.status, 404);
    }
  });
});
