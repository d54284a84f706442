// Issue 33 where Miroir serves the route through the shared modules: tenant-token refusals, GET /tasks parameter
// validation and cancel/delete filters answer the same through Miroir over 3 nodes as on one dev node, driven by the
// official `meilisearch` client (and raw HTTP for exact error bodies).
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { Meilisearch, MeilisearchApiError } from 'meilisearch';
import { generateTenantToken } from 'meilisearch/token';
import { startCluster, type TestCluster } from '../../support/cluster.js';
import { startDevNode, type StartedNode } from '../../support/devnode.js';

let cluster: TestCluster;
let single: StartedNode;
let targets: Array<{ name: string; url: string; client: Meilisearch }>;

const PARENT_UID = '6f1d2c3b-4a5e-4f60-8a7b-9c0d1e2f3a33';
const NO_SEARCH_UID = '7a2e3d4c-5b6f-4071-9b8c-0d1e2f3a4b33';

before(async () => {
  cluster = await startCluster({ nodes: 3 });
  single = await startDevNode({ masterKey: cluster.masterKey });
  targets = [
    {
      name: 'miroir',
      url: cluster.app.url,
      client: new Meilisearch({ host: cluster.app.url, apiKey: cluster.masterKey }),
    },
    { name: 'devnode', url: single.url, client: new Meilisearch({ host: single.url, apiKey: cluster.masterKey }) },
  ];
  for (const t of targets) {
    await t.client.createIndex('movies', { primaryKey: 'id' }).waitTask();
    await t.client
      .index('movies')
      .addDocuments([
        { id: 1, genre: 'drama' },
        { id: 2, genre: 'action' },
      ])
      .waitTask();
    await t.client.index('movies').updateFilterableAttributes(['genre']).waitTask();
    await t.client.createKey({ uid: PARENT_UID, actions: ['search'], indexes: ['movies', 'books'], expiresAt: null });
    await t.client.createKey({ uid: NO_SEARCH_UID, actions: ['documents.get'], indexes: ['*'], expiresAt: null });
  }
});
after(async () => {
  await cluster.close();
  await single.stop();
});

async function refusal(p: Promise<unknown>): Promise<string> {
  try {
    await p;
  } catch (err) {
    assert.ok(err instanceof MeilisearchApiError, `expected an API error, got ${String(err)}`);
    const body = err.cause as { code: string; message: string; type: string };
    return `${err.response.status} ${body.code} ${body.type} ${body.message}`;
  }
  return 'accepted';
}

/** The same question to both; their answers must be equal. */
async function both<T>(ask: (t: (typeof targets)[number]) => Promise<T>): Promise<T> {
  const [viaMiroir, direct] = await Promise.all(targets.map(ask));
  assert.deepEqual(viaMiroir, direct);
  return direct!;
}

test('tenant tokens: the same refusal texts through Miroir and on one node', async () => {
  const parentKey = (await targets[1]!.client.getKey(PARENT_UID)).key;
  const noSearchKey = (await targets[1]!.client.getKey(NO_SEARCH_UID)).key;
  const token = (opts: Partial<Parameters<typeof generateTenantToken>[0]> = {}) =>
    generateTenantToken({ apiKey: parentKey, apiKeyUid: PARENT_UID, searchRules: ['movies'], ...opts });
  const search = (apiKey: string, index: string) => (t: (typeof targets)[number]) =>
    refusal(new Meilisearch({ host: t.url, apiKey }).index(index).search(''));
  const cases: Array<[string, string, string]> = [
    [
      await token({ apiKey: 'k'.repeat(64) }),
      'movies',
      '403 invalid_api_key auth Could not decode tenant token, InvalidSignature.',
    ],
    [
      await token({ apiKeyUid: '11111111-2222-4333-8444-555555555555' }),
      'movies',
      '403 invalid_api_key auth Could not decode tenant token, InvalidSignature.',
    ],
    [
      await token({ apiKey: noSearchKey, apiKeyUid: NO_SEARCH_UID }),
      'movies',
      '403 invalid_api_key auth The provided API key is invalid.',
    ],
    [
      await token(),
      'books',
      '403 invalid_api_key auth The provided tenant token cannot acces the index `books`, allowed indexes are ["movies"].',
    ],
    [
      await token({ searchRules: ['*'] }),
      'songs',
      '403 invalid_api_key auth The API key used to generate this tenant token cannot acces the index `songs`.',
    ],
    [
      parentKey,
      'songs',
      '403 invalid_api_key auth The API key cannot acces the index `songs`, authorized indexes are ["books", "movies"].',
    ],
    [
      'a.b.c',
      'movies',
      '403 invalid_api_key auth Could not decode tenant token, Base64 error: Invalid input length: 1.',
    ],
  ];
  for (const [apiKey, index, expected] of cases) assert.equal(await both(search(apiKey, index)), expected, expected);
  const expired = await both(async (t) =>
    (await search(await token({ expiresAt: 1_700_000_000 }), 'movies')(t)).replace(/now `\d+`/, 'now `N`'),
  );
  assert.equal(
    expired,
    "403 invalid_api_key auth Tenant token expired. Was valid up to `1700000000` and we're now `N`.",
  );
  const tenant = await token({ searchRules: { movies: { filter: 'genre = drama' } } });
  const filtered = await both(async (t) =>
    (await new Meilisearch({ host: t.url, apiKey: tenant }).index('movies').search('')).hits.map((h) => h.id),
  );
  assert.deepEqual(filtered, [1]);
});

