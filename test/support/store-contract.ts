// The store contract: every record kind round-trips, the task sequence stays unique under concurrency, exactly one
// of 20 claimers wins a job, leases expire and are taken over, CAS on topology and index records, pub/sub
// notification. Run against LMDB and a redis-server (test/unit/store/contract.test.ts) and against a Redis Cluster
// and a Sentinel-managed Redis (test/integration/store/redis-topologies.test.ts).
import assert from 'node:assert/strict';
import { after, describe, test } from 'node:test';
import { defaultKeys } from '../../src/core/auth/keys.js';
import { defaultSettings } from '../../src/core/settings.js';
import type { AdminSessionRecord, IndexRecordDraft, Store, TaskRow } from '../../src/store/store.js';
import { until } from './wait.js';

function task(
  uid: number,
  status: TaskRow['status'] = 'succeeded',
  finishedAt: string | null = '2026-01-01T00:00:00Z',
  indexUid: string | null = 'movies',
): TaskRow {
  return {
    uid,
    indexUid,
    type: 'documentAdditionOrUpdate',
    status,
    nodeTasks: { 'node-0': [uid * 2] },
    details: { receivedDocuments: 1 },
    error: null,
    canceledBy: null,
    enqueuedAt: '2026-01-01T00:00:00Z',
    startedAt: null,
    finishedAt,
    queues: indexUid === null ? [] : [indexUid],
  };
}

function record(uid: string, over: Partial<IndexRecordDraft> = {}): IndexRecordDraft {
  return {
    uid,
    committed: {
      primaryKey: 'id',
      settings: { ...defaultSettings(), filterableAttributes: ['genre'] },
      settingsVersion: 3,
      createdAt: 'a',
      updatedAt: 'b',
    },
    fields: ['id', 'title'],
    shards: 16,
    pending: [],
    ...over,
  };
}

async function collect(it: AsyncIterable<TaskRow>): Promise<number[]> {
  const out: number[] = [];
  for await (const t of it) out.push(t.uid);
  return out;
}

