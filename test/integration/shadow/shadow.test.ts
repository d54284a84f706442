// Traffic shadow (SPEC A16, issue 30) through a real proxy over dev nodes, teeing to a single dev node holding a
// slightly different corpus (one document missing, one retitled) and to a local HTTP server that never answers:
// diffs of the right kinds with their ids and Kendall τ, identical answers only counted, filters of
// GET /_miroir/shadow/diff, writes never teed; the hung target never delays a client answer and its queue stays
// bounded while the shed counter grows.
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { createServer, type Server } from 'node:http';
import type { Socket } from 'node:net';
import type { AddressInfo } from 'node:net';
import { after, before, describe, test } from 'node:test';
import { promisify } from 'node:util';
import { Meilisearch } from 'meilisearch';
import { DevNode } from '../../../src/devnode/node.js';
import { startCluster, type TestCluster } from '../../support/cluster.js';
import { cliPath } from '../../support/devnode.js';
import { until } from '../../support/wait.js';

interface Diff {
  id: number;
  target: string;
  index: string;
  query: Record<string, unknown>;
  kind: string;
  kendall_tau: number | null;
  missing_ids: unknown[];
  extra_ids: unknown[];
  latency_delta_ms: number;
}

const DOCS = [
  { id: 1, title: 'Alien', overview: 'space horror aboard a ship' },
  { id: 2, title: 'Aliens', overview: 'marines return to the alien planet' },
  { id: 3, title: 'Heat', overview: 'a crew of thieves in los angeles' },
  { id: 4, title: 'Carol', overview: 'a love story in new york' },
  { id: 5, title: 'Solaris', overview: 'a psychologist on a space station' },
];
// The shadow's corpus: no document 2, and document 5 retitled so that, with title before overview in its
// searchable attributes, it ranks first for "space".
const SHADOW_DOCS = [DOCS[0]!, DOCS[2]!, DOCS[3]!, { ...DOCS[4]!, title: 'Space Solaris' }];