test('GET /tasks, POST /tasks/cancel and DELETE /tasks parameters: the same errors through Miroir', async () => {
  const queries: Array<[string, string]> = [
    ['GET', '/tasks?uids=1,dogo'],
    ['GET', '/tasks?limit=doggo'],
    ['GET', '/tasks?from=-1'],
    ['GET', '/tasks?reverse=*'],
    ['GET', '/tasks?statuses=nope&types=nope'],
    ['GET', '/tasks?types=nope&statuses=nope'],
    ['GET', '/tasks?indexUids=the%20good%20doggo'],
    ['GET', '/tasks?afterFinishedAt=yesterday'],
    ['GET', '/tasks?statuss=failed'],
    ['GET', '/tasks?batchUids=x'],
    ['POST', '/tasks/cancel'],
    ['POST', '/tasks/cancel?limit=1'],
    ['POST', '/tasks/cancel?canceledBy=x'],
    ['DELETE', '/tasks'],
    ['DELETE', '/tasks?beforeStartedAt=2024-13-01'],
  ];
  for (const [method, path] of queries) {
    await both(async (t) => {
      const res = await fetch(`${t.url}${path}`, { method, headers: { authorization: `Bearer ${cluster.masterKey}` } });
      return { status: res.status, body: await res.json() };
    });
  }
});

test('`*` filters: getTasks accepts them and cancel/delete take them alone, through Miroir as on one node', async () => {
  const same = await both(async (t) => {
    const all = await t.client.tasks.getTasks();
    const starred = await t.client.tasks.getTasks({
      afterEnqueuedAt: '*',
      beforeFinishedAt: '*',
      statuses: ['*'],
      indexUids: ['*', 'movies'],
    });
    return starred.results.map((x) => x.uid).join() === all.results.map((x) => x.uid).join();
  });
  assert.equal(same, true);
  for (const field of [
    'afterEnqueuedAt',
    'beforeEnqueuedAt',
    'afterStartedAt',
    'beforeStartedAt',
    'afterFinishedAt',
    'beforeFinishedAt',
  ] as const) {
    await both(async (t) => {
      const c = await t.client.tasks.cancelTasks({ [field]: '*' }).waitTask();
      return [c.type, c.status, c.details?.canceledTasks, c.details?.originalFilter];
    });
  }
  await both(async (t) => {
    const d = await t.client.tasks.deleteTasks({ statuses: ['*'] }).waitTask();
    return [d.type, d.status, d.details?.originalFilter];
  });
  await both(async (t) => refusal(t.client.tasks.cancelTasks({})));
});

test("batches through Miroir: getBatches / getBatch answer Meilisearch's batch object, one task per batch, like one dev node", async () => {
  const shape = (b: Record<string, unknown>) => {
    const stats = b.stats as Record<string, unknown>;
    return {
      keys: Object.keys(b),
      details: b.details,
      stats: { totalNbTasks: stats.totalNbTasks, status: stats.status, types: stats.types, indexUids: stats.indexUids },
      batchStrategy: b.batchStrategy,
      progress: b.progress,
    };
  };
  const lists = await both(async (t) => {
    const task = await t.client
      .index('movies')
      .addDocuments([{ id: 3, genre: 'drama' }])
      .waitTask();
    assert.notEqual(task.batchUid, null, `${t.name}: a finished task names its batch`);
    const batch = (await t.client.batches.getBatch(task.batchUid!)) as unknown as Record<string, unknown>;
    assert.deepEqual((batch.stats as { types: Record<string, number> }).types, { documentAdditionOrUpdate: 1 });
    assert.equal(
      typeof (batch.stats as { progressTrace?: unknown }).progressTrace,
      'object',
      `${t.name}: progressTrace`,
    );
    const page = await t.client.batches.getBatches({ limit: 3, types: ['documentAdditionOrUpdate'] });
    return {
      batch: shape(batch),
      page: page.results.map((b) => shape(b as unknown as Record<string, unknown>)),
      total: page.total,
    };
  });
  assert.ok(lists.page.length > 0);
  const missing = await both((t) => refusal(t.client.batches.getBatch(999_999)));
  assert.match(missing, /^404 batch_not_found/);
});
