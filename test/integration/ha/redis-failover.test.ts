// HA on production Redis shapes with real processes: two `miroir serve` pods on a Sentinel-managed Redis (primary +
// 2 replicas + 3 Sentinels) under continuous writes and searches while the Redis master is SIGKILLed — after the
// failover no acknowledged write is lost, task uids stay unique and increasing, exactly one rebalance leader; the
// failover gap is measured and printed. Then the same two pods on a 3-master Redis Cluster pass the two-pod checks.
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { after, before, describe, test } from 'node:test';
import { DevNode } from '../../../src/devnode/node.js';
import { startMiroirProcess, type MiroirProcess } from '../../support/miroir-process.js';
import {
  freePort,
  redisClusterSkip,
  redisSentinelSkip,
  startRedisCluster,
  startRedisSentinel,
  type RedisClusterProcs,
  type RedisSentinelProcs,
} from '../../support/redis.js';
import { assertPlacement, seed, waitTasks } from '../../support/topology.js';
import { until } from '../../support/wait.js';

const nodeKey = randomBytes(8).toString('hex');
const master = `master-${randomBytes(6).toString('hex')}`;
const adminKey = `admin-${randomBytes(6).toString('hex')}`;
const headers = { authorization: `Bearer ${master}`, 'content-type': 'application/json' };

async function startPods(taskStore: Record<string, unknown>, nodes: DevNode[]): Promise<MiroirProcess[]> {
  const ports = await Promise.all([0, 1].map(() => freePort()));
  const peers = ports.map((p) => `http://127.0.0.1:${p}`);
  return Promise.all(
    ports.map((port, i) =>
      startMiroirProcess(
        {
          shards: 16,
          replication_factor: 1,
          nodes: nodes.map((n, j) => ({ id: `node-${j}`, address: n.url })),
          master_key: master,
          node_master_key: nodeKey,
          admin: { api_key: adminKey },
          task_store: { backend: 'redis', ...taskStore },
          peer_discovery: { mode: 'static', peers, self: peers[i] },
          leader_election: { lease_ttl_s: 3, renew_interval_s: 1 },
          health: { interval_ms: 200 },
        },
        { POD_NAME: `pod-${i}` },
        port,
      ),
    ),
  );
}

/** A metric's value on a pod (sum over series matching the label filter), through the admin mirror of /metrics. */
async function metric(pod: MiroirProcess, name: string, labels = ''): Promise<number> {
  const text = await (await fetch(`${pod.url}/_miroir/metrics`, { headers: { 'x-admin-key': adminKey } })).text();
  let sum = 0;
  for (const line of text.split('\n'))
    if (line.startsWith(name) && (line[name.length] === ' ' || line[name.length] === '{') && line.includes(labels))
      sum += Number(line.slice(line.lastIndexOf(' ') + 1));
  return sum;
}

/** Leaders of `rebalance` summed over the pods, sampled until it is 1 for `samples` reads in a row. */
async function oneLeader(pods: MiroirProcess[], samples = 10): Promise<void> {
  let streak = 0;
  await until(
    async () => {
      const holders = await Promise.all(pods.map((p) => metric(p, 'miroir_leader', 'scope="rebalance"')));
      streak = holders.reduce((a, b) => a + b, 0) === 1 ? streak + 1 : 0;
      return streak >= samples;
    },
    `exactly one rebalance leader over ${samples} samples`,
    20_000,
    50,
  );
}

interface Load {
  /** Acknowledged task uids per writer (each writer waits for its 202 before the next write). */
  taskUids: number[][];
  /** id → the version of its last acknowledged write. */
  lastVersion: Map<number, number>;
  /** id → versions of refused writes (503: not acknowledged, but the nodes may have taken them, like no quorum). */
  maybe: Map<number, Set<number>>;
  /** [time, status] of every refused or failed request. */
  refused: Array<{ at: number; what: string }>;
  acknowledgedAt: number[];
  searchesOk: number[];
  stop(): Promise<void>;
}

