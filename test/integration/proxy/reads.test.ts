// Read-path equivalence for RG ∈ {1,2} × RF ∈ {1,2}: 50 search queries, documents reads, facet search and
// multi-search (plain and federated) through Miroir answer like one dev node holding every document.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { Meilisearch } from 'meilisearch';
import { startCluster, type TestCluster } from '../../support/cluster.js';
import { startDevNode, type StartedNode } from '../../support/devnode.js';

const TOPICS = ['quick fox', 'lazy dog', 'brown bear', 'quiet river', 'bright star', 'silver moon', 'green field'];
const BRANDS = ['acme', 'globex', 'initech', 'umbrella'];
const docs = Array.from({ length: 2000 }, (_, i) => ({
  sku: `sku-${i}`,
  title: `${TOPICS[i % 7]} ${TOPICS[(i * 3) % 7]!.split(' ')[1]} model ${i % 50}`,
  brand: BRANDS[i % 4],
  color: ['red', 'green', 'blue'][i % 3],
  price: (i * 37) % 301,
  stock: i % 11,
}));
const settings = {
  filterableAttributes: ['brand', 'color', 'price', 'stock'],
  sortableAttributes: ['price', 'stock'],
  searchableAttributes: ['title', 'brand'],
};

const texts = ['quick', 'quikc', 'fox', 'bro', 'lazy dog', 'silver moon', 'model', 'acme', 'bright', ''];
const paramSets: Array<Record<string, unknown>> = [
  {},
  { filter: 'color = red AND price < 150', facets: ['brand', 'stock'] },
  { sort: ['price:asc'], limit: 7, offset: 3 },
  { hitsPerPage: 9, page: 2, facets: ['color'] },
  { distinct: 'brand', sort: ['stock:desc'] },
];
const battery = texts.flatMap((q) => paramSets.map((p) => [q, p] as const));

let single: StartedNode;
before(async () => {
  single = await startDevNode({ masterKey: 'reads-master-key-0001' });
  const c = new Meilisearch({ host: single.url, apiKey: 'reads-master-key-0001' });
  await c.createIndex('shop', { primaryKey: 'sku' }).waitTask();
  await c.index('shop').updateSettings(settings).waitTask();
  await c.index('shop').addDocuments(docs).waitTask();
  await c.createIndex('other', { primaryKey: 'sku' }).waitTask();
  // Miroir keeps `["*"]` logically but gives nodes the learned fields in first-seen order (SPEC: `_miroir_shard` is
  // never searchable), which Meilisearch weighs by position: the single node gets that same list to compare with.
  await c.index('other').updateSearchableAttributes(Object.keys(docs[0]!)).waitTask();
  await c
    .index('other')
    .addDocuments(docs.slice(0, 100).map((d) => ({ ...d, title: `other ${d.title}` })))
    .waitTask();
});
after(() => single.stop());

const key = (sorted: string[] | undefined) => (h: Record<string, unknown>) =>
  `${(h._rankingScore as number).toFixed(12)}|${sorted ? sorted.map((s) => h[s.split(':')[0]!]).join(',') : ''}`;

