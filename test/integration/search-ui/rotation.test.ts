// Scoped-key rotation with two Miroir pods on one Redis store (real redis-server): page searches — the exact
// requests the page sends (a session token from `/ui/search/movies/session`, then POST /multi-search with it) — run
// on both pods before, during and after a rotation and none fails; the old key stays until both pods beacon the new
// generation: pod B is known alive (its membership lease is held) but not started when pod A rotates, so the old key
// must survive until B starts and beacons.
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { after, before, describe, test } from 'node:test';
import { DevNode } from '../../../src/devnode/node.js';
import type { MiroirApp } from '../../../src/main/app.js';
import { RedisStore } from '../../../src/store/redis.js';
import { freePort, redisSkip, startRedis, type RedisServer } from '../../support/redis.js';
import { MOVIES } from '../../support/search-ui.js';
import { until } from '../../support/wait.js';
import { podConfig, startPod } from '../../support/pods.js';

let redis: RedisServer;
let nodes: DevNode[];
let probe: RedisStore;
const pods: MiroirApp[] = [];
const master = `master-${randomBytes(6).toString('hex')}`;
const admin = `admin-${randomBytes(6).toString('hex')}`;
let cfgFor: (port: number) => ReturnType<typeof podConfig>;
let ports: number[];

describe('scoped-key rotation with two pods on one Redis store', { skip: redisSkip() }, () => {
  before(async () => {
    process.env.SEARCH_UI_JWT_SECRET = randomBytes(48).toString('base64');
    redis = await startRedis();
    probe = await RedisStore.open({ url: redis.url });
    const nodeKey = randomBytes(8).toString('hex');
    nodes = await Promise.all([0, 1].map(() => DevNode.start({ port: 0, masterKey: nodeKey })));
    ports = [await freePort(), await freePort()];
    cfgFor = (port) =>
      podConfig(
        { nodes, nodeKey, master, admin, redis: { url: redis.url }, port },
        {
          peer_discovery: { peers: ports.map((p) => `http://127.0.0.1:${p}`), self: `http://127.0.0.1:${port}` },
          leader_election: { lease_ttl_s: 3, renew_interval_s: 1 },
          search_ui: {
            enabled: true,
            scoped_key_rotation_drain_s: 0,
            rate_limit: { per_ip: '100000/minute' },
            auth: { session_rate_limit: '100000/minute' },
          },
        },
      );
  });
  after(async () => {
    for (const p of pods) await p.close();
    await probe?.close();
    await Promise.all((nodes ?? []).map((n) => n.stop()));
    await redis?.stop();
  });

  /** One page search on a pod: a session, then the page's multi-search with its token. Answers the HTTP status. */
  async function pageSearch(url: string, q: string, token?: string): Promise<{ status: number; token: string }> {
    let t = token;
    if (t === undefined) {
      const s = await fetch(`${url}/ui/search/movies/session`);
      if (s.status !== 200) return { status: s.status, token: '' };
      t = ((await s.json()) as { token: string }).token;
    }
    const res = await fetch(`${url}/multi-search`, {
      method: 'POST',
      headers: { authorization: `Bearer ${t}`, 'content-type': 'application/json' },
      body: JSON.stringify({ queries: [{ indexUid: 'movies', q, limit: 3 }] }),
    });
    await res.arrayBuffer();
    return { status: res.status, token: t };
  }

  const keyExists = async (uid: string) => (await probe.getKey(uid)) !== null;

  test('a rotation with two pods: no failed page search, and the old key is revoked only after both pods beacon', async () => {
    const podUrls = ports.map((p) => `http://127.0.0.1:${p}`);
    // Pod B is alive as far as membership goes (its lease is held) but not started yet.
    const holdB = setInterval(() => void probe.acquireLease(`pod:${podUrls[1]}`, 'test-holder', 3000), 500);
    await probe.acquireLease(`pod:${podUrls[1]}`, 'test-holder', 3000);
    pods.push(await startPod(cfgFor(ports[0]!)));
    const a = pods[0]!;
    const auth = { authorization: `Bearer ${master}`, 'content-type': 'application/json' };
    await fetch(`${a.url}/indexes`, {
      method: 'POST',
      headers: auth,
      body: JSON.stringify({ uid: 'movies', primaryKey: 'id' }),
    });
    const added = (await (
      await fetch(`${a.url}/indexes/movies/documents`, { method: 'POST', headers: auth, body: JSON.stringify(MOVIES) })
    ).json()) as { taskUid: number };
    await until(
      async () =>
        ((await (await fetch(`${a.url}/tasks/${added.taskUid}`, { headers: auth })).json()) as { status: string })
          .status === 'succeeded',
      'documents indexed',
    );

    // Background page searches on every started pod, each with a session token (renewed on every tenth search).
    const statuses: number[] = [];
    let stop = false;
    const loops = [0, 1].map(async (i) => {
      let token: string | undefined;
      for (let n = 0; !stop; n++) {
        if (pods[i] === undefined) {
          await new Promise((r) => setTimeout(r, 20));
          continue;
        }
        const r = await pageSearch(
          pods[i]!.url,
          ['dune', 'inception', 'heat'][n % 3]!,
          n % 10 === 0 ? undefined : token,
        );
        token = r.token;
        statuses.push(r.status);
      }
    });
    await until(() => statuses.length >= 20, 'page searches on pod A');
    const first = (await probe.getScopedKey('movies'))!;
    assert.equal(first.generation, 1);

    const rotated = await fetch(`${a.url}/_miroir/ui/search/movies/rotate-scoped-key`, {
      method: 'POST',
      headers: { 'x-admin-key': admin, 'content-type': 'application/json' },
      body: '{"force":false}',
    });
    assert.equal(rotated.status, 200);
    const result = (await rotated.json()) as {
      old_key_id: string;
      new_key_id: string;
      generation: number;
      rotated_at: string;
    };
    assert.equal(result.old_key_id, first.primary_uid);
    assert.equal(result.generation, 2);
    assert.ok(!Number.isNaN(Date.parse(result.rotated_at)));
    const again = await fetch(`${a.url}/_miroir/ui/search/movies/rotate-scoped-key`, {
      method: 'POST',
      headers: { 'x-admin-key': admin },
    });
    assert.equal(again.status, 409, 'a second rotation waits for the first to drain');
    assert.equal(((await again.json()) as { code: string }).code, 'miroir_rotation_in_progress');

    // Pod A beacons generation 2; pod B (alive, silent) has not: the old key must stay.
    await until(
      async () => (await probe.getScopedKeyObserved('movies', [podUrls[0]!]))[podUrls[0]!] === 2,
      'pod A beaconing generation 2',
    );
    const countAfterBeaconA = statuses.length;
    await until(() => statuses.length >= countAfterBeaconA + 30, 'more page searches on pod A');
    assert.ok(await keyExists(result.old_key_id), 'the old key outlives a pod that has not beaconed');
    assert.equal((await probe.getScopedKey('movies'))!.previous_uid, result.old_key_id);

    // Pod B starts (serving page searches at once), adopts generation 2, beacons: only now is the old key revoked.
    clearInterval(holdB);
    await probe.releaseLease(`pod:${podUrls[1]}`, 'test-holder');
    pods.push(await startPod(cfgFor(ports[1]!)));
    await until(async () => !(await keyExists(result.old_key_id)), 'the old key to be revoked', 20_000);
    const observed = await probe.getScopedKeyObserved('movies', podUrls);
    assert.deepEqual(
      observed,
      { [podUrls[0]!]: 2, [podUrls[1]!]: 2 },
      'both pods beaconed generation 2 before the revocation',
    );
    assert.equal((await probe.getScopedKey('movies'))!.previous_uid, null);
    assert.ok(await keyExists(result.new_key_id));

    const countAfterRevocation = statuses.length;
    await until(() => statuses.length >= countAfterRevocation + 30, 'page searches after the revocation');
    stop = true;
    await Promise.all(loops);
    const failed = statuses.filter((s) => s !== 200);
    assert.deepEqual(failed, [], `${failed.length} of ${statuses.length} page searches failed`);

    // A zero-hit page query and a click-through beacon are counted.
    const zero = await pageSearch(a.url, 'qqqqzzzz');
    assert.equal(zero.status, 200);
    const click = await fetch(`${a.url}/ui/search/movies/beacon`, {
      method: 'POST',
      headers: { authorization: `Bearer ${zero.token}`, 'content-type': 'application/json' },
      body: JSON.stringify({ type: 'click', position: 1, query: 'dune' }),
    });
    assert.equal(click.status, 204);
    const text = await (await fetch(`http://127.0.0.1:${a.metricsPort}/metrics`)).text();
    assert.match(text, /miroir_search_ui_zero_hits_total\{index="movies"\} 1\b/);
    assert.match(text, /miroir_search_ui_click_through_total\{index="movies"\} 1\b/);
    assert.match(text, /miroir_search_ui_queries_total\{index="movies"\} \d+/);
    assert.match(text, /miroir_search_ui_p95_ms\{index="movies"\} [\d.]+/);
    assert.match(text, /miroir_search_ui_sessions_total \d+/);
  });
});
