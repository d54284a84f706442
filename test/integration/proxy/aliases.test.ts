// Aliases (SPEC A7 + Round 2 "Aliases"): an alias flipped 50 times while searches run answers every search wholly
// from the old or the new target (never mixed, never an error); a multi-target alias is read-only (409) and its
// search answers like one index; names collide both ways (409); API keys match the alias name; explain shows the
// resolution; the admin API's answers (201/200/204, history).
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { after, before, test } from 'node:test';
import { Meilisearch } from 'meilisearch';
import { generateTenantToken } from 'meilisearch/token';
import { bearerCall } from '../../support/topology.js';
import { startCluster, type TestCluster } from '../../support/cluster.js';
import { until } from '../../support/wait.js';
import { cliPath } from '../../support/devnode.js';

let cluster: TestCluster;
let client: Meilisearch;

const docsOf = (tag: string, n: number) =>
  Array.from({ length: n }, (_, i) => ({ id: i, title: `doc ${i} ${tag}`, tag, n: i }));

before(async () => {
  cluster = await startCluster({
    nodes: 2,
    shards: 4,
    config: { aliases: { enabled: true, history_retention: 3, resync_interval_s: 1 } },
  });
  client = new Meilisearch({ host: cluster.app.url, apiKey: cluster.masterKey });
  for (const [uid, tag] of [
    ['books_a', 'A'],
    ['books_b', 'B'],
  ] as const) {
    await client.createIndex(uid, { primaryKey: 'id' }).waitTask();
    await client.index(uid).updateFilterableAttributes(['tag']).waitTask();
    await client.index(uid).addDocuments(docsOf(tag, 30)).waitTask();
  }
});
after(() => cluster.close());

function admin(method: string, path: string, body?: unknown): Promise<{ status: number; body: any }> {
  return bearerCall(cluster.app.url, cluster.adminKey, method, path, body);
}

function call(method: string, path: string, body?: unknown): Promise<{ status: number; body: any }> {
  return bearerCall(cluster.app.url, cluster.masterKey, method, path, body);
}

test('admin API: create 201, get, list, put 200 with history, delete 204, unknown 404', async () => {
  const created = await admin('POST', '/_miroir/aliases', { name: 'tmp', target: 'books_a' });
  assert.equal(created.status, 201);
  assert.deepEqual(created.body.targets, ['books_a']);
  assert.equal(created.body.kind, 'single');
  assert.equal((await admin('GET', '/_miroir/aliases/tmp')).body.target, 'books_a');
  for (const t of ['books_b', 'books_a', 'books_b', 'books_a']) {
    const put = await admin('PUT', '/_miroir/aliases/tmp', { target: t });
    assert.equal(put.status, 200);
  }
  const got = (await admin('GET', '/_miroir/aliases/tmp')).body;
  assert.equal(got.history.length, 3, 'history_retention: 3');
  assert.deepEqual(got.history[0].targets, ['books_b']);
  assert.ok((await admin('GET', '/_miroir/aliases')).body.results.some((a: any) => a.name === 'tmp'));
  assert.equal((await admin('DELETE', '/_miroir/aliases/tmp')).status, 204);
  assert.equal((await admin('GET', '/_miroir/aliases/tmp')).status, 404);
  assert.equal((await admin('DELETE', '/_miroir/aliases/tmp')).status, 404);
  assert.equal((await admin('PUT', '/_miroir/aliases/tmp', { target: 'books_a' })).status, 404);
  const missing = await admin('POST', '/_miroir/aliases', { name: 'tmp', target: 'no_such_index' });
  assert.equal(missing.status, 404, 'require_target_exists');
  assert.equal((await admin('POST', '/_miroir/aliases', { name: 'tmp' })).status, 400);
});

test('name collisions → 409 miroir_alias_conflict both ways', async () => {
  const asIndex = await admin('POST', '/_miroir/aliases', { name: 'books_a', target: 'books_b' });
  assert.equal(asIndex.status, 409);
  assert.equal(asIndex.body.code, 'miroir_alias_conflict');
  assert.equal((await admin('POST', '/_miroir/aliases', { name: 'coll', target: 'books_a' })).status, 201);
  const again = await admin('POST', '/_miroir/aliases', { name: 'coll', target: 'books_b' });
  assert.equal(again.status, 409);
  const idx = await call('POST', '/indexes', { uid: 'coll', primaryKey: 'id' });
  assert.equal(idx.status, 409);
  assert.equal(idx.body.code, 'miroir_alias_conflict');
  assert.equal((await admin('DELETE', '/_miroir/aliases/coll')).status, 204);
});

