// Online reshard (issue 26, SPEC A1): 16 → 32 shards of a 20,000-document index under a continuous writer and
// searcher, with the proxy (a child process) SIGKILLed in the middle of the backfill and started again: every request
// answered, no acknowledged write lost, every document on exactly its owner for hash % 32, the uid unchanged for
// clients, answers equal to one dev node holding the same documents.
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { after, before, test } from 'node:test';
import { DevNode } from '../../../src/devnode/node.js';
import { tempDir } from '../../support/devnode.js';
import { startMiroirProcess, type MiroirProcess } from '../../support/miroir-process.js';
import { adminCall, assertPlacement, bearerCall, nodeDocs, seed, waitTasks, type Doc } from '../../support/topology.js';
import { until } from '../../support/wait.js';

const nodeKey = randomBytes(8).toString('hex');
const master = `master-${randomBytes(6).toString('hex')}`;
const adminKey = 'admin-reshard';
const data = tempDir('miroir-reshard-');
const INDEX = 'items';
const SEEDED = 20_000;
let nodes: DevNode[] = [];
let reference: DevNode | null = null;
let proc: MiroirProcess | null = null;

before(async () => {
  nodes = await Promise.all([0, 1, 2].map(() => DevNode.start({ port: 0, masterKey: nodeKey })));
  reference = await DevNode.start({ port: 0, masterKey: nodeKey });
});
after(async () => {
  await proc?.stop();
  await Promise.all([...nodes, reference!].map((n) => n.stop()));
  data.cleanup();
});

function call(method: string, path: string, body?: unknown, key = master): Promise<{ status: number; body: any }> {
  return bearerCall(proc!.url, key, method, path, body);
}

