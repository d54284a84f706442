// The v6 dump shapes against lines shaped exactly as Meilisearch's dump crate writes them (its test dumps, e.g.
// crates/dump/tests/assets/v6-with-webhooks.dump and crates/meilisearch/tests/assets/v6_v1.13.0_*.dump): keys,
// metadata, dump uids, task lines (KindDump `type`, `Details` enum) and RoaringBitmap bytes.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { isoDuration } from '../../../src/core/tasks.js';
import {
  dumpUidAt,
  keyFromDump,
  keyToDump,
  parseDumpMetadata,
  parseIndexMetadata,
  roaringBitmap,
  taskFromDump,
  taskToDump,
  type TaskLike,
} from '../../../src/dump/index.js';

function code(err: unknown): string {
  return (err as { code?: string }).code ?? String(err);
}

describe('dump uid and metadata', () => {
  test('the dump uid is the UTC start time as YYYYMMDD-HHMMSSmmm', () => {
    assert.equal(dumpUidAt(new Date(Date.UTC(2024, 0, 1, 12, 34, 56, 789))), '20240101-123456789');
    assert.equal(dumpUidAt(new Date(Date.UTC(2025, 2, 5, 1, 2, 3, 4))), '20250305-010203004');
  });

  test('metadata.json: V6 with nanosecond dates reads; other versions are refused by name', () => {
    assert.deepEqual(
      parseDumpMetadata({ dumpVersion: 'V6', dbVersion: '1.13.0', dumpDate: '2025-02-04T10:22:31.331764736Z' }),
      {
        dumpVersion: 'V6',
        dbVersion: '1.13.0',
        dumpDate: '2025-02-04T10:22:31.331764736Z',
      },
    );
    assert.throws(
      () => parseDumpMetadata({ dumpVersion: 'V5', dbVersion: '0.28.0', dumpDate: '2022-10-04T15:55:10.344982459Z' }),
      (e) => code(e) === 'malformed_payload' && /dumpVersion "V5"/.test((e as Error).message),
    );
    assert.throws(() => parseDumpMetadata([]), /not a JSON object/);
  });

  test('index metadata.json: uid, primaryKey, createdAt, updatedAt', () => {
    const m = {
      uid: 'kefir',
      primaryKey: 'id',
      createdAt: '2025-02-04T10:14:43.560230749Z',
      updatedAt: '2025-02-04T10:15:21.391248252Z',
    };
    assert.deepEqual(parseIndexMetadata(m, 'x'), m);
    assert.deepEqual(parseIndexMetadata({ ...m, primaryKey: null }, 'x').primaryKey, null);
    assert.throws(
      () => parseIndexMetadata({ ...m, uid: 'bad uid' }, 'indexes/x/metadata.json'),
      /`indexes\/x\/metadata.json` has an invalid index `uid`/,
    );
    assert.throws(() => parseIndexMetadata({ ...m, createdAt: 'yesterday' }, 'x'), /RFC 3339/);
  });
});

describe('keys.jsonl', () => {
  const line =
    '{"description":"Use it to search from the frontend","name":"Default Search API Key","uid":"47c1a14b-ff83-41f1-8c6c-1a12fe1a61af","actions":["search"],"indexes":["*"],"expires_at":null,"created_at":"2025-07-31T09:20:20.576923Z","updated_at":"2025-07-31T09:20:20.576923Z"}';

  test('a Meilisearch key line reads into a key record and writes back byte for byte', () => {
    const record = keyFromDump(JSON.parse(line), 'keys.jsonl line 1');
    assert.deepEqual(record, {
      uid: '47c1a14b-ff83-41f1-8c6c-1a12fe1a61af',
      name: 'Default Search API Key',
      description: 'Use it to search from the frontend',
      actions: ['search'],
      indexes: ['*'],
      expiresAt: null,
      createdAt: '2025-07-31T09:20:20.576923Z',
      updatedAt: '2025-07-31T09:20:20.576923Z',
    });
    assert.equal(JSON.stringify(keyToDump(record)), line);
  });

  test('a null name or description is left out, as serde skips None', () => {
    const out = keyToDump({
      uid: '11111111-1111-4111-8111-111111111111',
      name: null,
      description: null,
      actions: ['*'],
      indexes: ['movies'],
      expiresAt: '2099-01-01T00:00:00Z',
      createdAt: '2024-01-01T00:00:00Z',
      updatedAt: '2024-01-01T00:00:00Z',
    });
    assert.deepEqual(Object.keys(out), ['uid', 'actions', 'indexes', 'expires_at', 'created_at', 'updated_at']);
  });

  test('malformed keys are refused with malformed_payload', () => {
    const good = JSON.parse(line) as Record<string, unknown>;
    for (const bad of [
      { ...good, uid: 'nope' },
      { ...good, actions: 'search' },
      { ...good, created_at: 12 },
      { ...good, expires_at: 'soon' },
      { ...good, name: 5 },
      'x',
    ]) {
      assert.throws(
        () => keyFromDump(bad, 'keys.jsonl line 1'),
        (e) => code(e) === 'malformed_payload',
      );
    }
  });
});

