// The CDC sink runner (src/main/cdc/sinks.ts) on a real LMDB store: batches in log order from the persisted cursor,
// a failing target retried until it takes the batch, events trimmed before the sink read them counted as dropped,
// nothing delivered while another pod holds the sink's lease; internal writes suppressed unless asked.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { Registry } from 'prom-client';
import type { CdcEvent } from '../../../src/core/cdc.js';
import { cdcSchema } from '../../../src/main/cdc/config.js';
import { ChangeLog } from '../../../src/main/cdc/log.js';
import { cdcMetrics } from '../../../src/main/cdc/metrics.js';
import { SinkRunner, type SinkTarget } from '../../../src/main/cdc/sinks.js';
import { LmdbStore } from '../../../src/store/lmdb.js';
import type { TaskRow } from '../../../src/store/store.js';
import { tempDir } from '../../support/devnode.js';
import { until } from '../../support/wait.js';

function task(uid: number, index: string): TaskRow {
  return {
    uid,
    indexUid: index,
    type: 'documentAdditionOrUpdate',
    status: 'enqueued',
    nodeTasks: {},
    details: null,
    error: null,
    canceledBy: null,
    enqueuedAt: new Date().toISOString(),
    startedAt: null,
    finishedAt: null,
    queues: [index],
  };
}

async function setup(config: Record<string, unknown> = {}) {
  const dir = tempDir('miroir-cdc-sink-');
  const store = new LmdbStore({ path: dir.dir });
  const registry = new Registry();
  const metrics = cdcMetrics(registry);
  const log = new ChangeLog({ store, config: cdcSchema.parse({ enabled: true, ...config }), metrics, logger: null });
  return {
    store,
    registry,
    metrics,
    log,
    async close() {
      await log.stop();
      await store.close();
      dir.cleanup();
    },
  };
}

async function counter(registry: Registry, name: string, labels: string): Promise<number> {
  const m = new RegExp(`${name}\\{${labels}\\} (\\d+)`).exec(await registry.metrics());
  return m === null ? 0 : Number(m[1]);
}

test('a sink delivers in order from its cursor, retries a failing target and saves the cursor', async () => {
  const s = await setup();
  const got: number[] = [];
  let failures = 2;
  const target: SinkTarget = {
    name: 'fake',
    batchSize: 3,
    flushMs: 0,
    async deliver(events: readonly CdcEvent[]) {
      if (failures-- > 0) throw new Error('down');
      got.push(...events.map((e) => e.mtask_id!));
    },
    async close() {},
  };
  for (let i = 1; i <= 7; i++) await s.log.record(task(i, i % 2 === 0 ? 'a' : 'b'), { primary_keys: [`${i}`] });
  let leading = false;
  const runner = new SinkRunner(target, {
    store: s.store,
    log: s.log,
    metrics: s.metrics,
    logger: null,
    leading: () => leading,
  });
  runner.start();
  await s.log.waitForAppend(50);
  assert.deepEqual(got, [], 'nothing is delivered without the lease');
  leading = true;
  await until(() => got.length === 7, 'every event delivered', 10_000);
  assert.deepEqual(got, [1, 2, 3, 4, 5, 6, 7]);
  await until(async () => (await s.store.getChangeCursor('fake')) === 7, 'the cursor saved');
  await s.log.record(task(8, 'a'));
  await until(() => got.length === 8, 'a new event delivered', 10_000);
  // The counter moves once the batch's cursor is saved, just after the target took it.
  await until(
    async () => (await counter(s.registry, 'miroir_cdc_events_published_total', 'sink="fake",index="a"')) === 4,
    'the published counter of index a at 4',
  );
  await runner.stop();
  await s.close();
});

