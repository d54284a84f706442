// CDC (SPEC A13, Round 2 decisions "CDC", issue 28): a writer under load with CDC on, the Miroir process SIGKILLed
// twice mid-run and started again on its LMDB store; every acknowledged write is then in the long-poll stream, at a
// webhook receiver (signed, retried) and at a NATS JetStream consumer, at least once and in task order per index; a
// shard move (node addition) logs nothing (it is counted as suppressed).
import assert from 'node:assert/strict';
import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { promisify } from 'node:util';
import { createHmac, randomBytes } from 'node:crypto';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, before, describe, test } from 'node:test';
import { connect, JSONCodec, AckPolicy, DeliverPolicy, type NatsConnection } from 'nats';
import { DevNode } from '../../../src/devnode/node.js';
import { findBinary, requireBinary } from '../../support/binaries.js';
import { cliPath, tempDir } from '../../support/devnode.js';
import { startMiroirProcess, type MiroirProcess } from '../../support/miroir-process.js';
import { freePort } from '../../support/redis.js';
import { adminCall, waitRebalanced } from '../../support/topology.js';
import { until } from '../../support/wait.js';

interface Event {
  event_id: number;
  mtask_id: number | null;
  index: string;
  operation: string;
  primary_keys: string[] | null;
  origin?: string;
}

// Debian installs nats-server under /usr/sbin, which a non-root PATH may lack.
const natsBin = findBinary('nats-server', ['/usr/sbin']);
const skip = natsBin !== null ? false : requireBinary('nats-server', 'nats-server');
const nodeKey = randomBytes(8).toString('hex');
const master = `master-${randomBytes(6).toString('hex')}`;
const adminKey = 'admin-cdc';
const secret = randomBytes(16).toString('hex');
const INDEXES = ['books', 'films'];

/** Every acknowledged task is among the events with its keys, and the first arrivals of each index are in task order. */
function assertDelivered(where: string, events: readonly Event[], acked: ReadonlyMap<number, Acked>): void {
  const byTask = new Map<number, Event>();
  for (const e of events) if (e.mtask_id !== null && !byTask.has(e.mtask_id)) byTask.set(e.mtask_id, e);
  for (const [uid, a] of acked) {
    const e = byTask.get(uid);
    assert.ok(e !== undefined, `${where}: task ${uid} (${a.index}) was acknowledged but has no event`);
    assert.equal(e.index, a.index, `${where}: task ${uid}`);
    assert.equal(e.operation, 'document_add');
    assert.deepEqual([...(e.primary_keys ?? [])].sort(), [...a.ids].sort(), `${where}: keys of task ${uid}`);
  }
  for (const index of INDEXES) {
    const firsts = [...byTask.values()].filter((e) => e.index === index).map((e) => e.mtask_id!);
    const order = events.filter((e) => e.index === index && e.mtask_id !== null).map((e) => e.mtask_id!);
    const seen = new Set<number>();
    const firstArrivals = order.filter((u) => (seen.has(u) ? false : (seen.add(u), true)));
    assert.deepEqual(
      firstArrivals,
      [...firsts].sort((a, b) => a - b),
      `${where}: events of ${index} arrive in task order`,
    );
  }
}

interface Acked {
  index: string;
  ids: string[];
}

