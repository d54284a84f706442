// Search through Miroir over real dev nodes: answers equal one dev node holding everything (tie-tolerant), unique
// keywords hit once, facets sum, pages concatenate, a shard number never matches, replicas cover a lost node, and a
// lost shard follows the unavailable-shard policy.
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { Meilisearch } from 'meilisearch';
import { startCluster, type TestCluster } from '../../support/cluster.js';
import { startDevNode, type StartedNode } from '../../support/devnode.js';

const LETTERS = 'abcdefghijklmnopqrstuvwxyz';
const word = (i: number) => `${LETTERS[i % 26]}${LETTERS[Math.floor(i / 26) % 26]}${LETTERS[Math.floor(i / 676) % 26]}`;
const TOPICS = ['quick fox', 'lazy dog', 'brown bear', 'quiet river', 'bright star'];
const docs = Array.from({ length: 100 }, (_, i) => ({
  id: `doc${word(i)}`,
  title: `${TOPICS[i % 5]} k${word(i)}`,
  color: ['red', 'green', 'blue'][i % 3],
  price: (i * 37) % 97,
}));
const settings = { filterableAttributes: ['color', 'price'], sortableAttributes: ['price'] };

let rf1: TestCluster;
let single: StartedNode;
const miroir = (c: TestCluster) => new Meilisearch({ host: c.app.url, apiKey: c.masterKey });

before(async () => {
  rf1 = await startCluster({ nodes: 3, rf: 1, shards: 16 });
  single = await startDevNode({ masterKey: rf1.masterKey });
  for (const c of [miroir(rf1), new Meilisearch({ host: single.url, apiKey: rf1.masterKey })]) {
    await c.createIndex('items', { primaryKey: 'id' }).waitTask();
    await c.index('items').updateSettings(settings).waitTask();
    await c.index('items').addDocuments(docs).waitTask();
  }
  // Miroir keeps `["*"]` logically but gives nodes the learned fields in first-seen order (SPEC: `_miroir_shard` is
  // never searchable), which Meilisearch weighs by position: the single node gets that same list to compare with.
  await new Meilisearch({ host: single.url, apiKey: rf1.masterKey })
    .index('items')
    .updateSearchableAttributes(Object.keys(docs[0]!))
    .waitTask();
});
after(async () => {
  await rf1.close();
  await single.stop();
});

const scoreKey = (sorted: boolean) => (h: Record<string, unknown>) =>
  `${(h._rankingScore as number).toFixed(12)}|${sorted ? h.price : ''}`;

test('a battery of queries answers like one node holding every document (tie-tolerant)', async () => {
  const one = new Meilisearch({ host: single.url, apiKey: rf1.masterKey }).index('items');
  const many = miroir(rf1).index('items');
  const battery: Array<[string, Record<string, unknown>]> = [
    ['quick', {}],
    ['quikc', {}],
    ['bro', {}],
    ['lazy dog', {}],
    ['star', { filter: 'color = red' }],
    ['', { filter: 'price > 50', sort: ['price:asc'] }],
    ['', { facets: ['color', 'price'] }],
    ['fox', { facets: ['color'], filter: ['color != blue'] }],
    ['', { hitsPerPage: 7, page: 3 }],
    ['', { offset: 13, limit: 9 }],
    ['river', { sort: ['price:desc'] }],
    ['bear', { attributesToRetrieve: ['title'] }],
    ['quiet', { limit: 3, showRankingScoreDetails: true }],
    ['kaaa', {}],
    ['bright star', { matchingStrategy: 'all' }],
    ['', { filter: 'price 10 TO 20', facets: ['price'] }],
    ['dog', { distinct: 'color' }],
    ['zzz', {}],
    ['', { hitsPerPage: 0 }],
    ['fox', { page: 2, hitsPerPage: 5 }],
  ];
  await one.updateFilterableAttributes(['color', 'price']).waitTask();
  for (const [q, params] of battery) {
    const a = (await one.search(q, { ...params, showRankingScore: true })) as unknown as Record<string, unknown>;
    const b = (await many.search(q, { ...params, showRankingScore: true })) as unknown as Record<string, unknown>;
    const label = `${q} ${JSON.stringify(params)}`;
    const ha = a.hits as Array<Record<string, unknown>>;
    const hb = b.hits as Array<Record<string, unknown>>;
    const key = scoreKey(params.sort !== undefined);
    assert.deepEqual(hb.map(key), ha.map(key), label);
    for (const k of [
      'estimatedTotalHits',
      'totalHits',
      'totalPages',
      'limit',
      'offset',
      'page',
      'hitsPerPage',
      'facetDistribution',
      'facetStats',
      'query',
    ])
      assert.deepEqual(b[k], a[k], `${label}: ${k}`);
    assert.ok(
      hb.every((h) => !('_miroir_shard' in h)),
      'reserved field stripped',
    );
    if (params.attributesToRetrieve)
      assert.deepEqual(Object.keys(hb[0]!).sort(), ['_rankingScore', 'title'], 'merge-added fields stripped');
  }
});

