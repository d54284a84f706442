// The change stream's pure logic (src/core/cdc.ts): task → operation, projected settings versions, the documents of a
// routed batch read once across replicas, the long-poll query and page, drop accounting, signatures, backoff.
import assert from 'node:assert/strict';
import { createHmac } from 'node:crypto';
import { test } from 'node:test';
import {
  changesPage,
  droppedBefore,
  forSink,
  isCdcEventDraft,
  natsSubject,
  operationOf,
  parseChangesQuery,
  projectedSettingsVersion,
  retryDelayMs,
  routedDocuments,
  shardSources,
  webhookSignature,
  type CdcEvent,
} from '../../../src/core/cdc.js';
import { defaultSettings } from '../../../src/core/settings.js';

const ev = (id: number, extra: Partial<CdcEvent> = {}): CdcEvent => ({
  event_id: id,
  mtask_id: id,
  index: 'a',
  operation: 'document_add',
  primary_keys: [String(id)],
  shard_ids: [0],
  settings_version: 1,
  timestamp: '2026-01-01T00:00:00.000Z',
  ...extra,
});

test('client task types map to operations; tasks that change no index have none', () => {
  assert.equal(operationOf('documentAdditionOrUpdate'), 'document_add');
  assert.equal(operationOf('documentDeletion'), 'document_delete');
  assert.equal(operationOf('settingsUpdate'), 'settings_update');
  assert.equal(operationOf('indexCreation'), 'index_create');
  assert.equal(operationOf('indexDeletion'), 'index_delete');
  assert.equal(operationOf('indexSwap'), 'index_swap');
  assert.equal(operationOf('taskCancelation'), null);
  assert.equal(operationOf('taskDeletion'), null);
});

test('the settings version counts pending settings changes over the committed one', () => {
  assert.equal(projectedSettingsVersion(null), null);
  const committed = {
    primaryKey: 'id',
    settings: defaultSettings(),
    settingsVersion: 3,
    createdAt: '',
    updatedAt: '',
  };
  const rec = { uid: 'a', version: 1, committed, fields: [], shards: 4, pending: [] };
  assert.equal(projectedSettingsVersion(rec), 3);
  assert.equal(
    projectedSettingsVersion({ ...rec, pending: [{ taskUid: 9, kind: 'settings', patch: defaultSettings() }] }),
    4,
  );
});

test('routed documents are read once per shard although every replica got a copy, reserved fields dropped', () => {
  const body = (docs: object[]) => Buffer.from(JSON.stringify(docs));
  const d = (id: number, shard: number) => ({ id, title: `t${id}`, _miroir_shard: shard, _miroir_version: 7 });
  const bodies = {
    n1: body([d(1, 0), d(2, 1)]),
    n2: body([d(1, 0), d(2, 1)]), // replica of n1
    n3: body([d(3, 2)]),
  };
  const nodeShards = { n1: [0, 1], n2: [0, 1], n3: [2] };
  assert.deepEqual(
    [...shardSources(nodeShards)].map(([n, s]) => [n, [...s]]),
    [
      ['n1', [0, 1]],
      ['n3', [2]],
    ],
  );
  const out = routedDocuments(bodies, nodeShards, 'id', true);
  assert.deepEqual(out.primary_keys, ['1', '2', '3']);
  assert.deepEqual(out.shard_ids, [0, 1, 2]);
  assert.deepEqual(out.documents, [
    { id: 1, title: 't1' },
    { id: 2, title: 't2' },
    { id: 3, title: 't3' },
  ]);
  assert.equal(routedDocuments(bodies, nodeShards, 'id', false).documents, null);
});

test('long-poll parameters: defaults, caps and a message naming the bad one', () => {
  assert.deepEqual(parseChangesQuery({}), { since: 0, index: null, limit: 100, timeoutMs: 0 });
  assert.deepEqual(parseChangesQuery({ since: '12', index: 'movies', limit: '99999', timeout_ms: '999999' }), {
    since: 12,
    index: 'movies',
    limit: 10_000,
    timeoutMs: 60_000,
  });
  assert.match(String(parseChangesQuery({ since: '-1' })), /`since`/);
  assert.match(String(parseChangesQuery({ limit: '0' })), /`limit`/);
  assert.match(String(parseChangesQuery({ timeout_ms: 'soon' })), /`timeout_ms`/);
});

test('a page answers the events and the id to ask from next (past skipped events of other indexes)', () => {
  assert.deepEqual(changesPage([], 5, 5), { events: [], next: 5 });
  assert.deepEqual(changesPage([ev(6), ev(8)], 5, 8).next, 8);
  assert.deepEqual(changesPage([ev(6)], 5, 9).next, 9);
  assert.deepEqual(changesPage([], 5, 12), { events: [], next: 12 });
});

test('drops: the events between a cursor and the first kept id', () => {
  assert.equal(droppedBefore(0, 1), 0);
  assert.equal(droppedBefore(0, null), 0);
  assert.equal(droppedBefore(3, 10), 6);
  assert.equal(droppedBefore(12, 10), 0);
});

test('sinks get the document only when they asked for bodies', () => {
  const withDoc = ev(1, { document: [{ id: 1 }] });
  assert.equal('document' in forSink(withDoc, false), false);
  assert.deepEqual(forSink(withDoc, true).document, [{ id: 1 }]);
  assert.equal(isCdcEventDraft(withDoc), true);
  assert.equal(isCdcEventDraft({ index: 1 }), false);
});

test('webhook signature is the hex HMAC-SHA256 of the body; retries back off up to 30 s; subjects', () => {
  const body = '[{"event_id":1}]';
  assert.equal(webhookSignature('s3cret', body), `sha256=${createHmac('sha256', 's3cret').update(body).digest('hex')}`);
  assert.deepEqual([0, 1, 2, 3].map(retryDelayMs), [200, 400, 800, 1600]);
  assert.equal(retryDelayMs(50), 30_000);
  assert.equal(natsSubject('miroir.cdc', 'movies'), 'miroir.cdc.movies');
});