describe('RoaringBitmap bytes', () => {
  test('portable format without run containers: cookie 12346, container count, keys/cardinalities, offsets, data', () => {
    assert.deepEqual(roaringBitmap([]), [58, 48, 0, 0, 0, 0, 0, 0]);
    assert.deepEqual(
      roaringBitmap([2, 0, 1, 1]),
      [58, 48, 0, 0, 1, 0, 0, 0, 0, 0, 2, 0, 16, 0, 0, 0, 0, 0, 1, 0, 2, 0],
    );
    const two = Buffer.from(roaringBitmap([5, 65536 + 7]));
    assert.equal(two.readUInt32LE(4), 2);
    assert.deepEqual(
      [two.readUInt16LE(8), two.readUInt16LE(10), two.readUInt16LE(12), two.readUInt16LE(14)],
      [0, 0, 1, 0],
    );
    assert.deepEqual([two.readUInt32LE(16), two.readUInt32LE(20)], [24, 26]);
    assert.deepEqual([two.readUInt16LE(24), two.readUInt16LE(26)], [5, 7]);
  });

  test('a container of more than 4096 values is an 8 KiB bitmap', () => {
    const values = Array.from({ length: 5000 }, (_, i) => i * 2);
    const buf = Buffer.from(roaringBitmap(values));
    assert.equal(buf.length, 8 + 8 + 8192);
    assert.equal(buf.readUInt16LE(10), 4999);
    assert.equal(buf[16]! & 0b101, 0b101, 'bits 0 and 2 set');
    assert.equal(buf[16]! & 0b010, 0, 'bit 1 clear');
  });
});

