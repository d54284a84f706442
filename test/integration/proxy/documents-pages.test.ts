// Document lists through Miroir like one node (issue "A house…"): a sorted fetch (mixed case, numbers, missing values,
// two criteria) in one node's order; paging 5,000 documents by offset on both routes, with and without sort or
// filter, returns every document exactly once (sorted: in one node's order; unsorted: shard by shard); index stats
// with a distinct attribute count every document like one node.
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { Meilisearch } from 'meilisearch';
import { startCluster, type TestCluster } from '../../support/cluster.js';
import { startDevNode, type StartedNode } from '../../support/devnode.js';

const NAMES = ['apple', 'Banana', 'cherry', 'Date', 'éclair', '10', '9', 'zeta', 'Alpha'];
const docs = Array.from({ length: 5000 }, (_, i) => {
  const d: Record<string, unknown> = { id: i, group: `g${i % 7}`, rank: (i * 7919) % 1000 };
  if (i % 11 !== 0) d.name = i % 13 === 0 ? i % 5 : NAMES[i % NAMES.length];
  return d;
});

let cluster: TestCluster;
let single: StartedNode;
let miroir: Meilisearch;
let one: Meilisearch;

before(async () => {
  cluster = await startCluster({ nodes: 3, rf: 1, shards: 8 });
  single = await startDevNode({ masterKey: cluster.masterKey });
  miroir = new Meilisearch({ host: cluster.app.url, apiKey: cluster.masterKey });
  one = new Meilisearch({ host: single.url, apiKey: cluster.masterKey });
  for (const c of [miroir, one]) {
    await c.createIndex('docs', { primaryKey: 'id' }).waitTask();
    await c
      .index('docs')
      .updateSettings({ sortableAttributes: ['name', 'rank'], filterableAttributes: ['group'] })
      .waitTask();
    for (let i = 0; i < docs.length; i += 1000)
      await c
        .index('docs')
        .addDocuments(docs.slice(i, i + 1000))
        .waitTask({ timeout: 60_000 });
  }
});
after(async () => {
  await cluster.close();
  await single.stop();
});

type Page = { results: Array<Record<string, unknown>>; total: number };

/** Pages through `POST /documents/fetch` (what the client's getDocuments sends with a filter or sort). */
async function pageThrough(
  c: Meilisearch,
  params: Record<string, unknown>,
  size: number,
): Promise<{ ids: unknown[]; total: number }> {
  const ids: unknown[] = [];
  for (let offset = 0; ; offset += size) {
    const page = (await c
      .index('docs')
      .getDocuments({ ...params, offset, limit: size, fields: ['id'] } as never)) as unknown as Page;
    ids.push(...page.results.map((d) => d.id));
    if (page.results.length < size) return { ids, total: page.total };
  }
}

async function get(url: string, key: string, path: string): Promise<Page> {
  const res = await fetch(url + path, { headers: { authorization: `Bearer ${key}` } });
  assert.equal(res.status, 200, await res.clone().text());
  return (await res.json()) as Page;
}

test("a sorted fetch (mixed case, numbers, missing values, two criteria) comes in one node's order", async () => {
  for (const sort of [['name:asc', 'rank:desc'], ['name:desc', 'rank:asc'], ['rank:asc']]) {
    const body = { sort, limit: 300, offset: 120, fields: ['id', 'name', 'rank'] };
    const [a, b] = await Promise.all([miroir.index('docs').getDocuments(body), one.index('docs').getDocuments(body)]);
    assert.equal(a.total, b.total);
    assert.deepEqual(a.results, b.results, `sort ${sort.join(',')}`);
  }
});

test('paging 5,000 documents by offset returns each exactly once, on both routes, with and without sort or filter', async () => {
  const cases: Array<{ params: Record<string, unknown>; sorted: boolean }> = [
    { params: {}, sorted: false },
    { params: { filter: 'group = g3' }, sorted: false },
    { params: { sort: ['rank:asc', 'name:asc'] }, sorted: true },
    { params: { sort: ['name:desc', 'rank:desc'], filter: 'group != g1' }, sorted: true },
  ];
  for (const { params, sorted } of cases) {
    const [viaFetch, reference] = await Promise.all([pageThrough(miroir, params, 700), pageThrough(one, params, 700)]);
    assert.equal(viaFetch.total, reference.total, JSON.stringify(params));
    assert.equal(new Set(viaFetch.ids).size, viaFetch.ids.length, `no duplicates (${JSON.stringify(params)})`);
    assert.deepEqual(
      [...viaFetch.ids].sort(),
      [...reference.ids].sort(),
      `every document once (${JSON.stringify(params)})`,
    );
    if (sorted) assert.deepEqual(viaFetch.ids, reference.ids, `one node's order (${JSON.stringify(params)})`);
  }
  // GET /documents pages the same way (query-string parameters).
  const seen: unknown[] = [];
  for (let offset = 0; offset < 5000; offset += 1500) {
    const page = await get(
      cluster.app.url,
      cluster.masterKey,
      `/indexes/docs/documents?offset=${offset}&limit=1500&fields=id`,
    );
    assert.equal(page.total, 5000);
    seen.push(...page.results.map((d) => d.id));
  }
  assert.equal(new Set(seen).size, 5000, 'GET /documents: every document exactly once');
});

test('stats with a distinct attribute count every document, like one node', async () => {
  for (const c of [miroir, one]) await c.index('docs').updateDistinctAttribute('group').waitTask();
  const [a, b] = await Promise.all([miroir.index('docs').getStats(), one.index('docs').getStats()]);
  assert.equal(a.numberOfDocuments, 5000);
  assert.equal(a.numberOfDocuments, b.numberOfDocuments);
  assert.deepEqual(a.fieldDistribution, b.fieldDistribution);
  const all = await pageThrough(miroir, {}, 2500);
  assert.equal(new Set(all.ids).size, 5000, 'documents list with distinct set: every document once');
});
