// The streaming dump reader and writer: a hand-made minimal v6 dump whose files follow the exact shapes of
// Meilisearch's test dumps (and its tar habits: `./` names, documents before metadata, keys after the indexes,
// AppleDouble files) reads in the fixed order; what the writer writes reads back without spooling; malformed or
// truncated dumps fail with malformed_payload and never hang.
import assert from 'node:assert/strict';
import { PassThrough, Readable, Writable } from 'node:stream';
import { describe, test } from 'node:test';
import { gzipSync } from 'node:zlib';
import {
  DumpWriter,
  readDump,
  taskFromDump,
  type DumpHeader,
  type DumpIndex,
  type ReadDumpOptions,
} from '../../../src/dump/index.js';
import { BATCH, SETTINGS, meiliOrdered, tarGz, type Item } from '../../support/dumps.js';

interface Seen {
  events: string[];
  header: DumpHeader | null;
  indexes: Array<{ index: DumpIndex; docs: unknown[] }>;
  tasks: Array<{ task: Record<string, unknown>; update: unknown[] | null }>;
  batches: unknown[];
}

async function read(buf: Buffer | Readable, opts: ReadDumpOptions = {}, withTasks = true) {
  const seen: Seen = { events: [], header: null, indexes: [], tasks: [], batches: [] };
  const summary = await readDump(
    Buffer.isBuffer(buf) ? Readable.from([buf]) : buf,
    {
      header: (h) => {
        seen.events.push('header');
        seen.header = h;
      },
      index: async (index, documents) => {
        seen.events.push(`index ${index.metadata.uid}`);
        const docs: unknown[] = [];
        for await (const batch of documents) docs.push(...batch);
        seen.indexes.push({ index, docs });
      },
      batch: (b) => void seen.batches.push(b),
      ...(withTasks
        ? {
            task: async (task: Record<string, unknown>, update: AsyncIterable<unknown[]> | null) => {
              seen.events.push(`task ${String(task.uid)}`);
              const docs: unknown[] | null = update === null ? null : [];
              if (update !== null) for await (const b of update) docs!.push(...b);
              seen.tasks.push({ task, update: docs });
            },
          }
        : {}),
    },
    opts,
  );
  return { seen, summary };
}

async function rejection(p: Promise<unknown>): Promise<{ code: string; message: string }> {
  try {
    await p;
  } catch (err) {
    return { code: (err as { code?: string }).code ?? '', message: (err as Error).message };
  }
  assert.fail('the dump was accepted');
}

