// Anti-entropy with two pods on one Redis store (issue 27, SPEC A8 "Mode A per shard"): the shards are split between
// the live pods (each shard owned by exactly one, both pods scanning), tombstones written through one pod are honored
// by the other's passes, and scheduled passes repair on their own: a document deleted through pod B and put back on
// one node behind Miroir's back is deleted again; one deleted behind Miroir's back is copied back.
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { after, before, describe, test } from 'node:test';
import { Meilisearch } from 'meilisearch';
import { DevNode } from '../../../src/devnode/node.js';
import type { MiroirApp } from '../../../src/main/app.js';
import { shardForKey } from '../../../src/core/hash.js';
import { redisSkip, startRedis, type RedisServer } from '../../support/redis.js';
import { until } from '../../support/wait.js';
import { podConfig, startPod } from '../../support/pods.js';

describe('anti-entropy over two pods sharing one Redis store', { skip: redisSkip() }, () => {
  let redis: RedisServer;
  let nodes: DevNode[];
  let pods: MiroirApp[];
  const master = `master-${randomBytes(6).toString('hex')}`;
  const nodeKey = randomBytes(8).toString('hex');
  const peers = ['http://pod-a.test:7700', 'http://pod-b.test:7700'];

  before(async () => {
    redis = await startRedis();
    nodes = await Promise.all([0, 1].map(() => DevNode.start({ port: 0, masterKey: nodeKey })));
    const cfg = (self: string) =>
      podConfig(
        { nodes, nodeKey, master, redis: { url: redis.url }, rf: 2 },
        {
          peer_discovery: { peers, self },
          leader_election: { lease_ttl_s: 2, renew_interval_s: 1 },
          anti_entropy: { enabled: true, schedule: 'every 1s', max_pages_per_second: 0 },
        },
      );
    pods = [await startPod(cfg(peers[0]!)), await startPod(cfg(peers[1]!))];
  });
  after(async () => {
    for (const p of pods) await p.close();
    await Promise.all(nodes.map((n) => n.stop()));
    await redis.stop();
  });

  async function nodeCall(i: number, method: string, path: string, body?: unknown) {
    const res = await fetch(`${nodes[i]!.url}${path}`, {
      method,
      headers: { authorization: `Bearer ${nodeKey}`, 'content-type': 'application/json' },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    return { status: res.status, json: (await res.json()) as Record<string, unknown> };
  }

  async function behindBack(i: number, method: string, path: string, body: unknown): Promise<void> {
    const { json } = await nodeCall(i, method, path, body);
    await until(
      async () => (await nodeCall(i, 'GET', `/tasks/${json.taskUid as number}`)).json.status === 'succeeded',
      'the node write',
    );
  }

  const has = async (i: number, id: string) =>
    (await nodeCall(i, 'GET', `/indexes/pods/documents/${id}`)).status === 200;

  test('shards split between the pods; passes of either pod repair with the shared tombstones', async () => {
    await until(() => pods.every((p) => p.membership.peers().length === 2), 'both pods live', 15_000);
    for (let s = 0; s < 8; s++)
      assert.equal(pods.filter((p) => p.membership.owns(s)).length, 1, `shard ${s} has one owner`);
    const a = new Meilisearch({ host: pods[0]!.url, apiKey: master });
    const b = new Meilisearch({ host: pods[1]!.url, apiKey: master });
    const docs = Array.from({ length: 40 }, (_, i) => ({ id: i, title: `doc ${i}` }));
    await a.index('pods').addDocuments(docs, { primaryKey: 'id' }).waitTask();
    await b.index('pods').deleteDocument(5).waitTask();
    // Behind Miroir's back: document 5 put back on node-1, document 6 deleted on node-0.
    await behindBack(1, 'POST', '/indexes/pods/documents', [{ ...docs[5], _miroir_shard: shardForKey('5', 8) }]);
    await behindBack(0, 'POST', '/indexes/pods/documents/delete-batch', [6]);
    await until(
      async () => !(await has(1, '5')) && (await has(0, '6')),
      'scheduled passes to repair both nodes',
      20_000,
    );
    // Every shard's status is written by the pod that owns it: once all eight have one, each owner has scanned (the
    // repairs above may all come from one pod's pass before the other pod's first).
    await until(
      async () => (await pods[0]!.store.listAntiEntropyStatus()).filter((s) => s.index === 'pods').length === 8,
      'every shard passed once',
    );
    const scanned = await Promise.all(
      pods.map(async (p) => (await p.metrics.antiEntropyShardsScanned.get()).values[0]?.value ?? 0),
    );
    // Pod ids carry random ports: in about one run of 128 all eight shards land on one pod, which then scans alone.
    assert.ok(
      pods.every((p, i) => scanned[i]! > 0 || ![0, 1, 2, 3, 4, 5, 6, 7].some((s) => p.membership.owns(s))),
      `every pod owning a shard scans: ${scanned.join(', ')}`,
    );
  });
});
