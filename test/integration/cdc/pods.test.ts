// CDC with two pods on one Redis store (a redis-server, then a 3-master Redis Cluster: the change log's keys share
// one hash tag): writes through either pod land in one log in task order, a long-poll on one pod is woken by the
// other pod's append, the webhook sink runs on the pod holding its lease, and the other pod takes over when it goes.
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, before, describe, test } from 'node:test';
import { DevNode } from '../../../src/devnode/node.js';
import type { MiroirApp } from '../../../src/main/app.js';
import { REDIS_SHAPES, type SharedRedis } from '../../support/redis.js';
import { until } from '../../support/wait.js';
import { podConfig, startPod } from '../../support/pods.js';

interface Event {
  event_id: number;
  mtask_id: number;
  index: string;
  primary_keys: string[];
}

for (const shape of REDIS_SHAPES)
  describe(`CDC with two pods on one Redis store (${shape.name})`, { skip: shape.skip() }, () => {
    let redis: SharedRedis;
    let nodes: DevNode[];
    const pods: MiroirApp[] = [];
    const open = new Set<MiroirApp>();
    const master = `master-${randomBytes(6).toString('hex')}`;
    let hook: Server;
    const received: Event[] = [];

    before(async () => {
      redis = await shape.start();
      hook = createServer((req, res) => {
        const chunks: Buffer[] = [];
        req.on('data', (c: Buffer) => chunks.push(c));
        req.on('end', () => {
          received.push(...(JSON.parse(Buffer.concat(chunks).toString()) as Event[]));
          res.writeHead(200).end();
        });
      });
      await new Promise<void>((r) => hook.listen(0, '127.0.0.1', () => r()));
      const nodeKey = randomBytes(8).toString('hex');
      nodes = await Promise.all([0, 1].map(() => DevNode.start({ port: 0, masterKey: nodeKey })));
      const cfg = podConfig(
        { nodes, nodeKey, master, redis: redis.taskStore, shards: 4 },
        {
          leader_election: { lease_ttl_s: 2, renew_interval_s: 1 },
          cdc: {
            enabled: true,
            sinks: {
              webhook: {
                url: `http://127.0.0.1:${(hook.address() as AddressInfo).port}/`,
                batch_size: 10,
                batch_flush_ms: 0,
              },
            },
          },
        },
      );
      for (let i = 0; i < 2; i++) {
        const p = await startPod(cfg);
        pods.push(p);
        open.add(p);
      }
    });
    after(async () => {
      for (const p of open) await p.close();
      await Promise.all(nodes.map((n) => n.stop()));
      await new Promise<void>((r) => hook.close(() => r()));
      await redis.stop();
    });

    const write = async (pod: MiroirApp, id: string): Promise<number> => {
      const res = await fetch(`${pod.url}/indexes/things/documents`, {
        method: 'POST',
        headers: { authorization: `Bearer ${master}`, 'content-type': 'application/json' },
        body: JSON.stringify([{ id, n: 1 }]),
      });
      assert.equal(res.status, 202, await res.clone().text());
      return ((await res.json()) as { taskUid: number }).taskUid;
    };
    const poll = async (pod: MiroirApp, since: number, timeoutMs: number) => {
      const res = await fetch(`${pod.url}/_miroir/changes?since=${since}&timeout_ms=${timeoutMs}&limit=1000`, {
        headers: { 'x-admin-key': 'admin' },
      });
      assert.equal(res.status, 200);
      return (await res.json()) as { events: Event[]; next: number };
    };

    test('writes through either pod form one log in task order; a long-poll is woken by the other pod', async () => {
      const tasks: number[] = [];
      for (let i = 0; i < 12; i++) tasks.push(await write(pods[i % 2]!, `d${i}`));
      const all = await poll(pods[1]!, 0, 0);
      assert.deepEqual(
        all.events.map((e) => e.mtask_id),
        tasks,
      );
      assert.deepEqual(
        all.events.map((e) => e.event_id),
        tasks.map((_, i) => i + 1),
      );
      // Pod B waits (up to 20 s) for what pod A appends next.
      const waiting = poll(pods[1]!, all.next, 20_000);
      const uid = await write(pods[0]!, 'late');
      const woke = await waiting;
      assert.deepEqual(
        woke.events.map((e) => [e.mtask_id, e.primary_keys]),
        [[uid, ['late']]],
      );
      await until(
        () => tasks.concat(uid).every((u) => received.some((e) => e.mtask_id === u)),
        'the webhook to get every write',
        20_000,
      );
    });

    test('the webhook sink runs on the lease holder and moves to the other pod when it stops', async () => {
      const lease = await pods[0]!.store.getLease('cdc_sink:webhook');
      assert.ok(lease !== null);
      const holder = pods.find((p) => p.podId === lease.owner)!;
      const other = pods.find((p) => p !== holder)!;
      assert.ok(holder !== undefined && other !== undefined, 'one of the pods holds the sink lease');
      await holder.close();
      open.delete(holder);
      const uid = await write(other, 'after-failover');
      await until(() => received.some((e) => e.mtask_id === uid), 'the other pod to deliver', 20_000);
      assert.equal((await other.store.getLease('cdc_sink:webhook'))?.owner, other.podId);
    });
  });
