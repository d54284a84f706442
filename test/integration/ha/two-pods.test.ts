// Two Miroir processes sharing one Redis store in front of the same dev nodes: any pod serves any request; keys,
// settings, indexes and tasks written through one pod are honored by the other; task uids stay unique and
// increasing across pods. Run on one redis-server and on a 3-master Redis Cluster.
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { after, before, describe, test } from 'node:test';
import { Meilisearch } from 'meilisearch';
import { DevNode } from '../../../src/devnode/node.js';
import type { MiroirApp } from '../../../src/main/app.js';
import { REDIS_SHAPES, type SharedRedis } from '../../support/redis.js';
import { until } from '../../support/wait.js';
import { podConfig, startPod } from '../../support/pods.js';

for (const shape of REDIS_SHAPES)
  describe(`two pods sharing one Redis store (${shape.name})`, { skip: shape.skip() }, () => {
    let redis: SharedRedis;
    let nodes: DevNode[];
    let pods: MiroirApp[];
    const master = `master-${randomBytes(6).toString('hex')}`;

    before(async () => {
      redis = await shape.start();
      const nodeKey = randomBytes(8).toString('hex');
      nodes = await Promise.all([0, 1, 2].map(() => DevNode.start({ port: 0, masterKey: nodeKey })));
      const cfg = podConfig(
        { nodes, nodeKey, master, redis: redis.taskStore },
        { peer_discovery: { peers: ['http://127.0.0.1:7700', 'http://127.0.0.1:7701'] } },
      );
      pods = [await startPod(cfg), await startPod(cfg)];
    });
    after(async () => {
      for (const p of pods) await p.close();
      await Promise.all(nodes.map((n) => n.stop()));
      await redis.stop();
    });

    const via = (i: number, key = master) => new Meilisearch({ host: pods[i]!.url, apiKey: key });

    test('a key created through pod A works through pod B', async () => {
      const key = await via(0).createKey({ actions: ['search', 'indexes.get'], indexes: ['*'], expiresAt: null });
      await until(
        async () =>
          await via(1, key.key)
            .getIndexes()
            .then(
              () => true,
              () => false,
            ),
        'the key reaching pod B',
      );
      await via(0).deleteKey(key.uid);
      await until(
        async () =>
          await via(1, key.key)
            .getIndexes()
            .then(
              () => false,
              () => true,
            ),
        'the deletion reaching pod B',
      );
    });

    test('indexes, settings and documents written through one pod are served by the other', async () => {
      await via(0).createIndex('shared', { primaryKey: 'id' }).waitTask();
      assert.equal((await via(1).index('shared').getRawInfo()).primaryKey, 'id');
      await via(1).index('shared').updateFilterableAttributes(['color']).waitTask();
      assert.deepEqual(await via(0).index('shared').getFilterableAttributes(), ['color']);
      await via(0)
        .index('shared')
        .addDocuments(Array.from({ length: 40 }, (_, i) => ({ id: i, color: i % 2 ? 'red' : 'blue' })))
        .waitTask();
      const r = await via(1).index('shared').search('', { filter: 'color = red', limit: 0 });
      assert.equal(r.estimatedTotalHits, 20);
    });

    test('task uids stay unique and increasing across pods under concurrent writes', async () => {
      const enqueued = await Promise.all(
        Array.from({ length: 20 }, (_, i) =>
          via(i % 2)
            .index('shared')
            .addDocuments([{ id: 1000 + i, color: 'green' }]),
        ),
      );
      const uids = enqueued.map((t) => t.taskUid);
      assert.equal(new Set(uids).size, 20);
      for (const t of enqueued) assert.equal((await via(0).tasks.waitForTask(t.taskUid)).status, 'succeeded');
      const listed = await via(1).tasks.getTasks({ limit: 100 });
      const sorted = listed.results.map((t) => t.uid);
      assert.deepEqual(
        sorted,
        [...sorted].sort((a, b) => b - a),
        'newest first, one sequence',
      );
      assert.equal((await via(1).index('shared').getStats()).numberOfDocuments, 60);
    });

    test('a settings update settled by both pods at once commits one settings version (lease settings_broadcast:<index>)', async () => {
      const version = async (i: number) =>
        Number(
          (
            await fetch(`${pods[i]!.url}/indexes/shared/settings`, { headers: { authorization: `Bearer ${master}` } })
          ).headers.get('x-miroir-settings-version'),
        );
      const before = await version(0);
      const task = await via(0).index('shared').updateSortableAttributes(['color']);
      // Both pods refresh the task concurrently, so both reach its settle step.
      await until(async () => {
        const seen = await Promise.all(
          [0, 1, 0, 1].map((i) =>
            fetch(`${pods[i]!.url}/tasks/${task.taskUid}`, { headers: { authorization: `Bearer ${master}` } }).then(
              (r) => r.json() as Promise<{ status: string }>,
            ),
          ),
        );
        return seen.every((t) => t.status === 'succeeded');
      }, 'the settings task settled through both pods');
      assert.equal(await version(1), before + 1);
      assert.deepEqual(await via(1).index('shared').getSortableAttributes(), ['color']);
    });

    test('settings through one pod racing writes with new fields through the other: 30 rounds, no learned field lost', async () => {
      await via(0).createIndex('race2', { primaryKey: 'id' }).waitTask();
      for (let round = 0; round < 30; round++) {
        const field = `f${round}`;
        const [settings, docs] = await Promise.all([
          via(0)
            .index('race2')
            .updateSettings({ sortableAttributes: [`s${round}`], stopWords: [`w${round}`] }),
          via(1)
            .index('race2')
            .addDocuments([{ id: round, [field]: `needle${round}` }]),
        ]);
        await via(round % 2).tasks.waitForTasks([settings.taskUid, docs.taskUid]);
        const hits = await via(1 - (round % 2))
          .index('race2')
          .search(`needle${round}`, { attributesToSearchOn: [field] });
        assert.deepEqual(
          hits.hits.map((h) => h.id),
          [round],
          `round ${round}: the document is searchable by its new field ${field}`,
        );
      }
    });
  });