describe('CDC across two SIGKILLs', { skip }, () => {
  const data = tempDir('miroir-cdc-');
  const natsDir = tempDir('miroir-nats-');
  let nodes: DevNode[] = [];
  let proc: MiroirProcess | null = null;
  let nats: ChildProcess | null = null;
  let natsUrl = '';
  let hook: Server | null = null;
  let hookUrl = '';
  const hookEvents: Event[] = [];
  let hookRequests = 0;
  let badSignatures = 0;
  let nc: NatsConnection | null = null;

  before(async () => {
    nodes = await Promise.all([0, 1, 2, 3].map(() => DevNode.start({ port: 0, masterKey: nodeKey })));
    const natsPort = await freePort();
    natsUrl = `nats://127.0.0.1:${natsPort}`;
    nats = spawn(natsBin!, ['-js', '-a', '127.0.0.1', '-p', String(natsPort), '-sd', natsDir.dir], {
      stdio: 'ignore',
    });
    await until(
      async () => {
        try {
          nc = await connect({ servers: natsUrl, reconnect: false });
          return true;
        } catch {
          return false;
        }
      },
      'nats-server to listen',
      20_000,
      100,
    );
    hook = createServer((req, res) => {
      const chunks: Buffer[] = [];
      req.on('data', (c: Buffer) => chunks.push(c));
      req.on('end', () => {
        const body = Buffer.concat(chunks);
        hookRequests++;
        const want = `sha256=${createHmac('sha256', secret).update(body).digest('hex')}`;
        if (req.headers['x-miroir-signature'] !== want) badSignatures++;
        // Every 7th request fails: the sink retries the same batch with backoff.
        if (hookRequests % 7 === 1) {
          res.writeHead(500).end();
          return;
        }
        for (const e of JSON.parse(body.toString()) as Event[]) hookEvents.push(e);
        res.writeHead(204).end();
      });
    });
    await new Promise<void>((r) => hook!.listen(0, '127.0.0.1', () => r()));
    hookUrl = `http://127.0.0.1:${(hook.address() as AddressInfo).port}/hook`;
  });

  after(async () => {
    await proc?.stop();
    await nc?.close().catch(() => undefined);
    nats?.kill('SIGTERM');
    if (nats !== null && nats.exitCode === null) await new Promise((r) => nats!.once('exit', r));
    await new Promise<void>((r) => (hook === null ? r() : hook.close(() => r())));
    await Promise.all(nodes.map((n) => n.stop()));
    data.cleanup();
    natsDir.cleanup();
  });

  test('every acknowledged write reaches the long-poll stream, the webhook and NATS, in task order per index', async (t) => {
    proc = await startMiroirProcess(
      {
        shards: 16,
        replication_factor: 1,
        nodes: nodes.slice(0, 3).map((n, i) => ({ id: `node-${i}`, address: n.url })),
        master_key: master,
        node_master_key: nodeKey,
        admin: { api_key: adminKey },
        task_store: { backend: 'lmdb', path: data.dir },
        health: { interval_ms: 200 },
        cdc: {
          enabled: true,
          sinks: {
            webhook: { url: hookUrl, secret_env: 'CDC_TEST_SECRET', batch_size: 20, batch_flush_ms: 50 },
            nats: { url: natsUrl, stream: 'MIROIR_CDC', subject_prefix: 'miroir.cdc' },
          },
        },
      },
      { POD_NAME: 'pod-cdc', CDC_TEST_SECRET: secret },
    );
    const p = proc;
    // The writer: one sequential client per index (each waits for its 202, as every SDK does).
    const acked = new Map<number, Acked>();
    let stop = false;
    let next = 0;
    const writeLoop = async (index: string) => {
      while (!stop) {
        const ids = [next++, next++, next++].map((n) => `${index}-${n}`);
        try {
          const res = await fetch(`${p.url}/indexes/${index}/documents`, {
            method: 'POST',
            headers: { authorization: `Bearer ${master}`, 'content-type': 'application/json' },
            body: JSON.stringify(ids.map((id) => ({ id, title: `t ${id}` }))),
          });
          const body = (await res.json()) as { taskUid?: number };
          if (res.status === 202 && typeof body.taskUid === 'number') acked.set(body.taskUid, { index, ids });
        } catch {
          await new Promise((r) => setTimeout(r, 20)); // the proxy is down: try again (not acknowledged)
        }
      }
    };
    const writers = INDEXES.map((i) => writeLoop(i));
    for (const at of [40, 100]) {
      await until(() => acked.size >= at, `${at} acknowledged writes`, 60_000);
      await p.kill();
      await p.restart();
    }
    await until(() => acked.size >= 160, '160 acknowledged writes', 60_000);
    stop = true;
    await Promise.all(writers);

    // Long-poll: everything after 0, page by page.
    const polled: Event[] = [];
    let since = 0;
    for (;;) {
      const res = await fetch(`${p.url}/_miroir/changes?since=${since}&limit=500&timeout_ms=300`, {
        headers: { 'x-admin-key': adminKey },
      });
      assert.equal(res.status, 200);
      const page = (await res.json()) as { events: Event[]; next: number };
      if (page.events.length === 0) break;
      assert.ok(page.next > since);
      polled.push(...page.events);
      since = page.next;
    }
    assert.deepEqual(
      polled.map((e) => e.event_id),
      polled.map((_, i) => i + 1),
      'event ids start at 1 and have no gap',
    );
    assertDelivered('long-poll', polled, acked);

    // The webhook: signed, retried after its 500s, every acknowledged write delivered.
    await until(
      () => [...acked.keys()].every((u) => hookEvents.some((e) => e.mtask_id === u)),
      'the webhook to receive every acknowledged write',
      60_000,
      100,
    );
    assert.equal(badSignatures, 0, 'every webhook request carries the HMAC of its body');
    assertDelivered('webhook', hookEvents, acked);

    // NATS JetStream: subjects miroir.cdc.{index}, read back with a consumer from the first message.
    const js = nc!.jetstream();
    const jsm = await nc!.jetstreamManager();
    await until(
      async () => (await jsm.streams.info('MIROIR_CDC')).state.last_seq >= polled.length,
      'NATS to hold every event',
      60_000,
      100,
    );
    await jsm.consumers.add('MIROIR_CDC', {
      durable_name: 'check',
      ack_policy: AckPolicy.None,
      deliver_policy: DeliverPolicy.All,
    });
    const consumer = await js.consumers.get('MIROIR_CDC', 'check');
    const codec = JSONCodec<Event>();
    const natsEvents: Event[] = [];
    const total = (await jsm.streams.info('MIROIR_CDC')).state.messages;
    const subjects = new Set<string>();
    while (natsEvents.length < total) {
      const batch = await consumer.fetch({ max_messages: 500, expires: 2000 });
      for await (const m of batch) {
        natsEvents.push(codec.decode(m.data));
        subjects.add(m.subject);
      }
    }
    assert.deepEqual([...subjects].sort(), ['miroir.cdc.books', 'miroir.cdc.films']);
    assertDelivered('nats', natsEvents, acked);
    t.diagnostic(
      `acknowledged ${acked.size}; long-poll ${polled.length} events; webhook ${hookEvents.length} events in ${hookRequests} requests; nats ${natsEvents.length}`,
    );

    // A shard move (a node joins): its copies are internal writes — no event, counted as suppressed.
    const before = since;
    const added = await adminCall(p.url, adminKey, 'POST', '/_miroir/nodes', {
      id: 'node-3',
      address: nodes[3]!.url,
      replica_group: 0,
    });
    assert.equal(added.status, 202);
    await waitRebalanced(p.url, adminKey);
    const res = await fetch(`${p.url}/_miroir/changes?since=${before}&timeout_ms=500`, {
      headers: { 'x-admin-key': adminKey },
    });
    const after = (await res.json()) as { events: Event[]; next: number };
    assert.deepEqual(after.events, [], 'a shard move logs no change event');
    const metrics = await (await fetch(`${p.url}/_miroir/metrics`, { headers: { 'x-admin-key': adminKey } })).text();
    const suppressed = /miroir_cdc_events_suppressed_total\{origin="shard_move"\} (\d+)/.exec(metrics);
    assert.ok(suppressed !== null && Number(suppressed[1]) > 0, 'the move was counted as suppressed');
    assert.match(metrics, /miroir_cdc_events_published_total\{sink="webhook",index="books"\} \d+/);
  });

  test('the stream needs the admin key or a key with changes.get; bad parameters name themselves', async () => {
    const p = proc!;
    assert.equal((await fetch(`${p.url}/_miroir/changes`)).status, 401);
    const bad = await fetch(`${p.url}/_miroir/changes?since=-3`, { headers: { 'x-admin-key': adminKey } });
    assert.equal(bad.status, 400);
    assert.equal(((await bad.json()) as { code: string }).code, 'miroir_invalid_changes_query');
    const key = async (actions: string[]) => {
      const res = await fetch(`${p.url}/keys`, {
        method: 'POST',
        headers: { authorization: `Bearer ${master}`, 'content-type': 'application/json' },
        body: JSON.stringify({ actions, indexes: ['*'], expiresAt: null }),
      });
      assert.equal(res.status, 201, await res.clone().text());
      return ((await res.json()) as { key: string }).key;
    };
    const reader = await key(['changes.get']);
    // `changes.get` is Miroir's own: a dev node answers like Meilisearch (unknown action).
    const onNode = await fetch(`${nodes[0]!.url}/keys`, {
      method: 'POST',
      headers: { authorization: `Bearer ${nodeKey}`, 'content-type': 'application/json' },
      body: JSON.stringify({ actions: ['changes.get'], indexes: ['*'], expiresAt: null }),
    });
    assert.equal(onNode.status, 400);
    assert.equal(((await onNode.json()) as { code: string }).code, 'invalid_api_key_actions');
    const searcher = await key(['search']);
    const ok = await fetch(`${p.url}/_miroir/changes?index=books&limit=2`, {
      headers: { authorization: `Bearer ${reader}` },
    });
    assert.equal(ok.status, 200);
    const page = (await ok.json()) as { events: Event[]; next: number };
    assert.equal(page.events.length, 2);
    assert.ok(page.events.every((e) => e.index === 'books'));
    const denied = await fetch(`${p.url}/_miroir/changes`, { headers: { authorization: `Bearer ${searcher}` } });
    assert.equal(denied.status, 403);
    // `miroir ctl changes tail` follows the same stream.
    const { stdout } = await promisify(execFile)(process.execPath, [
      cliPath(),
      'ctl',
      '--url',
      p.url,
      '--api-key',
      reader,
      '--json',
      'changes',
      'tail',
      '--index',
      'films',
      '--count',
      '3',
    ]);
    const lines = stdout
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l) as Event);
    assert.equal(lines.length, 3);
    assert.ok(lines.every((e) => e.index === 'films' && e.operation === 'document_add'));
    assert.ok(lines[0]!.event_id < lines[1]!.event_id && lines[1]!.event_id < lines[2]!.event_id);
  });
});
