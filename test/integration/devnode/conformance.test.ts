// The dev node as a Meilisearch v1.50 node, driven by the official `meilisearch` client over real HTTP: shapes,
// status and error codes, the task lifecycle, pagination, facets, keys and auth.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { Meilisearch, MeilisearchApiError } from 'meilisearch';
import { startDevNode, type StartedNode } from '../../support/devnode.js';

const MASTER = 'conformance-master-key-0001';
let node: StartedNode;
let client: Meilisearch;

before(async () => {
  node = await startDevNode({ masterKey: MASTER });
  client = new Meilisearch({ host: node.url, apiKey: MASTER });
  const movies = [
    { id: 1, title: 'Carol', genre: 'drama', year: 2015, rating: 7.2 },
    { id: 2, title: 'Wonder Woman', genre: 'action', year: 2017, rating: 7.4 },
    { id: 3, title: 'Life of Pi', genre: 'drama', year: 2012, rating: 7.9 },
    { id: 4, title: 'Mad Max: Fury Road', genre: 'action', year: 2015, rating: 8.1 },
    { id: 5, title: 'Moana', genre: 'animation', year: 2016, rating: 7.6 },
  ];
  await client.index('movies').addDocuments(movies).waitTask();
  await client
    .index('movies')
    .updateSettings({ filterableAttributes: ['genre', 'year', 'rating'], sortableAttributes: ['year'] })
    .waitTask();
});
after(() => node.stop());

async function apiError(p: Promise<unknown>): Promise<{ status: number; code: string; type: string; keys: string[] }> {
  try {
    await p;
  } catch (err) {
    assert.ok(err instanceof MeilisearchApiError, `expected an API error, got ${String(err)}`);
    const body = err.cause as { code: string; type: string };
    return { status: err.response.status, code: body.code, type: body.type, keys: Object.keys(err.cause as object) };
  }
  assert.fail('request succeeded');
}

describe('tasks', () => {
  test('a write answers the 5-key summarized task and waitForTask sees it succeed with details', async () => {
    const enqueued = await client.index('books').addDocuments([{ bookId: 'a1', title: 'Dune' }]);
    assert.deepEqual(Object.keys(enqueued).sort(), ['enqueuedAt', 'indexUid', 'status', 'taskUid', 'type']);
    assert.equal(enqueued.status, 'enqueued');
    const task = await client.tasks.waitForTask(enqueued.taskUid);
    assert.equal(task.status, 'succeeded');
    assert.equal(task.type, 'documentAdditionOrUpdate');
    assert.deepEqual(task.details, { receivedDocuments: 1, indexedDocuments: 1 });
    assert.match(String(task.duration), /^PT\d+\.\d+S$/);
    assert.equal((await client.index('books').getRawInfo()).primaryKey, 'bookId', 'primary key inferred');
  });

  test('content problems fail the task, not the request: missing id, invalid id, pk inference', async () => {
    const missing = await client
      .index('movies')
      .addDocuments([{ title: 'no id' }])
      .waitTask();
    assert.equal(missing.status, 'failed');
    assert.equal(missing.error?.code, 'missing_document_id');
    const invalid = await client
      .index('movies')
      .addDocuments([{ id: 'bad id!', title: 'x' }])
      .waitTask();
    assert.equal(invalid.error?.code, 'invalid_document_id');
    const noPk = await client
      .index('nopk')
      .addDocuments([{ title: 'x' }])
      .waitTask();
    assert.equal(noPk.error?.code, 'index_primary_key_no_candidate_found');
    const dup = await client.createIndex('movies').waitTask();
    assert.equal(dup.error?.code, 'index_already_exists');
    assert.equal(
      (await client.index('movies').getStats()).numberOfDocuments,
      5,
      'nothing written by the failed batches',
    );
  });

  test('task listing filters and paging with from/next', async () => {
    const all = await client.tasks.getTasks({ limit: 2 });
    assert.equal(all.results.length, 2);
    assert.ok(all.results[0]!.uid > all.results[1]!.uid, 'newest first');
    assert.equal(all.next, all.results[1]!.uid - 1);
    const failed = await client.tasks.getTasks({ statuses: ['failed'], indexUids: ['movies'] });
    assert.ok(
      failed.results.length >= 2 && failed.results.every((t) => t.status === 'failed' && t.indexUid === 'movies'),
    );
    const err = await apiError(client.tasks.deleteTasks({}));
    assert.equal(err.code, 'missing_task_filters');
    assert.equal((await apiError(client.tasks.getTask(99999))).code, 'task_not_found');
  });
});

