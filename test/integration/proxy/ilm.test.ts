// ILM rollover (SPEC A17): a policy with `max_docs: 1000` over 5,500 documents written through its write alias in
// batches of 1000 (each batch waits for its task, then for the check loop's rollover, so the run is deterministic)
// creates 6 indexes; writes land in the newest; reads through the read alias span the kept ones; the oldest beyond
// `keep_indexes` is deleted. Also the manual rollover route, the policy routes and the metrics.
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { Meilisearch } from 'meilisearch';
import { bearerCall } from '../../support/topology.js';
import { startCluster, type TestCluster } from '../../support/cluster.js';
import { until } from '../../support/wait.js';
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { cliPath } from '../../support/devnode.js';

let cluster: TestCluster;
let client: Meilisearch;

before(async () => {
  cluster = await startCluster({
    nodes: 2,
    shards: 4,
    config: {
      aliases: { enabled: true },
      ilm: { enabled: true, check_interval_s: 1, safety_lock_older_than_days: 0 },
    },
  });
  client = new Meilisearch({ host: cluster.app.url, apiKey: cluster.masterKey });
});
after(() => cluster.close());

function admin(method: string, path: string, body?: unknown): Promise<{ status: number; body: any }> {
  return bearerCall(cluster.app.url, cluster.adminKey, method, path, body);
}

test('max_docs 1000 over 5,500 documents: 6 indexes, writes in the newest, reads span the kept, oldest deleted', async () => {
  const created = await admin('POST', '/_miroir/ilm/policies', {
    name: 'logs',
    write_alias: 'logs_write',
    read_alias: 'logs',
    index_template: { uid_prefix: 'logs', primaryKey: 'id', settings: { filterableAttributes: ['batch'] } },
    triggers: { max_docs: 1000, max_age: null, max_size_gb: null },
    retention: { keep_indexes: 5 },
  });
  assert.equal(created.status, 201, JSON.stringify(created.body));
  assert.equal(created.body.write_index, 'logs-000001');
  assert.equal((await admin('POST', '/_miroir/ilm/policies', { name: 'logs' })).status, 400);

  const all = Array.from({ length: 5500 }, (_, i) => ({ id: i, batch: Math.floor(i / 1000), msg: `line ${i}` }));
  for (let b = 0; b * 1000 < all.length; b++) {
    const batch = all.slice(b * 1000, (b + 1) * 1000);
    const task = await client.index('logs_write').addDocuments(batch).waitTask({ timeout: 30_000 });
    assert.equal(task.status, 'succeeded');
    assert.equal(task.indexUid, `logs-00000${b + 1}`, 'the write landed in the newest index');
    if (batch.length === 1000) {
      // the check loop rolls over once the write index holds max_docs
      await until(
        async () => (await admin('GET', '/_miroir/ilm/policies/logs')).body.write_index === `logs-00000${b + 2}`,
        `rollover after batch ${b}`,
        20_000,
        50,
      );
    }
  }
  const policy = (await admin('GET', '/_miroir/ilm/policies/logs')).body;
  assert.equal(policy.next_generation, 7, '6 indexes created');
  assert.deepEqual(
    policy.indexes.map((e: { uid: string }) => e.uid),
    ['logs-000002', 'logs-000003', 'logs-000004', 'logs-000005', 'logs-000006'],
  );
  const aliases = (await admin('GET', '/_miroir/aliases')).body.results;
  const byName = Object.fromEntries(aliases.map((a: { name: string }) => [a.name, a]));
  assert.deepEqual(byName.logs_write.targets, ['logs-000006']);
  assert.deepEqual(
    byName.logs.targets,
    policy.indexes.map((e: { uid: string }) => e.uid),
  );

  // the oldest (beyond keep_indexes: 5) is deleted
  await until(async () => {
    const uids = (await client.getIndexes({ limit: 100 })).results.map((i) => i.uid);
    return !uids.includes('logs-000001') && uids.includes('logs-000006');
  }, 'logs-000001 deleted');

  // reads through the read alias span the kept indexes: batches 1..5 (4,500 documents)
  const res = await client.index('logs').search('', { limit: 0, facets: ['batch'] });
  assert.equal(res.estimatedTotalHits, 4500);
  assert.deepEqual(res.facetDistribution, { batch: { '1': 1000, '2': 1000, '3': 1000, '4': 1000, '5': 500 } });
  const hit = await client.index('logs').search('', { filter: 'batch = 5', limit: 1 });
  assert.equal(hit.hits.length, 1);
  // writes through the read alias are refused
  const write = await fetch(`${cluster.app.url}/indexes/logs/documents`, {
    method: 'POST',
    headers: { authorization: `Bearer ${cluster.masterKey}`, 'content-type': 'application/json' },
    body: JSON.stringify([{ id: 1 }]),
  });
  assert.equal(write.status, 409);

  // roll over now, by route
  const rolled = await admin('POST', '/_miroir/ilm/policies/logs/rollover');
  assert.equal(rolled.status, 200);
  assert.equal(rolled.body.write_index, 'logs-000007');
  assert.equal(rolled.body.indexes.length, 5);

  const metrics = await (await fetch(`http://127.0.0.1:${cluster.app.metricsPort}/metrics`)).text();
  assert.match(metrics, /miroir_rollover_events_total\{policy="logs"\} 7/);
  assert.match(metrics, /miroir_rollover_active_indexes\{alias="logs"\} 5/);
  assert.match(metrics, /miroir_rollover_documents_expired_total\{policy="logs"\} 2000/);
  assert.match(metrics, /miroir_rollover_last_action_seconds\{policy="logs"\} \d+/);

  assert.equal((await admin('DELETE', '/_miroir/ilm/policies/logs')).status, 204);
  assert.equal((await admin('DELETE', '/_miroir/ilm/policies/logs')).status, 404);
  assert.equal((await admin('POST', '/_miroir/ilm/policies/logs/rollover')).status, 404);
});

