// Idempotent writes (issue 24, SPEC A10 + Round 2 "Idempotency"): the same addDocuments sent 5 times with one
// Idempotency-Key — one after another, all at once, across a proxy restart (LMDB) and through two pods sharing Redis —
// gives one task uid and one node task per node, `Idempotent-Replayed: true` on the repeats; a different body under
// the key is 409 miroir_idempotency_key_reused; keys are scoped by the API key; a malformed key is 400.
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { after, before, describe, test } from 'node:test';
import { Meilisearch } from 'meilisearch';
import { DevNode } from '../../../src/devnode/node.js';
import type { MiroirApp } from '../../../src/main/app.js';
import { startCluster, type TestCluster } from '../../support/cluster.js';
import { redisSkip, startRedis, type RedisServer } from '../../support/redis.js';
import { podConfig, startPod } from '../../support/pods.js';

interface Sent {
  status: number;
  body: Record<string, unknown>;
  replayed: boolean;
}

async function send(
  base: string,
  key: string,
  method: string,
  path: string,
  body: unknown,
  idem: string | null,
  contentType = 'application/json',
): Promise<Sent> {
  const headers: Record<string, string> = { authorization: `Bearer ${key}`, 'content-type': contentType };
  if (idem !== null) headers['idempotency-key'] = idem;
  const res = await fetch(`${base}${path}`, {
    method,
    headers,
    body: body === undefined ? undefined : typeof body === 'string' ? body : JSON.stringify(body),
  });
  const text = await res.text();
  return {
    status: res.status,
    body: text === '' ? {} : (JSON.parse(text) as Record<string, unknown>),
    replayed: res.headers.get('idempotent-replayed') === 'true',
  };
}

/** Document-addition tasks of `uid` on each node. */
async function nodeTaskCounts(nodes: readonly DevNode[], nodeKey: string, uid: string): Promise<number[]> {
  return Promise.all(
    nodes.map(async (n) => {
      const res = await fetch(`${n.url}/tasks?indexUids=${uid}&types=documentAdditionOrUpdate&limit=1000`, {
        headers: { authorization: `Bearer ${nodeKey}` },
      });
      return ((await res.json()) as { total: number }).total;
    }),
  );
}

const DOCS = [
  { id: 1, title: 'Carol' },
  { id: 2, title: 'Alien' },
  { id: 3, title: 'Heat' },
];

function checkOne(results: Sent[]): number {
  for (const r of results) assert.equal(r.status, 202, JSON.stringify(r.body));
  const uids = new Set(results.map((r) => r.body.taskUid));
  assert.equal(uids.size, 1, `one task uid, got ${[...uids].join(', ')}`);
  assert.equal(results.filter((r) => !r.replayed).length, 1, 'exactly one answer is not a replay');
  return results[0]!.body.taskUid as number;
}

