// The proxy as a user and an SRE see it, over real HTTP with real dev nodes and the official client: Meilisearch's
// key model served by Miroir (default keys, restricted keys, expiry, persistence), error parity with one dev node,
// admin auth, topology/shards/ready shapes, health tracking of a killed node, and metrics.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { Meilisearch, MeilisearchApiError } from 'meilisearch';
import { defaultKeys, deriveKeyValue } from '../../../src/core/auth/keys.js';
import { startCluster, type TestCluster } from '../../support/cluster.js';
import { startDevNode, type StartedNode } from '../../support/devnode.js';
import { until } from '../../support/wait.js';

let cluster: TestCluster;
let single: StartedNode;

before(async () => {
  cluster = await startCluster({
    nodes: 3,
    rf: 1,
    shards: 16,
    config: { health: { interval_ms: 50, timeout_ms: 200, unhealthy_threshold: 2, recovery_threshold: 1 } },
  });
  single = await startDevNode({ masterKey: cluster.masterKey });
});
after(async () => {
  await cluster.close();
  await single.stop();
});

const miroir = () => new Meilisearch({ host: cluster.app.url, apiKey: cluster.masterKey });

async function apiError(p: Promise<unknown>): Promise<[number, string, string]> {
  try {
    await p;
  } catch (err) {
    assert.ok(err instanceof MeilisearchApiError, String(err));
    const body = err.cause as { code: string; type: string };
    return [err.response.status, body.code, body.type];
  }
  assert.fail('request succeeded');
}

describe('keys through Miroir', () => {
  test('the default keys exist with the values Meilisearch derives from the master key', async () => {
    const keys = (await miroir().getKeys()).results;
    const expected = defaultKeys('');
    assert.deepEqual(keys.map((k) => k.name).sort(), expected.map((k) => k.name).sort());
    for (const k of keys) assert.equal(k.key, deriveKeyValue(cluster.masterKey, k.uid));
  });

  test('a key with ["indexes.get"] lists indexes but gets 403 invalid_api_key on POST /indexes', async () => {
    const key = await miroir().createKey({ actions: ['indexes.get'], indexes: ['*'], expiresAt: null });
    const limited = new Meilisearch({ host: cluster.app.url, apiKey: key.key });
    assert.deepEqual((await limited.getIndexes()).results, []);
    assert.deepEqual(await apiError(limited.createIndex('movies')), [403, 'invalid_api_key', 'auth']);
  });

  test('no Authorization header → 401 missing_authorization_header; an expired key is refused', async () => {
    assert.deepEqual(await apiError(new Meilisearch({ host: cluster.app.url }).getIndexes()), [
      401,
      'missing_authorization_header',
      'auth',
    ]);
    const soon = new Date(Date.now() + 1500);
    const key = await miroir().createKey({ actions: ['*'], indexes: ['*'], expiresAt: soon });
    const user = new Meilisearch({ host: cluster.app.url, apiKey: key.key });
    await user.getIndexes();
    await until(async () => Date.now() > soon.getTime(), 'key expiry');
    assert.deepEqual(await apiError(user.getIndexes()), [403, 'invalid_api_key', 'auth']);
  });

  test('keys survive a proxy restart; nodes never see client keys', async () => {
    const key = await miroir().createKey({ name: 'kept', actions: ['search'], indexes: ['*'], expiresAt: null });
    await cluster.restartProxy();
    const again = await miroir().getKey(key.uid);
    assert.equal(again.key, key.key);
    assert.equal(again.name, 'kept');
    const direct = await fetch(`${cluster.nodes[0]!.url}/indexes`, {
      headers: { authorization: `Bearer ${cluster.masterKey}` },
    });
    assert.equal(direct.status, 403, 'the client master key is not a node key');
  });
});

