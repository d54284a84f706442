// Issue 19's defects, each through the HTTP API as a client would meet it, with one dev node holding everything as
// the reference answer: key scopes cover every index a request names, filters are never concatenated, `_miroir_shard`
// behaves as an attribute that does not exist (and other `_miroir_*` fields are client data), probes pass the request
// limit, node-wide reads fail over without naming nodes, the add-node probe carries no key, multi-search is bounded,
// bad input is a 400 (never a 500), and idle connections are closed. The recovery deadlock and the random fault
// schedule live in test/integration/topology/overlapping-faults.test.ts.
import assert from 'node:assert/strict';
import { createServer, type IncomingHttpHeaders } from 'node:http';
import { connect, type AddressInfo } from 'node:net';
import { after, before, test } from 'node:test';
import { Meilisearch } from 'meilisearch';
import { startCluster, type TestCluster } from '../../support/cluster.js';
import { startDevNode, type StartedNode } from '../../support/devnode.js';
import { until } from '../../support/wait.js';

let cluster: TestCluster;
let small: TestCluster;
let single: StartedNode;

const docs = Array.from({ length: 40 }, (_, i) => ({
  id: i,
  title: `item ${i} ${i % 2 === 0 ? 'even' : 'odd'}`,
  color: ['red', 'green', 'blue', 'black'][i % 4],
  price: i * 3,
}));

interface Answer {
  status: number;
  body: any;
}

async function call(base: string, key: string, method: string, path: string, body?: unknown): Promise<Answer> {
  const res = await fetch(base + path, {
    method,
    headers: {
      authorization: `Bearer ${key}`,
      ...(body === undefined ? {} : { 'content-type': 'application/json' }),
    },
    body: body === undefined ? undefined : typeof body === 'string' ? body : JSON.stringify(body),
  });
  const text = await res.text();
  return { status: res.status, body: text === '' ? null : JSON.parse(text) };
}

const miroir = (method: string, path: string, body?: unknown) =>
  call(cluster.app.url, cluster.masterKey, method, path, body);
const reference = (method: string, path: string, body?: unknown) =>
  call(single.url, cluster.masterKey, method, path, body);

/** Sets dev node i's injected faults (the node's own key guards the route). */
async function setFaults(c: TestCluster, i: number, faults: Record<string, unknown>): Promise<void> {
  const res = await fetch(`${c.nodes[i]!.url}/_devnode/faults`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', authorization: `Bearer ${c.nodeKey}` },
    body: JSON.stringify(faults),
  });
  assert.equal(res.status, 200, await res.text());
}

/** Same status, code and message from Miroir and from one node holding everything. */
async function sameError(method: string, path: string, body?: unknown): Promise<Answer> {
  const [a, b] = await Promise.all([miroir(method, path, body), reference(method, path, body)]);
  assert.equal(a.status, b.status, `${method} ${path}: ${JSON.stringify(a.body)} vs ${JSON.stringify(b.body)}`);
  assert.equal(a.body?.code, b.body?.code, `${method} ${path}`);
  assert.equal(a.body?.message, b.body?.message, `${method} ${path}`);
  return a;
}

before(async () => {
  cluster = await startCluster({
    nodes: 3,
    rf: 1,
    shards: 8,
    config: { scatter: { node_timeout_ms: 1500 }, health: { interval_ms: 300, timeout_ms: 250 } },
  });
  single = await startDevNode({ masterKey: cluster.masterKey });
  for (const host of [cluster.app.url, single.url]) {
    const c = new Meilisearch({ host, apiKey: cluster.masterKey });
    for (const uid of ['items', 'tenant_a', 'victim']) await c.createIndex(uid, { primaryKey: 'id' }).waitTask();
    await c
      .index('items')
      .updateSettings({ filterableAttributes: ['color', 'price'], sortableAttributes: ['price'] })
      .waitTask();
    await c.index('items').addDocuments(docs).waitTask();
    await c
      .index('victim')
      .addDocuments([{ id: 1, secret: 'victim data' }])
      .waitTask();
  }
});
after(async () => {
  await cluster.close();
  await single.stop();
});