describe('traffic shadow', () => {
  let c: TestCluster;
  let shadowNode: DevNode;
  let hung: Server;
  const sockets = new Set<Socket>();
  let ms: Meilisearch;
  let shadowTasks = 0;
  const admin = async (path: string) => {
    const res = await fetch(`${c.app.url}${path}`, { headers: { authorization: `Bearer ${c.adminKey}` } });
    return { status: res.status, body: (await res.json()) as Record<string, unknown> };
  };
  const diffs = async (qs = '') => (await admin(`/_miroir/shadow/diff${qs}`)).body.diffs as Diff[];
  const fault = (body: Record<string, unknown> | null) =>
    fetch(`${shadowNode.url}/_devnode/faults${body === null ? '/reset' : ''}`, {
      method: 'POST',
      headers: { authorization: 'Bearer shadow-key', 'content-type': 'application/json' },
      body: body === null ? undefined : JSON.stringify(body),
    });

  before(async () => {
    shadowNode = await DevNode.start({ port: 0, masterKey: 'shadow-key' });
    const direct = new Meilisearch({ host: shadowNode.url, apiKey: 'shadow-key' });
    assert.equal((await direct.index('movies').addDocuments(SHADOW_DOCS).waitTask()).status, 'succeeded');
    // …and a settings change: a title match outranks an overview match.
    const ranked = await direct.index('movies').updateSearchableAttributes(['title', 'overview']).waitTask();
    assert.equal(ranked.status, 'succeeded');
    shadowTasks = (await direct.tasks.getTasks()).total;
    hung = createServer(() => undefined); // accepts, reads, never answers
    hung.on('connection', (s) => {
      sockets.add(s);
      s.on('close', () => sockets.delete(s));
    });
    await new Promise<void>((r) => hung.listen(0, '127.0.0.1', () => r()));
    process.env.MIROIR_TEST_SHADOW_KEY = 'shadow-key';
    c = await startCluster({
      nodes: 2,
      shards: 4,
      config: {
        shadow: {
          enabled: true,
          latency_threshold_ms: 1000,
          targets: [
            {
              name: 'single',
              url: shadowNode.url,
              api_key_env: 'MIROIR_TEST_SHADOW_KEY',
              sample_rate: 1,
              timeout_ms: 10000,
            },
            {
              name: 'hung',
              url: `http://127.0.0.1:${(hung.address() as AddressInfo).port}`,
              api_key_env: null,
              sample_rate: 1,
              operations: ['search'],
              timeout_ms: 60000,
              max_queue: 5,
              concurrency: 2,
            },
          ],
        },
      },
    });
    ms = new Meilisearch({ host: c.app.url, apiKey: c.masterKey });
    assert.equal((await ms.index('movies').addDocuments(DOCS).waitTask()).status, 'succeeded');
    assert.equal(
      (
        await ms
          .index('books')
          .addDocuments([{ id: 1, title: 'Dune' }])
          .waitTask()
      ).status,
      'succeeded',
    );
  });
  after(async () => {
    await c?.close();
    for (const s of sockets) s.destroy();
    await new Promise((r) => hung?.close(r));
    await shadowNode?.stop();
    delete process.env.MIROIR_TEST_SHADOW_KEY;
  });

  test('diffs of the right kinds with ids and τ; identical answers only counted; filters', async () => {
    const idx = ms.index('movies');
    assert.deepEqual(
      (await idx.search('space')).hits.map((h) => h.id),
      [1, 5],
    );
    await idx.search('alien');
    await idx.search('heat');
    await ms.index('books').search('dune');
    await idx.getDocument(2);
    await idx.getDocument(3);
    await ms.multiSearch({
      queries: [
        { indexUid: 'movies', q: 'heat' },
        { indexUid: 'movies', q: 'alien' },
      ],
    });
    // Teed reads: 4 searches + 2 documents + 2 multi-search queries; 4 of them differ (+1 error).
    await until(async () => (await diffs('?target=single')).length >= 5, 'five diffs from the single target').catch(
      async (err: unknown) => {
        throw new Error(
          `${String(err)}: ${JSON.stringify(await diffs())} ${JSON.stringify((await admin('/_miroir/shadow/targets')).body)}`,
        );
      },
    );
    const all = await diffs('?target=single');
    const by = (pred: (d: Diff) => boolean) => all.filter(pred);
    const order = by((d) => d.kind === 'order_differs');
    assert.equal(order.length, 1, JSON.stringify(all));
    assert.equal(order[0]!.query.q, 'space');
    assert.equal(order[0]!.kendall_tau, -1);
    assert.deepEqual(order[0]!.missing_ids, []);
    const missing = by((d) => d.kind === 'hits_differ' && (d.query.q === 'alien' || d.query.id === '2'));
    assert.equal(missing.length, 3, 'search, multi-search query and GET document 2');
    for (const d of missing) assert.deepEqual(d.missing_ids.map(String), ['2']);
    for (const d of missing) assert.deepEqual(d.extra_ids, []);
    const errors = by((d) => d.kind === 'error');
    assert.equal(errors.length, 1);
    assert.equal(errors[0]!.index, 'books');
    assert.equal(all.length, 5, 'identical answers (heat ×2, document 3) are not listed');
    // Filters.
    assert.deepEqual(
      (await diffs('?kind=order_differs')).map((d) => d.id),
      order.map((d) => d.id),
    );
    assert.equal((await diffs('?index=books')).length, 1);
    assert.equal((await diffs('?target=single&limit=2')).length, 2);
    const first = all[0]!.id;
    assert.deepEqual(
      (await diffs(`?target=single&since_id=${first}&limit=1`)).map((d) => d.id),
      [all[1]!.id],
    );
    const ctl = await promisify(execFile)(
      process.execPath,
      [cliPath(), 'ctl', '--url', c.app.url, 'shadow', 'diff', '--kind', 'order_differs'],
      { env: { ...process.env, MIROIR_ADMIN_API_KEY: c.adminKey } },
    );
    assert.match(ctl.stdout, /single .*order_differs .*-1/);
    const bad = await admin('/_miroir/shadow/diff?kind=nope');
    assert.equal(bad.status, 400);
    assert.equal(bad.body.code, 'miroir_invalid_shadow_filter');
    const metrics = await (await fetch(`http://127.0.0.1:${c.app.metricsPort}/metrics`)).text();
    assert.match(metrics, /miroir_shadow_diff_total\{target="single",kind="identical"\} 3/);
    assert.match(metrics, /miroir_shadow_diff_total\{target="single",kind="order_differs"\} 1/);
    assert.match(metrics, /miroir_shadow_kendall_tau_count\{target="single"\} \d/);
  });

  test('a slower target with the same answer is a latency diff', async () => {
    await fault({ delay_ms: 1200 });
    try {
      await ms.index('movies').search('heat');
      await until(async () => (await diffs('?kind=latency')).length === 1, 'a latency diff', 15_000);
      const d = (await diffs('?kind=latency'))[0]!;
      assert.equal(d.query.q, 'heat');
      assert.ok(d.latency_delta_ms > 1000, String(d.latency_delta_ms));
      assert.equal(d.kendall_tau, null);
    } finally {
      await fault(null);
    }
  });

  test('a federated multi-search is compared as one merged list of index/id hits', async () => {
    const last = (await diffs('?target=single')).at(-1)?.id ?? 0;
    await ms.multiSearch({
      federation: {},
      queries: [
        { indexUid: 'movies', q: 'alien' },
        { indexUid: 'movies', q: 'heat' },
      ],
    });
    await until(async () => (await diffs(`?target=single&since_id=${last}`)).length === 1, 'the federated diff');
    const d = (await diffs(`?target=single&since_id=${last}`))[0]!;
    assert.equal(d.kind, 'hits_differ');
    assert.equal(d.index, 'movies');
    assert.deepEqual(d.missing_ids, ['movies/2']);
    assert.deepEqual(d.extra_ids, []);
  });

  test('writes are never teed', async () => {
    const task = await ms
      .index('movies')
      .updateDocuments([{ id: 4, title: 'Carol (1952)' }])
      .waitTask();
    assert.equal(task.status, 'succeeded');
    await ms.index('movies').search('carol');
    const direct = new Meilisearch({ host: shadowNode.url, apiKey: 'shadow-key' });
    assert.equal((await direct.tasks.getTasks()).total, shadowTasks);
    assert.equal((await direct.index('movies').getDocument(4)).title, 'Carol');
  });

  test('a target that never answers never delays a client answer; its queue stays bounded and sheds', async () => {
    const target = async () =>
      ((await admin('/_miroir/shadow/targets')).body.targets as Array<Record<string, number>>).find(
        (t) => (t as unknown as { name: string }).name === 'hung',
      )!;
    const before = await target();
    for (let round = 0; round < 4; round++) {
      await Promise.all(
        Array.from({ length: 10 }, async (_, i) => ms.index('movies').search(i % 2 === 0 ? 'alien' : 'heat')),
      );
      const t = await target();
      assert.ok(t.queued! <= 5, `queued ${t.queued}`);
      assert.ok(t.in_flight! <= 2, `in flight ${t.in_flight}`);
    }
    // Order, not time: the target holds its requests for 60 s, and every client answer came back while it still
    // held them, so no client answer waited on it.
    const after = await target();
    assert.ok(after.in_flight! >= 1, `the hung target still holds ${after.in_flight} requests`);
    assert.ok(after.shed! - before.shed! >= 40 - 7, `shed ${after.shed! - before.shed!} of 40`);
    const metrics = await (await fetch(`http://127.0.0.1:${c.app.metricsPort}/metrics`)).text();
    assert.match(metrics, /miroir_shadow_shed_total\{target="hung"\} [1-9]/);
    assert.match(metrics, /miroir_shadow_queue_depth\{target="hung"\} 7/);
  });
});
