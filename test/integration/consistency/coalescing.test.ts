// Query coalescing (issue 24, SPEC A10 + Round 2 "Coalescing"): 100 concurrent identical searches with coalescing on
// ask each node once per window, and every answer equals an uncoalesced one byte for byte (bar its requestUid);
// tenant tokens never share an answer, even with the same search rules.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { Meilisearch } from 'meilisearch';
import { generateTenantToken } from 'meilisearch/token';
import { startCluster, type TestCluster } from '../../support/cluster.js';

/** Searches each node was asked, from the proxy's node-request metrics. */
async function nodeSearches(c: TestCluster): Promise<Record<string, number>> {
  const text = await (
    await fetch(`${c.app.url}/_miroir/metrics`, { headers: { authorization: `Bearer ${c.adminKey}` } })
  ).text();
  const out: Record<string, number> = {};
  for (const m of text.matchAll(
    /^miroir_node_request_duration_seconds_count\{node_id="([^"]+)",operation="search"\} (\d+)$/gm,
  ))
    out[m[1]!] = Number(m[2]);
  return out;
}

function delta(a: Record<string, number>, b: Record<string, number>): Record<string, number> {
  const out: Record<string, number> = {};
  for (const k of new Set([...Object.keys(a), ...Object.keys(b)])) out[k] = (b[k] ?? 0) - (a[k] ?? 0);
  return out;
}

/** An answer without its per-request parts (its requestUid, and processingTimeMs, a measurement). */
const withoutUid = (text: string) =>
  text
    .replace(/"requestUid":"[0-9a-f-]{36}"/, '"requestUid":null')
    .replace(/"processingTimeMs":\d+/, '"processingTimeMs":0');

describe('query coalescing', () => {
  let c: TestCluster;
  const search = (token: string, body: unknown, headers: Record<string, string> = {}) =>
    fetch(`${c.app.url}/indexes/docs/search`, {
      method: 'POST',
      headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json', ...headers },
      body: JSON.stringify(body),
    });
  before(async () => {
    // A window far longer than the burst takes to arrive on a loaded machine: "once per window" is then exact.
    c = await startCluster({
      nodes: 3,
      rf: 1,
      shards: 8,
      config: { query_coalescing: { enabled: true, window_ms: 3000 } },
    });
    const ms = new Meilisearch({ host: c.app.url, apiKey: c.masterKey });
    await ms.createIndex('docs', { primaryKey: 'id' }).waitTask();
    await ms.index('docs').updateFilterableAttributes(['tenant']).waitTask();
    await ms
      .index('docs')
      .addDocuments(
        Array.from({ length: 60 }, (_, i) => ({ id: i, title: `film ${i % 7}`, tenant: i % 2 === 0 ? 'a' : 'b' })),
      )
      .waitTask();
  });
  after(async () => {
    await c.close();
  });

  test('100 concurrent identical searches: each node asked once; answers equal the uncoalesced one', async () => {
    const body = { q: 'film', limit: 15, facets: ['tenant'] };
    const before = await nodeSearches(c);
    const answers = await Promise.all(
      Array.from({ length: 100 }, async () => {
        const res = await search(c.masterKey, body);
        assert.equal(res.status, 200);
        return res.text();
      }),
    );
    const asked = delta(before, await nodeSearches(c));
    assert.deepEqual(asked, { 'node-0': 1, 'node-1': 1, 'node-2': 1 }, 'each node asked once');
    // A read with its own consistency options is never coalesced: the uncoalesced answer to compare with.
    const plain = await (await search(c.masterKey, body, { 'x-miroir-min-settings-version': '0' })).text();
    assert.deepEqual(delta(before, await nodeSearches(c)), { 'node-0': 2, 'node-1': 2, 'node-2': 2 });
    for (const a of answers) assert.equal(withoutUid(a), withoutUid(plain));
    assert.equal(new Set(answers.map((a) => /"requestUid":"([^"]+)"/.exec(a)?.[1])).size, 100, 'own requestUid');
    const metrics = await (
      await fetch(`${c.app.url}/_miroir/metrics`, { headers: { authorization: `Bearer ${c.adminKey}` } })
    ).text();
    assert.match(metrics, /miroir_query_coalesce_hits_total 99/);
  });

  test('tenant tokens never share an answer', async () => {
    const ms = new Meilisearch({ host: c.app.url, apiKey: c.masterKey });
    const key = (await ms.getKeys()).results.find((k) => k.name === 'Default Search API Key')!;
    const token = (tenant: string, expiresAt?: Date) =>
      generateTenantToken({
        apiKey: key.key,
        apiKeyUid: key.uid,
        searchRules: { docs: { filter: `tenant = ${tenant}` } },
        expiresAt,
      });
    const [a, b, a2] = [await token('a'), await token('b'), await token('a', new Date(Date.now() + 3_600_000))];
    assert.notEqual(a, a2);
    const body = { q: 'film', limit: 100 };
    const before = await nodeSearches(c);
    const [ra, rb, ra2] = await Promise.all(
      [a, b, a2].map(async (t) => (await (await search(t, body)).json()) as { hits: Array<{ tenant: string }> }),
    );
    assert.ok(ra!.hits.length > 0 && ra!.hits.every((h) => h.tenant === 'a'));
    assert.ok(rb!.hits.length > 0 && rb!.hits.every((h) => h.tenant === 'b'));
    assert.ok(ra2!.hits.every((h) => h.tenant === 'a'));
    assert.deepEqual(
      delta(before, await nodeSearches(c)),
      { 'node-0': 3, 'node-1': 3, 'node-2': 3 },
      'three tokens, three scatters (two tokens with the same rules do not share either)',
    );
  });
});