test('single-target alias: search, documents, index object, writes go to the target; GET /indexes lists indexes only', async () => {
  assert.equal((await admin('POST', '/_miroir/aliases', { name: 'shelf', target: 'books_a' })).status, 201);
  const res = await client.index('shelf').search('doc', { limit: 5 });
  assert.equal(res.hits.length, 5);
  assert.ok(res.hits.every((h) => h.tag === 'A'));
  const one = await client.index('shelf').getDocument(3);
  assert.equal(one.tag, 'A');
  const idx = await call('GET', '/indexes/shelf');
  assert.equal(idx.status, 200);
  assert.equal(idx.body.uid, 'books_a');
  const task = await client
    .index('shelf')
    .addDocuments([{ id: 1000, title: 'written via alias', tag: 'A' }])
    .waitTask();
  assert.equal(task.status, 'succeeded');
  assert.equal((await client.index('books_a').getDocument(1000)).title, 'written via alias');
  const list = await client.getIndexes({ limit: 100 });
  assert.deepEqual(list.results.map((i) => i.uid).sort(), ['books_a', 'books_b']);
  const ex = await call('POST', '/indexes/shelf/explain', { q: 'doc' });
  assert.equal(ex.status, 200);
  assert.deepEqual(ex.body.plan.alias_resolution, { alias: 'shelf', kind: 'single', targets: ['books_a'] });
  await client.index('books_a').deleteDocument(1000).waitTask();
});

test('resolution cost: median search latency through a single-target alias and direct (diagnostic only)', async (t) => {
  const median = async (uid: string) => {
    const ms: number[] = [];
    for (let i = 0; i < 100; i++) {
      const t0 = performance.now();
      await client.index(uid).search('doc', { limit: 5 });
      ms.push(performance.now() - t0);
    }
    return ms.sort((a, b) => a - b)[50]!;
  };
  await median('books_a'); // warm-up
  const direct = await median('books_a');
  const aliased = await median('shelf');
  t.diagnostic(`search p50: direct ${direct.toFixed(2)} ms, through alias ${aliased.toFixed(2)} ms`);
});

test('API keys match the alias name the client used', async () => {
  const key = await client.createKey({ actions: ['search'], indexes: ['shelf'], expiresAt: null });
  const keyed = new Meilisearch({ host: cluster.app.url, apiKey: key.key });
  const res = await keyed.index('shelf').search('doc', { limit: 3 });
  assert.equal(res.hits.length, 3);
  await assert.rejects(keyed.index('books_b').search('doc'), /cannot acces|invalid/i);
  // a tenant token's rule for the alias name filters the target's search
  const token = await generateTenantToken({
    apiKey: key.key,
    apiKeyUid: key.uid,
    searchRules: { shelf: { filter: 'tag = B' } },
  });
  const tenant = new Meilisearch({ host: cluster.app.url, apiKey: token });
  assert.equal((await tenant.index('shelf').search('doc')).hits.length, 0, 'books_a holds no tag B');
  const open = await generateTenantToken({ apiKey: key.key, apiKeyUid: key.uid, searchRules: { shelf: null } });
  assert.equal(
    (await new Meilisearch({ host: cluster.app.url, apiKey: open }).index('shelf').search('doc')).hits.length,
    20,
  );
});

