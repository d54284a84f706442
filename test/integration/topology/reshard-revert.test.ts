// Online reshard around the flip (issue 26): `miroir ctl index reshard --watch` to the flip with a progress bar, the
// uid served by the copy (listings show the uid only, writes reach both copies), a reverse flip serving the old copy
// again with every write made meanwhile; a reshard reverted before its flip deletes its copy; request errors; a
// resharded uid still served by its copy after a restart with resharding and aliases off.
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { after, before, test } from 'node:test';
import { promisify } from 'node:util';
import { startCluster, type TestCluster } from '../../support/cluster.js';
import { cliPath } from '../../support/devnode.js';
import { adminCall, bearerCall, nodeDocs, seed, waitTasks } from '../../support/topology.js';
import { until } from '../../support/wait.js';

const run = promisify(execFile);
let cluster: TestCluster;

async function ctl(args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  try {
    const { stdout, stderr } = await run(process.execPath, [cliPath(), 'ctl', '--url', cluster.app.url, ...args], {
      env: { ...process.env, MIROIR_ADMIN_API_KEY: cluster.adminKey },
    });
    return { code: 0, stdout, stderr };
  } catch (err) {
    const e = err as { code: number; stdout: string; stderr: string };
    return { code: e.code, stdout: e.stdout, stderr: e.stderr };
  }
}

function call(method: string, path: string, body?: unknown): Promise<{ status: number; body: any }> {
  return bearerCall(cluster.app.url, cluster.masterKey, method, path, body);
}

async function held(index: string): Promise<number> {
  let n = 0;
  for (const node of cluster.nodes) n += (await nodeDocs(node.url, cluster.nodeKey, index)).length;
  return n;
}

before(async () => {
  cluster = await startCluster({
    nodes: 2,
    shards: 4,
    rf: 1,
    config: { resharding: { enabled: true, retain_old_index_hours: 1, backfill_batch_size: 100 } },
  });
  await seed(cluster.app.url, cluster.masterKey, 'books', 1200);
  await seed(cluster.app.url, cluster.masterKey, 'films', 300);
});
after(async () => {
  await cluster.close();
});

test('request errors: bad counts, unknown index, no reshard yet', async () => {
  const key = cluster.adminKey;
  const url = cluster.app.url;
  const same = await adminCall(url, key, 'POST', '/_miroir/indexes/books/reshard', { new_shards: 4 });
  assert.equal(same.status, 400);
  assert.equal(same.body.code, 'miroir_invalid_reshard');
  const bad = await adminCall(url, key, 'POST', '/_miroir/indexes/books/reshard', { new_shards: 'x' });
  assert.equal(bad.body.code, 'miroir_invalid_reshard');
  const missing = await adminCall(url, key, 'POST', '/_miroir/indexes/nope/reshard', { new_shards: 8 });
  assert.equal(missing.status, 404);
  assert.equal(missing.body.code, 'index_not_found');
  const none = await adminCall(url, key, 'GET', '/_miroir/indexes/books/reshard/status');
  assert.equal(none.status, 404);
  assert.equal(none.body.code, 'miroir_reshard_not_found');
});

test('ctl --watch to the flip, the uid served by the copy, then a reverse flip loses no write', async () => {
  const watched = await ctl(['index', 'reshard', 'books', '--shards', '6', '--watch', '--interval', '50']);
  assert.equal(watched.code, 0, watched.stderr);
  assert.match(watched.stdout, /documents backfilled/);
  assert.match(watched.stdout, /books: 4 → 6 shards, flipped/);

  // Clients see `books` only, answered by the copy (6 shards); a write reaches both copies.
  const list = await call('GET', '/indexes');
  assert.deepEqual(
    list.body.results.map((i: { uid: string }) => i.uid),
    ['books', 'films'],
  );
  assert.equal((await call('GET', '/indexes/books')).body.uid, 'books');
  const added = await call('POST', '/indexes/books/documents', [{ id: 5000, title: 'after the flip', v: 1 }]);
  assert.equal(added.status, 202);
  assert.equal(added.body.indexUid, 'books', 'task views name the client uid');
  await waitTasks(cluster.app.url, cluster.masterKey, [added.body.taskUid]);
  const task = await call('GET', `/tasks/${added.body.taskUid}`);
  assert.equal(task.body.indexUid, 'books');
  const filtered = await call('GET', `/tasks?indexUids=books&limit=1`);
  assert.equal(filtered.body.results[0].uid, added.body.taskUid, 'the uid filter finds tasks of the copy');
  assert.equal(await held('books__reshard_6'), 1201);
  assert.equal(await held('books'), 1201, 'the old copy is kept and mirrored');
  assert.equal((await call('GET', '/indexes/books/stats')).body.numberOfDocuments, 1201);
  const status = (await adminCall(cluster.app.url, cluster.adminKey, 'GET', '/_miroir/indexes/books/reshard/status'))
    .body;
  assert.equal(status.phase, 'flipped');
  assert.ok(status.drop_old_at !== null);

  // Reverse flip: the old copy serves again, with the write made after the flip; the copy is deleted.
  const reverted = await ctl(['index', 'reshard-revert', 'books']);
  assert.equal(reverted.code, 0, reverted.stderr);
  assert.match(reverted.stdout, /reverted/);
  const doc = await call('GET', '/indexes/books/documents/5000');
  assert.equal(doc.body.title, 'after the flip');
  assert.equal((await call('GET', '/indexes/books/stats')).body.numberOfDocuments, 1201);
  await until(async () => (await held('books__reshard_6')) === 0, 'the copy to be deleted');
  const again = await adminCall(cluster.app.url, cluster.adminKey, 'POST', '/_miroir/indexes/books/reshard/revert');
  assert.equal(again.status, 409);
  assert.equal(again.body.code, 'miroir_reshard_conflict');
});

