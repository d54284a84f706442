// Settings drift (issue 24, SPEC A5/A10): a node's settings changed behind Miroir's back are found by the periodic
// drift check and repaired (miroir_settings_drift_repair_total); a node that cannot be repaired freezes the index's
// writes (503 miroir_settings_frozen) until a later check finds it right; `X-Miroir-Min-Settings-Version` skips
// nodes stamped below it and answers 503 miroir_settings_version_stale when none is left (or N is above the
// committed version); `X-Miroir-Settings-Inconsistent: true` while a settings task is in flight.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { Meilisearch, MeilisearchApiError } from 'meilisearch';
import { startCluster, type TestCluster } from '../../support/cluster.js';
import { until } from '../../support/wait.js';

async function nodeCall(c: TestCluster, i: number, method: string, path: string, body?: unknown): Promise<unknown> {
  const res = await fetch(`${c.nodes[i]!.url}${path}`, {
    method,
    headers: { authorization: `Bearer ${c.nodeKey}`, 'content-type': 'application/json' },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const text = await res.text();
  return text === '' ? null : JSON.parse(text);
}

async function metric(c: TestCluster, name: string): Promise<number> {
  const text = await (
    await fetch(`${c.app.url}/_miroir/metrics`, { headers: { authorization: `Bearer ${c.adminKey}` } })
  ).text();
  const m = new RegExp(`^${name.replace(/[{}"]/g, (x) => `\\${x}`)} (\\d+)`, 'm').exec(text);
  return m === null ? 0 : Number(m[1]);
}

function searchWith(c: TestCluster, headers: Record<string, string>): Promise<Response> {
  return fetch(`${c.app.url}/indexes/movies/search`, {
    method: 'POST',
    headers: { authorization: `Bearer ${c.masterKey}`, 'content-type': 'application/json', ...headers },
    body: JSON.stringify({ q: '' }),
  });
}

describe('settings drift check', () => {
  let c: TestCluster;
  let ms: Meilisearch;
  before(async () => {
    // RF 2 in one group of 2: either node answers every shard.
    c = await startCluster({ nodes: 2, rf: 2, shards: 8, config: { settings_drift_check: { interval_s: 1 } } });
    ms = new Meilisearch({ host: c.app.url, apiKey: c.masterKey });
    await ms.createIndex('movies', { primaryKey: 'id' }).waitTask();
    await ms.index('movies').updateFilterableAttributes(['genre']).waitTask();
    await ms
      .index('movies')
      .addDocuments([
        { id: 1, title: 'Carol', genre: 'drama' },
        { id: 2, title: 'Alien', genre: 'horror' },
      ])
      .waitTask();
  });
  after(async () => {
    await c.close();
  });

  test('a node whose settings were changed directly is repaired', async () => {
    const before = await metric(c, 'miroir_settings_drift_repair_total{outcome="repaired"}');
    const task = (await nodeCall(c, 1, 'PATCH', '/indexes/movies/settings', {
      filterableAttributes: ['title'],
      synonyms: { film: ['movie'] },
    })) as { taskUid: number };
    await until(
      async () =>
        ((await nodeCall(c, 1, 'GET', `/tasks/${task.taskUid}`)) as { status: string }).status === 'succeeded',
      'the direct change applied',
    );
    const expected = await nodeCall(c, 0, 'GET', '/indexes/movies/settings');
    await until(
      async () => JSON.stringify(await nodeCall(c, 1, 'GET', '/indexes/movies/settings')) === JSON.stringify(expected),
      'node-1 holds the committed physical settings again',
    );
    await until(
      async () => (await metric(c, 'miroir_settings_drift_repair_total{outcome="repaired"}')) > before,
      'the repair counted',
    );
    assert.ok((await metric(c, 'miroir_settings_hash_mismatch_total')) >= 1);
    const res = await ms.index('movies').search('', { filter: 'genre = drama' });
    assert.deepEqual(
      res.hits.map((h) => h.id),
      [1],
    );
  });

  test('X-Miroir-Min-Settings-Version skips nodes below it; 503 miroir_settings_version_stale when none is left', async () => {
    const version = Number((await searchWith(c, {})).headers.get('x-miroir-settings-version'));
    assert.ok(version >= 1);
    const ok = await searchWith(c, { 'x-miroir-min-settings-version': String(version) });
    assert.equal(ok.status, 200);
    const above = await searchWith(c, { 'x-miroir-min-settings-version': String(version + 1) });
    assert.equal(above.status, 503);
    const body = (await above.json()) as { code: string; type: string };
    assert.equal(body.code, 'miroir_settings_version_stale');
    assert.equal(body.type, 'system');
    const bad = await searchWith(c, { 'x-miroir-min-settings-version': 'soon' });
    assert.equal(bad.status, 400);
    assert.equal(((await bad.json()) as { code: string }).code, 'miroir_invalid_settings_version');
    // One node stamped below the version: reads use the other; both below: none is left.
    await c.app.store.setNodeSettingsVersion('movies', 'node-1', version - 1);
    for (let i = 0; i < 4; i++) {
      const r = await searchWith(c, { 'x-miroir-min-settings-version': String(version) });
      assert.equal(r.status, 200);
      assert.equal(((await r.json()) as { hits: unknown[] }).hits.length, 2);
    }
    await c.app.store.setNodeSettingsVersion('movies', 'node-0', version - 1);
    const none = await searchWith(c, { 'x-miroir-min-settings-version': String(version) });
    assert.equal(none.status, 503);
    assert.equal(((await none.json()) as { code: string }).code, 'miroir_settings_version_stale');
    const doc = await fetch(`${c.app.url}/indexes/movies/documents/1`, {
      headers: { authorization: `Bearer ${c.masterKey}`, 'x-miroir-min-settings-version': String(version) },
    });
    assert.equal(doc.status, 503);
    // The drift check stamps both nodes again (they match).
    await until(
      async () => (await searchWith(c, { 'x-miroir-min-settings-version': String(version) })).status === 200,
      'stamped again',
    );
  });

  test('a node that cannot be repaired freezes writes (503 miroir_settings_frozen) until it is right again', async () => {
    const task = (await nodeCall(c, 1, 'PATCH', '/indexes/movies/settings', { distinctAttribute: 'genre' })) as {
      taskUid: number;
    };
    await until(
      async () =>
        ((await nodeCall(c, 1, 'GET', `/tasks/${task.taskUid}`)) as { status: string }).status === 'succeeded',
      'the direct change applied',
    );
    // Every write to node-1 now answers 500 after enqueuing: no repair can be confirmed.
    await nodeCall(c, 1, 'POST', '/_devnode/faults', { fail_after_enqueue: true });
    await until(
      async () => (await metric(c, 'miroir_settings_drift_repair_total{outcome="failed"}')) >= 1,
      'the repair failing',
    );
    await assert.rejects(
      ms.index('movies').addDocuments([{ id: 3, title: 'Heat', genre: 'drama' }]),
      (err: unknown) => err instanceof MeilisearchApiError && err.cause?.code === 'miroir_settings_frozen',
    );
    await nodeCall(c, 1, 'POST', '/_devnode/faults/reset');
    await until(
      async () =>
        ms
          .index('movies')
          .addDocuments([{ id: 3, title: 'Heat', genre: 'drama' }])
          .then(
            () => true,
            () => false,
          ),
      'writes resume once a check finds every node right',
    );
  });

  test('X-Miroir-Settings-Inconsistent while a settings task is between propose and commit', async () => {
    await nodeCall(c, 1, 'POST', '/_devnode/faults', { task_delay_ms: 500 });
    const task = await ms.index('movies').updateSearchableAttributes(['title', 'genre']);
    const during = await searchWith(c, {});
    assert.equal(during.headers.get('x-miroir-settings-inconsistent'), 'true');
    await ms.tasks.waitForTask(task.taskUid);
    await nodeCall(c, 1, 'POST', '/_devnode/faults/reset');
    const afterwards = await searchWith(c, {});
    assert.equal(afterwards.headers.get('x-miroir-settings-inconsistent'), null);
  });
});