test('multi-target alias: search merged like one index, writes → 409 miroir_multi_alias_not_writable', async () => {
  assert.equal(
    (await admin('POST', '/_miroir/aliases', { name: 'both', targets: ['books_a', 'books_b'] })).status,
    201,
  );
  const res = await client.index('both').search('doc', { limit: 100, facets: ['tag'] });
  assert.equal(res.estimatedTotalHits, 60);
  assert.equal(res.hits.length, 60);
  assert.deepEqual(res.facetDistribution, { tag: { A: 30, B: 30 } });
  const fs = await call('POST', '/indexes/both/facet-search', { facetName: 'tag' });
  assert.equal(fs.status, 200, JSON.stringify(fs.body));
  assert.deepEqual(
    fs.body.facetHits.sort((a: { value: string }, b: { value: string }) => a.value.localeCompare(b.value)),
    [
      { value: 'A', count: 30 },
      { value: 'B', count: 30 },
    ],
  );
  const page = await client.index('both').search('doc', { limit: 10, offset: 5 });
  assert.equal(page.hits.length, 10);
  const write = await call('POST', '/indexes/both/documents', [{ id: 1, title: 'x' }]);
  assert.equal(write.status, 409);
  assert.equal(write.body.code, 'miroir_multi_alias_not_writable');
  const settings = await call('PATCH', '/indexes/both/settings', { searchableAttributes: ['title'] });
  assert.equal(settings.status, 409);
  const multi = await client.multiSearch({
    queries: [
      { indexUid: 'both', q: 'doc', limit: 100 },
      { indexUid: 'shelf', q: 'doc', limit: 1 },
    ],
  });
  assert.equal(multi.results[0]!.indexUid, 'both');
  assert.equal(multi.results[0]!.estimatedTotalHits, 60);
  assert.equal(multi.results[1]!.indexUid, 'shelf');
  assert.equal(multi.results[1]!.hits[0]!.tag, 'A');
  const fed = await call('POST', '/multi-search', {
    federation: { limit: 100 },
    queries: [{ indexUid: 'both', q: 'doc' }],
  });
  assert.equal(fed.status, 200, JSON.stringify(fed.body));
  assert.equal(fed.body.hits.length, 60, 'a federated query over a multi-target alias spans its targets');
});

test('an alias flipped 50 times while searches run: every answer wholly from one target, never an error', async (t) => {
  assert.equal((await admin('POST', '/_miroir/aliases', { name: 'live', target: 'books_a' })).status, 201);
  let flipping = true;
  let searches = 0;
  let fromA = 0;
  let fromB = 0;
  const errors: unknown[] = [];
  const searcher = async () => {
    while (flipping) {
      try {
        const res = await client.index('live').search('doc', { limit: 30 });
        const tags = new Set(res.hits.map((h) => h.tag));
        searches++;
        if (tags.size !== 1 || res.hits.length !== 30) errors.push(new Error(`mixed answer: ${[...tags].join(',')}`));
        else if (tags.has('A')) fromA++;
        else fromB++;
      } catch (err) {
        errors.push(err);
      }
    }
  };
  const searchers = Array.from({ length: 4 }, searcher);
  const started = performance.now();
  for (let i = 0; i < 50; i++) {
    const put = await admin('PUT', '/_miroir/aliases/live', { target: i % 2 === 0 ? 'books_b' : 'books_a' });
    assert.equal(put.status, 200);
    // a few searches between flips
    const seen = searches;
    await until(() => searches >= seen + 2 || errors.length > 0, 'searches between flips', 10_000, 5);
  }
  const elapsed = performance.now() - started;
  flipping = false;
  await Promise.all(searchers);
  t.diagnostic(
    `50 flips in ${Math.round(elapsed)} ms (${((50 * 1000) / elapsed).toFixed(1)} flips/s); ${searches} searches answered (A ${fromA}, B ${fromB}), ${errors.length} errors or mixed`,
  );
  assert.deepEqual(errors, []);
  assert.ok(fromA > 0 && fromB > 0, `answers from both targets (A ${fromA}, B ${fromB})`);
  const metrics = await (await fetch(`http://127.0.0.1:${cluster.app.metricsPort}/metrics`)).text();
  assert.match(metrics, /miroir_alias_flips_total\{alias="live"\} 51/);
  assert.match(metrics, /miroir_alias_resolutions_total\{alias="live"\} \d+/);
});

test('miroir ctl alias create, set, get, list, delete', async () => {
  const ctl = async (...args: string[]) =>
    (
      await promisify(execFile)(process.execPath, [cliPath(), 'ctl', '--url', cluster.app.url, ...args], {
        env: { ...process.env, MIROIR_ADMIN_API_KEY: cluster.adminKey },
      })
    ).stdout;
  assert.match(await ctl('alias', 'create', 'cli', 'books_a'), /alias cli → books_a/);
  assert.match(await ctl('alias', 'set', 'cli', 'books_a', 'books_b'), /alias cli → books_a, books_b/);
  const got = JSON.parse(await ctl('--json', 'alias', 'get', 'cli'));
  assert.deepEqual(got.history[0].targets, ['books_a']);
  assert.match(await ctl('alias', 'delete', 'cli'), /alias cli deleted/);
});