/** Two writers (one per pod) and two searchers, until stopped. */
function startLoad(pods: MiroirProcess[], index: string): Load {
  const load: Load = {
    taskUids: [[], []],
    lastVersion: new Map(),
    maybe: new Map(),
    refused: [],
    acknowledgedAt: [],
    searchesOk: [],
    stop: async () => undefined,
  };
  let running = true;
  let v = 0;
  const writer = async (i: number) => {
    while (running) {
      const ver = ++v;
      // Each writer owns its ids (even / odd): one sequential client per document, so its last 202 is its final state.
      const docs = Array.from({ length: 5 }, () => ({
        id: 2 * Math.floor(Math.random() * 250) + i,
        title: `v${ver}`,
        v: ver,
      }));
      try {
        const res = await fetch(`${pods[i]!.url}/indexes/${index}/documents`, {
          method: 'POST',
          headers,
          body: JSON.stringify(docs),
          signal: AbortSignal.timeout(15_000),
        });
        const body = (await res.json()) as { taskUid?: number; code?: string };
        if (res.status === 202) {
          load.taskUids[i]!.push(body.taskUid!);
          load.acknowledgedAt.push(Date.now());
          for (const d of docs) load.lastVersion.set(d.id, ver);
        } else {
          for (const d of docs) (load.maybe.get(d.id) ?? load.maybe.set(d.id, new Set()).get(d.id)!).add(ver);
          load.refused.push({ at: Date.now(), what: `write ${res.status} ${body.code}` });
          await new Promise((r) => setTimeout(r, 20));
        }
      } catch (err) {
        load.refused.push({ at: Date.now(), what: `write ${String(err)}` });
      }
    }
  };
  const searcher = async (i: number) => {
    while (running) {
      try {
        const res = await fetch(`${pods[i]!.url}/indexes/${index}/search`, {
          method: 'POST',
          headers,
          body: JSON.stringify({ q: 'v', limit: 3 }),
          signal: AbortSignal.timeout(15_000),
        });
        const body = (await res.json()) as { code?: string };
        if (res.status === 200) load.searchesOk.push(Date.now());
        else {
          load.refused.push({ at: Date.now(), what: `search ${res.status} ${body.code}` });
          await new Promise((r) => setTimeout(r, 20));
        }
      } catch (err) {
        load.refused.push({ at: Date.now(), what: `search ${String(err)}` });
      }
    }
  };
  const all = Promise.all([writer(0), writer(1), searcher(0), searcher(1)]);
  load.stop = async () => {
    running = false;
    await all;
  };
  return load;
}

/** Checks shared by both Redis shapes once the load stopped. */
async function checkAfterLoad(pods: MiroirProcess[], nodes: DevNode[], load: Load, index: string): Promise<void> {
  const all = [...load.taskUids[0]!, ...load.taskUids[1]!];
  assert.equal(new Set(all).size, all.length, 'task uids are unique across pods');
  for (const list of load.taskUids)
    assert.deepEqual(
      list,
      [...list].sort((a, b) => a - b),
      'each writer saw increasing task uids',
    );
  // Every acknowledged task is still known and finishes.
  await waitTasks(pods[1]!.url, master, all, 120_000);
  const docs = await assertPlacement(
    nodes.map((n, i) => ({ id: `node-${i}`, url: n.url, group: 0 })),
    nodeKey,
    index,
    16,
    1,
  );
  // The last acknowledged version, unless a refused write (its outcome unknown to the client) landed after it.
  for (const [id, ver] of load.lastVersion) {
    const v = docs.get(id)!.v as number;
    assert.ok(
      v === ver || load.maybe.get(id)?.has(v) === true,
      `document ${id} keeps its last acknowledged version ${ver} (has ${v})`,
    );
  }
  await oneLeader(pods);
}