describe('reading a dump in Meilisearch tar order', () => {
  test('header first, then the index with metadata and settings before its documents, then batches and tasks', async () => {
    const { seen, summary } = await read(await tarGz(meiliOrdered()));
    assert.deepEqual(seen.events, ['header', 'index kefir', 'task 0', 'task 1']);
    const h = seen.header!;
    assert.deepEqual(h.metadata, {
      dumpVersion: 'V6',
      dbVersion: '1.13.0',
      dumpDate: '2025-02-04T10:22:31.331764736Z',
    });
    assert.equal(h.keys.length, 1);
    assert.equal(h.keys[0]!.uid, '42092c55-5496-4579-8a51-768ad7866998');
    assert.equal(h.keys[0]!.createdAt, '2025-02-04T10:14:11.442986832Z');
    assert.deepEqual(h.experimentalFeatures, {
      metrics: false,
      logsRoute: false,
      editDocumentsByFunction: false,
      containsFilter: true,
    });
    assert.deepEqual(h.network, {
      self: 'ms-0',
      remotes: { 'ms-0': { url: 'http://localhost:7700', searchApiKey: null } },
    });
    assert.equal(h.instanceUid, '972b0d34-a73b-4b37-9a06-eac9af32c9b3');
    const [kefir] = seen.indexes;
    assert.deepEqual(kefir!.index.metadata, {
      uid: 'kefir',
      primaryKey: 'id',
      createdAt: '2025-02-04T10:14:43.560230749Z',
      updatedAt: '2025-02-04T10:15:21.391248252Z',
    });
    assert.deepEqual(kefir!.index.settings, JSON.parse(SETTINGS));
    assert.deepEqual(kefir!.docs, [
      { id: 1, dog: 'kefir' },
      { id: 3, dog: 'echo' },
    ]);
    assert.deepEqual(seen.tasks[0]!.update, null);
    assert.deepEqual(seen.tasks[1]!.update, [{ id: 2, dog: 'intel' }], 'the update file of the enqueued task');
    assert.equal(taskFromDump(seen.tasks[1]!.task, 'x').task.status, 'enqueued');
    assert.deepEqual(seen.batches, [JSON.parse(BATCH)]);
    assert.deepEqual(summary.indexes, [{ uid: 'kefir', documents: 2 }]);
    assert.equal(summary.tasks, 2);
    assert.equal(summary.batches, 1);
    assert.ok(summary.spooledBytes > 0, 'documents that came before their metadata were spooled');
    assert.deepEqual(summary.ignored, [], 'AppleDouble files are not reported');
  });

  test('a header file that comes after the first index still completes the header by the end', async () => {
    const items = meiliOrdered();
    const late = items.splice(
      items.findIndex(([n]) => n === './network.json'),
      1,
    );
    const first = (n: string) => n.startsWith('./metadata') || n.startsWith('./keys');
    const moved: Item[] = [...items.filter(([n]) => first(n)), ...items.filter(([n]) => !first(n)), ...late];
    const { seen, summary } = await read(await tarGz(moved));
    assert.equal(seen.events[0], 'header');
    assert.equal(summary.header.network?.self, 'ms-0');
    assert.equal(summary.indexes[0]!.documents, 2);
  });

  test('a visitor that stops reading documents early does not stop the dump; unknown files are named', async () => {
    const docs = Array.from({ length: 5000 }, (_, i) => JSON.stringify({ id: i, text: 'x'.repeat(50) })).join('\n');
    const buf = await tarGz([...meiliOrdered({ './indexes/kefir/documents.jsonl': docs }), ['./notes.txt', 'hello']]);
    let firstBatch = 0;
    const summary = await readDump(Readable.from([buf]), {
      index: async (_i, documents) => {
        for await (const b of documents) {
          firstBatch = b.length;
          break;
        }
      },
    });
    assert.ok(firstBatch > 0);
    assert.deepEqual(summary.indexes, [{ uid: 'kefir', documents: 5000 }]);
    assert.deepEqual(summary.ignored, ['notes.txt']);
  });
});

