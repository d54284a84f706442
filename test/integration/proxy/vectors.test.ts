// Vector and hybrid search over shards (issue 29, SPEC A12): 5,000 documents with 16-dimension vectors behind Miroir
// over 3 nodes per group at RG∈{1,2}×RF∈{1,2} answer vector, hybrid (semanticRatio 0, 0.5, 1), filtered, paged and
// federated searches like one dev node holding every document (hits of equal score may come in another order).
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { Meilisearch } from 'meilisearch';
import { DevNode } from '../../../src/devnode/node.js';
import { startCluster, type TestCluster } from '../../support/cluster.js';

const DIMS = 16;
const COUNT = 5000;
const WORDS = Array.from({ length: 50 }, (_, i) => `w${i}`);

/** Deterministic pseudo-random numbers (mulberry32). */
function rng(seed: number): () => number {
  let a = seed;
  return () => {
    a = (a + 0x6d2b79f5) | 0;
    let t = Math.imul(a ^ (a >>> 15), 1 | a);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

function documents(): Array<Record<string, unknown>> {
  const r = rng(29);
  return Array.from({ length: COUNT }, (_, id) => ({
    id,
    title: [0, 1, 2].map(() => WORDS[Math.floor(r() * WORDS.length)]).join(' '),
    cat: Math.floor(r() * 5),
    _vectors: { emb: Array.from({ length: DIMS }, () => Math.round((r() * 2 - 1) * 1000) / 1000) },
  }));
}

const SETTINGS = {
  searchableAttributes: ['title'],
  filterableAttributes: ['cat'],
  embedders: { emb: { source: 'userProvided', dimensions: DIMS } },
};

function vector(seed: number): number[] {
  const r = rng(seed);
  return Array.from({ length: DIMS }, () => Math.round((r() * 2 - 1) * 1000) / 1000);
}

/** The searches compared: vector only, hybrid at three ratios, filtered, paged, with details and vectors. */
function searches(): Array<Record<string, unknown>> {
  const out: Array<Record<string, unknown>> = [];
  for (const [i, ratio] of [0, 0.5, 1].entries()) {
    const base = { vector: vector(100 + i), hybrid: { embedder: 'emb', semanticRatio: ratio }, showRankingScore: true };
    out.push({ ...base });
    out.push({ ...base, q: 'w3 w7' });
    out.push({ ...base, q: 'w11', filter: 'cat = 2' });
    out.push({ ...base, q: 'w3 w7', offset: 40, limit: 20 });
    out.push({ ...base, q: 'w20 w21', page: 3, hitsPerPage: 15 });
    out.push({ ...base, filter: 'cat IN [1, 4]', offset: 15, limit: 30 });
  }
  out.push({ vector: vector(7), hybrid: { embedder: 'emb' }, q: 'w5', showRankingScoreDetails: true });
  out.push({ vector: vector(8), hybrid: { embedder: 'emb', semanticRatio: 0.3 }, q: 'w9 w1', retrieveVectors: true });
  return out;
}

interface Compared {
  ids: unknown[];
  scores: number[];
  rest: Record<string, unknown>;
}

/** Hits as (id, score) and the answer's other members (minus timing and uid). */
function shape(answer: Record<string, unknown>): Compared {
  const hits = answer.hits as Array<Record<string, unknown>>;
  const { hits: _h, processingTimeMs: _p, requestUid: _r, ...rest } = answer;
  return {
    ids: hits.map((h) => h.id),
    scores: hits.map((h) => h._rankingScore as number),
    rest: { ...rest, hitsWithoutIds: hits.map((h) => ({ ...h, id: undefined, _rankingScore: undefined })).length },
  };
}

/** Equal answers, hits of equal score in any order (a tie cut by the page may show different members). */
function assertSameAnswer(
  got: Record<string, unknown>,
  want: Record<string, unknown>,
  what: string,
  ignore: readonly string[] = [],
): void {
  const g = shape(got);
  const w = shape(want);
  for (const k of ignore) {
    delete g.rest[k];
    delete w.rest[k];
  }
  assert.deepEqual(g.rest, w.rest, `${what}: members`);
  assert.deepEqual(g.scores, w.scores, `${what}: scores in order`);
  const groups = new Map<number, { got: unknown[]; want: unknown[]; edge: boolean }>();
  w.scores.forEach((s, i) => {
    const e = groups.get(s) ?? { got: [], want: [], edge: false };
    e.want.push(w.ids[i]);
    e.got.push(g.ids[i]);
    if (i === 0 || i === w.scores.length - 1) e.edge = true;
    groups.set(s, e);
  });
  for (const [s, e] of groups)
    if (!e.edge || e.want.length === 1)
      assert.deepEqual([...e.got].sort(), [...e.want].sort(), `${what}: the hits scoring ${s}`);
  const wantHits = want.hits as Array<Record<string, unknown>>;
  const gotHits = got.hits as Array<Record<string, unknown>>;
  const byId = new Map(gotHits.map((h) => [h.id, h]));
  for (const h of wantHits) {
    const mine = byId.get(h.id);
    if (mine !== undefined) assert.deepEqual(mine, h, `${what}: hit ${String(h.id)}`);
  }
}

describe('vector and hybrid search over shards equal one dev node', () => {
  const layouts = [
    { rg: 1, rf: 1 },
    { rg: 1, rf: 2 },
    { rg: 2, rf: 1 },
    { rg: 2, rf: 2 },
  ];
  const clusters: TestCluster[] = [];
  let reference: DevNode;
  const call = async (
    base: string,
    key: string | null,
    path: string,
    body: unknown,
  ): Promise<Record<string, unknown>> => {
    const res = await fetch(`${base}${path}`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', ...(key === null ? {} : { authorization: `Bearer ${key}` }) },
      body: JSON.stringify(body),
    });
    const json = (await res.json()) as Record<string, unknown>;
    assert.equal(res.status, 200, `${path}: ${JSON.stringify(json)}`);
    return json;
  };

  before(async () => {
    const docs = documents();
    reference = await DevNode.start({ port: 0 });
    const ref = new Meilisearch({ host: reference.url });
    await ref.createIndex('vecs', { primaryKey: 'id' }).waitTask();
    await ref
      .index('vecs')
      .updateSettings(SETTINGS as never)
      .waitTask();
    const added = await ref.index('vecs').addDocuments(docs).waitTask({ timeout: 120_000 });
    assert.equal(added.status, 'succeeded', JSON.stringify(added.error));
    for (const l of layouts) clusters.push(await startCluster({ nodes: 3, replicaGroups: l.rg, rf: l.rf, shards: 16 }));
    await Promise.all(
      clusters.map(async (c) => {
        const ms = new Meilisearch({ host: c.app.url, apiKey: c.masterKey });
        await ms.createIndex('vecs', { primaryKey: 'id' }).waitTask();
        await ms
          .index('vecs')
          .updateSettings(SETTINGS as never)
          .waitTask();
        const enqueued = await Promise.all(await ms.index('vecs').addDocumentsInBatches(docs, 1000));
        for (const task of await ms.tasks.waitForTasks(
          enqueued.map((x) => x.taskUid),
          { timeout: 120_000 },
        ))
          assert.equal(task.status, 'succeeded', JSON.stringify(task.error));
      }),
    );
  });
  after(async () => {
    for (const c of clusters) await c.close();
    await reference?.stop();
  });

  test('stats count every embedding once; settings show the embedder; no reserved field is vectorized', async () => {
    for (const c of clusters) {
      const ms = new Meilisearch({ host: c.app.url, apiKey: c.masterKey });
      const stats = (await ms.index('vecs').getStats()) as unknown as Record<string, unknown>;
      assert.equal(stats.numberOfEmbeddings, COUNT);
      assert.equal(stats.numberOfEmbeddedDocuments, COUNT);
      assert.deepEqual((await ms.index('vecs').getSettings()).embedders, SETTINGS.embedders);
      const doc = await ms.index('vecs').getDocument(1, { retrieveVectors: true } as never);
      assert.deepEqual(Object.keys(doc._vectors as object), ['emb']);
      assert.equal(
        Object.keys(doc).some((k) => k.startsWith('_miroir')),
        false,
      );
    }
  });

  test('vector and hybrid searches (semanticRatio 0, 0.5, 1; filtered; paged) answer like one node', async () => {
    const qs = searches();
    for (const [i, q] of qs.entries()) {
      const want = await call(reference.url, null, '/indexes/vecs/search', q);
      for (const [j, c] of clusters.entries()) {
        const got = await call(c.app.url, c.masterKey, '/indexes/vecs/search', q);
        assertSameAnswer(got, want, `search ${i} (${JSON.stringify(q).slice(0, 80)}) at layout ${j}`);
      }
    }
  });

  test('X-Miroir-Over-Fetch asks nodes for more and answers the same; a bad value is a 400', async () => {
    const c = clusters[3]!;
    const q = {
      q: 'w3 w7',
      vector: vector(5),
      hybrid: { embedder: 'emb', semanticRatio: 0.5 },
      showRankingScore: true,
    };
    const want = await call(reference.url, null, '/indexes/vecs/search', q);
    const before = (await c.app.metrics.vectorOverFetched.get()).values[0]?.value ?? 0;
    const res = await fetch(`${c.app.url}/indexes/vecs/search`, {
      method: 'POST',
      headers: {
        'content-type': 'application/json',
        authorization: `Bearer ${c.masterKey}`,
        'x-miroir-over-fetch': '3',
      },
      body: JSON.stringify(q),
    });
    assert.equal(res.status, 200);
    assertSameAnswer((await res.json()) as Record<string, unknown>, want, 'over-fetched');
    assert.equal((await c.app.metrics.vectorOverFetched.get()).values[0]?.value, before + 1);
    const bad = await fetch(`${c.app.url}/indexes/vecs/search`, {
      method: 'POST',
      headers: {
        'content-type': 'application/json',
        authorization: `Bearer ${c.masterKey}`,
        'x-miroir-over-fetch': '0',
      },
      body: JSON.stringify(q),
    });
    assert.equal(bad.status, 400);
  });

  test('federated and plain multi-search with vector queries answer like one node', async () => {
    const body = {
      federation: { limit: 25 },
      queries: [
        { indexUid: 'vecs', vector: vector(1), hybrid: { embedder: 'emb', semanticRatio: 1 }, showRankingScore: true },
        { indexUid: 'vecs', q: 'w4 w8', vector: vector(2), hybrid: { embedder: 'emb' }, showRankingScore: true },
        { indexUid: 'vecs', q: 'w13', filter: 'cat = 0', showRankingScore: true },
      ],
    };
    const want = await call(reference.url, null, '/multi-search', body);
    const plain = { queries: body.queries };
    const wantPlain = await call(reference.url, null, '/multi-search', plain);
    for (const [j, c] of clusters.entries()) {
      const got = await call(c.app.url, c.masterKey, '/multi-search', body);
      // A federated estimate counts each document once among the hits the parts returned: the dev node's parts
      // return up to 1,000 hits, Miroir's the federation's window, so only the estimate may differ.
      assertSameAnswer(got, want, `federated at layout ${j}`, ['estimatedTotalHits']);
      const gotPlain = await call(c.app.url, c.masterKey, '/multi-search', plain);
      (wantPlain.results as Array<Record<string, unknown>>).forEach((w, i) =>
        assertSameAnswer((gotPlain.results as Array<Record<string, unknown>>)[i]!, w, `query ${i} at layout ${j}`),
      );
    }
  });

  test('an embedder source the dev node cannot run is refused at once, naming userProvided', async () => {
    const c = clusters[0]!;
    const res = await fetch(`${c.app.url}/indexes/vecs/settings`, {
      method: 'PATCH',
      headers: { 'content-type': 'application/json', authorization: `Bearer ${c.masterKey}` },
      body: JSON.stringify({ embedders: { other: { source: 'openAi', model: 'x' } } }),
    });
    const body = (await res.json()) as Record<string, unknown>;
    assert.equal(res.status, 400);
    assert.equal(body.code, 'invalid_settings_embedders');
    assert.match(body.message as string, /userProvided/);
  });
});
