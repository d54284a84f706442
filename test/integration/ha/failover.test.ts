// High availability with real processes: Miroir pods (`miroir serve`) sharing a real redis-server in front of real dev
// nodes. Killing a pod under load loses no acknowledged write and fails no request for a client that retries once
// on a connection error; the survivor finishes the dead pod's tasks and takes over the rebalance lease. With three
// pods every lease has one holder, Mode A ownership covers every shard once (also after 3 → 2), and a shard move
// claimed by a killed pod resumes elsewhere from its cursor.
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { after, before, describe, test } from 'node:test';
import { DevNode } from '../../../src/devnode/node.js';
import { RedisStore } from '../../../src/store/redis.js';
import type { MoveCursor } from '../../../src/main/rebalance/shard-mover.js';
import { startMiroirProcess, type MiroirProcess } from '../../support/miroir-process.js';
import { freePort, redisSkip, startRedis, type RedisServer } from '../../support/redis.js';
import { adminCall, assertPlacement, seed, waitRebalanced, waitTasks } from '../../support/topology.js';
import { until } from '../../support/wait.js';

const nodeKey = randomBytes(8).toString('hex');
const master = `master-${randomBytes(6).toString('hex')}`;
const adminKey = `admin-${randomBytes(6).toString('hex')}`;

