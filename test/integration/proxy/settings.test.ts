// Settings through Miroir with the official client: clients see logical settings, nodes hold physical ones
// (`_miroir_shard` filterable, facet overfetch), two-phase verification commits a settings version, a node that
// missed the update is repaired and the task says so, a node that stays wrong rolls everything back.
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { Meilisearch, MeilisearchApiError } from 'meilisearch';
import { startCluster, type TestCluster } from '../../support/cluster.js';

let cluster: TestCluster;
const client = () => new Meilisearch({ host: cluster.app.url, apiKey: cluster.masterKey });

before(async () => {
  cluster = await startCluster({
    nodes: 3,
    rf: 1,
    shards: 8,
    config: { settings_broadcast: { max_repair_retries: 2 } },
  });
  await client().createIndex('movies', { primaryKey: 'id' }).waitTask();
});
after(() => cluster.close());

async function nodeSettings(i: number): Promise<Record<string, unknown>> {
  const res = await fetch(`${cluster.nodes[i]!.url}/indexes/movies/settings`, {
    headers: { authorization: `Bearer ${cluster.nodeKey}` },
  });
  return (await res.json()) as Record<string, unknown>;
}

async function fault(i: number, faults: object): Promise<void> {
  await fetch(`${cluster.nodes[i]!.url}/_devnode/faults`, {
    method: 'POST',
    headers: { authorization: `Bearer ${cluster.nodeKey}`, 'content-type': 'application/json' },
    body: JSON.stringify(faults),
  });
}

test('logical settings for clients, physical settings on every node, a committed settings version', async () => {
  const task = await client()
    .index('movies')
    .updateSettings({ filterableAttributes: ['genre'], synonyms: { wolverine: ['logan'] } })
    .waitTask();
  assert.equal(task.status, 'succeeded');
  assert.deepEqual(task.details, { filterableAttributes: ['genre'], synonyms: { wolverine: ['logan'] } });
  const logical = await client().index('movies').getSettings();
  assert.deepEqual(logical.filterableAttributes, ['genre']);
  assert.deepEqual(logical.faceting, { maxValuesPerFacet: 100, sortFacetValuesBy: { '*': 'alpha' } });
  assert.equal(Object.keys(logical).length, 20);
  for (let i = 0; i < 3; i++) {
    const physical = await nodeSettings(i);
    assert.deepEqual(physical.filterableAttributes, ['genre', '_miroir_shard'], `node-${i}`);
    assert.deepEqual(physical.synonyms, { wolverine: ['logan'] });
    assert.equal((physical.faceting as { maxValuesPerFacet: number }).maxValuesPerFacet, 1000);
  }
  const res = await fetch(`${cluster.app.url}/indexes/movies/settings/filterable-attributes`, {
    headers: { authorization: `Bearer ${cluster.masterKey}` },
  });
  assert.deepEqual(await res.json(), ['genre']);
  assert.equal(res.headers.get('x-miroir-settings-version'), '2');
});

test('sub-routes keep Meilisearch verbs and validation; resets restore defaults', async () => {
  await client()
    .index('movies')
    .updateTypoTolerance({ minWordSizeForTypos: { oneTypo: 4 } })
    .waitTask();
  assert.equal((await client().index('movies').getTypoTolerance())!.minWordSizeForTypos?.oneTypo, 4);
  const wrongVerb = await fetch(`${cluster.app.url}/indexes/movies/settings/typo-tolerance`, {
    method: 'PUT',
    headers: { authorization: `Bearer ${cluster.masterKey}`, 'content-type': 'application/json' },
    body: '{}',
  });
  assert.equal(wrongVerb.status, 405);
  const bad = await client()
    .index('movies')
    .updateRankingRules(['nope'])
    .then(
      () => '',
      (e: MeilisearchApiError) => (e.cause as { code: string }).code,
    );
  assert.equal(bad, 'invalid_settings_ranking_rules');
  await client().index('movies').resetSynonyms().waitTask();
  assert.deepEqual(await client().index('movies').getSynonyms(), {});
  for (let i = 0; i < 3; i++) assert.deepEqual((await nodeSettings(i)).synonyms, {});
});

test('a node that missed the update is repaired during verification, and the task says so', async () => {
  await fault(2, { fail_requests: 1 });
  const task = await client().index('movies').updateStopWords(['the', 'a']).waitTask();
  assert.equal(task.status, 'succeeded');
  assert.deepEqual((task.details as Record<string, unknown>).miroirRepairedNodes, ['node-2']);
  assert.deepEqual((await nodeSettings(2)).stopWords, ['a', 'the']);
});

test('a node that stays wrong fails the task and every node is rolled back', async () => {
  await fault(1, { fail_requests: 1000 });
  try {
    const task = await client().index('movies').updateSortableAttributes(['year']).waitTask();
    assert.equal(task.status, 'failed');
    assert.match(task.error!.message, /node-1 .*rolled back/);
  } finally {
    await fetch(`${cluster.nodes[1]!.url}/_devnode/faults/reset`, {
      method: 'POST',
      headers: { authorization: `Bearer ${cluster.nodeKey}` },
    });
  }
  for (const i of [0, 2]) assert.deepEqual((await nodeSettings(i)).sortableAttributes, [], `node-${i} rolled back`);
  assert.deepEqual(await client().index('movies').getSortableAttributes(), []);
});