for (const [rg, rf] of [
  [1, 1],
  [1, 2],
  [2, 1],
  [2, 2],
] as const) {
  describe(`RG=${rg} RF=${rf}`, () => {
    let cluster: TestCluster;
    let m: Meilisearch;
    let one: Meilisearch;
    before(async () => {
      cluster = await startCluster({ nodes: 3, replicaGroups: rg, rf, shards: 16 });
      m = new Meilisearch({ host: cluster.app.url, apiKey: cluster.masterKey });
      one = new Meilisearch({ host: single.url, apiKey: 'reads-master-key-0001' });
      await m.createIndex('shop', { primaryKey: 'sku' }).waitTask();
      await m.index('shop').updateSettings(settings).waitTask();
      await m.index('shop').addDocuments(docs).waitTask();
      await m.createIndex('other', { primaryKey: 'sku' }).waitTask();
      await m
        .index('other')
        .addDocuments(docs.slice(0, 100).map((d) => ({ ...d, title: `other ${d.title}` })))
        .waitTask();
    });
    after(() => cluster.close());

    test('50 searches answer like one node (tie-tolerant)', async () => {
      for (const [q, params] of battery) {
        const label = `${q} ${JSON.stringify(params)}`;
        const a = (await one.index('shop').search(q, { ...params, showRankingScore: true })) as unknown as Record<
          string,
          unknown
        >;
        const b = (await m.index('shop').search(q, { ...params, showRankingScore: true })) as unknown as Record<
          string,
          unknown
        >;
        const k = key(params.sort as string[] | undefined);
        const ha = a.hits as Array<Record<string, unknown>>;
        const hb = b.hits as Array<Record<string, unknown>>;
        if (params.distinct === undefined) assert.deepEqual(hb.map(k), ha.map(k), label);
        else assert.deepEqual(new Set(hb.map((h) => h.brand)), new Set(ha.map((h) => h.brand)), label);
        for (const f of ['estimatedTotalHits', 'totalHits', 'totalPages', 'facetDistribution', 'facetStats'])
          assert.deepEqual(b[f], a[f], `${label}: ${f}`);
      }
    });

    test('documents: by id from a replica, lists with filter/sort/fields and the logical total', async () => {
      assert.deepEqual(await m.index('shop').getDocument('sku-42'), docs[42]);
      assert.deepEqual(await m.index('shop').getDocument('sku-42', { fields: ['brand'] }), { brand: docs[42]!.brand });
      const missing = await m
        .index('shop')
        .getDocument('nope')
        .then(
          () => 200,
          (e: { response: Response }) => e.response.status,
        );
      assert.equal(missing, 404);
      const a = await one.index('shop').getDocuments({
        filter: 'brand = acme AND stock > 5',
        sort: ['price:desc'],
        fields: ['sku', 'price'],
        limit: 15,
        offset: 5,
      });
      const b = await m.index('shop').getDocuments({
        filter: 'brand = acme AND stock > 5',
        sort: ['price:desc'],
        fields: ['sku', 'price'],
        limit: 15,
        offset: 5,
      });
      assert.equal(b.total, a.total);
      assert.deepEqual(
        b.results.map((d) => d.price),
        a.results.map((d) => d.price),
      );
      assert.deepEqual(Object.keys(b.results[0]!).sort(), ['price', 'sku']);
      const all = await m.index('shop').getDocuments({ limit: 2000 });
      assert.equal(new Set(all.results.map((d) => d.sku)).size, 2000, 'every document once');
    });

    test('facet search sums counts across shards like one node', async () => {
      for (const facetQuery of ['', 'ac', 'glo', 'umbrela']) {
        const a = await one
          .index('shop')
          .searchForFacetValues({ facetName: 'brand', facetQuery, filter: 'color = blue' });
        const b = await m
          .index('shop')
          .searchForFacetValues({ facetName: 'brand', facetQuery, filter: 'color = blue' });
        assert.deepEqual(b.facetHits, a.facetHits, facetQuery);
      }
    });

    test('multi-search plain and federated answer like one node', async () => {
      const queries = [
        { indexUid: 'shop', q: 'fox', limit: 5 },
        { indexUid: 'other', q: 'moon' },
      ];
      const a = await one.multiSearch({ queries });
      const b = await m.multiSearch({ queries });
      assert.deepEqual(
        b.results.map((r) => [r.indexUid, r.estimatedTotalHits]),
        a.results.map((r) => [r.indexUid, r.estimatedTotalHits]),
      );
      const fed = {
        federation: { limit: 12 },
        queries: [
          { indexUid: 'shop', q: 'bright star' },
          { indexUid: 'other', q: 'bright', federationOptions: { weight: 2 } },
        ],
      };
      const fa = (await one.multiSearch(fed as never)) as unknown as {
        hits: Array<{ _federation: { indexUid: string; weightedRankingScore: number } }>;
        estimatedTotalHits: number;
      };
      const fb = (await m.multiSearch(fed as never)) as unknown as typeof fa;
      assert.deepEqual(
        fb.hits.map((h) => h._federation.weightedRankingScore.toFixed(12)),
        fa.hits.map((h) => h._federation.weightedRankingScore.toFixed(12)),
      );
      assert.equal(fb.estimatedTotalHits, fa.estimatedTotalHits);
      const res = await fetch(`${cluster.app.url}/multi-search`, {
        method: 'POST',
        headers: { authorization: `Bearer ${cluster.masterKey}`, 'content-type': 'application/json' },
        body: JSON.stringify({ queries: [{ indexUid: 'shop' }, { indexUid: 'ghost' }] }),
      });
      // Inside a multi-search a missing index is the request's fault: Meilisearch answers 400 (index_not_found).
      assert.equal(res.status, 400);
      assert.match(((await res.json()) as { message: string }).message, /^Inside `\.queries\[1\]`: /);
    });
  });
}