async function startPods(
  redis: RedisServer,
  nodes: DevNode[],
  count: number,
  extra: Record<string, unknown> = {},
): Promise<MiroirProcess[]> {
  const ports = await Promise.all(Array.from({ length: count }, () => freePort()));
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
          task_store: { backend: 'redis', url: redis.url },
          peer_discovery: { mode: 'static', peers, self: peers[i] },
          leader_election: { lease_ttl_s: 3, renew_interval_s: 1 },
          health: { interval_ms: 200 },
          ...extra,
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

describe('two pods, one killed under load', { skip: redisSkip() }, () => {
  let redis: RedisServer;
  let nodes: DevNode[];
  let pods: MiroirProcess[] = [];
  before(async () => {
    redis = await startRedis();
    nodes = await Promise.all([0, 1, 2].map(() => DevNode.start({ port: 0, masterKey: nodeKey })));
    pods = await startPods(redis, nodes, 2);
  });
  after(async () => {
    await Promise.all(pods.map((p) => p.stop().catch(() => undefined)));
    await Promise.all(nodes.map((n) => n.stop()));
    await redis.stop();
  });

  test('clients that retry once see no failure and lose no acknowledged write; the survivor takes over', async (t) => {
    await seed(pods[0]!.url, master, 'items', 1000);
    const alive = [true, true];
    /** Sends to pod `i`, or once more to the other pod when the connection fails. */
    const send = async (i: number, path: string, init: RequestInit): Promise<Response> => {
      const order = alive[i] ? [i, 1 - i] : [1 - i];
      let last: unknown;
      for (const p of order.slice(0, 2)) {
        try {
          return await fetch(`${pods[p]!.url}${path}`, init);
        } catch (err) {
          last = err;
        }
      }
      throw last;
    };
    const failures: string[] = [];
    const lastVersion = new Map<number, number>();
    const taskUids: number[][] = [[], []];
    let running = true;
    let v = 0;
    const headers = { authorization: `Bearer ${master}`, 'content-type': 'application/json' };
    const writer = (async () => {
      for (let n = 0; running; n++) {
        const ver = ++v;
        const docs = Array.from({ length: 5 }, () => ({
          id: Math.floor(Math.random() * 1000),
          title: `v${ver}`,
          v: ver,
        }));
        try {
          const res = await send(n % 2, '/indexes/items/documents', {
            method: 'POST',
            headers,
            body: JSON.stringify(docs),
          });
          if (res.status !== 202) failures.push(`write ${res.status} ${await res.text()}`);
          else {
            const uid = ((await res.json()) as { taskUid: number }).taskUid;
            taskUids[n % 2]!.push(uid);
            for (const d of docs) lastVersion.set(d.id, ver);
          }
        } catch (err) {
          failures.push(`write ${String(err)}`);
        }
      }
    })();
    const searcher = (async () => {
      for (let n = 0; running; n++) {
        try {
          const res = await send(n % 2, '/indexes/items/search', {
            method: 'POST',
            headers,
            body: JSON.stringify({ q: 'v', limit: 3 }),
          });
          if (res.status !== 200) failures.push(`search ${res.status}`);
        } catch (err) {
          failures.push(`search ${String(err)}`);
        }
      }
    })();
    await until(() => taskUids[0]!.length > 20 && taskUids[1]!.length > 20, 'writes through both pods', 30_000).catch(
      async (err) => {
        running = false;
        await Promise.all([writer, searcher]);
        throw err;
      },
    );
    const leaderBefore = [
      await metric(pods[0]!, 'miroir_leader', 'scope="rebalance"'),
      await metric(pods[1]!, 'miroir_leader', 'scope="rebalance"'),
    ];
    assert.equal(leaderBefore[0]! + leaderBefore[1]!, 1, 'one rebalance leader');
    // Kill the leader, so the survivor has to take over leader-only work.
    const victim = leaderBefore[0] === 1 ? 0 : 1;
    const survivor = pods[1 - victim]!;
    alive[victim] = false;
    await pods[victim]!.kill();
    const killedAt = Date.now();
    await until(
      async () => (await metric(survivor, 'miroir_leader', 'scope="rebalance"')) === 1,
      'the survivor leading',
      15_000,
      50,
    );
    const takeover = Date.now() - killedAt;
    const atKill = taskUids[0]!.length + taskUids[1]!.length;
    try {
      await until(() => taskUids[0]!.length + taskUids[1]!.length > atKill + 40, 'more writes after the kill', 30_000);
    } finally {
      running = false;
      await Promise.all([writer, searcher]);
    }
    assert.deepEqual(failures, []);
    t.diagnostic(
      `leader take-over ${takeover} ms after SIGKILL (lease TTL 3 s, renew 1 s); ${taskUids[0]!.length + taskUids[1]!.length} writes acknowledged`,
    );
    // Every task either pod acknowledged finishes, read through the survivor.
    const all = [...taskUids[0]!, ...taskUids[1]!];
    assert.equal(new Set(all).size, all.length, 'task uids are unique across pods');
    for (const list of taskUids)
      assert.deepEqual(
        list,
        [...list].sort((a, b) => a - b),
        'increasing per client sequence',
      );
    await waitTasks(survivor.url, master, all);
    const docs = await assertPlacement(
      nodes.map((n, i) => ({ id: `node-${i}`, url: n.url, group: 0 })),
      nodeKey,
      'items',
      16,
      1,
    );
    for (const [id, ver] of lastVersion)
      assert.equal(docs.get(id)!.v, ver, `document ${id} keeps its last acknowledged version`);
  });
});

describe(
  'three pods: leases, Mode A ownership and a shard move taken over from a killed pod',
  { skip: redisSkip() },
  () => {
    let redis: RedisServer;
    let nodes: DevNode[];
    let pods: MiroirProcess[] = [];
    let store: RedisStore;
    before(async () => {
      redis = await startRedis();
      nodes = await Promise.all([0, 1, 2, 3].map(() => DevNode.start({ port: 0, masterKey: nodeKey })));
      pods = await startPods(redis, nodes.slice(0, 3), 3, { shards: 64, rebalancer: { max_concurrent_migrations: 1 } });
      store = await RedisStore.open({ url: redis.url });
    });
    after(async () => {
      await store.close();
      await Promise.all(pods.map((p) => p.stop().catch(() => undefined)));
      await Promise.all(nodes.map((n) => n.stop()));
      await redis.stop();
    });

    test("one holder per lease, every shard owned exactly once (3 → 2 pods too), a killed pod's job resumes from its cursor", async () => {
      const owned = async (list: MiroirProcess[]) =>
        (await Promise.all(list.map((p) => metric(p, 'miroir_owned_shards_count')))).reduce((a, b) => a + b, 0);
      await until(
        async () => (await owned(pods)) === 64 && (await metric(pods[0]!, 'miroir_peer_pod_count')) === 3,
        'three live pods sharing 64 shards',
      );
      for (let sample = 0; sample < 20; sample++) {
        const holders = await Promise.all(pods.map((p) => metric(p, 'miroir_leader', 'scope="rebalance"')));
        assert.equal(
          holders.reduce((a, b) => a + b, 0),
          1,
          `exactly one rebalance leader at sample ${sample}`,
        );
      }
      await seed(pods[0]!.url, master, 'items', 3000);
      await fetch(`${nodes[3]!.url}/_devnode/faults`, {
        method: 'POST',
        headers: { authorization: `Bearer ${nodeKey}`, 'content-type': 'application/json' },
        body: JSON.stringify({ delay_ms: 20 }),
      });
      const added = await adminCall(pods[1]!.url, adminKey, 'POST', '/_miroir/nodes', {
        id: 'node-3',
        address: nodes[3]!.url,
        replica_group: 0,
      });
      assert.equal(added.status, 202);
      // Wait for a shard move that has made progress, then kill the pod running it.
      let claimed: { id: string; owner: string; copied: number } | null = null;
      await until(
        async () => {
          const job = (await store.listJobs()).find(
            (j) => j.state === 'in_progress' && ((j.cursor as MoveCursor | null)?.copied ?? 0) > 0,
          );
          if (job !== undefined) claimed = { id: job.id, owner: job.owner!, copied: (job.cursor as MoveCursor).copied };
          return job !== undefined;
        },
        'a shard move in progress',
        60_000,
        5,
      );
      const victim = Number(claimed!.owner.replace('pod-', ''));
      await pods[victim]!.kill();
      await fetch(`${nodes[3]!.url}/_devnode/faults/reset`, {
        method: 'POST',
        headers: { authorization: `Bearer ${nodeKey}` },
      });
      const rest = pods.filter((_, i) => i !== victim);
      await until(
        async () => {
          const j = await store.getJob(claimed!.id);
          return j !== null && j.owner !== claimed!.owner && j.attempts >= 2;
        },
        'the job claimed by another pod after its lease lapsed',
        60_000,
        100,
      );
      const resumedCursor = (await store.getJob(claimed!.id))!.cursor as MoveCursor;
      assert.ok(resumedCursor.copied >= claimed!.copied, 'resumed from its cursor, not from scratch');
      const status = await waitRebalanced(rest[0]!.url, adminKey, 120_000);
      assert.equal(status.operations.at(-1).phase, 'done');
      await assertPlacement(
        nodes.map((n, i) => ({ id: `node-${i}`, url: n.url, group: 0 })),
        nodeKey,
        'items',
        64,
        1,
      );
      // 3 → 2 pods: the dead pod's shards are redistributed over the two live ones.
      await until(
        async () => (await owned(rest)) === 64 && (await metric(rest[0]!, 'miroir_peer_pod_count')) === 2,
        'two live pods sharing 64 shards',
        15_000,
        100,
      );
    });
  },
);