describe('search', () => {
  test('offset/limit and page/hitsPerPage modes with the exact hits-info keys', async () => {
    const a = await client.index('movies').search('', { limit: 2, offset: 1 });
    assert.equal(a.hits.length, 2);
    assert.equal(a.estimatedTotalHits, 5);
    assert.equal(a.limit, 2);
    assert.equal(a.offset, 1);
    assert.equal('totalHits' in a, false);
    const b = await client.index('movies').search('', { hitsPerPage: 2, page: 3 });
    assert.equal(b.hits.length, 1);
    assert.equal(b.totalHits, 5);
    assert.equal(b.totalPages, 3);
    assert.equal('estimatedTotalHits' in b, false);
    assert.match(String((b as unknown as { requestUid: string }).requestUid), /^[0-9a-f-]{36}$/);
  });

  test('facets with facetStats, filters, sort', async () => {
    const r = await client.index('movies').search('', { facets: ['genre', 'rating'], filter: 'year >= 2015' });
    assert.deepEqual(r.facetDistribution?.genre, { action: 2, animation: 1, drama: 1 });
    assert.deepEqual(r.facetStats, { rating: { min: 7.2, max: 8.1 } });
    const sorted = await client.index('movies').search('', { sort: ['year:desc'], filter: ['genre = drama'] });
    assert.deepEqual(
      sorted.hits.map((h) => h.id),
      [1, 3],
    );
    const text = await client.index('movies').search('mad max', { showRankingScore: true });
    assert.equal(text.hits[0]!.id, 4);
    assert.ok((text.hits[0]!._rankingScore ?? 0) > 0.5);
  });

  test('errors: bad filter, unknown index, non-sortable sort, unknown parameter', async () => {
    const badFilter = await apiError(client.index('movies').search('', { filter: 'genre = ' }));
    assert.deepEqual(
      [badFilter.status, badFilter.code, badFilter.type],
      [400, 'invalid_search_filter', 'invalid_request'],
    );
    assert.deepEqual(badFilter.keys, ['message', 'code', 'type', 'link']);
    const notFilterable = await apiError(client.index('movies').search('', { filter: 'title = Carol' }));
    assert.equal(notFilterable.code, 'invalid_search_filter');
    const unknown = await apiError(client.index('nothere').search('x'));
    assert.deepEqual([unknown.status, unknown.code], [404, 'index_not_found']);
    const sort = await apiError(client.index('movies').search('', { sort: ['title:asc'] }));
    assert.deepEqual([sort.status, sort.code], [400, 'invalid_search_sort']);
    const res = await fetch(`${node.url}/indexes/movies/search`, {
      method: 'POST',
      headers: { authorization: `Bearer ${MASTER}`, 'content-type': 'application/json' },
      body: '{"qq":"x"}',
    });
    assert.equal(res.status, 400);
    assert.equal(((await res.json()) as { code: string }).code, 'bad_request');
  });

  test('multi-search: non-federated keeps order; one failing query fails with its prefixed error', async () => {
    const r = await client.multiSearch({
      queries: [
        { indexUid: 'movies', q: 'carol' },
        { indexUid: 'books', q: 'dune' },
      ],
    });
    assert.deepEqual(
      r.results.map((x) => x.indexUid),
      ['movies', 'books'],
    );
    assert.equal(r.results[1]!.hits.length, 1);
    const res = await fetch(`${node.url}/multi-search`, {
      method: 'POST',
      headers: { authorization: `Bearer ${MASTER}`, 'content-type': 'application/json' },
      body: JSON.stringify({ queries: [{ indexUid: 'movies' }, { indexUid: 'missing' }] }),
    });
    // Meilisearch answers a query's missing index with 400 (search/multi/mod.rs::search_one_index_doesnt_exist).
    assert.equal(res.status, 400);
    const body = (await res.json()) as { message: string; code: string };
    assert.equal(body.code, 'index_not_found');
    assert.match(body.message, /^Inside `\.queries\[1\]`: /);
  });
});

describe('settings', () => {
  test('all 20 defaults on a fresh index; invalid values and unknown fields are refused', async () => {
    await client.createIndex('fresh').waitTask();
    const s = await client.index('fresh').getSettings();
    assert.equal(Object.keys(s).length, 20);
    assert.deepEqual(s.rankingRules, [
      'words',
      'typo',
      'proximity',
      'attributeRank',
      'sort',
      'wordPosition',
      'exactness',
    ]);
    assert.deepEqual(s.pagination, { maxTotalHits: 1000 });
    const bad = await apiError(client.index('fresh').updateSettings({ rankingRules: ['nope'] }));
    assert.deepEqual([bad.status, bad.code], [400, 'invalid_settings_ranking_rules']);
    const unknown = await apiError(client.index('fresh').updateSettings({ colour: 'red' } as never));
    assert.equal(unknown.code, 'bad_request');
    await client
      .index('fresh')
      .updateSynonyms({ wolverine: ['logan'] })
      .waitTask();
    assert.deepEqual(await client.index('fresh').getSynonyms(), { wolverine: ['logan'] });
  });
});