test('a reshard reverted before its flip deletes its copy and leaves the index as it was', async () => {
  const key = cluster.adminKey;
  const url = cluster.app.url;
  const started = await adminCall(url, key, 'POST', '/_miroir/indexes/films/reshard', {
    new_shards: 8,
    throttle_docs_per_sec: 50,
  });
  assert.equal(started.status, 202);
  await until(
    async () =>
      (await adminCall(url, key, 'GET', '/_miroir/indexes/films/reshard/status')).body.phase === 'backfilling',
    'the backfill to start',
  );
  const busy = await adminCall(url, key, 'POST', '/_miroir/indexes/films/reshard', { new_shards: 2 });
  assert.equal(busy.status, 409);
  const settings = await call('PATCH', '/indexes/films/settings', { sortableAttributes: ['id'] });
  assert.equal(settings.status, 409, 'settings wait until the flip');
  assert.equal(settings.body.code, 'miroir_reshard_conflict');
  const reverted = await adminCall(url, key, 'POST', '/_miroir/indexes/films/reshard/revert');
  assert.equal(reverted.status, 200);
  assert.equal(reverted.body.phase, 'failed');
  assert.match(reverted.body.error, /reverted/);
  await until(async () => (await held('films__reshard_8')) === 0, 'the copy to be deleted');
  assert.equal((await call('GET', '/indexes/films/stats')).body.numberOfDocuments, 300);
  assert.deepEqual(
    (await call('GET', '/indexes')).body.results.map((i: { uid: string }) => i.uid),
    ['books', 'films'],
  );
});

test('a resharded uid keeps answering after resharding (and aliases) are turned off', async () => {
  // The old copy dropped at once (retain 0 h), so only the alias table still leads `shelf` to its documents.
  await cluster.restartProxy({ resharding: { enabled: true, retain_old_index_hours: 0, backfill_batch_size: 100 } });
  await seed(cluster.app.url, cluster.masterKey, 'shelf', 150);
  const started = await adminCall(cluster.app.url, cluster.adminKey, 'POST', '/_miroir/indexes/shelf/reshard', {
    new_shards: 2,
  });
  assert.equal(started.status, 202);
  await until(
    async () =>
      (await adminCall(cluster.app.url, cluster.adminKey, 'GET', '/_miroir/indexes/shelf/reshard/status')).body
        .phase === 'done',
    'the old copy to be dropped',
    60_000,
  );
  assert.equal(await held('shelf'), 0, 'the old copy is gone from the nodes');
  const before = await call('POST', '/indexes/shelf/search', { q: 'doc', limit: 5 });
  await cluster.restartProxy({ resharding: { enabled: false }, aliases: { enabled: false } });
  assert.equal((await call('GET', '/indexes/shelf/stats')).body.numberOfDocuments, 150);
  const after = await call('POST', '/indexes/shelf/search', { q: 'doc', limit: 5 });
  assert.equal(after.status, 200);
  assert.deepEqual(after.body.hits, before.body.hits);
  assert.equal((await call('GET', '/indexes/shelf/documents/7')).body.id, 7);
  const written = await call('POST', '/indexes/shelf/documents', [{ id: 9000, title: 'after the restart' }]);
  assert.equal(written.status, 202);
  await waitTasks(cluster.app.url, cluster.masterKey, [written.body.taskUid]);
  assert.equal((await call('GET', '/indexes/shelf/documents/9000')).body.title, 'after the restart');
  assert.equal(await held('shelf__reshard_2'), 151);
  const refused = await adminCall(cluster.app.url, cluster.adminKey, 'POST', '/_miroir/indexes/films/reshard', {
    new_shards: 8,
  });
  assert.equal(refused.body.code, 'miroir_invalid_reshard', 'no new reshard while it is off');
});