describe('tasks/queue.jsonl', () => {
  // Lines as Meilisearch 1.13 wrote them (crates/meilisearch/tests/assets/v6_v1.13.0_batches_and_enqueued_tasks.dump).
  const addition =
    '{"uid":1,"batchUid":null,"indexUid":"kefir","status":"succeeded","type":{"documentImport":{"primary_key":null,"method":"ReplaceDocuments","documents_count":1,"allow_index_creation":true}},"details":{"DocumentAdditionOrUpdate":{"received_documents":1,"indexed_documents":1}},"enqueuedAt":"2025-02-04T10:15:21.258630973Z","startedAt":"2025-02-04T10:15:21.275640274Z","finishedAt":"2025-02-04T10:15:21.420468164Z"}';
  const enqueued =
    '{"uid":2,"batchUid":null,"indexUid":"kefir","status":"enqueued","type":{"documentImport":{"primary_key":null,"method":"ReplaceDocuments","documents_count":1,"allow_index_creation":true}},"details":{"DocumentAdditionOrUpdate":{"received_documents":1,"indexed_documents":null}},"enqueuedAt":"2025-02-04T10:15:49.212484063Z"}';
  const dump =
    '{"uid":3,"batchUid":null,"indexUid":null,"status":"succeeded","type":{"dumpCreation":{"keys":[{"description":"Use it to search from the frontend","name":"Default Search API Key","uid":"42092c55-5496-4579-8a51-768ad7866998","actions":["search"],"indexes":["*"],"expires_at":null,"created_at":"2025-02-04T10:14:11.442986832Z","updated_at":"2025-02-04T10:14:11.442986832Z"}],"instance_uid":"972b0d34-a73b-4b37-9a06-eac9af32c9b3"}},"details":{"Dump":{"dump_uid":null}},"enqueuedAt":"2025-02-04T10:22:31.318175268Z","startedAt":"2025-02-04T10:22:31.331701375Z","finishedAt":"2025-02-04T10:22:31.332330434Z"}';

  test('Meilisearch task lines read into the task view GET /tasks answers, with nanosecond durations', () => {
    const a = taskFromDump(JSON.parse(addition), 'tasks/queue.jsonl line 2');
    assert.deepEqual(a.task, {
      uid: 1,
      batchUid: null,
      indexUid: 'kefir',
      status: 'succeeded',
      type: 'documentAdditionOrUpdate',
      canceledBy: null,
      details: { receivedDocuments: 1, indexedDocuments: 1 },
      error: null,
      enqueuedAt: '2025-02-04T10:15:21.258630973Z',
      startedAt: '2025-02-04T10:15:21.275640274Z',
      finishedAt: '2025-02-04T10:15:21.420468164Z',
    });
    assert.equal(isoDuration(a.durationMs!), 'PT0.144827890S');
    const d = taskFromDump(JSON.parse(dump), 'x');
    assert.equal(d.task.type, 'dumpCreation');
    assert.deepEqual(d.task.details, { dumpUid: null });
    assert.equal(isoDuration(d.durationMs!), 'PT0.000629059S');
    assert.equal(d.content.keys?.[0]?.name, 'Default Search API Key');
    assert.equal(d.content.instanceUid, '972b0d34-a73b-4b37-9a06-eac9af32c9b3');
    const e = taskFromDump(JSON.parse(enqueued), 'x');
    assert.equal(e.durationMs, null);
    assert.deepEqual(e.content, { primaryKey: null, method: 'ReplaceDocuments', allowIndexCreation: true });
  });

  test('a task view writes back as the same Meilisearch line, field for field and in order', () => {
    for (const line of [addition, enqueued, dump]) {
      const { task, content } = taskFromDump(JSON.parse(line), 'x');
      assert.equal(JSON.stringify(taskToDump(task, content)), line);
    }
  });

  const base: TaskLike = {
    uid: 7,
    batchUid: 7,
    indexUid: 'movies',
    status: 'succeeded',
    type: 'x',
    canceledBy: null,
    details: null,
    error: null,
    enqueuedAt: '2024-01-01T00:00:00.000Z',
    startedAt: '2024-01-01T00:00:00.001Z',
    finishedAt: '2024-01-01T00:00:00.002Z',
  };
  const cases: Array<[string, Partial<TaskLike>, unknown, unknown]> = [
    [
      'deletion by ids',
      { type: 'documentDeletion', details: { providedIds: 2, deletedDocuments: 2, originalFilter: null } },
      { documentDeletion: { documents_ids: [] } },
      { DocumentDeletion: { provided_ids: 2, deleted_documents: 2 } },
    ],
    [
      'deletion by filter',
      { type: 'documentDeletion', details: { providedIds: 0, deletedDocuments: 4, originalFilter: '"genre = drama"' } },
      { documentDeletionByFilter: { filter: 'genre = drama' } },
      { DocumentDeletionByFilter: { original_filter: '"genre = drama"', deleted_documents: 4 } },
    ],
    [
      'clear',
      { type: 'documentDeletion', details: { deletedDocuments: 9 } },
      'documentClear',
      { ClearAll: { deleted_documents: 9 } },
    ],
    [
      'settings',
      { type: 'settingsUpdate', details: { stopWords: ['the'] } },
      { settings: { settings: { stopWords: ['the'] }, is_deletion: false, allow_index_creation: true } },
      { SettingsUpdate: { settings: { stopWords: ['the'] } } },
    ],
    [
      'index creation',
      { type: 'indexCreation', details: { primaryKey: 'id' } },
      { indexCreation: { primary_key: 'id' } },
      { IndexInfo: { primary_key: 'id', new_index_uid: null, old_index_uid: null } },
    ],
    [
      'index rename',
      { type: 'indexUpdate', details: { primaryKey: null, oldIndexUid: 'a', newIndexUid: 'b' } },
      { indexUpdate: { primary_key: null, uid: 'b' } },
      { IndexInfo: { primary_key: null, new_index_uid: 'b', old_index_uid: 'a' } },
    ],
    [
      'index deletion',
      { type: 'indexDeletion', details: { deletedDocuments: 3 } },
      'indexDeletion',
      { ClearAll: { deleted_documents: 3 } },
    ],
    [
      'swap',
      { type: 'indexSwap', indexUid: null, details: { swaps: [{ indexes: ['a', 'b'], rename: false }] } },
      { indexSwap: { swaps: [{ indexes: ['a', 'b'], rename: false }] } },
      { IndexSwap: { swaps: [{ indexes: ['a', 'b'], rename: false }] } },
    ],
    [
      'cancelation',
      {
        type: 'taskCancelation',
        indexUid: null,
        details: { matchedTasks: 1, canceledTasks: 1, originalFilter: '?uids=3' },
      },
      { taskCancelation: { query: '?uids=3', tasks: [58, 48, 0, 0, 0, 0, 0, 0] } },
      { TaskCancelation: { matched_tasks: 1, canceled_tasks: 1, original_filter: '?uids=3' } },
    ],
    [
      'deletion of tasks',
      {
        type: 'taskDeletion',
        indexUid: null,
        details: { matchedTasks: 2, deletedTasks: 2, originalFilter: '?statuses=failed' },
      },
      { tasksDeletion: { query: '?statuses=failed', tasks: [58, 48, 0, 0, 0, 0, 0, 0] } },
      { TaskDeletion: { matched_tasks: 2, deleted_tasks: 2, original_filter: '?statuses=failed' } },
    ],
  ];
  for (const [name, patch, type, details] of cases) {
    test(`${name}: KindDump type and Details, and back to the same view`, () => {
      const t: TaskLike = { ...base, ...patch };
      const out = taskToDump(t);
      assert.deepEqual(out?.type, type);
      assert.deepEqual(out?.details, details);
      const back = taskFromDump(JSON.parse(JSON.stringify(out)), 'x').task;
      assert.deepEqual(back, t);
    });
  }

  test('a failed task keeps its error; a task type Meilisearch has no kind for is left out', () => {
    const error = {
      message: 'Index `x` not found.',
      code: 'index_not_found',
      type: 'invalid_request',
      link: 'https://docs.meilisearch.com/errors#index_not_found',
    };
    const out = taskToDump({
      ...base,
      status: 'failed',
      type: 'indexDeletion',
      details: { deletedDocuments: 0 },
      error,
    });
    assert.deepEqual(out?.error, error);
    assert.equal(taskToDump({ ...base, type: 'miroirDumpImport' }), null);
  });

  test('malformed task lines are refused with malformed_payload', () => {
    const good = JSON.parse(addition) as Record<string, unknown>;
    for (const bad of [
      { ...good, uid: -1 },
      { ...good, status: 'done' },
      { ...good, enqueuedAt: 'now' },
      { ...good, type: 3 },
      { ...good, error: { message: 1 } },
      [],
    ]) {
      assert.throws(
        () => taskFromDump(bad, 'tasks/queue.jsonl line 1'),
        (e) => code(e) === 'malformed_payload',
      );
    }
  });
});

describe('settingsPatch', () => {
  test('keeps only known settings whose value is not the default', async () => {
    const { settingsPatch } = await import('../../../src/dump/format.js');
    const { defaultSettings } = await import('../../../src/core/settings.js');
    const full: Record<string, unknown> = defaultSettings();
    assert.deepEqual(settingsPatch(full), {}, 'default settings patch nothing');
    assert.deepEqual(
      settingsPatch({
        ...full,
        filterableAttributes: ['genre'],
        synonyms: { a: ['b'] },
        chat: { description: 'unknown to Miroir' },
        distinctAttribute: null,
      }),
      { filterableAttributes: ['genre'], synonyms: { a: ['b'] } },
    );
  });
});