test('unique keyword → one hit; facets sum to 100; 5 pages of 10 = limit 50; a shard number adds no match', async () => {
  const idx = miroir(rf1).index('items');
  assert.equal((await idx.search('kbaa')).hits.length, 1);
  const facets = await idx.search('', { facets: ['color'], limit: 0 });
  assert.equal(
    Object.values(facets.facetDistribution!.color!).reduce((a, b) => a + b, 0),
    100,
  );
  const pages: string[] = [];
  for (let p = 0; p < 5; p++)
    pages.push(...(await idx.search('', { offset: p * 10, limit: 10 })).hits.map((h) => h.id as string));
  const fifty = (await idx.search('', { limit: 50 })).hits.map((h) => h.id as string);
  assert.deepEqual(pages, fifty);
  assert.equal(new Set(fifty).size, 50);
  // Shard ids are never searchable: a search for a shard number finds exactly what one node without shards finds.
  const one = new Meilisearch({ host: single.url, apiKey: rf1.masterKey }).index('items');
  for (const shard of ['3', '7', '12'])
    assert.equal(
      (await idx.search(shard)).estimatedTotalHits,
      (await one.search(shard)).estimatedTotalHits,
      `q=${shard}`,
    );
});

test('RF=2 with a node down: every search still returns every hit, without X-Miroir-Degraded', async () => {
  const c = await startCluster({ nodes: 3, rf: 2, shards: 8 });
  try {
    await miroir(c).index('items').addDocuments(docs).waitTask();
    await c.stopNode(1);
    for (let i = 0; i < 4; i++) {
      const res = await fetch(`${c.app.url}/indexes/items/search`, {
        method: 'POST',
        headers: { authorization: `Bearer ${c.masterKey}`, 'content-type': 'application/json' },
        body: '{"limit":0}',
      });
      assert.equal(res.status, 200);
      assert.equal(((await res.json()) as { estimatedTotalHits: number }).estimatedTotalHits, 100);
      assert.equal(res.headers.get('x-miroir-degraded'), null);
    }
  } finally {
    await c.close();
  }
});

test('RF=1 with a node down: partial answers name the missing shards; the error policy answers 503', async () => {
  for (const policy of ['partial', 'error'] as const) {
    const c = await startCluster({
      nodes: 3,
      rf: 1,
      shards: 8,
      config: { scatter: { unavailable_shard_policy: policy } },
    });
    try {
      await miroir(c).index('items').addDocuments(docs).waitTask();
      await c.stopNode(2);
      const res = await fetch(`${c.app.url}/indexes/items/search`, {
        method: 'POST',
        headers: { authorization: `Bearer ${c.masterKey}`, 'content-type': 'application/json' },
        body: '{"limit":0}',
      });
      if (policy === 'partial') {
        assert.equal(res.status, 200);
        assert.match(String(res.headers.get('x-miroir-degraded')), /^shards=[\d,]+$/);
        assert.ok(((await res.json()) as { estimatedTotalHits: number }).estimatedTotalHits < 100);
      } else {
        assert.equal(res.status, 503);
        assert.equal(((await res.json()) as { code: string }).code, 'miroir_shard_unavailable');
      }
    } finally {
      await c.close();
    }
  }
});