async function direct(url: string, method: string, path: string, body?: unknown): Promise<any> {
  const res = await fetch(`${url}${path}`, {
    method,
    headers: { authorization: `Bearer ${nodeKey}`, 'content-type': 'application/json' },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  return res.json();
}

test('reshard 16 → 32 under writes and searches, SIGKILL mid-backfill: nothing lost, every document on its owner', async () => {
  proc = await startMiroirProcess(
    {
      shards: 16,
      replication_factor: 1,
      nodes: nodes.map((n, i) => ({ id: `node-${i}`, address: n.url })),
      master_key: master,
      node_master_key: nodeKey,
      admin: { api_key: adminKey },
      task_store: { backend: 'lmdb', path: data.dir },
      health: { interval_ms: 200 },
      resharding: {
        enabled: true,
        retain_old_index_hours: 0,
        backfill_batch_size: 1000,
        backfill_concurrency: 4,
      },
    },
    { POD_NAME: 'pod-reshard' },
  );
  await seed(proc.url, master, INDEX, SEEDED);
  // Logical settings the copy must take over (and that make the answers comparable: a total order by id).
  const SETTINGS = { sortableAttributes: ['id'], filterableAttributes: ['v'] };
  const set = await call('PATCH', `/indexes/${INDEX}/settings`, SETTINGS);
  await waitTasks(proc.url, master, [set.body.taskUid]);

  // The expected content: every write acknowledged (202) in order; a sequential writer, so the last ack wins.
  const expected = new Map<number, Doc>();
  for (let id = 0; id < SEEDED; id++) expected.set(id, { id, title: `doc ${id}`, v: 0 });
  const acked: number[] = [];
  let failed = 0;
  let searches = 0;
  let paused = false;
  let inFlight = 0;
  let stop = false;
  let round = 0;
  const writer = (async () => {
    while (!stop) {
      if (paused) {
        await new Promise((r) => setTimeout(r, 10));
        continue;
      }
      round++;
      const docs: Doc[] = [];
      for (let i = 0; i < 10; i++) {
        const id = (round * 7919 + i * 104_729) % (SEEDED + 2_000); // updates and new ids
        docs.push({ id, title: `doc ${id} r${round}`, v: round });
      }
      inFlight++;
      const res = await call('POST', `/indexes/${INDEX}/documents`, docs).finally(() => inFlight--);
      if (res.status !== 202) {
        failed++;
        continue;
      }
      acked.push(res.body.taskUid);
      for (const d of docs) expected.set(d.id, d);
      if (round % 5 === 0) {
        const gone = (round * 31) % SEEDED;
        inFlight++;
        const del = await call('DELETE', `/indexes/${INDEX}/documents/${gone}`).finally(() => inFlight--);
        if (del.status !== 202) failed++;
        else {
          acked.push(del.body.taskUid);
          expected.delete(gone);
        }
      }
    }
  })();
  const searcher = (async () => {
    while (!stop) {
      if (paused) {
        await new Promise((r) => setTimeout(r, 10));
        continue;
      }
      inFlight++;
      const res = await call('POST', `/indexes/${INDEX}/search`, { q: 'doc', limit: 5 }).finally(() => inFlight--);
      searches++;
      if (res.status !== 200) failed++;
    }
  })();

  const started = await adminCall(proc.url, adminKey, 'POST', `/_miroir/indexes/${INDEX}/reshard`, {
    new_shards: 32,
    throttle_docs_per_sec: 2500,
  });
  assert.equal(started.status, 202, JSON.stringify(started.body));
  assert.equal(started.body.phase, 'preparing');
  const again = await adminCall(proc.url, adminKey, 'POST', `/_miroir/indexes/${INDEX}/reshard`, { new_shards: 32 });
  assert.equal(again.status, 409);
  assert.equal(again.body.code, 'miroir_reshard_conflict');

  // Half way through the backfill: SIGKILL (the clients pause while the only proxy is down), then start again.
  let before = 0;
  await until(
    async () => {
      const s = (await adminCall(proc!.url, adminKey, 'GET', `/_miroir/indexes/${INDEX}/reshard/status`)).body;
      before = s.documents_backfilled;
      return s.phase === 'backfilling' && before >= 8000;
    },
    'the backfill to be under way',
    60_000,
    20,
  );
  paused = true;
  await until(() => inFlight === 0, 'the clients to pause');
  await proc.kill();
  await proc.restart();
  paused = false;
  const resumed = (await adminCall(proc.url, adminKey, 'GET', `/_miroir/indexes/${INDEX}/reshard/status`)).body;
  assert.equal(resumed.phase, 'backfilling');
  assert.ok(resumed.documents_backfilled >= before, 'the cursors survived the restart');

  let status: any = null;
  await until(
    async () => {
      status = (await adminCall(proc!.url, adminKey, 'GET', `/_miroir/indexes/${INDEX}/reshard/status`)).body;
      if (status.phase === 'failed') throw new Error(`reshard failed: ${status.error}`);
      return status.phase === 'done';
    },
    'the reshard to finish',
    75_000,
    50,
  );
  stop = true;
  await Promise.all([writer, searcher]);
  assert.equal(failed, 0, 'every request answered');
  assert.ok(searches > 0 && acked.length > 0);
  assert.equal(status.old_shards, 16);
  assert.equal(status.new_shards, 32);
  assert.ok(status.documents_backfilled <= SEEDED + 2_000 + 4 * 1000, `backfilled ${status.documents_backfilled}`);
  await waitTasks(proc.url, master, acked, 60_000).catch(async (err: unknown) => {
    const failedTasks = await call('GET', '/tasks?statuses=failed&limit=5');
    const reshard = await adminCall(proc!.url, adminKey, 'GET', `/_miroir/indexes/${INDEX}/reshard/status`);
    throw new Error(`${String(err)}: ${JSON.stringify(failedTasks.body)}; reshard ${JSON.stringify(reshard.body)}`);
  });

  // Clients still see `items`, now served by the copy; the copy itself is hidden.
  const list = await call('GET', '/indexes');
  assert.deepEqual(
    list.body.results.map((i: { uid: string }) => i.uid),
    [INDEX],
  );
  const one = await call('GET', `/indexes/${INDEX}`);
  assert.equal(one.body.uid, INDEX);
  assert.equal(one.body.primaryKey, 'id');
  const stats = await call('GET', `/indexes/${INDEX}/stats`);
  assert.equal(stats.body.numberOfDocuments, expected.size);

  // No acknowledged write lost: the proxy's documents are exactly the expected ones.
  const all = await call('GET', `/indexes/${INDEX}/documents?limit=100000`);
  assert.equal(all.body.total, expected.size);
  const got = new Map<number, Doc>(all.body.results.map((d: Doc) => [d.id, d]));
  for (const [id, d] of expected) assert.deepEqual(got.get(id), d, `document ${id}`);

  // Every document on exactly its owner for hash % 32 (read from the nodes directly); the old copy is dropped.
  const placed = await assertPlacement(
    nodes.map((n, i) => ({ id: `node-${i}`, url: n.url, group: 0 })),
    nodeKey,
    `${INDEX}__reshard_32`,
    32,
    1,
  );
  assert.equal(placed.size, expected.size);
  for (const n of nodes) assert.deepEqual(await nodeDocs(n.url, nodeKey, INDEX), [], 'the old copy is dropped');

  // Answers equal one dev node holding the same documents.
  const ref = reference!.url;
  const created = await direct(ref, 'POST', '/indexes', { uid: 'ref', primaryKey: 'id' });
  await until(async () => (await direct(ref, 'GET', `/tasks/${created.taskUid}`)).status === 'succeeded', 'ref');
  const refSet = await direct(ref, 'PATCH', '/indexes/ref/settings', SETTINGS);
  await until(async () => (await direct(ref, 'GET', `/tasks/${refSet.taskUid}`)).status === 'succeeded', 'ref set');
  assert.deepEqual(
    (await call('GET', `/indexes/${INDEX}/settings/sortable-attributes`)).body,
    ['id'],
    'the copy took the logical settings over',
  );
  const added = await direct(ref, 'POST', '/indexes/ref/documents', [...expected.values()]);
  await until(async () => (await direct(ref, 'GET', `/tasks/${added.taskUid}`)).status === 'succeeded', 'ref docs');
  const queries = [
    { q: 'doc 1', sort: ['id:asc'], limit: 20 },
    { q: 'r7', sort: ['id:desc'], limit: 20, offset: 5 },
    { q: '', filter: 'v >= 10', sort: ['id:asc'], limit: 30 },
    { q: 'doc', facets: ['v'], sort: ['id:desc'], limit: 10 },
  ];
  for (const body of queries) {
    const q = JSON.stringify(body);
    const mine = (await call('POST', `/indexes/${INDEX}/search`, body)).body;
    const theirs = await direct(ref, 'POST', '/indexes/ref/search', body);
    assert.deepEqual(
      mine.hits.map((h: Doc) => h.id),
      theirs.hits.map((h: Doc) => h.id),
      `hits of "${q}"`,
    );
    assert.equal(mine.estimatedTotalHits, theirs.estimatedTotalHits, `estimatedTotalHits of "${q}"`);
    assert.deepEqual(mine.facetDistribution, theirs.facetDistribution, `facets of "${q}"`);
  }

  // Metrics: nothing in progress, the phase back to idle, the backfill (after the restart) counted.
  const metrics = await (await fetch(`${proc.url}/_miroir/metrics`, { headers: { 'x-admin-key': adminKey } })).text();
  assert.match(metrics, /^miroir_reshard_in_progress 0$/m);
  assert.match(metrics, /^miroir_reshard_phase\{index="items"\} 0$/m);
  // Resumed, not restarted: this process copied only what was left after the kill (at most one page per running
  // job again).
  const copiedHere = Number(/^miroir_reshard_documents_backfilled_total\{index="items"\} (\d+)$/m.exec(metrics)?.[1]);
  assert.ok(
    copiedHere > 0 && copiedHere <= status.documents_backfilled - before + 4 * 1000,
    `copied after restart ${copiedHere}`,
  );
});
