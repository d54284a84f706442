// The dev node's vectors (issue 29) beyond the conformance fixtures: Meilisearch's answers from
// crates/meilisearch/tests/search/hybrid.rs and vector/mod.rs — hybrid ranking and semanticHitCount, search-time
// errors, a batch that gives no vectors, the GET parameters, clearing documents, and opting out with null.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { DevNode } from '../../../src/devnode/node.js';

describe('dev node: vector and hybrid search', () => {
  let node: DevNode;
  const call = async (method: string, path: string, body?: unknown) => {
    const res = await fetch(`${node.url}${path}`, {
      method,
      headers: { 'content-type': 'application/json' },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    return { status: res.status, body: (await res.json()) as Record<string, unknown> };
  };
  const waitTask = async (uid: number) => {
    for (;;) {
      const t = (await call('GET', `/tasks/${uid}`)).body;
      if (t.status === 'succeeded' || t.status === 'failed') return t;
      await new Promise((r) => setTimeout(r, 5));
    }
  };
  const task = async (method: string, path: string, body: unknown) =>
    waitTask((await call(method, path, body)).body.taskUid as number);

  before(async () => {
    node = await DevNode.start({ port: 0 });
    await task('PATCH', '/indexes/movies/settings', {
      embedders: { default: { source: 'userProvided', dimensions: 2 } },
    });
    const added = await task('POST', '/indexes/movies/documents', [
      { title: 'Shazam!', desc: 'a Captain Marvel ersatz', id: '1', _vectors: { default: [1.0, 3.0] } },
      {
        title: 'Captain Planet',
        desc: "He's not part of the Marvel Cinematic Universe",
        id: '2',
        _vectors: { default: [1.0, 2.0] },
      },
      { title: 'Captain Marvel', desc: 'a Shazam ersatz', id: '3', _vectors: { default: [2.0, 3.0] } },
    ]);
    assert.equal(added.status, 'succeeded', JSON.stringify(added.error));
  });
  after(() => node.stop());

  test("hybrid ranking, scores and semanticHitCount as Meilisearch's simple_search", async () => {
    const base = { q: 'Captain', vector: [1.0, 1.0], showRankingScore: true };
    const r02 = (
      await call('POST', '/indexes/movies/search', { ...base, hybrid: { semanticRatio: 0.2, embedder: 'default' } })
    ).body;
    assert.deepEqual(
      (r02.hits as Array<{ id: string }>).map((h) => h.id),
      ['2', '3', '1'],
    );
    assert.equal(r02.semanticHitCount, 0);
    const r05 = (
      await call('POST', '/indexes/movies/search', { ...base, hybrid: { semanticRatio: 0.5, embedder: 'default' } })
    ).body;
    const hits = r05.hits as Array<{ id: string; _rankingScore: number }>;
    assert.deepEqual(
      hits.map((h) => h.id),
      ['3', '2', '1'],
    );
    for (const [h, want] of hits.map(
      (h, i) => [h, [0.990290343761444, 0.9848484848484848, 0.9472135901451112][i]!] as const,
    ))
      assert.ok(Math.abs(h._rankingScore - want) < 1e-12, `${h.id}: ${h._rankingScore}`);
    assert.equal(r05.semanticHitCount, 2);
    const r08 = (
      await call('POST', '/indexes/movies/search', { ...base, hybrid: { semanticRatio: 0.8, embedder: 'default' } })
    ).body;
    assert.equal(r08.semanticHitCount, 3);
  });

  test('search-time errors: unknown embedder, wrong dimensions, vector without hybrid, bad ratio', async () => {
    const e1 = await call('POST', '/indexes/movies/search', { vector: [1, 1], hybrid: { embedder: 'nope' } });
    assert.deepEqual(
      [e1.status, e1.body.code, e1.body.message],
      [400, 'invalid_search_embedder', 'Cannot find embedder with name `nope`.'],
    );
    const e2 = await call('POST', '/indexes/movies/search', { vector: [1, 1, 1], hybrid: { embedder: 'default' } });
    assert.deepEqual(
      [e2.body.code, e2.body.message],
      ['invalid_vector_dimensions', 'Invalid vector dimensions: expected: `2`, found: `3`.'],
    );
    const e3 = await call('POST', '/indexes/movies/search', { vector: [1, 1] });
    assert.deepEqual(
      [e3.body.code, e3.body.message],
      ['missing_search_hybrid', 'Invalid request: missing `hybrid` parameter when `vector` or `media` are present.'],
    );
    const e4 = await call('POST', '/indexes/movies/search', { hybrid: { embedder: 'default', semanticRatio: 1.2 } });
    assert.deepEqual(
      [e4.body.code, e4.body.message],
      [
        'invalid_search_semantic_ratio',
        'Invalid value at `.hybrid.semanticRatio`: the value of `semanticRatio` is invalid, expected a float between `0.0` and `1.0`.',
      ],
    );
    const e5 = await call('GET', '/indexes/movies/search?hybridEmbedder=default&hybridSemanticRatio=2');
    assert.equal(e5.body.code, 'invalid_search_semantic_ratio');
  });

  test('GET parameters: vector, hybridEmbedder, hybridSemanticRatio, retrieveVectors', async () => {
    const r = await call(
      'GET',
      '/indexes/movies/search?vector=1,1&hybridEmbedder=default&hybridSemanticRatio=1&retrieveVectors=true',
    );
    assert.equal(r.status, 200, JSON.stringify(r.body));
    assert.deepEqual(r.body.queryVector, [1, 1]);
    assert.deepEqual(
      (r.body.hits as Array<{ id: string }>).map((h) => h.id),
      ['3', '2', '1'],
    );
    assert.deepEqual((r.body.hits as Array<{ _vectors: unknown }>)[0]!._vectors, {
      default: { embeddings: [[2, 3]], regenerate: false },
    });
  });

  test('a batch without vectors fails with vector_embedding_error; null opts out; stats count embeddings', async () => {
    const failed = await task('POST', '/indexes/movies/documents', [{ id: '40', title: 'kefir' }, { id: '41' }]);
    assert.equal(failed.status, 'failed');
    assert.equal((failed.error as { code: string }).code, 'vector_embedding_error');
    assert.match(
      (failed.error as { message: string }).message,
      /no vectors provided for document `40` and at least 1 other/,
    );
    const ok = await task('POST', '/indexes/movies/documents', [
      { id: '42', title: 'opt out', _vectors: { default: null } },
    ]);
    assert.equal(ok.status, 'succeeded');
    const stats = (await call('GET', '/indexes/movies/stats')).body;
    assert.deepEqual([stats.numberOfEmbeddings, stats.numberOfEmbeddedDocuments, stats.numberOfDocuments], [3, 3, 4]);
    // A semantic search ranks the document without an embedding last, scored 0.
    const r = (
      await call('POST', '/indexes/movies/search', {
        vector: [1, 1],
        hybrid: { embedder: 'default', semanticRatio: 1 },
        showRankingScore: true,
      })
    ).body;
    const last = (r.hits as Array<{ id: string; _rankingScore: number }>).at(-1)!;
    assert.deepEqual([last.id, last._rankingScore, r.estimatedTotalHits], ['42', 0, 4]);
  });
});