describe('two pods on Sentinel-managed Redis, master killed under load', { skip: redisSentinelSkip() }, () => {
  let redis: RedisSentinelProcs;
  let nodes: DevNode[];
  let pods: MiroirProcess[] = [];
  before(async () => {
    redis = await startRedisSentinel({ replicas: 2 });
    nodes = await Promise.all([0, 1, 2].map(() => DevNode.start({ port: 0, masterKey: nodeKey })));
    pods = await startPods({ redis: { sentinels: redis.sentinels, name: redis.name } }, nodes);
  });
  after(async () => {
    await Promise.all(pods.map((p) => p.stop().catch(() => undefined)));
    await Promise.all(nodes.map((n) => n.stop()));
    await redis.stop();
  });

  test('0 acknowledged writes lost, uids unique and increasing, one rebalance leader; the gap measured', async (t) => {
    await seed(pods[0]!.url, master, 'items', 500);
    await oneLeader(pods);
    const load = startLoad(pods, 'items');
    try {
      await until(
        () => load.taskUids[0]!.length > 20 && load.taskUids[1]!.length > 20,
        'writes through both pods',
        30_000,
      );
      const oldMaster = await redis.masterPort();
      const killedAt = Date.now();
      await redis.servers.find((s) => s.port === oldMaster)!.kill();
      const deadAt = Date.now();
      await until(async () => (await redis.masterPort()) !== oldMaster, 'the Sentinels to promote a replica', 30_000);
      const promotedAt = Date.now();
      await until(
        () => load.acknowledgedAt.filter((at) => at > promotedAt).length > 40,
        'writes acknowledged after the failover',
        60_000,
      );
      await load.stop();
      const firstWriteAfter = Math.min(...load.acknowledgedAt.filter((at) => at > deadAt));
      const lastWriteBefore = Math.max(...load.acknowledgedAt.filter((at) => at <= killedAt));
      const firstSearchAfter = Math.min(...load.searchesOk.filter((at) => at > deadAt));
      const refusedDuring = load.refused.filter((r) => r.at >= killedAt);
      const kinds = [...new Set(refusedDuring.map((r) => r.what))];
      t.diagnostic(
        `Sentinel failover: master SIGKILLed, replica promoted after ${promotedAt - killedAt} ms; writes paused ` +
          `${firstWriteAfter - lastWriteBefore} ms (first acknowledged write ${firstWriteAfter - killedAt} ms after the kill); ` +
          `first search after the kill at +${firstSearchAfter - killedAt} ms; ${refusedDuring.length} requests refused meanwhile ` +
          `(${kinds.join(', ') || 'none'}); ${load.acknowledgedAt.length} writes acknowledged in all`,
      );
      process.stdout.write(`# failover gap (writes) ${firstWriteAfter - lastWriteBefore} ms\n`);
      // A hang is reported with the pods' last log lines (warn and above), to say where it waited.
      const podLogs = () => pods.map((p, i) => `pod-${i}:\n${p.output.slice(-15).join('\n')}`).join('\n');
      for (const r of refusedDuring)
        assert.match(
          r.what,
          /^(write|search) 50[03] /,
          `a refusal is a clear 5xx, not a hang: ${r.what}\n${podLogs()}`,
        );
      await checkAfterLoad(pods, nodes, load, 'items');
    } finally {
      await load.stop();
    }
  });
});

describe('two pods on a 3-master Redis Cluster', { skip: redisClusterSkip() }, () => {
  let redis: RedisClusterProcs;
  let nodes: DevNode[];
  let pods: MiroirProcess[] = [];
  before(async () => {
    redis = await startRedisCluster();
    nodes = await Promise.all([0, 1, 2].map(() => DevNode.start({ port: 0, masterKey: nodeKey })));
    pods = await startPods({ redis: { cluster: redis.urls } }, nodes);
  });
  after(async () => {
    await Promise.all(pods.map((p) => p.stop().catch(() => undefined)));
    await Promise.all(nodes.map((n) => n.stop()));
    await redis.stop();
  });

  test('writes and searches through both pods: uids unique and increasing, nothing lost, one leader', async () => {
    await seed(pods[0]!.url, master, 'items', 500);
    const load = startLoad(pods, 'items');
    try {
      await until(
        () => load.taskUids[0]!.length > 30 && load.taskUids[1]!.length > 30,
        'writes through both pods',
        30_000,
      );
    } finally {
      await load.stop();
    }
    assert.deepEqual(load.refused, [], 'nothing refused');
    await checkAfterLoad(pods, nodes, load, 'items');
  });

  test('a key created through pod A works through pod B (pub/sub across the cluster)', async () => {
    const created = await fetch(`${pods[0]!.url}/keys`, {
      method: 'POST',
      headers,
      body: JSON.stringify({ actions: ['search'], indexes: ['*'], expiresAt: null }),
    });
    const key = ((await created.json()) as { key: string }).key;
    await until(
      async () =>
        (
          await fetch(`${pods[1]!.url}/indexes/items/search`, {
            method: 'POST',
            headers: { authorization: `Bearer ${key}`, 'content-type': 'application/json' },
            body: '{}',
          })
        ).status === 200,
      'the key reaching pod B',
    );
  });
});