describe('keys and auth', () => {
  test('default keys exist with derived values; restricted keys are enforced', async () => {
    const keys = await client.getKeys();
    assert.deepEqual(keys.results.map((k) => k.name).sort(), [
      'Default Admin API Key',
      'Default Chat API Key',
      'Default Read-Only Admin API Key',
      'Default Search API Key',
    ]);
    const key = await client.createKey({ actions: ['indexes.get'], indexes: ['*'], expiresAt: null });
    const limited = new Meilisearch({ host: node.url, apiKey: key.key });
    assert.ok((await limited.getIndexes()).results.length > 0);
    const denied = await apiError(limited.createIndex('x'));
    assert.deepEqual([denied.status, denied.code, denied.type], [403, 'invalid_api_key', 'auth']);
    const moviesOnly = await client.createKey({ actions: ['search'], indexes: ['movies'], expiresAt: null });
    const searcher = new Meilisearch({ host: node.url, apiKey: moviesOnly.key });
    assert.ok((await searcher.index('movies').search('carol')).hits.length === 1);
    assert.equal((await apiError(searcher.index('books').search('dune'))).code, 'invalid_api_key');
  });

  test('missing header → 401 missing_authorization_header; bad key → 403 invalid_api_key; /health is public', async () => {
    const anon = new Meilisearch({ host: node.url });
    const missing = await apiError(anon.getIndexes());
    assert.deepEqual([missing.status, missing.code, missing.type], [401, 'missing_authorization_header', 'auth']);
    const bad = await apiError(new Meilisearch({ host: node.url, apiKey: 'wrong' }).getIndexes());
    assert.deepEqual([bad.status, bad.code], [403, 'invalid_api_key']);
    assert.deepEqual(await anon.health(), { status: 'available' });
  });

  test('tenant tokens restrict searches with their searchRules filter', async () => {
    const searchKey = (await client.getKeys()).results.find((k) => k.name === 'Default Search API Key')!;
    const { generateTenantToken } = await import('meilisearch/token');
    const token = await generateTenantToken({
      apiKey: searchKey.key,
      apiKeyUid: searchKey.uid,
      searchRules: { movies: { filter: 'genre = action' } },
    });
    const tenant = new Meilisearch({ host: node.url, apiKey: token });
    const r = await tenant.index('movies').search('');
    assert.deepEqual(
      r.hits.map((h) => h.genre),
      ['action', 'action'],
    );
    assert.equal((await apiError(tenant.getIndexes())).code, 'invalid_api_key');
  });
});

describe('bad input never crashes or hangs', () => {
  const post = (path: string, body: string, type?: string) =>
    fetch(`${node.url}${path}`, {
      method: 'POST',
      headers: { authorization: `Bearer ${MASTER}`, ...(type ? { 'content-type': type } : {}) },
      body: new TextEncoder().encode(body),
    });

  test('malformed JSON, NDJSON and CSV; wrong and missing content types', async () => {
    const cases: Array<[string, string, string | undefined, number, string]> = [
      ['/indexes/movies/documents', '[{"id":1,', 'application/json', 400, 'malformed_payload'],
      ['/indexes/movies/documents', '{"id":1}\n{"id":', 'application/x-ndjson', 400, 'malformed_payload'],
      ['/indexes/movies/documents', 'id,title\n1,"unterminated', 'text/csv', 400, 'malformed_payload'],
      ['/indexes/movies/documents', '<xml/>', 'application/xml', 415, 'invalid_content_type'],
      ['/indexes/movies/documents', '[]', undefined, 415, 'missing_content_type'],
      ['/indexes', '{"uid":', 'application/json', 400, 'malformed_payload'],
      ['/indexes', '{"uid":"bad uid"}', 'application/json', 400, 'invalid_index_uid'],
    ];
    for (const [path, body, type, status, code] of cases) {
      const res = await post(path, body, type);
      const json = (await res.json()) as { code: string };
      assert.deepEqual([res.status, json.code], [status, code], `${path} ${type} ${body}`);
    }
  });

  test('NDJSON and typed CSV are accepted', async () => {
    const nd = await post('/indexes/formats/documents', '{"id":1,"n":"a"}\n{"id":2,"n":"b"}\n', 'application/x-ndjson');
    assert.equal(nd.status, 202);
    const csv = await post(
      '/indexes/formats/documents?csvDelimiter=;',
      'id;price:number;ok:boolean\n3;9.5;true\n',
      'text/csv',
    );
    assert.equal(csv.status, 202);
    const { taskUid } = (await csv.json()) as { taskUid: number };
    await client.tasks.waitForTask(taskUid);
    assert.deepEqual(
      await client.index('formats').getDocument('3'),
      { id: '3', price: 9.5, ok: true },
      'untyped CSV columns are strings',
    );
    assert.equal((await client.index('formats').getStats()).numberOfDocuments, 3);
  });
});