describe('Idempotency-Key on one pod (LMDB)', () => {
  let c: TestCluster;
  const path = (uid: string) => `/indexes/${uid}/documents`;
  before(async () => {
    // RF 2 in one group of 2: every document goes to both nodes, so each node holds exactly one task per write.
    c = await startCluster({ nodes: 2, rf: 2, shards: 8 });
    await new Meilisearch({ host: c.app.url, apiKey: c.masterKey }).createIndex('seq', { primaryKey: 'id' }).waitTask();
  });
  after(async () => {
    await c.close();
  });

  test('sent 5 times one after another: one task uid, one node task per node, repeats replayed', async () => {
    const results: Sent[] = [];
    for (let i = 0; i < 5; i++) results.push(await send(c.app.url, c.masterKey, 'POST', path('seq'), DOCS, 'k-seq'));
    const uid = checkOne(results);
    assert.equal(results[0]!.replayed, false);
    assert.deepEqual(
      results.map((r) => r.body),
      Array(5).fill(results[0]!.body),
      'the original 202 body each time',
    );
    await new Meilisearch({ host: c.app.url, apiKey: c.masterKey }).tasks.waitForTask(uid);
    assert.deepEqual(await nodeTaskCounts(c.nodes, c.nodeKey, 'seq'), [1, 1]);
  });

  test('sent 5 times at once: the duplicates wait for the first and get its answer', async () => {
    const results = await Promise.all(
      Array.from({ length: 5 }, () => send(c.app.url, c.masterKey, 'POST', path('conc'), DOCS, 'k-conc')),
    );
    const uid = checkOne(results);
    await new Meilisearch({ host: c.app.url, apiKey: c.masterKey }).tasks.waitForTask(uid);
    assert.deepEqual(await nodeTaskCounts(c.nodes, c.nodeKey, 'conc'), [1, 1]);
  });

  test('the same key with another body, path or query is 409 miroir_idempotency_key_reused; key order is not a difference', async () => {
    const first = await send(c.app.url, c.masterKey, 'POST', path('diff'), DOCS, 'k-diff');
    assert.equal(first.status, 202);
    const reordered = DOCS.map((d) => ({ title: d.title, id: d.id }));
    const again = await send(
      c.app.url,
      c.masterKey,
      'POST',
      path('diff'),
      JSON.stringify(reordered, null, 2),
      'k-diff',
    );
    assert.equal(again.replayed, true, 'canonical JSON: key order and whitespace do not count');
    for (const [p, body] of [
      [path('diff'), [{ id: 9, title: 'Other' }]],
      [path('other'), DOCS],
      [`${path('diff')}?primaryKey=id`, DOCS],
    ] as const) {
      const r = await send(c.app.url, c.masterKey, 'POST', p, body, 'k-diff');
      assert.equal(r.status, 409, p);
      assert.equal(r.body.code, 'miroir_idempotency_key_reused');
      assert.equal(r.body.type, 'invalid_request');
    }
    const ndjson = await send(
      c.app.url,
      c.masterKey,
      'POST',
      path('nd'),
      '{"id":1}\n{"id":2}\n',
      'k-nd',
      'application/x-ndjson',
    );
    const ndAgain = await send(
      c.app.url,
      c.masterKey,
      'POST',
      path('nd'),
      '{"id":1}\n{"id":2}\n',
      'k-nd',
      'application/x-ndjson',
    );
    assert.equal(ndAgain.replayed, true);
    assert.equal(ndAgain.body.taskUid, ndjson.body.taskUid);
    const ndOther = await send(
      c.app.url,
      c.masterKey,
      'POST',
      path('nd'),
      '{"id":2}\n{"id":1}\n',
      'k-nd',
      'application/x-ndjson',
    );
    assert.equal(ndOther.status, 409, 'NDJSON is compared by its bytes');
  });

  test('a repeat after a proxy restart is replayed from the store', async () => {
    const first = await send(c.app.url, c.masterKey, 'POST', path('restart'), DOCS, 'k-restart');
    assert.equal(first.status, 202);
    await c.restartProxy();
    const results = [first];
    for (let i = 0; i < 4; i++)
      results.push(await send(c.app.url, c.masterKey, 'POST', path('restart'), DOCS, 'k-restart'));
    const uid = checkOne(results);
    await new Meilisearch({ host: c.app.url, apiKey: c.masterKey }).tasks.waitForTask(uid);
    assert.deepEqual(await nodeTaskCounts(c.nodes, c.nodeKey, 'restart'), [1, 1]);
  });

  test('every write route honours it: settings, index creation, deletion, keys', async () => {
    const ms = new Meilisearch({ host: c.app.url, apiKey: c.masterKey });
    const settings = [
      await send(c.app.url, c.masterKey, 'PATCH', '/indexes/seq/settings', { filterableAttributes: ['title'] }, 'k-s'),
      await send(c.app.url, c.masterKey, 'PATCH', '/indexes/seq/settings', { filterableAttributes: ['title'] }, 'k-s'),
    ];
    checkOne(settings);
    const created = [
      await send(c.app.url, c.masterKey, 'POST', '/indexes', { uid: 'made', primaryKey: 'id' }, 'k-c'),
      await send(c.app.url, c.masterKey, 'POST', '/indexes', { primaryKey: 'id', uid: 'made' }, 'k-c'),
    ];
    checkOne(created);
    const deleted = [
      await send(c.app.url, c.masterKey, 'DELETE', '/indexes/seq/documents/1', undefined, 'k-d'),
      await send(c.app.url, c.masterKey, 'DELETE', '/indexes/seq/documents/1', undefined, 'k-d'),
    ];
    checkOne(deleted);
    const keys = [
      await send(
        c.app.url,
        c.masterKey,
        'POST',
        '/keys',
        { actions: ['search'], indexes: ['*'], expiresAt: null },
        'k-k',
      ),
      await send(
        c.app.url,
        c.masterKey,
        'POST',
        '/keys',
        { actions: ['search'], indexes: ['*'], expiresAt: null },
        'k-k',
      ),
    ];
    assert.equal(keys[0]!.status, 201);
    assert.equal(keys[1]!.status, 201);
    assert.equal(keys[1]!.replayed, true);
    assert.equal(keys[1]!.body.uid, keys[0]!.body.uid, 'one key created');
    const all = await ms.getKeys({ limit: 100 });
    assert.equal(all.results.filter((k) => k.uid === keys[0]!.body.uid).length, 1);
  });

  test('keys are scoped by the API key that sent them; failures give the key back; bad keys are 400', async () => {
    const ms = new Meilisearch({ host: c.app.url, apiKey: c.masterKey });
    const writer = await ms.createKey({ actions: ['documents.add'], indexes: ['*'], expiresAt: null });
    const a = await send(c.app.url, c.masterKey, 'POST', path('scoped'), DOCS, 'k-scope');
    const b = await send(c.app.url, writer.key, 'POST', path('scoped'), DOCS, 'k-scope');
    assert.equal(b.replayed, false);
    assert.notEqual(a.body.taskUid, b.body.taskUid, 'another API key, another scope');
    // A refused request (400) does not bind the key: the corrected retry runs.
    const bad = await send(c.app.url, c.masterKey, 'POST', path('scoped'), '[{"id":1', 'k-fix');
    assert.equal(bad.status, 400);
    const fixed = await send(c.app.url, c.masterKey, 'POST', path('scoped'), '[{"id":1}]', 'k-fix');
    assert.equal(fixed.status, 202);
    assert.equal(fixed.replayed, false);
    for (const key of ['', 'x'.repeat(256), 'caf\u00e9']) {
      const r = await fetch(`${c.app.url}${path('scoped')}`, {
        method: 'POST',
        headers: {
          authorization: `Bearer ${c.masterKey}`,
          'content-type': 'application/json',
          'idempotency-key': Buffer.from(key, 'latin1').toString('latin1'),
        },
        body: '[]',
      });
      assert.equal(r.status, 400, JSON.stringify(key));
      assert.equal(((await r.json()) as { code: string }).code, 'miroir_invalid_idempotency_key');
    }
    const metrics = await (
      await fetch(`${c.app.url}/_miroir/metrics`, { headers: { authorization: `Bearer ${c.adminKey}` } })
    ).text();
    assert.match(metrics, /miroir_idempotency_hits_total\{outcome="replayed"\} [1-9]/);
    assert.match(metrics, /miroir_idempotency_cache_size [1-9]/);
  });
});

