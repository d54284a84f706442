// Read-your-writes sessions (issue 24, SPEC A6 + Round 2 "Sessions"): with one replica group's node 300 ms behind
// (dev node fault task_delay_ms), a write and an immediate search in the same `X-Miroir-Session` find the new
// document 50 times out of 50 (`block`), where the same pattern without a session misses it; multi-search, facet
// search and document reads honour the session too; a wait past `max_wait_ms` answers `X-Miroir-Session-Stale: true`.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { Meilisearch } from 'meilisearch';
import { startCluster, type TestCluster } from '../../support/cluster.js';

async function fault(c: TestCluster, i: number, body: Record<string, unknown> | null): Promise<void> {
  await fetch(`${c.nodes[i]!.url}/_devnode/faults${body === null ? '/reset' : ''}`, {
    method: 'POST',
    headers: { authorization: `Bearer ${c.nodeKey}`, 'content-type': 'application/json' },
    body: body === null ? undefined : JSON.stringify(body),
  });
}

describe('read-your-writes sessions (block)', () => {
  let c: TestCluster;
  const client = (session?: string) =>
    new Meilisearch({
      host: c.app.url,
      apiKey: c.masterKey,
      requestInit: session === undefined ? undefined : { headers: { 'X-Miroir-Session': session } },
    });
  before(async () => {
    // Two groups of one node each: every read goes to one group, every write to both.
    c = await startCluster({
      nodes: 1,
      replicaGroups: 2,
      rf: 1,
      shards: 8,
      config: { session_pinning: { enabled: true, max_wait_ms: 1000 } },
    });
    await client().createIndex('docs', { primaryKey: 'id' }).waitTask();
    await client().index('docs').updateFilterableAttributes(['tag']).waitTask();
    await fault(c, 1, { task_delay_ms: 300 });
  });
  after(async () => {
    await c.close();
  });

  test('write + immediate search: 50/50 with a session, misses without one', async () => {
    const withSession = client('writer-1');
    let seen = 0;
    for (let i = 0; i < 50; i++) {
      await withSession.index('docs').addDocuments([{ id: i, title: `word${i}` }]);
      const res = await withSession.index('docs').search(`word${i}`);
      if (res.hits.some((h) => h.id === i)) seen++;
    }
    assert.equal(seen, 50, 'the session sees its own writes every time');
    const plain = client();
    let missed = 0;
    for (let i = 100; i < 110; i++) {
      await plain.index('docs').addDocuments([{ id: i, title: `word${i}` }]);
      const res = await plain.index('docs').search(`word${i}`);
      if (!res.hits.some((h) => h.id === i)) missed++;
    }
    assert.ok(missed > 0, 'without a session a read may go to the lagging group and miss the write');
    const metrics = await (
      await fetch(`${c.app.url}/_miroir/metrics`, { headers: { authorization: `Bearer ${c.adminKey}` } })
    ).text();
    assert.match(metrics, /miroir_session_pin_enforced_total [1-9]/);
    assert.match(metrics, /miroir_session_active_count [1-9]/);
  });

  test('multi-search (per query), facet search and document reads honour the session', async () => {
    const s = client('writer-2');
    for (let i = 200; i < 210; i++) {
      await s.index('docs').addDocuments([{ id: i, title: `multi${i}`, tag: `t${i}` }]);
      const multi = await s.multiSearch({ queries: [{ indexUid: 'docs', q: '', filter: `tag = t${i}` }] });
      assert.deepEqual(
        multi.results[0]!.hits.map((h) => h.id),
        [i],
        `multi-search ${i}`,
      );
      await s.index('docs').addDocuments([{ id: i + 1000, title: `doc${i}`, tag: `f${i}` }]);
      const doc = await s.index('docs').getDocument(i + 1000);
      assert.equal(doc.id, i + 1000);
      await s.index('docs').addDocuments([{ id: i + 2000, title: `facet${i}`, tag: `g${i}` }]);
      const facets = await s.index('docs').searchForFacetValues({ facetName: 'tag', facetQuery: `g${i}` });
      assert.deepEqual(
        facets.facetHits.map((h) => h.value),
        [`g${i}`],
      );
    }
  });

  test('both groups lagging: block waits on the pinned group; past max_wait_ms the answer says it is stale', async () => {
    await fault(c, 0, { task_delay_ms: 300 });
    const s = client('writer-3');
    await s.index('docs').addDocuments([{ id: 300, title: 'slowpoke' }]);
    const res = await fetch(`${c.app.url}/indexes/docs/search`, {
      method: 'POST',
      headers: {
        authorization: `Bearer ${c.masterKey}`,
        'content-type': 'application/json',
        'x-miroir-session': 'writer-3',
      },
      body: JSON.stringify({ q: 'slowpoke' }),
    });
    assert.equal(res.headers.get('x-miroir-session-stale'), null);
    assert.equal(((await res.json()) as { hits: unknown[] }).hits.length, 1);
    await fault(c, 0, { task_delay_ms: 2000 });
    await fault(c, 1, { task_delay_ms: 2000 });
    await s.index('docs').addDocuments([{ id: 301, title: 'glacier' }]);
    const stale = await fetch(`${c.app.url}/indexes/docs/search`, {
      method: 'POST',
      headers: {
        authorization: `Bearer ${c.masterKey}`,
        'content-type': 'application/json',
        'x-miroir-session': 'writer-3',
      },
      body: JSON.stringify({ q: 'glacier' }),
    });
    assert.equal(stale.headers.get('x-miroir-session-stale'), 'true');
    const bad = await fetch(`${c.app.url}/indexes/docs/search`, {
      method: 'POST',
      headers: {
        authorization: `Bearer ${c.masterKey}`,
        'content-type': 'application/json',
        'x-miroir-session': 'x'.repeat(129),
      },
      body: '{}',
    });
    assert.equal(bad.status, 400);
    assert.equal(((await bad.json()) as { code: string }).code, 'miroir_invalid_session');
    await fault(c, 0, null);
    await fault(c, 1, null);
  });
});