test('events trimmed before the sink read them are counted as dropped; the sink goes on from the first kept', async () => {
  const s = await setup();
  for (let i = 1; i <= 10; i++) await s.log.record(task(i, 'a'));
  assert.equal(await s.store.trimChanges(4, 0), 6);
  const got: number[] = [];
  const target: SinkTarget = {
    name: 'late',
    batchSize: 100,
    flushMs: 0,
    async deliver(events) {
      got.push(...events.map((e) => e.event_id));
    },
    async close() {},
  };
  const runner = new SinkRunner(target, {
    store: s.store,
    log: s.log,
    metrics: s.metrics,
    logger: null,
    leading: () => true,
  });
  runner.start();
  await until(() => got.length === 4, 'the kept events delivered');
  assert.deepEqual(got, [7, 8, 9, 10]);
  assert.equal(await counter(s.registry, 'miroir_cdc_dropped_total', 'sink="late"'), 6);
  await runner.stop();
  await s.close();
});

test('internal writes are suppressed and counted unless emit_internal_writes / emit_ttl_deletes', async () => {
  const off = await setup();
  await off.log.internal('shard_move', {
    index: 'a',
    operation: 'document_add',
    shard_ids: [1],
    documents: [{ id: 1 }],
  });
  await off.log.internal('ttl_expire', { index: 'a', operation: 'document_delete_by_filter', shard_ids: [1] });
  assert.deepEqual((await off.store.readChanges(0, 10)).events, []);
  assert.equal(await counter(off.registry, 'miroir_cdc_events_suppressed_total', 'origin="shard_move"'), 1);
  assert.equal(await counter(off.registry, 'miroir_cdc_events_suppressed_total', 'origin="ttl_expire"'), 1);
  await off.close();
  const on = await setup({ emit_internal_writes: true, emit_ttl_deletes: true });
  await on.log.internal('antientropy', {
    index: 'a',
    operation: 'document_delete',
    shard_ids: [2],
    primary_keys: ['x'],
  });
  await on.log.internal('ttl_expire', {
    index: 'a',
    operation: 'document_delete_by_filter',
    shard_ids: [1],
    filter: 'f',
  });
  const events = (await on.store.readChanges(0, 10)).events;
  assert.deepEqual(
    events.map((e) => [e.event_id, e.origin, e.mtask_id, e.primary_keys]),
    [
      [1, 'antientropy', null, ['x']],
      [2, 'ttl_expire', null, null],
    ],
  );
  await on.close();
});

test('the long-poll waits for an append and answers the events after since', async () => {
  const s = await setup();
  await s.log.record(task(1, 'a'));
  const waiting = s.log.poll({ since: 1, index: null, limit: 10, timeoutMs: 5000 }, false);
  setImmediate(() => void s.log.record(task(2, 'b')));
  const page = await waiting;
  assert.deepEqual(
    page.events.map((e) => [e.event_id, e.mtask_id, e.index]),
    [[2, 2, 'b']],
  );
  assert.equal(page.next, 2);
  const empty = await s.log.poll({ since: 2, index: null, limit: 10, timeoutMs: 0 }, false);
  assert.deepEqual(empty, { events: [], next: 2 });
  await s.close();
});

test('with a sink asking for bodies, the log keeps documents and a settings task its settings', async () => {
  const s = await setup({ sinks: { webhook: { url: 'http://127.0.0.1:9/', include_body: true } } });
  assert.equal(s.log.withBodies, true);
  await s.log.record(task(1, 'a'), { primary_keys: ['1'], document: [{ id: 1, t: 'x' }] });
  await s.log.record({ ...task(2, 'a'), type: 'settingsUpdate', details: { rankingRules: ['words'] } });
  await s.log.record({ ...task(3, 'a'), outcome: { status: 'failed', error: null } });
  const events = (await s.store.readChanges(0, 10)).events;
  assert.deepEqual(
    events.map((e) => [e.operation, e.document]),
    [
      ['document_add', [{ id: 1, t: 'x' }]],
      ['settings_update', { rankingRules: ['words'] }],
    ],
  );
  await s.close();
});