describe('errors', () => {
  test('the same bad requests get the same status and code from Miroir and from one dev node', async () => {
    const cases: Array<[string, string, Record<string, string>, string | undefined]> = [
      ['GET', '/keys', {}, undefined],
      ['GET', '/keys', { authorization: 'Bearer wrong' }, undefined],
      [
        'GET',
        '/keys/3f6b4c2e-0000-4000-8000-000000000000',
        { authorization: `Bearer ${cluster.masterKey}` },
        undefined,
      ],
      [
        'POST',
        '/keys',
        { authorization: `Bearer ${cluster.masterKey}`, 'content-type': 'application/json' },
        '{"actions":["fly"],"indexes":["*"],"expiresAt":null}',
      ],
      [
        'POST',
        '/keys',
        { authorization: `Bearer ${cluster.masterKey}`, 'content-type': 'application/json' },
        '{"actions":',
      ],
      ['POST', '/keys', { authorization: `Bearer ${cluster.masterKey}`, 'content-type': 'text/plain' }, '{}'],
      ['GET', '/indexes?limit=x', { authorization: `Bearer ${cluster.masterKey}` }, undefined],
      ['GET', '/indexes/missing', { authorization: `Bearer ${cluster.masterKey}` }, undefined],
      ['GET', '/no/such/route', {}, undefined],
      ['DELETE', '/health', {}, undefined],
    ];
    for (const [method, path, headers, body] of cases) {
      const a = await fetch(cluster.app.url + path, { method, headers, body });
      const b = await fetch(single.url + path, { method, headers, body });
      const ja = a.status === 404 && (await a.clone().text()) === '' ? null : await a.json().catch(() => null);
      const jb = b.status === 404 && (await b.clone().text()) === '' ? null : await b.json().catch(() => null);
      assert.equal(a.status, b.status, `${method} ${path}`);
      assert.equal((ja as { code?: string } | null)?.code, (jb as { code?: string } | null)?.code, `${method} ${path}`);
    }
  });

  test('routes not built yet answer 501 miroir_not_supported after auth, with the documented link', async () => {
    const res = await fetch(`${cluster.app.url}/snapshots`, {
      method: 'POST',
      headers: { authorization: `Bearer ${cluster.masterKey}` },
    });
    assert.equal(res.status, 501);
    const body = (await res.json()) as { code: string; type: string; link: string };
    assert.equal(body.code, 'miroir_not_supported');
    assert.equal(body.type, 'invalid_request');
    assert.match(body.link, /docs\/errors\.md#miroir_not_supported$/);
    assert.equal((await fetch(`${cluster.app.url}/snapshots`, { method: 'POST' })).status, 401);
  });
});

describe('admin API, health and metrics', () => {
  const admin = (path: string, key?: string, header = 'authorization') =>
    fetch(cluster.app.url + path, {
      headers: key === undefined ? {} : { [header]: header === 'authorization' ? `Bearer ${key}` : key },
    });

  test('admin routes need the admin key (Bearer or X-Admin-Key) and answer 401 miroir_invalid_auth otherwise', async () => {
    const denied = await admin('/_miroir/topology');
    assert.equal(denied.status, 401);
    assert.equal(((await denied.json()) as { code: string }).code, 'miroir_invalid_auth');
    assert.equal(
      (await admin('/_miroir/topology', cluster.masterKey)).status,
      401,
      'the master key is not the admin key',
    );
    assert.equal((await admin('/_miroir/topology', cluster.adminKey, 'x-admin-key')).status, 200);
    assert.equal((await admin('/_miroir/ready')).status, 200, 'ready is public');
  });

  test('topology and shards have the documented shapes', async () => {
    const topo = (await (await admin('/_miroir/topology', cluster.adminKey)).json()) as Record<string, unknown>;
    assert.deepEqual(Object.keys(topo), [
      'shards',
      'replication_factor',
      'replica_groups',
      'groups',
      'nodes',
      'degraded_node_count',
      'rebalance_in_progress',
      'fully_covered',
    ]);
    const nodes = topo.nodes as Array<Record<string, unknown>>;
    assert.equal(nodes.length, 3);
    assert.deepEqual(Object.keys(nodes[0]!).slice(0, 7), [
      'id',
      'address',
      'replica_group',
      'state',
      'health',
      'shard_count',
      'last_seen_ms',
    ]);
    assert.equal(
      nodes.reduce((n, x) => n + (x.shard_count as number), 0),
      16,
    );
    const shards = (await (await admin('/_miroir/shards', cluster.adminKey)).json()) as {
      groups: Array<{ id: number; assignments: Record<string, string[]> }>;
    };
    assert.equal(Object.keys(shards.groups[0]!.assignments).length, 16);
  });

  test('a stopped node turns unhealthy, readiness and metrics follow, and it recovers after restart', async () => {
    const health = async () =>
      (await (await admin('/_miroir/topology', cluster.adminKey)).json()) as {
        nodes: Array<{ id: string; health: string }>;
        fully_covered: boolean;
      };
    await cluster.stopNode(1);
    await until(
      async () => (await health()).nodes.find((n) => n.id === 'node-1')!.health === 'unhealthy',
      'node-1 unhealthy',
    );
    assert.equal((await health()).fully_covered, false);
    assert.equal((await admin('/_miroir/ready')).status, 503, 'RF=1 with a node down is not fully covered');
    const metricsText = await (await fetch(`http://127.0.0.1:${cluster.app.metricsPort}/metrics`)).text();
    assert.match(metricsText, /miroir_node_healthy\{node_id="node-1"\} 0/);
    assert.match(metricsText, /miroir_shard_coverage 0\.\d+/);
    await cluster.startNode(1);
    await until(async () => (await health()).nodes.every((n) => n.health === 'healthy'), 'node-1 healthy again');
    // It missed writes while down, so it serves reads again once the rebalancer caught it up (RF=1: nothing to copy).
    await until(async () => (await admin('/_miroir/ready')).status === 200, 'ready after catch-up');
    assert.equal(
      (await health()).nodes.some((n) => (n as { catching_up?: boolean }).catching_up === true),
      false,
    );
    const mirror = await (await admin('/_miroir/metrics', cluster.adminKey)).text();
    assert.match(mirror, /miroir_node_healthy\{node_id="node-1"\} 1/);
    assert.match(mirror, /miroir_requests_total\{method="GET",path_template="\/_miroir\/topology",status="200"\}/);
  });
});