describe('writing a dump', () => {
  test('what DumpWriter writes reads back in order, streamed without spooling, with Meilisearch file names', async () => {
    const out = new PassThrough();
    const chunks: Buffer[] = [];
    out.on('data', (c: Buffer) => chunks.push(c));
    const ended = new Promise((r) => out.on('end', r));
    const w = await DumpWriter.create(out, {
      dumpDate: new Date('2024-01-01T12:34:56.789Z'),
      instanceUid: '9e15e977-f2ae-4761-943f-1eaf75fd736d',
    });
    await w.keys([
      {
        uid: '42092c55-5496-4579-8a51-768ad7866998',
        name: 'Default Search API Key',
        description: 'Use it to search from the frontend',
        actions: ['search'],
        indexes: ['*'],
        expiresAt: null,
        createdAt: '2025-02-04T10:14:11.442986832Z',
        updatedAt: '2025-02-04T10:14:11.442986832Z',
      },
    ]);
    await w.experimentalFeatures({ containsFilter: true });
    await w.network({
      self: null,
      remotes: {},
      shards: {},
      leader: null,
      version: '00000000-0000-0000-0000-000000000000',
    });
    await w.webhooks();
    await w.chatCompletionsSettings();
    const n = await w.index(
      { uid: 'movies', primaryKey: 'id', createdAt: '2024-01-01T00:00:00Z', updatedAt: '2024-01-02T00:00:00Z' },
      JSON.parse(SETTINGS) as Record<string, unknown>,
      (function* () {
        for (let i = 0; i < 3000; i++) yield { id: i, title: `movie ${i}` };
      })(),
    );
    assert.equal(n, 3000);
    await w.index(
      { uid: 'empty', primaryKey: null, createdAt: '2024-01-01T00:00:00Z', updatedAt: '2024-01-01T00:00:00Z' },
      {},
      [],
    );
    await assert.rejects(w.keys([]), /keys must come before|keys written twice/);
    await w.finish();
    await ended;
    const buf = Buffer.concat(chunks);

    const names: string[] = [];
    const { extract } = await import('tar-stream');
    const ex = extract();
    Readable.from([(await import('node:zlib')).gunzipSync(buf)]).pipe(ex as unknown as NodeJS.WritableStream);
    for await (const e of ex) {
      names.push(e.header.name);
      for await (const _ of e) void _;
    }
    assert.deepEqual(names, [
      'metadata.json',
      'instance_uid.uuid',
      'keys.jsonl',
      'experimental-features.json',
      'network.json',
      'webhooks.json',
      'chat-completions-settings/',
      'indexes/',
      'indexes/movies/',
      'indexes/movies/metadata.json',
      'indexes/movies/settings.json',
      'indexes/movies/documents.jsonl',
      'indexes/empty/',
      'indexes/empty/metadata.json',
      'indexes/empty/settings.json',
      'indexes/empty/documents.jsonl',
      'tasks/',
      'tasks/update_files/',
      'tasks/queue.jsonl',
      'batches/',
      'batches/queue.jsonl',
    ]);

    const { seen, summary } = await read(buf, {}, false);
    assert.equal(summary.spooledBytes, 0, 'in order: nothing spooled');
    assert.deepEqual(seen.events, ['header', 'index movies', 'index empty']);
    assert.deepEqual(seen.header!.metadata, {
      dumpVersion: 'V6',
      dbVersion: '1.50.0',
      dumpDate: '2024-01-01T12:34:56.789Z',
    });
    assert.equal(seen.header!.instanceUid, '9e15e977-f2ae-4761-943f-1eaf75fd736d');
    assert.equal(seen.header!.keys[0]!.name, 'Default Search API Key');
    assert.deepEqual(seen.header!.webhooks, { webhooks: {} });
    assert.equal(seen.indexes[0]!.docs.length, 3000);
    assert.deepEqual(seen.indexes[0]!.docs[2999], { id: 2999, title: 'movie 2999' });
    assert.deepEqual(seen.indexes[1]!.docs, []);
  });
});

describe('a failing output', () => {
  test('an output that fails mid-dump rejects the write in progress instead of hanging, and the writer stays failed', async () => {
    let written = 0;
    const out = new Writable({
      write(chunk: Buffer, _enc, cb) {
        written += chunk.length;
        cb(written > 20_000 ? new Error('no space left on device') : null);
      },
    });
    const w = await DumpWriter.create(out);
    await w.keys([]);
    const docs = function* () {
      for (let i = 0; i < 200_000; i++) yield { id: i, text: `document ${i} ${Math.random()}` };
    };
    await assert.rejects(
      w.index(
        { uid: 'big', primaryKey: 'id', createdAt: '2024-01-01T00:00:00Z', updatedAt: '2024-01-01T00:00:00Z' },
        {},
        docs(),
      ),
      /no space left on device/,
    );
    await assert.rejects(w.finish(), /no space left on device/);
  });
});