test('1. a key scoped to tenant_a cannot swap, create or rename outside its scope', async () => {
  const scoped = {
    uid: '0b9f1b3e-6a55-4d5e-9f6a-4c1d2b3a4f50',
    actions: ['*'],
    indexes: ['tenant_a'],
    expiresAt: null,
  };
  const [k1, k2] = await Promise.all([miroir('POST', '/keys', scoped), reference('POST', '/keys', scoped)]);
  assert.equal(k1.status, 201);
  assert.equal(k1.body.key, k2.body.key, 'the same uid and master key give the same key');
  const asTenant = (base: string, method: string, path: string, body?: unknown) =>
    call(base, k1.body.key, method, path, body);
  const cases: Array<[string, string, unknown]> = [
    ['POST', '/swap-indexes', [{ indexes: ['tenant_a', 'victim'] }]],
    ['POST', '/swap-indexes', [{ indexes: ['items', 'victim'] }]],
    ['POST', '/indexes', { uid: 'outside', primaryKey: 'id' }],
    ['PATCH', '/indexes/tenant_a', { uid: 'elsewhere' }],
  ];
  for (const [method, path, body] of cases) {
    const a = await asTenant(cluster.app.url, method, path, body);
    const b = await asTenant(single.url, method, path, body);
    assert.equal(a.status, 403, `${method} ${path} ${JSON.stringify(body)} ${JSON.stringify(a.body)}`);
    assert.equal(a.body.code, 'invalid_api_key');
    assert.equal(b.status, 403, `the dev node too: ${method} ${path}`);
  }
  // Nothing moved: victim still holds its own document, and tenant_a none.
  const victim = await miroir('GET', '/indexes/victim/documents/1');
  assert.equal(victim.body.secret, 'victim data');
  assert.equal((await asTenant(cluster.app.url, 'GET', '/indexes/tenant_a/documents/1')).status, 404);
});

test('3. a filter that closes its own parenthesis is a 400, not every hit twice', async () => {
  const a = await sameError('POST', '/indexes/items/search', { filter: 'color = red) OR (color = red' });
  assert.equal(a.status, 400);
  assert.equal(a.body.code, 'invalid_search_filter');
  const arrayForm = await miroir('POST', '/indexes/items/search', { filter: [['color = red) OR (color = red']] });
  assert.equal(arrayForm.status, 400);
});

