// Document TTL (issue 27, SPEC A14): with `ttl.enabled`, documents whose `_miroir_expires_at` (integer ms or RFC 3339)
// is in the past are never returned — search, facet counts, document fetch, get by id — even before any sweep, and a
// document disappears from reads the moment it expires; an unparsable expiry fails the task
// (`miroir_invalid_document_expiry`); one sweep deletes them from every node; a later anti-entropy pass never brings
// one back (an expired copy restored behind Miroir's back is deleted everywhere); the per-index policy bounds a sweep.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { Meilisearch, MeilisearchApiError } from 'meilisearch';
import { DevNode } from '../../../src/devnode/node.js';
import { startCluster, type TestCluster } from '../../support/cluster.js';
import { adminCall, nodeDocs, waitRebalanced } from '../../support/topology.js';
import { until } from '../../support/wait.js';

type Doc = Record<string, unknown>;

async function nodeCall(
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

async function admin(c: TestCluster, method: string, path: string, body?: unknown): Promise<Record<string, unknown>> {
  const res = await fetch(`${c.app.url}${path}`, {
    method,
    headers: { authorization: `Bearer ${c.adminKey}`, 'content-type': 'application/json' },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const json = (await res.json()) as Record<string, unknown>;
  assert.equal(res.status, 200, JSON.stringify(json));
  return json;
}

/** Documents on one node whose expiry is at or before `at`. */
async function expiredOnNode(c: TestCluster, i: number, uid: string, at: number): Promise<number> {
  const res = await nodeCall(c, i, 'POST', `/indexes/${uid}/documents/fetch`, {
    filter: `_miroir_expires_at <= ${at}`,
    limit: 1,
  });
  return res.json.total as number;
}

describe('document TTL', () => {
  let c: TestCluster;
  let ms: Meilisearch;
  const uid = 'ttl-offers';
  const past = Date.now() - 60_000;
  before(async () => {
    c = await startCluster({
      nodes: 3,
      rf: 2,
      shards: 8,
      config: {
        ttl: { enabled: true, sweep_interval_s: 3600 },
        anti_entropy: { enabled: true, schedule: 'every 1d', max_pages_per_second: 0 },
      },
    });
    ms = new Meilisearch({ host: c.app.url, apiKey: c.masterKey });
    const docs: Doc[] = [];
    for (let i = 0; i < 30; i++) {
      const doc: Doc = { id: i, color: ['red', 'blue', 'green'][i % 3], title: `offer ${i}` };
      if (i < 6)
        doc._miroir_expires_at = past + i; // expired (ms)
      else if (i < 8)
        doc._miroir_expires_at = new Date(past).toISOString(); // expired (RFC 3339)
      else if (i < 12) doc._miroir_expires_at = new Date(Date.now() + 3_600_000).toISOString(); // live (RFC 3339)
      docs.push(doc);
    }
    await ms.index(uid).updateFilterableAttributes(['color']).waitTask();
    const added = await ms.index(uid).addDocuments(docs, { primaryKey: 'id' }).waitTask();
    assert.equal(added.status, 'succeeded', JSON.stringify(added.error));
  });
  after(() => c.close());

  test('an unparsable expiry fails the task; RFC 3339 is stored as integer ms', async () => {
    const bad = await ms
      .index(uid)
      .addDocuments([{ id: 100, _miroir_expires_at: 'next tuesday' }])
      .waitTask();
    assert.equal(bad.status, 'failed');
    assert.equal(bad.error?.code, 'miroir_invalid_document_expiry');
    assert.equal(bad.error?.type, 'invalid_request');
    const float = await ms
      .index(uid)
      .addDocuments([{ id: 101, _miroir_expires_at: 1.5 }])
      .waitTask();
    assert.equal(float.error?.code, 'miroir_invalid_document_expiry');
    const live = await ms.index(uid).getDocument(8);
    assert.equal(typeof live._miroir_expires_at, 'number');
  });

  test('expired documents are never returned: search, facets, fetch, get by id, stats — before any sweep', async () => {
    const nowish = Date.now();
    for (let i = 0; i < 3; i++) assert.ok((await expiredOnNode(c, i, uid, nowish)) > 0, `node-${i} still holds them`);
    const res = await ms.index(uid).search('', { limit: 100, facets: ['color'] });
    const ids = res.hits.map((h) => h.id as number).sort((a, b) => a - b);
    assert.deepEqual(
      ids,
      Array.from({ length: 22 }, (_, i) => i + 8),
    );
    assert.equal(res.estimatedTotalHits, 22);
    const counts = Object.values(res.facetDistribution!.color!).reduce((a, b) => a + b, 0);
    assert.equal(counts, 22);
    const offer = await ms.index(uid).search('offer', { filter: 'color = red', limit: 100 });
    assert.ok(offer.hits.every((h) => (h.id as number) >= 8));
    const page = await ms.index(uid).getDocuments({ limit: 100 });
    assert.equal(page.total, 22);
    assert.ok(page.results.every((d) => (d.id as number) >= 8));
    const fetched = await ms.index(uid).getDocuments({ filter: 'color = blue', limit: 100 });
    assert.ok(fetched.results.every((d) => (d.id as number) >= 8));
    for (const id of [0, 5, 7]) {
      await assert.rejects(ms.index(uid).getDocument(id), (err: unknown) => {
        assert.ok(err instanceof MeilisearchApiError);
        assert.equal(err.cause?.code, 'document_not_found');
        return true;
      });
      await assert.rejects(ms.index(uid).getDocument(id, { fields: ['title'] }));
    }
    const shown = await ms.index(uid).getDocument(9, { fields: ['title'] });
    assert.deepEqual(shown, { title: 'offer 9' });
    assert.equal((await ms.index(uid).getStats()).numberOfDocuments, 22);
    const facets = await ms.index(uid).searchForFacetValues({ facetName: 'color', facetQuery: '' });
    assert.equal(
      facets.facetHits.reduce((n, h) => n + h.count, 0),
      22,
    );
  });

  test('a document is hidden the moment it expires', async () => {
    const soon = Date.now() + 1500;
    await ms
      .index(uid)
      .addDocuments([{ id: 200, title: 'flash sale', _miroir_expires_at: soon }])
      .waitTask();
    if (Date.now() < soon - 200) assert.equal((await ms.index(uid).getDocument(200)).title, 'flash sale');
    await until(async () => Date.now() > soon, 'the expiry', 5000);
    assert.equal((await ms.index(uid).search('flash')).hits.length, 0);
    await assert.rejects(ms.index(uid).getDocument(200));
  });

  test('one sweep deletes them from every node; anti-entropy never brings one back', async () => {
    const swept = await admin(c, 'POST', `/_miroir/indexes/${uid}/ttl-sweep`);
    assert.ok((swept.deleted as number) >= 9, JSON.stringify(swept));
    const at = Date.now();
    for (let i = 0; i < 3; i++) assert.equal(await expiredOnNode(c, i, uid, at), 0, `node-${i} swept`);
    // An expired copy restored on one node behind Miroir's back is deleted, not copied to the other owner.
    const table = c.app.topology.routing;
    const { shardForKey } = await import('../../../src/core/hash.js');
    const shard = shardForKey('3', table.shards);
    const [first] = table.owners(shard, 0);
    const i = Number(first!.replace('node-', ''));
    const put = await nodeCall(c, i, 'POST', `/indexes/${uid}/documents`, [
      { id: 3, title: 'offer 3', color: 'red', _miroir_expires_at: past, _miroir_shard: shard, _miroir_version: 999 },
    ]);
    await until(
      async () => (await nodeCall(c, i, 'GET', `/tasks/${put.json.taskUid as number}`)).json.status === 'succeeded',
      'the restore',
    );
    const pass = await admin(c, 'POST', '/_miroir/antientropy/run', { index: uid });
    assert.deepEqual(pass.by_kind, { expired: 1 }, JSON.stringify(pass));
    for (let n = 0; n < 3; n++) assert.equal(await expiredOnNode(c, n, uid, Date.now()), 0, `node-${n} after pass`);
    assert.equal((await admin(c, 'POST', '/_miroir/antientropy/run', { index: uid })).mismatches, 0);
  });

  test('the per-index policy bounds a sweep; the rest waits for the next one', async () => {
    const policy = await admin(c, 'POST', `/_miroir/indexes/${uid}/ttl-policy`, { max_deletes_per_sweep: 3 });
    assert.equal(policy.max_deletes_per_sweep, 3);
    assert.equal(policy.sweep_interval_s, 3600);
    assert.equal(policy.enabled, true);
    const docs = Array.from({ length: 8 }, (_, k) => ({ id: 300 + k, _miroir_expires_at: past - k * 10 }));
    await ms.index(uid).addDocuments(docs).waitTask();
    const first = await admin(c, 'POST', `/_miroir/indexes/${uid}/ttl-sweep`);
    assert.ok((first.deleted as number) <= 3, JSON.stringify(first));
    assert.ok((first.pending as number) >= 5, JSON.stringify(first));
    for (let k = 0; k < 5 && (await expiredOnNode(c, 0, uid, Date.now())) > 0; k++)
      await admin(c, 'POST', `/_miroir/indexes/${uid}/ttl-sweep`);
    for (let n = 0; n < 3; n++) assert.equal(await expiredOnNode(c, n, uid, Date.now()), 0);
    assert.equal((await admin(c, 'GET', `/_miroir/indexes/${uid}/ttl-policy`)).max_deletes_per_sweep, 3);
    const metrics = await fetch(`${c.app.url}/_miroir/metrics`, {
      headers: { authorization: `Bearer ${c.adminKey}` },
    }).then((r) => r.text());
    assert.match(metrics, /miroir_ttl_documents_expired_total\{index="ttl-offers"\} \d+/);
  });

  test('a shard move never copies an expired document to the new owner', async () => {
    const docs = Array.from({ length: 12 }, (_, k) => ({ id: 400 + k, title: 'hidden', _miroir_expires_at: past }));
    await ms.index(uid).addDocuments(docs).waitTask();
    const node = await DevNode.start({ port: 0, masterKey: c.nodeKey });
    try {
      const added = await adminCall(c.app.url, c.adminKey, 'POST', '/_miroir/nodes', {
        id: 'node-3',
        address: node.url,
        replica_group: 0,
      });
      assert.equal(added.status, 202, JSON.stringify(added.body));
      await waitRebalanced(c.app.url, c.adminKey);
      const all = await nodeDocs(node.url, c.nodeKey, uid);
      assert.ok(all.length > 0, 'the new owner received its shards');
      assert.ok(
        all.every((d) => typeof d._miroir_expires_at !== 'number' || d._miroir_expires_at > Date.now()),
        'no expired document on the new owner',
      );
      assert.equal((await ms.index(uid).search('hidden')).hits.length, 0);
    } finally {
      await adminCall(c.app.url, c.adminKey, 'DELETE', '/_miroir/nodes/node-3').catch(() => undefined);
      await waitRebalanced(c.app.url, c.adminKey).catch(() => undefined);
      await node.stop();
    }
  });
});

describe('scheduled TTL sweeps', () => {
  let c: TestCluster;
  before(async () => {
    c = await startCluster({
      nodes: 2,
      rf: 1,
      shards: 4,
      config: { ttl: { enabled: true, sweep_interval_s: 1, per_index_overrides: { kept: { enabled: false } } } },
    });
  });
  after(() => c.close());

  test('sweep every interval; a policy with enabled: false (config override or API) is left alone', async () => {
    const ms = new Meilisearch({ host: c.app.url, apiKey: c.masterKey });
    const past = Date.now() - 1000;
    const docs = Array.from({ length: 10 }, (_, i) => ({ id: i, _miroir_expires_at: i < 5 ? past : null }));
    for (const uid of ['swept', 'kept', 'paused'])
      assert.equal((await ms.index(uid).addDocuments(docs, { primaryKey: 'id' }).waitTask()).status, 'succeeded');
    await admin(c, 'POST', '/_miroir/indexes/paused/ttl-policy', { enabled: false });
    const onNodes = async (uid: string) => {
      let n = 0;
      for (let i = 0; i < 2; i++) n += await expiredOnNode(c, i, uid, Date.now());
      return n;
    };
    await until(async () => (await onNodes('swept')) === 0, 'scheduled sweeps of `swept`', 15_000);
    assert.equal(await onNodes('kept'), 5);
    assert.equal(await onNodes('paused'), 5);
    // Hidden all the same.
    for (const uid of ['swept', 'kept', 'paused'])
      assert.equal((await ms.index(uid).search('', { limit: 100 })).hits.length, 5);
    assert.equal((await admin(c, 'GET', '/_miroir/indexes/kept/ttl-policy')).enabled, false);
  });
});