describe('malformed and truncated dumps fail with malformed_payload', () => {
  const cases: Array<[string, () => Promise<Buffer>, RegExp, ReadDumpOptions?]> = [
    ['not gzip', async () => Buffer.from('definitely not a dump'), /it is not a gzip file/],
    [
      'gzip of something that is not tar',
      async () => gzipSync(Buffer.from('x'.repeat(2000))),
      /it is not a tar archive/,
    ],
    ['truncated gzip', async () => (await tarGz(meiliOrdered())).subarray(0, 300), /the archive is truncated/],
    ['no metadata.json', async () => tarGz(meiliOrdered({}, ['./metadata.json'])), /`metadata.json` is missing/],
    [
      'a V5 dump',
      async () =>
        tarGz(
          meiliOrdered({
            './metadata.json': '{"dumpVersion":"V5","dbVersion":"0.28.0","dumpDate":"2022-10-04T15:55:10.344982459Z"}',
          }),
        ),
      /dumpVersion "V5"/,
    ],
    ['no keys.jsonl', async () => tarGz(meiliOrdered({}, ['./keys.jsonl'])), /`keys.jsonl` is missing/],
    [
      'no tasks/queue.jsonl (cut short)',
      async () => tarGz(meiliOrdered({}, ['./tasks/queue.jsonl'])),
      /`tasks\/queue.jsonl` is missing/,
    ],
    [
      'an index without settings.json',
      async () => tarGz(meiliOrdered({}, ['./indexes/kefir/settings.json'])),
      /`indexes\/kefir\/settings.json` is missing/,
    ],
    [
      'a document line that is not JSON',
      async () => tarGz(meiliOrdered({ './indexes/kefir/documents.jsonl': '{"id":1}\n{"id":2,\n' })),
      /`indexes\/kefir\/documents.jsonl` line 2 is not valid JSON/,
    ],
    [
      'a document that is not an object',
      async () => tarGz(meiliOrdered({ './indexes/kefir/documents.jsonl': '{"id":1}\n[1,2]\n' })),
      /line 2 is not a JSON object/,
    ],
    [
      'settings.json that is not JSON',
      async () => tarGz(meiliOrdered({ './indexes/kefir/settings.json': '{"rankingRules":' })),
      /`indexes\/kefir\/settings.json` is not valid JSON/,
    ],
    [
      'a key without uid',
      async () => tarGz(meiliOrdered({ './keys.jsonl': '{"actions":[],"indexes":[]}\n' })),
      /is not a UUID/,
    ],
    [
      'a document line longer than the limit',
      async () => tarGz(meiliOrdered({ './indexes/kefir/documents.jsonl': `{"id":1,"t":"${'y'.repeat(5000)}"}\n` })),
      /line 1 is longer than 1024 bytes/,
      { maxLineBytes: 1024 },
    ],
    [
      'a small file larger than the limit',
      async () => tarGz(meiliOrdered({ './indexes/kefir/settings.json': `{"stopWords":["${'z'.repeat(3000)}"]}` })),
      /`indexes\/kefir\/settings.json` is larger than 2048 bytes/,
      { maxJsonBytes: 2048 },
    ],
  ];
  for (const [name, make, message, opts] of cases) {
    test(name, async () => {
      const err = await rejection(read(await make(), opts ?? {}));
      assert.equal(err.code, 'malformed_payload', err.message);
      assert.match(err.message, /^The dump is invalid: /);
      assert.match(err.message, message);
    });
  }

  test('an input stream that errors or closes early rejects instead of hanging', async () => {
    const buf = await tarGz(meiliOrdered());
    const failing = new Readable({
      read() {
        this.push(buf.subarray(0, 100));
        this.destroy(new Error('socket hang up'));
      },
    });
    assert.match((await rejection(read(failing))).message, /socket hang up/);
    const closing = new PassThrough();
    closing.write(buf.subarray(0, 100));
    setImmediate(() => closing.destroy());
    const err = await rejection(read(closing));
    assert.equal(err.code, 'malformed_payload');
    assert.match(err.message, /ended before the end of the archive/);
  });

  test('an error thrown by the visitor stops the read and comes out as is', async () => {
    const buf = await tarGz(meiliOrdered());
    await assert.rejects(
      readDump(Readable.from([buf]), {
        index: () => {
          throw new Error('target index is read-only');
        },
      }),
      /target index is read-only/,
    );
  });
});
