// Canaries across two pods sharing a Redis store (SPEC A18 "Mode A by id"): a canary created through one pod is
// seen by both; each canary runs on exactly one live pod (rendezvous on `canary:<name>`), status reads the same
// through either pod, and when a pod stops its canaries move to the survivor.
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { after, before, describe, test } from 'node:test';
import { Meilisearch } from 'meilisearch';
import { DevNode } from '../../../src/devnode/node.js';
import type { MiroirApp } from '../../../src/main/app.js';
import { freePort, redisSkip, startRedis, type RedisServer } from '../../support/redis.js';
import { until } from '../../support/wait.js';
import { podConfig, startPod } from '../../support/pods.js';

/**
 * Six or more canary names that land on both pods: pod ids carry random ports, so a fixed list of six would all
 * land on one pod in about one run of 32. Ownership is asked of the pods themselves, the same rendezvous they run.
 */
function namesOnBothPods(owns: (item: string) => boolean): string[] {
  const names: string[] = [];
  for (
    let i = 0;
    i < 1000 &&
    (names.length < 6 || names.every((n) => owns(`canary:${n}`)) || !names.some((n) => owns(`canary:${n}`)));
    i++
  )
    names.push(`c-${i}`);
  return names;
}

describe('canaries on two pods', { skip: redisSkip() }, () => {
  let redis: RedisServer;
  let nodes: DevNode[];
  const pods: MiroirApp[] = [];
  const master = `master-${randomBytes(6).toString('hex')}`;
  const admin = 'admin-key';

  before(async () => {
    redis = await startRedis();
    const nodeKey = randomBytes(8).toString('hex');
    nodes = await Promise.all([0, 1].map(() => DevNode.start({ port: 0, masterKey: nodeKey })));
    const ports = [await freePort(), await freePort()];
    for (const port of ports)
      pods.push(
        await startPod(
          podConfig(
            { nodes, nodeKey, master, admin, redis: { url: redis.url }, port },
            {
              peer_discovery: { peers: ports.map((p) => `http://127.0.0.1:${p}`), self: `http://127.0.0.1:${port}` },
              leader_election: { lease_ttl_s: 3, renew_interval_s: 1 },
              canary_runner: { enabled: true },
            },
          ),
        ),
      );
  });
  after(async () => {
    for (const p of pods) await p.close();
    await Promise.all((nodes ?? []).map((n) => n.stop()));
    await redis?.stop();
  });

  /** Canaries that have run on pod `i` (a runs counter above 0). */
  async function ranOn(i: number): Promise<Set<string>> {
    const text = await (await fetch(`http://127.0.0.1:${pods[i]!.metricsPort}/metrics`)).text();
    const out = new Set<string>();
    for (const m of text.matchAll(/^miroir_canary_runs_total\{canary="([^"]+)",result="[a-z]+"\} (\d+)/gm))
      if (Number(m[2]) > 0) out.add(m[1]!);
    return out;
  }

  test('each canary runs on one pod, status is shared, and a stopped pod hands its canaries over', async () => {
    const ms = new Meilisearch({ host: pods[0]!.url, apiKey: master });
    await ms
      .index('movies')
      .addDocuments([{ id: 1, title: 'Alien' }])
      .waitTask();
    await until(() => pods.every((p) => p.membership.peers().length === 2), 'both pods seeing each other');
    const NAMES = namesOnBothPods((item) => pods[0]!.membership.owns(item));
    for (const name of NAMES) {
      const res = await fetch(`${pods[0]!.url}/_miroir/canaries`, {
        method: 'POST',
        headers: { authorization: `Bearer ${admin}`, 'content-type': 'application/json' },
        body: JSON.stringify({
          name,
          index: 'movies',
          interval_s: 1,
          query: { q: 'alien' },
          assertions: [{ type: 'top_hit_id', id: 1 }],
        }),
      });
      assert.equal(res.status, 201);
    }
    const status = async (i: number) =>
      (await (
        await fetch(`${pods[i]!.url}/_miroir/canaries/status`, { headers: { authorization: `Bearer ${admin}` } })
      ).json()) as Array<{ name: string; state: string }>;
    await until(
      async () => (await status(1)).filter((s) => s.state === 'passing').length === NAMES.length,
      'every canary passing, read through the other pod',
    );
    const [a, b] = [await ranOn(0), await ranOn(1)];
    assert.deepEqual([...new Set([...a, ...b])].sort(), [...NAMES].sort(), 'every canary ran');
    assert.deepEqual(
      [...a].filter((n) => b.has(n)),
      [],
      'no canary ran on both pods',
    );
    assert.ok(a.size > 0 && b.size > 0, `both pods run some (${[...a]} / ${[...b]})`);
    const moved = [...b];
    await pods[1]!.close();
    pods.pop();
    await until(
      async () => {
        const now = await ranOn(0);
        return moved.every((n) => now.has(n));
      },
      "the stopped pod's canaries running on the survivor",
      15_000,
    );
  });
});