export function contract(
  name: string,
  open: () => Promise<Store>,
  opts: { shared: boolean },
  openOther?: () => Promise<Store>,
) {
  describe(name, () => {
    let store: Store;
    const stores: Store[] = [];
    const fresh = async () => {
      const s = await open();
      stores.push(s);
      return s;
    };
    after(async () => {
      for (const s of stores) await s.close();
    });

    test('task sequence starts at 0 and stays unique and increasing under 50 concurrent callers', async () => {
      store = await fresh();
      const first = await store.nextTaskUid();
      assert.equal(first, 0);
      const many = await Promise.all(Array.from({ length: 50 }, () => store.nextTaskUid()));
      assert.equal(new Set(many).size, 50);
      assert.deepEqual(
        [...many].sort((a, b) => a - b),
        Array.from({ length: 50 }, (_, i) => i + 1),
      );
    });

    test('tasks round-trip, scan newest first with from/reverse and per index, count, prune finished ones', async () => {
      for (let uid = 0; uid < 10; uid++)
        await store.putTask(
          task(
            uid,
            uid === 9 ? 'processing' : 'succeeded',
            uid === 9 ? null : uid < 5 ? '2026-01-01T00:00:00Z' : '2026-06-01T00:00:00Z',
            uid % 3 === 0 ? 'books' : 'movies',
          ),
        );
      assert.deepEqual(await store.getTask(3), task(3, 'succeeded', '2026-01-01T00:00:00Z', 'books'));
      assert.equal(await store.getTask(99), null);
      assert.deepEqual(
        (await store.getTasks([3, 99, 4])).map((t) => t?.uid ?? null),
        [3, null, 4],
      );
      assert.deepEqual(await collect(store.scanTasks({})), [9, 8, 7, 6, 5, 4, 3, 2, 1, 0]);
      assert.deepEqual(await collect(store.scanTasks({ from: 4 })), [4, 3, 2, 1, 0]);
      assert.deepEqual(await collect(store.scanTasks({ from: 7, reverse: true })), [7, 8, 9]);
      assert.deepEqual(await collect(store.scanTasks({ indexUids: ['books'] })), [9, 6, 3, 0]);
      assert.deepEqual(
        await collect(store.scanTasks({ indexUids: ['books', 'movies'], from: 5, reverse: true })),
        [5, 6, 7, 8, 9],
      );
      assert.equal(await store.countTasks(), 10);
      assert.equal(await store.countTasks(['books']), 4);
      assert.equal(await store.pruneTasks(Date.parse('2026-03-01T00:00:00Z')), 5);
      assert.deepEqual(await collect(store.scanTasks({})), [9, 8, 7, 6, 5]);
      assert.deepEqual(await collect(store.scanTasks({ indexUids: ['books'] })), [9, 6]);
      assert.equal(await store.deleteTasks([5, 6]), 2);
      assert.equal(await store.countTasks(['books']), 1);
    });

    test('task queues: a uid is allocated and queued in one step, in uid order, per queue; dequeue empties them', async () => {
      const a = await store.enqueueTask(['q-movies'], 'proc-1');
      const b = await store.enqueueTask(['q-movies', 'q-books'], 'proc-2');
      const many = await Promise.all(Array.from({ length: 20 }, () => store.enqueueTask(['q-books'], 'proc-1')));
      assert.ok(a < b);
      assert.equal(await store.taskOwner(b), 'proc-2');
      assert.deepEqual(await store.queuedTasks('q-movies'), [a, b]);
      assert.deepEqual(await store.queuedTasks('q-books'), [b, ...[...many].sort((x, y) => x - y)]);
      assert.deepEqual((await store.activeQueues()).filter((q) => q.startsWith('q-')).sort(), ['q-books', 'q-movies']);
      await store.dequeueTask(['q-movies'], a);
      await store.dequeueTask(['q-movies', 'q-books'], b);
      for (const u of many) await store.dequeueTask(['q-books'], u);
      assert.equal(await store.taskOwner(b), null);
      assert.deepEqual(await store.queuedTasks('q-movies'), []);
      assert.deepEqual(
        (await store.activeQueues()).filter((q) => q.startsWith('q-')),
        [],
      );
    });

    test('keys, index records and node settings versions round-trip', async () => {
      const keys = defaultKeys('2026-01-01T00:00:00Z');
      for (const k of keys) await store.putKey(k);
      assert.deepEqual((await store.listKeys()).map((k) => k.uid).sort(), keys.map((k) => k.uid).sort());
      assert.deepEqual(await store.getKey(keys[0]!.uid), keys[0]);
      assert.equal(await store.deleteKey(keys[0]!.uid), true);
      assert.equal(await store.getKey(keys[0]!.uid), null);
      const [written] = (await store.casIndexes([{ uid: 'movies', expected: 0, next: record('movies') }]))!;
      assert.deepEqual(await store.getIndex('movies'), written);
      assert.deepEqual({ ...written, version: 0 }, { ...record('movies'), version: 0 });
      await store.setNodeSettingsVersion('movies', 'node-0', 3);
      await store.setNodeSettingsVersion('movies', 'node-1', 2);
      assert.deepEqual(await store.getNodeSettingsVersions('movies'), { 'node-0': 3, 'node-1': 2 });
      assert.deepEqual(
        (await store.listIndexes()).map((i) => i.uid),
        ['movies'],
      );
      assert.deepEqual(await store.casIndexes([{ uid: 'movies', expected: written!.version, next: null }]), []);
      assert.equal(await store.getIndex('movies'), null);
      assert.deepEqual(await store.getNodeSettingsVersions('movies'), {});
    });

    test('index compare-and-set: of 10 writers at one version exactly one wins; several records change at once or not at all; versions never repeat', async () => {
      const [base] = (await store.casIndexes([{ uid: 'cas', expected: 0, next: record('cas') }]))!;
      const results = await Promise.all(
        Array.from({ length: 10 }, (_, i) =>
          store.casIndexes([{ uid: 'cas', expected: base!.version, next: record('cas', { fields: [`f${i}`] }) }]),
        ),
      );
      assert.equal(results.filter((r) => r !== null).length, 1);
      const now = (await store.getIndex('cas'))!;
      assert.ok(now.version > base!.version);
      assert.equal(
        await store.casIndexes([{ uid: 'cas', expected: 0, next: record('cas') }]),
        null,
        'creating an existing record conflicts',
      );
      // Two records: the stale one makes the whole change fail.
      await store.casIndexes([{ uid: 'other', expected: 0, next: record('other') }]);
      assert.equal(
        await store.casIndexes([
          { uid: 'cas', expected: now.version, next: null },
          { uid: 'other', expected: 12345, next: null },
        ]),
        null,
      );
      assert.notEqual(await store.getIndex('cas'), null, 'nothing changed');
      const other = (await store.getIndex('other'))!;
      assert.deepEqual(
        await store.casIndexes([
          { uid: 'cas', expected: now.version, next: null },
          { uid: 'other', expected: other.version, next: null },
        ]),
        [],
      );
      const [again] = (await store.casIndexes([{ uid: 'cas', expected: 0, next: record('cas') }]))!;
      assert.ok(again!.version > other.version, 'a re-created record never takes an old version');
      await store.casIndexes([{ uid: 'cas', expected: again!.version, next: null }]);
    });

    test(
      "cached index reads follow this store's own writes at once" +
        (opts.shared ? " and another pod's via the indexes message" : ''),
      async () => {
        const put = async (fields: string[]) => {
          const cur = await store.getIndex('cached');
          return (await store.casIndexes([
            { uid: 'cached', expected: cur?.version ?? 0, next: record('cached', { fields }) },
          ]))![0]!;
        };
        const del = async () =>
          store.casIndexes([{ uid: 'cached', expected: (await store.getIndex('cached'))!.version, next: null }]);
        assert.equal(await store.getIndexCached('cached'), null);
        const first = await put(['v1']);
        assert.deepEqual(await store.getIndexCached('cached'), first, 'a missing index is not cached');
        await put(['v2']);
        assert.deepEqual((await store.getIndexCached('cached'))?.fields, ['v2'], 'own write drops the cached copy');
        if (opts.shared) {
          // The other pod's cache never expires here, so only the message can refresh it.
          const other = await openOther!();
          stores.push(other);
          // It caches once its `indexes` subscription stands (two reads then return the very same object).
          await until(
            async () => (await other.getIndexCached('cached')) === (await other.getIndexCached('cached')),
            'the other pod to cache the index',
          );
          assert.deepEqual((await other.getIndexCached('cached'))?.fields, ['v2']);
          await put(['v3']);
          await until(
            async () => (await other.getIndexCached('cached'))?.fields[0] === 'v3',
            'the other pod to see v3',
          );
          await del();
          await until(async () => (await other.getIndexCached('cached')) === null, 'the other pod to see the deletion');
        } else {
          await del();
        }
        assert.equal(await store.getIndexCached('cached'), null, 'own delete drops the cached copy');
      },
    );

    test('topology compare-and-set: only one of two writers at the same version wins, and subscribers hear it', async () => {
      const heard: string[] = [];
      const unsubscribe = await store.subscribe('topology', (m) => heard.push(m));
      const base = {
        shards: 16,
        replication_factor: 1,
        groups: [{ id: 0, state: 'active' as const }],
        nodes: [{ id: 'node-0', address: 'http://127.0.0.1:1', replica_group: 0, state: 'active' as const }],
        retiredIds: [],
      };
      const first = await store.casTopology(0, base);
      assert.equal(first?.version, 1);
      const [a, b] = await Promise.all([
        store.casTopology(1, { ...base, shards: 32 }),
        store.casTopology(1, { ...base, shards: 64 }),
      ]);
      assert.equal([a, b].filter((x) => x !== null).length, 1);
      assert.equal((await store.getTopology())?.version, 2);
      await until(() => heard.length >= 2, 'topology notifications');
      await unsubscribe();
    });

    test('alias table compare-and-set: one of two flips at the same version wins, subscribers hear each change', async () => {
      const heard: string[] = [];
      const unsubscribe = await store.subscribe('aliases', (m) => heard.push(m));
      const empty = await store.getAliases();
      assert.deepEqual(empty, { version: 0, aliases: {} });
      const rec = (targets: string[]) => ({
        name: 'books',
        targets,
        createdAt: '2026-01-01T00:00:00.000Z',
        updatedAt: '2026-01-01T00:00:00.000Z',
        history: [],
      });
      const first = await store.casAliases(0, { aliases: { books: rec(['books_v1']) } });
      assert.equal(first?.version, 1);
      const [a, b] = await Promise.all([
        store.casAliases(1, { aliases: { books: rec(['books_v2']) } }),
        store.casAliases(1, { aliases: { books: rec(['books_v3']) } }),
      ]);
      assert.equal([a, b].filter((x) => x !== null).length, 1);
      const now = await store.getAliases();
      assert.equal(now.version, 2);
      assert.deepEqual(now.aliases.books?.targets, (a ?? b)?.aliases.books?.targets);
      assert.equal(await store.casAliases(0, { aliases: {} }), null, 'a stale version writes nothing');
      await until(() => heard.length >= 2, 'alias notifications');
      await unsubscribe();
    });

    test('ILM policies: put, get, list, delete', async () => {
      const policy = {
        name: 'logs',
        write_alias: 'logs_write',
        read_alias: 'logs',
        index_template: { uid_prefix: 'logs', primaryKey: 'id', settings: null },
        triggers: { max_docs: 1000, max_age: null, max_size_gb: null },
        retention: { keep_indexes: 3 },
        indexes: [{ uid: 'logs-000001', createdAt: 1 }],
        next_generation: 2,
        created_at: 1,
        last_action_at: null,
      };
      await store.putIlmPolicy(policy);
      assert.deepEqual(await store.getIlmPolicy('logs'), policy);
      await store.putIlmPolicy({ ...policy, name: 'metrics' });
      assert.deepEqual((await store.listIlmPolicies()).map((p) => p.name).sort(), ['logs', 'metrics']);
      assert.equal(await store.deleteIlmPolicy('logs'), true);
      assert.equal(await store.deleteIlmPolicy('logs'), false);
      assert.equal(await store.getIlmPolicy('logs'), null);
      assert.deepEqual(
        (await store.listIlmPolicies()).map((p) => p.name),
        ['metrics'],
      );
    });

    test('20 concurrent claimers of one job: exactly one winner; heartbeat, cursor, completion', async () => {
      await store.enqueueJob({ id: 'move-7', type: 'shard_move', payload: { shard: 7, to: 'node-3' } });
      const claims = await Promise.all(Array.from({ length: 20 }, (_, i) => store.claimJob(`pod-${i}`, 60_000)));
      const winners = claims.filter((c) => c !== null);
      assert.equal(winners.length, 1);
      const owner = winners[0]!.owner!;
      assert.deepEqual(winners[0]!.payload, { shard: 7, to: 'node-3' });
      assert.equal(await store.heartbeatJob('move-7', 'someone-else', 60_000, { page: 1 }), false);
      assert.equal(await store.heartbeatJob('move-7', owner, 60_000, { page: 3 }), true);
      assert.deepEqual((await store.getJob('move-7'))?.cursor, { page: 3 });
      assert.equal(await store.completeJob('move-7', owner), true);
      assert.equal((await store.getJob('move-7'))?.state, 'completed');
      assert.equal(await store.claimJob('pod-x', 60_000), null);
    });

    test('a job whose claim lapses is reclaimed elsewhere and resumes from its cursor', async () => {
      await store.enqueueJob({ id: 'move-9', type: 'shard_move', payload: [] });
      const first = await store.claimJob('pod-a', 100);
      assert.equal(first?.id, 'move-9');
      await store.heartbeatJob('move-9', 'pod-a', 100, { offset: 500 });
      let second: Awaited<ReturnType<Store['claimJob']>> = null;
      await until(async () => (second = await store.claimJob('pod-b', 60_000)) !== null, 'lease lapse');
      assert.equal(second!.owner, 'pod-b');
      assert.deepEqual(second!.cursor, { offset: 500 });
      assert.deepEqual(second!.payload, [], 'payload survives exactly');
      assert.equal(second!.attempts, 2);
      assert.equal(await store.completeJob('move-9', 'pod-a'), false, 'the old owner lost the job');
      assert.equal(await store.failJob('move-9', 'pod-b', 'node gone'), true);
      assert.equal((await store.getJob('move-9'))?.error, 'node gone');
      assert.deepEqual(
        (await store.listJobs()).map((j) => j.id),
        ['move-7', 'move-9'],
      );
      assert.equal(await store.deleteJob('move-7'), true);
      assert.equal(await store.deleteJob('move-7'), false);
      assert.deepEqual(
        (await store.listJobs()).map((j) => j.id),
        ['move-9'],
      );
      assert.equal(await store.claimJob('pod-c', 100, ['other_type']), null);
    });

    test('admin console sessions: round-trip, revocation kept until expiry and announced, expiry forgets them', async () => {
      const now = Date.now();
      const session: AdminSessionRecord = {
        id: 'a1b2',
        csrf_token: 'csrf-1',
        admin_key_hash: 'hash-1',
        created_at: now,
        expires_at: now + 60_000,
        revoked: false,
      };
      await store.putAdminSession(session);
      assert.deepEqual(await store.getAdminSession('a1b2'), session);
      assert.equal(await store.getAdminSession('nope'), null);
      const other = opts.shared ? await openOther!() : store;
      if (other !== store) stores.push(other);
      const heard: string[] = [];
      const unsubscribe = await other.subscribe('admin_session_revoked', (m) => heard.push(m));
      assert.equal(await store.revokeAdminSession('a1b2'), true);
      await store.publish('admin_session_revoked', 'a1b2');
      assert.deepEqual(
        await other.getAdminSession('a1b2'),
        { ...session, revoked: true },
        'every pod sees the revocation',
      );
      assert.equal(await store.revokeAdminSession('nope'), false);
      await until(() => heard.includes('a1b2'), 'the revocation message');
      await unsubscribe();
      await store.putAdminSession({ ...session, id: 'short', expires_at: Date.now() + 100 });
      assert.notEqual(await store.getAdminSession('short'), null);
      await until(async () => (await store.getAdminSession('short')) === null, 'the session to expire');
      assert.equal(await store.revokeAdminSession('short'), false, 'an expired session cannot be revoked');
    });

    test('admin login backoff: consecutive failures counted atomically per address, the later backoff kept, cleared by a success', async () => {
      assert.deepEqual(await store.getAdminLoginFailures('10.0.0.1'), { failures: 0, backoff_until: null });
      const counts = await Promise.all(
        Array.from({ length: 20 }, () => store.recordAdminLoginFailure('10.0.0.1', 60_000)),
      );
      assert.deepEqual(
        [...counts].sort((a, b) => a - b),
        Array.from({ length: 20 }, (_, i) => i + 1),
        'no two failures got the same count',
      );
      const later = Date.now() + 60_000;
      await store.extendAdminLoginBackoff('10.0.0.1', later);
      await store.extendAdminLoginBackoff('10.0.0.1', later - 30_000);
      assert.deepEqual(
        await store.getAdminLoginFailures('10.0.0.1'),
        { failures: 20, backoff_until: later },
        'the later backoff wins',
      );
      assert.deepEqual(await store.getAdminLoginFailures('::1'), { failures: 0, backoff_until: null });
      await store.clearAdminLoginFailures('10.0.0.1');
      assert.deepEqual(await store.getAdminLoginFailures('10.0.0.1'), { failures: 0, backoff_until: null });
      // Failures are forgotten once kept long enough; a backoff that ended is not reported.
      await store.recordAdminLoginFailure('10.0.0.3', 100);
      await store.extendAdminLoginBackoff('10.0.0.3', Date.now() + 100);
      assert.equal((await store.getAdminLoginFailures('10.0.0.3')).failures, 1);
      await until(async () => {
        const f = await store.getAdminLoginFailures('10.0.0.3');
        return f.failures === 0 && f.backoff_until === null;
      }, 'the failures to be forgotten');
    });

    test('canaries: definitions listed by name, replaced, deleted with their history; runs kept newest first and bounded', async () => {
      const def = (name: string, interval: number) => ({
        name,
        index: 'movies',
        interval_s: interval,
        query: { q: 'alien' },
        assertions: [{ type: 'top_hit_id' as const, id: 1 }],
        created_at: '2026-01-01T00:00:00.000Z',
      });
      assert.equal(await store.getCanary('b'), null);
      await store.putCanary(def('b', 5));
      await store.putCanary(def('a', 1));
      await store.putCanary(def('b', 7));
      assert.deepEqual(
        (await store.listCanaries()).map((c) => [c.name, c.interval_s]),
        [
          ['a', 1],
          ['b', 7],
        ],
      );
      assert.deepEqual(await store.getCanary('a'), def('a', 1));
      const run = (i: number) => ({
        at: `2026-01-01T00:00:0${i}.000Z`,
        passed: i % 2 === 0,
        latency_ms: i,
        settings_version: 1,
        failures: [],
      });
      for (let i = 0; i < 5; i++) await store.appendCanaryRun('a', run(i), 3);
      assert.deepEqual(
        (await store.getCanaryRuns('a', 10)).map((r) => r.latency_ms),
        [4, 3, 2],
      );
      assert.deepEqual(
        (await store.getCanaryRuns('a', 1)).map((r) => r.latency_ms),
        [4],
      );
      assert.equal(await store.deleteCanary('a'), true);
      assert.equal(await store.deleteCanary('a'), false);
      assert.deepEqual(await store.getCanaryRuns('a', 10), []);
      assert.deepEqual(
        (await store.listCanaries()).map((c) => c.name),
        ['b'],
      );
    });

    test('expiring records: compare-and-set, one of two creators wins, expiry, counts per kind', async () => {
      assert.equal(await store.getExpiring('idemp', 'k:1'), null);
      assert.equal(await store.casExpiring('idemp', 'k:1', 'x', 'y', 60_000), false, 'nothing stored yet');
      const firsts = await Promise.all([
        store.casExpiring('idemp', 'k:1', null, 'a', 60_000),
        store.casExpiring('idemp', 'k:1', null, 'b', 60_000),
      ]);
      assert.equal(firsts.filter(Boolean).length, 1, 'one of two creators wins');
      const cur = (await store.getExpiring('idemp', 'k:1'))!;
      assert.equal(await store.casExpiring('idemp', 'k:1', 'stale', 'c', 60_000), false);
      assert.equal(await store.casExpiring('idemp', 'k:1', cur, 'c', 60_000), true);
      assert.equal(await store.getExpiring('idemp', 'k:1'), 'c');
      await store.casExpiring('idemp', 'k:2', null, 'short', 50);
      await store.casExpiring('session', 's:1', null, 'v', 60_000);
      assert.equal(await store.countExpiring('session'), 1);
      await until(async () => (await store.getExpiring('idemp', 'k:2')) === null, 'the short record expires');
      assert.equal(await store.countExpiring('idemp'), 1, 'expired records are not counted');
      assert.equal(await store.casExpiring('idemp', 'k:2', null, 'again', 60_000), true, 'an expired key is free');
      assert.equal(await store.casExpiring('idemp', 'k:1', 'c', null, 0), true, 'deleted');
      assert.equal(await store.getExpiring('idemp', 'k:1'), null);
      assert.equal(await store.countExpiring('idemp'), 1);
    });

    test('search UI records: per-index config, scoped-key compare-and-set and listing, beacons with expiry, rate-limit windows', async () => {
      assert.equal(await store.getSearchUiConfig('movies'), null);
      await store.putSearchUiConfig('movies', { title: 'Films', displayed_attributes: ['genre'] });
      assert.deepEqual(await store.getSearchUiConfig('movies'), { title: 'Films', displayed_attributes: ['genre'] });

      const g1 = { primary_uid: 'k1', previous_uid: null, rotated_at: '2026-01-01T00:00:00.000Z', generation: 1 };
      const g2 = { primary_uid: 'k2', previous_uid: 'k1', rotated_at: '2026-02-01T00:00:00.000Z', generation: 2 };
      assert.equal(await store.getScopedKey('movies'), null);
      assert.equal(await store.casScopedKey('movies', g1, g2), false, 'nothing stored yet');
      const firsts = await Promise.all([
        store.casScopedKey('movies', null, g1),
        store.casScopedKey('movies', null, { ...g1, primary_uid: 'other' }),
      ]);
      assert.deepEqual(firsts.filter(Boolean).length, 1, 'one of two creators wins');
      const stored = (await store.getScopedKey('movies'))!;
      assert.equal(
        await store.casScopedKey('movies', { ...stored, generation: 7 }, g2),
        false,
        'a stale expectation loses',
      );
      assert.equal(await store.casScopedKey('movies', stored, g2), true);
      assert.deepEqual(await store.getScopedKey('movies'), g2);
      await store.casScopedKey('books', null, g1);
      assert.deepEqual((await store.listScopedKeys()).map((e) => [e.index, e.record.generation]).sort(), [
        ['books', 1],
        ['movies', 2],
      ]);
      assert.equal(await store.casScopedKey('books', g1, null), true);
      assert.deepEqual(
        (await store.listScopedKeys()).map((e) => e.index),
        ['movies'],
      );

      await store.putScopedKeyObserved('http://pod-a', 'movies', 2, 60_000);
      await store.putScopedKeyObserved('http://pod-b', 'movies', 1, 60_000);
      await store.putScopedKeyObserved('http://pod-c', 'movies', 2, 50);
      assert.deepEqual(await store.getScopedKeyObserved('movies', ['http://pod-a', 'http://pod-b', 'http://pod-x']), {
        'http://pod-a': 2,
        'http://pod-b': 1,
      });
      await until(
        async () => !('http://pod-c' in (await store.getScopedKeyObserved('movies', ['http://pod-c']))),
        'the short beacon to expire',
      );

      const bucket = `searchui:127.0.0.${name.length}`;
      const hits = [];
      for (let i = 0; i < 3; i++) hits.push(await store.hitRateLimit(bucket, 60_000, 60_000));
      assert.deepEqual(
        hits.map((h) => h.count),
        [1, 2, 3],
      );
      assert.equal(hits[0]!.windowStart, hits[2]!.windowStart, 'one window');
      assert.equal((await store.hitRateLimit('searchui:other', 60_000, 60_000)).count, 1, 'buckets are separate');
      if (opts.shared) {
        const other = await openOther!();
        stores.push(other);
        assert.equal(
          (await other.hitRateLimit(bucket, 60_000, 60_000)).count,
          4,
          'every pod counts in the same window',
        );
        assert.deepEqual(await other.getScopedKey('movies'), g2, 'another pod reads the same scoped-key record');
      }
      const short = await store.hitRateLimit('searchui:short', 30, 30);
      await until(
        async () => (await store.hitRateLimit('searchui:short', 30, 30)).windowStart !== short.windowStart,
        'a new window',
      );
    });

    test('integrity records: tombstones per index in task order and pruned by age, TTL policies, pass status', async () => {
      store = await fresh();
      const idx = `tomb-${Math.random().toString(36).slice(2)}`;
      await store.putTombstone({ index: idx, taskUid: 12, kind: 'ids', ids: ['a', 'b'], at: 2000 });
      await store.putTombstone({ index: idx, taskUid: 3, kind: 'filter', filter: 'x = 1', at: 1000 });
      await store.putTombstone({ index: `${idx}-other`, taskUid: 5, kind: 'all', at: 1000 });
      assert.deepEqual(
        (await store.listTombstones(idx)).map((t) => [t.taskUid, t.kind]),
        [
          [3, 'filter'],
          [12, 'ids'],
        ],
      );
      assert.deepEqual((await store.listTombstones(idx))[1]!.ids, ['a', 'b']);
      assert.ok((await store.pruneTombstones(1500)) >= 2);
      assert.deepEqual(
        (await store.listTombstones(idx)).map((t) => t.taskUid),
        [12],
      );
      assert.deepEqual(await store.listTombstones(`${idx}-other`), []);
      await store.putTtlPolicy(idx, { enabled: false, max_deletes_per_sweep: 5 });
      assert.deepEqual((await store.listTtlPolicies())[idx], { enabled: false, max_deletes_per_sweep: 5 });
      await store.putTtlPolicy(idx, null);
      assert.equal((await store.listTtlPolicies())[idx], undefined);
      const reshard = {
        index: idx,
        live: idx,
        shadow: `${idx}__reshard_8`,
        old_shards: 4,
        new_shards: 8,
        phase: 'backfilling' as const,
        throttle_docs_per_sec: 0,
        documents_backfilled: 12,
        documents_repaired: 0,
        error: null,
        dual_writes: true,
        backfill_after: 1,
        jobs: ['a', 'b'],
        started_at: 1,
        updated_at: 2,
        flipped_at: null,
        drop_at: null,
        reverted: false,
      };
      await store.putReshard(idx, reshard);
      assert.deepEqual(
        (await store.listReshards()).find((r) => r.index === idx),
        reshard,
      );
      await store.putReshard(idx, { ...reshard, phase: 'flipped' });
      assert.equal((await store.listReshards()).find((r) => r.index === idx)?.phase, 'flipped');
      await store.putReshard(idx, null);
      assert.equal(
        (await store.listReshards()).find((r) => r.index === idx),
        undefined,
      );
      const status = {
        index: idx,
        shard: 7,
        finished_at: 1,
        duration_ms: 2,
        documents: 3,
        mismatched_buckets: 1,
        mismatches: 1,
        repaired: 1,
        repair: true,
        consecutive_with_mismatches: 1,
        skipped_nodes: [],
        samples: [{ id: 'a', kind: 'missing', action: 'copied' }],
        error: null,
      };
      await store.putAntiEntropyStatus(status);
      assert.deepEqual(await store.getAntiEntropyStatus(idx, 7), status);
      assert.equal(await store.getAntiEntropyStatus(idx, 8), null);
      assert.ok((await store.listAntiEntropyStatus()).some((s) => s.index === idx && s.shard === 7));
    });

    test('change log: ids from 1 in append order, reads after an id (filtered by index), bounds, trims, cursors', async () => {
      const at = (ms: number) => new Date(ms).toISOString();
      const ev = (index: string, ms: number, task: number) => ({
        mtask_id: task,
        index,
        operation: 'document_add' as const,
        primary_keys: [`k${task}`],
        shard_ids: [0],
        settings_version: 1,
        timestamp: at(ms),
      });
      assert.deepEqual(await store.changesBounds(), { first: null, last: 0 });
      assert.deepEqual(await store.appendChanges([ev('a', 1000, 1), ev('b', 1000, 2)]), [1, 2]);
      const concurrent = await Promise.all(
        Array.from({ length: 10 }, (_, i) => store.appendChanges([ev(i % 2 === 0 ? 'a' : 'b', 2000 + i, 10 + i)])),
      );
      assert.deepEqual(
        concurrent.flat().sort((x, y) => x - y),
        [3, 4, 5, 6, 7, 8, 9, 10, 11, 12],
      );
      assert.deepEqual(await store.appendChanges([]), []);
      const all = await store.readChanges(0, 100);
      assert.deepEqual(
        all.events.map((e) => e.event_id),
        [1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12],
      );
      assert.equal(all.scannedTo, 12);
      assert.deepEqual(all.events[0], { event_id: 1, ...ev('a', 1000, 1) });
      const page = await store.readChanges(2, 3);
      assert.deepEqual(
        page.events.map((e) => e.event_id),
        [3, 4, 5],
      );
      const onlyB = await store.readChanges(0, 100, 'b');
      assert.ok(onlyB.events.every((e) => e.index === 'b'));
      assert.equal(onlyB.events.length, 6);
      assert.deepEqual(await store.readChanges(12, 10), { events: [], scannedTo: 12 });
      assert.deepEqual(await store.changesBounds(), { first: 1, last: 12 });
      // Age: the two events of 1000 ms go; count: then only the newest 8 stay.
      assert.equal(await store.trimChanges(1000, 1500), 2);
      assert.deepEqual(await store.changesBounds(), { first: 3, last: 12 });
      assert.equal(await store.trimChanges(8, 0), 2);
      assert.deepEqual(await store.changesBounds(), { first: 5, last: 12 });
      assert.deepEqual(
        (await store.readChanges(0, 1)).events.map((e) => e.event_id),
        [5],
      );
      // Ids are never reused after a trim.
      assert.deepEqual(await store.appendChanges([ev('a', 3000, 30)]), [13]);
      assert.equal(await store.getChangeCursor('webhook'), 0);
      await store.putChangeCursor('webhook', 7);
      await store.putChangeCursor('nats', 3);
      assert.equal(await store.getChangeCursor('webhook'), 7);
      assert.equal(await store.getChangeCursor('nats'), 3);
    });

    test('leases: one holder, renewal by the holder, expiry and takeover, release', async () => {
      assert.equal(await store.acquireLease('rebalance', 'pod-a', 150), true);
      assert.equal(await store.acquireLease('rebalance', 'pod-b', 150), false);
      assert.equal(await store.acquireLease('rebalance', 'pod-a', 150), true, 'renewal');
      assert.equal((await store.getLease('rebalance'))?.owner, 'pod-a');
      await until(async () => store.acquireLease('rebalance', 'pod-b', 10_000), 'lease expiry');
      assert.equal((await store.getLease('rebalance'))?.owner, 'pod-b');
      assert.equal(await store.releaseLease('rebalance', 'pod-a'), false);
      assert.equal(await store.releaseLease('rebalance', 'pod-b'), true);
      assert.equal(await store.getLease('rebalance'), null);
    });
  });
}
