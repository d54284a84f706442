// Online reshard's verify pass repairs what the copy got wrong (issue 26): while a throttled backfill runs, one
// document already copied is deleted from the copy and another is changed, straight on the nodes. The verify pass
// finds both (primary-key set and content hash per chunk), copies them again from the live index, counts them in
// `documents_repaired`, and the flipped uid answers every document as the live index held it.
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { startCluster, type TestCluster } from '../../support/cluster.js';
import { adminCall, bearerCall, nodeDocs, seed, type Doc } from '../../support/topology.js';
import { until } from '../../support/wait.js';

let cluster: TestCluster;
const COUNT = 600;
const COPY = 'items__reshard_6';

before(async () => {
  cluster = await startCluster({
    nodes: 2,
    shards: 4,
    rf: 1,
    config: { resharding: { enabled: true, retain_old_index_hours: 1, backfill_batch_size: 20 } },
  });
  await seed(cluster.app.url, cluster.masterKey, 'items', COUNT);
});
after(async () => {
  await cluster.close();
});

/** Waits for a node task of the copy, asked of the node itself. */
async function nodeTask(nodeUrl: string, taskUid: number): Promise<void> {
  await until(
    async () => {
      const t = await bearerCall(nodeUrl, cluster.nodeKey, 'GET', `/tasks/${taskUid}`);
      if (t.body.status === 'failed') throw new Error(JSON.stringify(t.body.error));
      return t.body.status === 'succeeded';
    },
    `node task ${taskUid}`,
    10_000,
    20,
  );
}

test('verify repairs a document deleted from the copy and one changed on it, then flips with every document', async () => {
  const url = cluster.app.url;
  const started = await adminCall(url, cluster.adminKey, 'POST', '/_miroir/indexes/items/reshard', {
    new_shards: 6,
    throttle_docs_per_sec: 60,
  });
  assert.equal(started.status, 202, JSON.stringify(started.body));

  // Two documents the backfill has already written to the copy (it runs ~10 s at 60 documents/s).
  let copied: Array<{ node: string; doc: Doc }> = [];
  await until(
    async () => {
      copied = [];
      for (const node of cluster.nodes)
        for (const doc of await nodeDocs(node.url, cluster.nodeKey, COPY)) copied.push({ node: node.url, doc });
      return copied.length >= 2;
    },
    'the backfill to copy two documents',
    30_000,
    20,
  );
  const status = (await adminCall(url, cluster.adminKey, 'GET', '/_miroir/indexes/items/reshard/status')).body;
  assert.equal(status.phase, 'backfilling', 'the damage lands before the verify pass');

  const [gone, changed] = copied;
  const del = await bearerCall(gone!.node, cluster.nodeKey, 'DELETE', `/indexes/${COPY}/documents/${gone!.doc.id}`);
  await nodeTask(gone!.node, del.body.taskUid);
  const put = await bearerCall(changed!.node, cluster.nodeKey, 'PUT', `/indexes/${COPY}/documents`, [
    { ...changed!.doc, title: 'changed behind the proxy' },
  ]);
  await nodeTask(changed!.node, put.body.taskUid);

  let final: any = null;
  await until(
    async () => {
      final = (await adminCall(url, cluster.adminKey, 'GET', '/_miroir/indexes/items/reshard/status')).body;
      if (final.phase === 'failed') throw new Error(`reshard failed: ${final.error}`);
      return final.phase === 'flipped' || final.phase === 'done';
    },
    'the reshard to flip',
    60_000,
    50,
  );
  assert.ok(final.documents_repaired >= 2, `documents_repaired ${final.documents_repaired}`);

  // The uid is served by the copy now: every document there once, as the live index held it.
  const all = await bearerCall(url, cluster.masterKey, 'POST', '/indexes/items/documents/fetch', { limit: COUNT + 10 });
  assert.equal(all.status, 200);
  assert.equal(all.body.results.length, COUNT);
  const byId = new Map<number, Doc>(all.body.results.map((d: Doc) => [Number(d.id), d]));
  assert.equal(byId.get(Number(gone!.doc.id))?.title, `doc ${gone!.doc.id}`);
  assert.equal(byId.get(Number(changed!.doc.id))?.title, `doc ${changed!.doc.id}`);
  let held = 0;
  for (const node of cluster.nodes) held += (await nodeDocs(node.url, cluster.nodeKey, COPY)).length;
  assert.equal(held, COUNT);
});