describe('Idempotency-Key through two pods sharing Redis', { skip: redisSkip() }, () => {
  let redis: RedisServer;
  let nodes: DevNode[];
  let pods: MiroirApp[];
  const master = `master-${randomBytes(6).toString('hex')}`;
  const nodeKey = randomBytes(8).toString('hex');

  before(async () => {
    redis = await startRedis();
    nodes = await Promise.all([0, 1].map(() => DevNode.start({ port: 0, masterKey: nodeKey })));
    const cfg = podConfig(
      { nodes, nodeKey, master, redis: { url: redis.url }, rf: 2 },
      { session_pinning: { enabled: true } },
    );
    pods = [await startPod(cfg), await startPod(cfg)];
    await new Meilisearch({ host: pods[0]!.url, apiKey: master }).createIndex('ha', { primaryKey: 'id' }).waitTask();
  });
  after(async () => {
    for (const p of pods) await p.close();
    await Promise.all(nodes.map((n) => n.stop()));
    await redis.stop();
  });

  test('5 at once alternating pods, then 5 more one after another: one task uid, one node task per node', async () => {
    const results = await Promise.all(
      Array.from({ length: 5 }, (_, i) =>
        send(pods[i % 2]!.url, master, 'POST', '/indexes/ha/documents', DOCS, 'k-ha'),
      ),
    );
    for (let i = 0; i < 5; i++)
      results.push(await send(pods[i % 2]!.url, master, 'POST', '/indexes/ha/documents', DOCS, 'k-ha'));
    const uid = checkOne(results);
    await new Meilisearch({ host: pods[1]!.url, apiKey: master }).tasks.waitForTask(uid);
    assert.deepEqual(await nodeTaskCounts(nodes, nodeKey, 'ha'), [1, 1]);
    const other = await send(pods[1]!.url, master, 'POST', '/indexes/ha/documents', [{ id: 7 }], 'k-ha');
    assert.equal(other.status, 409);
    assert.equal(other.body.code, 'miroir_idempotency_key_reused');
  });

  test('a session written through one pod is known to the other (the store keeps it)', async () => {
    const status = async (i: number) =>
      (await (
        await fetch(`${pods[i]!.url}/_miroir/consistency`, { headers: { authorization: 'Bearer admin' } })
      ).json()) as { session_pinning: { sessions: number }; idempotency: { keys: number } };
    const before = (await status(1)).session_pinning.sessions;
    const res = await fetch(`${pods[0]!.url}/indexes/ha/documents`, {
      method: 'POST',
      headers: { authorization: `Bearer ${master}`, 'content-type': 'application/json', 'x-miroir-session': 's-ha' },
      body: JSON.stringify([{ id: 50, title: 'pinned' }]),
    });
    assert.equal(res.status, 202);
    const after = await status(1);
    assert.equal(after.session_pinning.sessions, before + 1);
    assert.ok(after.idempotency.keys >= 1);
    const read = await fetch(`${pods[1]!.url}/indexes/ha/search`, {
      method: 'POST',
      headers: { authorization: `Bearer ${master}`, 'content-type': 'application/json', 'x-miroir-session': 's-ha' },
      body: JSON.stringify({ q: 'pinned' }),
    });
    assert.equal(((await read.json()) as { hits: unknown[] }).hits.length, 1, 'the other pod waited for the write');
  });
});