test('4. `_miroir_shard` is an attribute that does not exist; other `_miroir_*` fields are client data', async () => {
  const facets = await miroir('POST', '/indexes/items/search', { facets: ['*'], limit: 0 });
  const one = await reference('POST', '/indexes/items/search', { facets: ['*'], limit: 0 });
  assert.deepEqual(Object.keys(facets.body.facetDistribution).sort(), ['color', 'price']);
  assert.deepEqual(facets.body.facetDistribution, one.body.facetDistribution);
  assert.deepEqual(Object.keys(facets.body.facetStats), ['price']);
  for (const body of [
    { filter: '_miroir_shard = 1' },
    { filter: ['color = red', ['_miroir_shard = 1', 'price > 3']] },
    { filter: 'price > 3 AND _miroir_shard IN [1, 2]' },
    { sort: ['_miroir_shard:asc'] },
    { distinct: '_miroir_shard' },
    { facets: ['_miroir_shard'] },
  ]) {
    const a = await sameError('POST', '/indexes/items/search', body);
    assert.equal(a.status, 400, JSON.stringify(body));
    assert.doesNotMatch(a.body.message, /_miroir_shard`?,|`_miroir_shard`\./, 'never listed as available');
  }
  await sameError('POST', '/indexes/items/facet-search', { facetName: '_miroir_shard' });
  await sameError('POST', '/indexes/items/documents/fetch', { filter: '_miroir_shard = 1' });
  await sameError('GET', '/indexes/items/documents?filter=_miroir_shard%20%3D%201');
  // An ordinary filter error does not list `_miroir_shard` among the filterable attributes.
  const listed = await sameError('POST', '/indexes/items/search', { filter: 'title = x' });
  assert.match(listed.body.message, /Available filterable attribute patterns are: `color`, `price`\./);
  // Multi-search per query.
  const multi = await miroir('POST', '/multi-search', {
    queries: [{ indexUid: 'items', filter: '_miroir_shard = 0' }],
  });
  assert.equal(multi.status, 400);
  assert.match(
    multi.body.message,
    /^Inside `\.queries\[0\]`: Index `items`: Attribute `_miroir_shard` is not filterable/,
  );

  // With every attribute filterable (`*`), a filter on it matches nothing, like any absent attribute.
  for (const ask of [miroir, reference]) {
    const r = await ask('PATCH', '/indexes/tenant_a/settings', {
      filterableAttributes: ['*'],
      sortableAttributes: ['*'],
    });
    await until(async () => (await ask('GET', `/tasks/${r.body.taskUid}`)).body.status === 'succeeded', 'settings');
    const add = await ask('POST', '/indexes/tenant_a/documents', [
      { id: 1, _miroir_note: 'kept', n: 1 },
      { id: 2, n: 2 },
    ]);
    await until(async () => (await ask('GET', `/tasks/${add.body.taskUid}`)).body.status === 'succeeded', 'docs');
  }
  for (const [body, expected] of [
    [{ filter: '_miroir_shard = 0' }, 0],
    [{ filter: '_miroir_shard EXISTS' }, 0],
    [{ filter: 'NOT _miroir_shard = 0' }, 2],
    [{ distinct: '_miroir_shard' }, 2],
    [{ sort: ['_miroir_shard:asc'] }, 2],
  ] as const) {
    const a = await miroir('POST', '/indexes/tenant_a/search', body);
    const b = await reference('POST', '/indexes/tenant_a/search', body);
    assert.equal(a.status, 200, JSON.stringify([body, a.body]));
    assert.equal(a.body.estimatedTotalHits, expected, JSON.stringify(body));
    assert.equal(b.body.estimatedTotalHits, expected, `reference: ${JSON.stringify(body)}`);
  }
  const fs = await miroir('POST', '/indexes/tenant_a/facet-search', { facetName: '_miroir_shard' });
  assert.equal(fs.status, 200);
  assert.deepEqual(fs.body.facetHits, []);
  // `_miroir_note` is stored and returned everywhere a document is.
  const doc = await miroir('GET', '/indexes/tenant_a/documents/1');
  assert.deepEqual(doc.body, { id: 1, _miroir_note: 'kept', n: 1 });
  const hit = await miroir('POST', '/indexes/tenant_a/search', { filter: 'n = 1' });
  assert.equal(hit.body.hits[0]._miroir_note, 'kept');
  assert.equal(hit.body.hits[0]._miroir_shard, undefined);
  const listed2 = await miroir('GET', '/indexes/tenant_a/documents');
  assert.equal(listed2.body.results.find((d: any) => d.id === 1)._miroir_note, 'kept');
  const stats = await miroir('GET', '/indexes/tenant_a/stats');
  assert.deepEqual(stats.body.fieldDistribution, { _miroir_note: 1, id: 2, n: 2 });
});

test('5. /health and /_miroir/ready answer while every request slot is taken', async () => {
  small = await startCluster({
    nodes: 1,
    rf: 1,
    shards: 2,
    config: {
      server: { port: 0, bind: '127.0.0.1', max_concurrent_requests: 2, headers_timeout_ms: 1000 },
      scatter: { node_timeout_ms: 3000 },
    },
  });
  try {
    const c = new Meilisearch({ host: small.app.url, apiKey: small.masterKey });
    await c.createIndex('busy', { primaryKey: 'id' }).waitTask();
    await setFaults(small, 0, { hang: true });
    const held = [0, 1].map(() => call(small.app.url, small.masterKey, 'POST', '/indexes/busy/search', { q: 'x' }));
    await until(async () => {
      const r = await call(small.app.url, small.masterKey, 'POST', '/indexes/busy/search', { q: 'y' });
      return r.status === 503 && r.body.code === 'too_many_search_requests';
    }, 'the request limit to be reached');
    const health = await fetch(`${small.app.url}/health`);
    assert.equal(health.status, 200);
    assert.deepEqual(await health.json(), { status: 'available' });
    const ready = await fetch(`${small.app.url}/_miroir/ready`);
    assert.equal(ready.status, 200);
    assert.deepEqual(await ready.json(), { status: 'ready' });
    await setFaults(small, 0, { hang: false });
    await Promise.all(held);
  } finally {
    await small.close();
  }
});

test('6. node-wide reads fail over past a hung node, and errors never name a node or its address', async () => {
  const faults = (i: number, f: Record<string, unknown>) => setFaults(cluster, i, f);
  await faults(0, { hang: true });
  try {
    for (const path of ['/version', '/experimental-features', '/network']) {
      const [r, one] = await Promise.all([miroir('GET', path), reference('GET', path)]);
      assert.equal(r.status, one.status, `${path}: ${JSON.stringify(r.body)}`);
      assert.ok(r.status < 500);
    }
    await Promise.all([faults(1, { hang: true }), faults(2, { hang: true })]);
    const none = await miroir('GET', '/version');
    assert.equal(none.status, 503);
    assert.doesNotMatch(JSON.stringify(none.body), /127\.0\.0\.1|node-\d|:\d{4,5}/);
  } finally {
    await Promise.all([0, 1, 2].map((i) => faults(i, { hang: false })));
    await until(
      async () => {
        const t = await call(cluster.app.url, cluster.adminKey, 'GET', '/_miroir/topology');
        return t.body.degraded_node_count === 0;
      },
      'every node healthy again',
      30_000,
    );
  }
});

test('7. POST /_miroir/nodes probes the address without credentials and sends no key to a refused one', async () => {
  const seen: IncomingHttpHeaders[] = [];
  const stranger = createServer((req, res) => {
    seen.push(req.headers);
    res.writeHead(404).end();
  });
  await new Promise<void>((r) => stranger.listen(0, '127.0.0.1', () => r()));
  try {
    const address = `http://127.0.0.1:${(stranger.address() as AddressInfo).port}`;
    const r = await call(cluster.app.url, cluster.adminKey, 'POST', '/_miroir/nodes', {
      id: 'node-x',
      address,
      replica_group: 0,
    });
    assert.equal(r.status, 400);
    assert.ok(seen.length >= 1, 'the address was probed');
    for (const h of seen) assert.equal(h.authorization, undefined);
  } finally {
    await new Promise<void>((r) => stranger.close(() => r()));
  }
});

test('8. multi-search is bounded: more than 100 queries, or a federated page past 1000 hits, is a 400', async () => {
  const q = (n: number) => Array.from({ length: n }, () => ({ indexUid: 'items', q: 'item' }));
  const ok = await miroir('POST', '/multi-search', { queries: q(100) });
  assert.equal(ok.status, 200, JSON.stringify(ok.body));
  assert.equal(ok.body.results.length, 100);
  const tooMany = await miroir('POST', '/multi-search', { queries: q(101) });
  assert.equal(tooMany.status, 400);
  assert.equal(tooMany.body.code, 'bad_request');
  assert.match(tooMany.body.message, /101.*multi_search\.max_queries_per_batch/);
  const deep = await miroir('POST', '/multi-search', { federation: { limit: 1000, offset: 1 }, queries: q(2) });
  assert.equal(deep.status, 400);
  assert.equal(deep.body.code, 'invalid_search_limit');
  const paged = await miroir('POST', '/multi-search', { federation: { page: 11, hitsPerPage: 100 }, queries: q(2) });
  assert.equal(paged.status, 400);
  const fine = await miroir('POST', '/multi-search', { federation: { limit: 1000 }, queries: q(2) });
  assert.equal(fine.status, 200);
});

test('9. bad input is a Meilisearch 400, never a 500: federation numbers, JSON nested thousands deep', async () => {
  for (const federation of [{ limit: -1 }, { page: 1.5 }, { offset: 'x' }, { hitsPerPage: -3 }]) {
    const a = await sameError('POST', '/multi-search', { federation, queries: [{ indexUid: 'items' }] });
    assert.equal(a.status, 400, JSON.stringify(federation));
  }
  const nest = (n: number) => '['.repeat(n) + ']'.repeat(n);
  const bodies: Array<[string, string, string]> = [
    ['POST', '/indexes/items/documents', `[{"id": 999, "deep": ${nest(5000)}}]`],
    ['POST', '/indexes/items/search', `{"filter": ${nest(5000)}}`],
    ['PATCH', '/indexes/items/settings', `{"filterableAttributes": ${nest(5000)}}`],
    ['POST', '/multi-search', `{"queries": [{"indexUid": "items", "filter": ${nest(5000)}}]}`],
    ['POST', '/keys', `{"actions": ${nest(5000)}, "indexes": ["*"], "expiresAt": null}`],
    ['POST', '/indexes/items/documents/fetch', `{"filter": ${nest(5000)}}`],
  ];
  for (const [method, path, body] of bodies) {
    const a = await sameError(method, path, body);
    assert.equal(a.status, 400, `${method} ${path}`);
    assert.equal(a.body.code, 'malformed_payload');
  }
  const deepQuery = await miroir('GET', `/indexes/items/search?filter=${encodeURIComponent(nest(1000))}`);
  assert.equal(deepQuery.status, 400);
  assert.equal((await miroir('GET', '/health')).status, 200);
});

test('10. right errors: invalid uid 400, delete on a missing index a failed task, PATCH null, task dates in order', async () => {
  const bad = await sameError('GET', '/indexes/bad!uid');
  assert.equal(bad.status, 400);
  assert.equal(bad.body.code, 'invalid_index_uid');
  await sameError('GET', '/indexes/bad!uid/documents');
  const del = await miroir('DELETE', '/indexes/nosuch/documents');
  assert.equal(del.status, 202);
  await until(async () => (await miroir('GET', `/tasks/${del.body.taskUid}`)).body.status === 'failed', 'failed');
  const task = (await miroir('GET', `/tasks/${del.body.taskUid}`)).body;
  assert.equal(task.error.code, 'index_not_found');
  await sameError('PATCH', '/indexes/items', 'null');
  await sameError('PATCH', '/indexes/items', '{"primaryKey": 3}');
  const tasks = await miroir('GET', '/tasks?limit=1000');
  for (const t of tasks.body.results) {
    if (t.startedAt !== null) assert.ok(t.startedAt >= t.enqueuedAt, `task ${t.uid} started before it was enqueued`);
    if (t.finishedAt !== null) assert.ok(t.finishedAt >= t.startedAt, `task ${t.uid} finished before it started`);
  }
});

test('11. connections that send nothing or stop mid-request are closed', async () => {
  const idle = await startCluster({
    nodes: 1,
    rf: 1,
    shards: 2,
    config: { server: { port: 0, bind: '127.0.0.1', headers_timeout_ms: 500, request_timeout_ms: 1000 } },
  });
  try {
    const { port, hostname } = new URL(idle.app.url);
    const open = (data: string | null) =>
      new Promise<string>((resolve, reject) => {
        let got = '';
        const s = connect(Number(port), hostname, () => {
          if (data !== null) s.write(data);
        });
        s.on('data', (d) => (got += String(d)));
        s.on('error', reject);
        s.on('close', () => resolve(got));
      });
    const [silent, halfHead, halfBody] = await Promise.all([
      open(null),
      open('GET /health HTTP/1.1\r\nHost: x\r\n'),
      open(
        `POST /indexes/x/search HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer ${idle.masterKey}\r\nContent-Type: application/json\r\nContent-Length: 100\r\n\r\n{"q":`,
      ),
    ]);
    assert.match(silent, /^(HTTP\/1\.1 408|$)/);
    assert.match(halfHead, /^HTTP\/1\.1 408/);
    assert.match(halfBody, /^(HTTP\/1\.1 408|$)/);
  } finally {
    await idle.close();
  }
});

test('Meilisearch routes Miroir does not serve answer 501 miroir_not_supported, after the same auth', async () => {
  const routes: Array<[string, string]> = [
    ['POST', '/indexes/items/documents/edit'],
    ['POST', '/indexes/items/similar'],
    ['GET', '/indexes/items/similar'],
    ['POST', '/indexes/items/compact'],
    ['POST', '/indexes/items/fields'],
    ['POST', '/tasks/compact'],
    ['GET', '/chats'],
    ['POST', '/chats/main/chat/completions'],
    ['POST', '/export'],
    ['GET', '/webhooks'],
    ['PATCH', '/webhooks/0b9f1b3e'],
    ['POST', '/render-template'],
    ['POST', '/logs/stream'],
    ['GET', '/metrics'],
    ['POST', '/snapshots'],
  ];
  for (const [method, path] of routes) {
    const r = await miroir(method, path, method === 'GET' ? undefined : {});
    assert.equal(r.status, 501, `${method} ${path}`);
    assert.equal(r.body.code, 'miroir_not_supported');
    const anonymous = await fetch(cluster.app.url + path, { method });
    assert.equal(anonymous.status, 401, `${method} ${path} without a key`);
  }
});
