// Two Miroir pods sharing one Redis store: an alias flipped through pod A is seen by pod B (the store's `aliases`
// message; the periodic resync is set far out so only the message can carry it), searches through pod B during 20
// flips are answered wholly from one target, never an error; a name taken on one pod collides on the other.
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { after, before, describe, test } from 'node:test';
import { Meilisearch } from 'meilisearch';
import { DevNode } from '../../../src/devnode/node.js';
import type { MiroirApp } from '../../../src/main/app.js';
import { redisSkip, startRedis, type RedisServer } from '../../support/redis.js';
import { until } from '../../support/wait.js';
import { podConfig, startPod } from '../../support/pods.js';

describe('aliases across two pods on one Redis store', { skip: redisSkip() }, () => {
  let redis: RedisServer;
  let nodes: DevNode[];
  let pods: MiroirApp[];
  const master = `master-${randomBytes(6).toString('hex')}`;

  before(async () => {
    redis = await startRedis();
    const nodeKey = randomBytes(8).toString('hex');
    nodes = await Promise.all([0, 1].map(() => DevNode.start({ port: 0, masterKey: nodeKey })));
    const cfg = podConfig(
      { nodes, nodeKey, master, redis: { url: redis.url }, shards: 4 },
      {
        peer_discovery: { peers: ['http://127.0.0.1:7700', 'http://127.0.0.1:7701'] },
        aliases: { enabled: true, resync_interval_s: 3600 },
        ilm: { enabled: true, check_interval_s: 1, safety_lock_older_than_days: 0 },
      },
    );
    pods = [await startPod(cfg), await startPod(cfg)];
    const c = new Meilisearch({ host: pods[0]!.url, apiKey: master });
    for (const tag of ['A', 'B']) {
      const uid = `t_${tag}`;
      await c.createIndex(uid, { primaryKey: 'id' }).waitTask();
      await c
        .index(uid)
        .addDocuments(Array.from({ length: 20 }, (_, i) => ({ id: i, title: `doc ${i}`, tag })))
        .waitTask();
    }
  });
  after(async () => {
    for (const p of pods) await p.close();
    await Promise.all(nodes.map((n) => n.stop()));
    await redis.stop();
  });

  const admin = async (i: number, method: string, path: string, body?: unknown) => {
    const res = await fetch(`${pods[i]!.url}${path}`, {
      method,
      headers: { authorization: 'Bearer admin', 'content-type': 'application/json' },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    return { status: res.status, body: (await res.json().catch(() => null)) as Record<string, unknown> | null };
  };
  const tagVia = async (i: number): Promise<string> => {
    const res = await new Meilisearch({ host: pods[i]!.url, apiKey: master }).index('cur').search('doc', { limit: 20 });
    const tags = new Set(res.hits.map((h) => String(h.tag)));
    assert.equal(tags.size, 1, `one target per answer, got ${[...tags].join(',')}`);
    assert.equal(res.hits.length, 20);
    return [...tags][0]!;
  };

  test('a flip through pod A reaches pod B; searches on B never mix targets', async () => {
    assert.equal((await admin(0, 'POST', '/_miroir/aliases', { name: 'cur', target: 't_A' })).status, 201);
    await until(async () => (await tagVia(1).catch(() => '')) === 'A', 'pod B resolving the new alias');
    const collide = await admin(1, 'POST', '/_miroir/aliases', { name: 'cur', target: 't_B' });
    assert.equal(collide.status, 409);
    // An index named like an alias another pod created a moment ago: refused at once, before any message arrives
    // (pod B reads the alias table from the store for an index creation).
    assert.equal((await admin(0, 'POST', '/_miroir/aliases', { name: 'fresh', target: 't_A' })).status, 201);
    const clash = await fetch(`${pods[1]!.url}/indexes`, {
      method: 'POST',
      headers: { authorization: `Bearer ${master}`, 'content-type': 'application/json' },
      body: JSON.stringify({ uid: 'fresh' }),
    });
    assert.equal(clash.status, 409);
    assert.equal(((await clash.json()) as { code: string }).code, 'miroir_alias_conflict');
    assert.equal((await admin(0, 'DELETE', '/_miroir/aliases/fresh')).status, 204);
    let flipping = true;
    const errors: unknown[] = [];
    let searches = 0;
    const searcher = (async () => {
      while (flipping) {
        try {
          await tagVia(1);
          searches++;
        } catch (err) {
          errors.push(err);
        }
      }
    })();
    for (let i = 0; i < 20; i++) {
      const target = i % 2 === 0 ? 't_B' : 't_A';
      assert.equal((await admin(0, 'PUT', '/_miroir/aliases/cur', { target })).status, 200);
      await until(async () => (await tagVia(1)) === target.slice(2), `pod B seeing flip ${i}`);
    }
    flipping = false;
    await searcher;
    assert.deepEqual(errors, []);
    assert.ok(searches > 0);
  });

  test('ILM on two pods: one rollover per trigger (lease ilm), both pods write to the new index', async () => {
    const created = await admin(0, 'POST', '/_miroir/ilm/policies', {
      name: 'ev',
      write_alias: 'ev_w',
      read_alias: 'ev',
      index_template: { uid_prefix: 'ev', primaryKey: 'id' },
      triggers: { max_docs: 100, max_age: null, max_size_gb: null },
      retention: { keep_indexes: 3 },
    });
    assert.equal(created.status, 201, JSON.stringify(created.body));
    const docs = Array.from({ length: 100 }, (_, i) => ({ id: i, tag: 'e' }));
    await until(
      async () =>
        await new Meilisearch({ host: pods[1]!.url, apiKey: master })
          .index('ev_w')
          .addDocuments(docs)
          .waitTask()
          .then(
            (t) => t.status === 'succeeded' && t.indexUid === 'ev-000001',
            () => false,
          ),
      'pod B writing through the write alias',
    );
    await until(
      async () => (await admin(1, 'GET', '/_miroir/ilm/policies/ev')).body?.write_index === 'ev-000002',
      'rollover',
    );
    // a few more checks pass on both pods: the empty new index triggers nothing, nothing rolls over twice
    await until(async () => {
      const m = await (await fetch(`http://127.0.0.1:${pods[0]!.metricsPort}/metrics`)).text();
      const n = await (await fetch(`http://127.0.0.1:${pods[1]!.metricsPort}/metrics`)).text();
      return /miroir_rollover_active_indexes\{alias="ev"\} 2/.test(m + n);
    }, 'the rollover metric');
    const task = await new Meilisearch({ host: pods[0]!.url, apiKey: master })
      .index('ev_w')
      .addDocuments([{ id: 1000, tag: 'e' }])
      .waitTask();
    assert.equal(task.indexUid, 'ev-000002');
    const p = (await admin(0, 'GET', '/_miroir/ilm/policies/ev')).body!;
    assert.equal(p.next_generation, 3, 'exactly one rollover');
    const res = await new Meilisearch({ host: pods[1]!.url, apiKey: master }).index('ev').search('', { limit: 0 });
    assert.equal(res.estimatedTotalHits, 101);
  });
});