test('max_size_gb rolls over once the write index holds that many bytes; max_age once it is that old', async () => {
  const policy = (name: string, triggers: Record<string, unknown>) =>
    admin('POST', '/_miroir/ilm/policies', {
      name,
      write_alias: `${name}_write`,
      read_alias: name,
      index_template: { uid_prefix: name, primaryKey: 'id' },
      triggers: { max_docs: null, max_age: null, max_size_gb: null, ...triggers },
      retention: { keep_indexes: 3 },
    });
  // ~1 KiB: no other trigger is set, so only the documents' size can roll this policy over.
  assert.equal((await policy('sized', { max_size_gb: 1e-6 })).status, 201);
  const docs = Array.from({ length: 50 }, (_, i) => ({ id: i, msg: `a line long enough to count ${i}` }));
  const task = await client.index('sized_write').addDocuments(docs).waitTask({ timeout: 30_000 });
  assert.equal(task.indexUid, 'sized-000001');
  await until(
    async () => (await admin('GET', '/_miroir/ilm/policies/sized')).body.write_index === 'sized-000002',
    'the size trigger',
    20_000,
    50,
  );
  const stats = await client.index('sized-000001').getStats();
  assert.ok(stats.rawDocumentDbSize >= 1e-6 * 1024 ** 3, `rawDocumentDbSize ${stats.rawDocumentDbSize}`);
  assert.equal((await client.index('sized').search('', { limit: 0 })).estimatedTotalHits, 50);

  // No writes at all: the age alone rolls the write index over, no sooner than 2 s after it was created.
  assert.equal((await policy('aged', { max_age: '2s' })).status, 201);
  let aged: any = null;
  await until(
    async () => {
      aged = (await admin('GET', '/_miroir/ilm/policies/aged')).body;
      return aged.write_index === 'aged-000002';
    },
    'the age trigger',
    20_000,
    50,
  );
  const [first, second] = aged.indexes as Array<{ uid: string; created_at: string }>;
  assert.equal(first!.uid, 'aged-000001');
  const afterMs = Date.parse(second!.created_at) - Date.parse(first!.created_at);
  assert.ok(afterMs >= 2000, `rolled over ${afterMs} ms after the index was created`);

  for (const name of ['sized', 'aged'])
    assert.equal((await admin('DELETE', `/_miroir/ilm/policies/${name}`)).status, 204);
});

test('miroir ctl ilm create, list, rollover, delete; a bad trigger is refused by name', async () => {
  const ctl = async (args: string[]): Promise<{ code: number; stdout: string; stderr: string }> => {
    try {
      const { stdout, stderr } = await promisify(execFile)(
        process.execPath,
        [cliPath(), 'ctl', '--url', cluster.app.url, ...args],
        { env: { ...process.env, MIROIR_ADMIN_API_KEY: cluster.adminKey } },
      );
      return { code: 0, stdout, stderr };
    } catch (err) {
      const e = err as { code: number; stdout: string; stderr: string };
      return { code: e.code, stdout: e.stdout, stderr: e.stderr };
    }
  };
  const base = ['ilm', 'create', 'events', '--write-alias', 'events_write', '--read-alias', 'events'];
  const created = await ctl([
    ...base,
    '--prefix',
    'events',
    '--primary-key',
    'id',
    '--max-docs',
    '500',
    '--max-age',
    'none',
    '--keep',
    '2',
  ]);
  assert.equal(created.code, 0, created.stderr);
  assert.match(created.stdout, /policy events: writes go to events-000001 through events_write/);
  const stored = (await admin('GET', '/_miroir/ilm/policies/events')).body;
  assert.deepEqual(stored.triggers, { max_docs: 500, max_age: null, max_size_gb: 50 });
  assert.equal(stored.retention.keep_indexes, 2);

  const bad = await ctl([
    'ilm',
    'create',
    'other',
    '--write-alias',
    'o_w',
    '--read-alias',
    'o',
    '--prefix',
    'o',
    '--max-docs',
    'lots',
  ]);
  assert.notEqual(bad.code, 0);
  assert.match(bad.stderr, /max_docs/);

  const listed = await ctl(['ilm', 'list']);
  assert.match(listed.stdout, /events_write/);
  const rolled = await ctl(['ilm', 'rollover', 'events']);
  assert.match(rolled.stdout, /writes now go to events-000002/);
  const deleted = await ctl(['ilm', 'delete', 'events']);
  assert.equal(deleted.code, 0, deleted.stderr);
  assert.equal((await admin('GET', '/_miroir/ilm/policies/events')).status, 404);
});
