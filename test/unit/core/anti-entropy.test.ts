// Anti-entropy's pure logic (src/core/anti-entropy.ts) and the write-path stamping it relies on
// (route-batch / ingest-batch): bucket digests are order-independent and localize a difference; every repair rule of
// SPEC A8 / Round 2 (expired winner, newer tombstone by ids / filter / all, missing, stale, equal-version conflict →
// first owner, updated-at field first); `_miroir_version` added on both routing paths; expiry checked and normalized.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import {
  BUCKETS,
  bucketOf,
  compileTombstones,
  decideRepair,
  fingerprint,
  mismatchedBuckets,
  ShardDigest,
} from '../../../src/core/anti-entropy.js';
import { ingestBatch } from '../../../src/core/ingest-batch.js';
import { routeBatch, stampVersion } from '../../../src/core/route-batch.js';

type Doc = Record<string, unknown>;
const copy = (doc: Doc | null, updatedAt: string | null = null) =>
  doc === null ? null : { doc, fp: fingerprint(doc, 'id', updatedAt) };

describe('bucket digests', () => {
  test('order-independent, and a changed document shows in its own bucket only', () => {
    const docs = Array.from({ length: 500 }, (_, i) => ({ id: `d${i}`, n: i, _miroir_version: 7 }));
    const a = new ShardDigest();
    const b = new ShardDigest();
    for (const d of docs) a.add(fingerprint(d, 'id', null));
    for (const d of [...docs].reverse()) b.add(fingerprint(d, 'id', null));
    assert.deepEqual(mismatchedBuckets([a, b]), []);
    const c = new ShardDigest();
    for (const d of docs) c.add(fingerprint(d.id === 'd42' ? { ...d, n: -1 } : d, 'id', null));
    assert.deepEqual(mismatchedBuckets([a, c]), [bucketOf('d42')]);
    const missing = new ShardDigest();
    for (const d of docs) if (d.id !== 'd7') missing.add(fingerprint(d, 'id', null));
    assert.deepEqual(mismatchedBuckets([a, missing]), [bucketOf('d7')]);
  });

  test('buckets spread over all 256 values, independent of the shard hash', () => {
    const seen = new Set<number>();
    for (let i = 0; i < 5000; i++) seen.add(bucketOf(`k${i}`));
    assert.equal(seen.size, BUCKETS);
  });
});

describe('repair decisions', () => {
  const v = (id: string, version: number | null, extra: Doc = {}): Doc => ({
    id,
    title: 't',
    ...(version === null ? {} : { _miroir_version: version }),
    ...extra,
  });

  test('equal copies: nothing to do', () => {
    assert.equal(decideRepair([copy(v('a', 3)), copy(v('a', 3))], [], null), null);
  });

  test('missing on one copy, no tombstone: copied from the other', () => {
    const d = decideRepair([null, copy(v('a', 3))], [], null)!;
    assert.deepEqual([d.kind, d.winner, d.copyTo, d.deleteOn], ['missing', 1, [0], []]);
  });

  test('older version (or none) loses to the newer one', () => {
    const d = decideRepair([copy(v('a', null, { title: 'x' })), copy(v('a', 5))], [], null)!;
    assert.deepEqual([d.kind, d.winner, d.copyTo], ['stale', 1, [0]]);
    const e = decideRepair([copy(v('a', 5)), copy(v('a', 4, { title: 'old' }))], [], null)!;
    assert.deepEqual([e.kind, e.winner, e.copyTo], ['stale', 0, [1]]);
    // No version at all ranks below task uid 0.
    const f = decideRepair([copy(v('a', null, { title: 'x' })), copy(v('a', 0))], [], null)!;
    assert.equal(f.winner, 1);
  });

  test('equal versions, different content: the first owner wins', () => {
    const d = decideRepair([copy(v('a', 5, { title: 'first' })), copy(v('a', 5, { title: 'second' }))], [], null)!;
    assert.deepEqual([d.kind, d.winner, d.copyTo], ['conflict', 0, [1]]);
  });

  test('updated_at_field decides before the version', () => {
    const d = decideRepair([copy(v('a', 9, { ts: 100 }), 'ts'), copy(v('a', 4, { ts: 200 }), 'ts')], [], null)!;
    assert.equal(d.winner, 1);
  });

  test('a newer tombstone deletes everywhere; an older one does not', () => {
    const byIds = compileTombstones([{ taskUid: 10, kind: 'ids', ids: ['a'] }]);
    const d = decideRepair([null, copy(v('a', 3))], byIds, null)!;
    assert.deepEqual([d.kind, d.deleteOn, d.copyTo], ['deleted', [1], []]);
    const older = compileTombstones([{ taskUid: 2, kind: 'ids', ids: ['a'] }]);
    assert.equal(decideRepair([null, copy(v('a', 3))], older, null)!.kind, 'missing');
    const byFilter = compileTombstones([{ taskUid: 10, kind: 'filter', filter: 'color = red' }]);
    assert.equal(decideRepair([null, copy(v('a', 3, { color: 'red' }))], byFilter, null)!.kind, 'deleted');
    assert.equal(decideRepair([null, copy(v('a', 3, { color: 'blue' }))], byFilter, null)!.kind, 'missing');
    const all = compileTombstones([{ taskUid: 10, kind: 'all' }]);
    assert.equal(decideRepair([copy(v('a', 3)), copy(v('a', 4))], all, null)!.kind, 'deleted');
    // A swap or rename (epoch 20) ends the index's earlier tombstones: they were about other documents.
    const swapped = compileTombstones([
      { taskUid: 10, kind: 'all' },
      { taskUid: 20, kind: 'epoch' },
      { taskUid: 30, kind: 'ids', ids: ['b'] },
    ]);
    assert.deepEqual(
      swapped.map((t) => t.taskUid),
      [30],
    );
    assert.equal(decideRepair([null, copy(v('a', 3))], swapped, null)!.kind, 'missing');
    const broken = compileTombstones([{ taskUid: 10, kind: 'filter', filter: 'color = (' }]);
    assert.equal(broken.length, 0);
  });

  test('an expired winner is deleted everywhere (TTL on), never copied', () => {
    const d = decideRepair([null, copy(v('a', 3, { _miroir_expires_at: 1000 }))], [], 2000)!;
    assert.deepEqual([d.kind, d.deleteOn, d.copyTo], ['expired', [1], []]);
    // TTL off: an expiry is just a field.
    assert.equal(decideRepair([null, copy(v('a', 3, { _miroir_expires_at: 1000 }))], [], null)!.kind, 'missing');
    // A live newer copy replaces an expired older one.
    const live = decideRepair(
      [copy(v('a', 3, { _miroir_expires_at: 1000 })), copy(v('a', 4, { _miroir_expires_at: 9000 }))],
      [],
      2000,
    )!;
    assert.deepEqual([live.kind, live.winner, live.copyTo], ['stale', 1, [0]]);
  });
});

describe('stamping and expiry on the write path', () => {
  const targets = Array.from({ length: 4 }, () => ['node-0']);
  test('both routing paths add `_miroir_version` after `_miroir_shard`', () => {
    const docs = [{ id: 'a', t: 1 }, {}];
    const routed = routeBatch({ docs: [{ id: 'a', t: 1 }], primaryKey: 'id', shards: 4, targets, version: 12 });
    const parsed = JSON.parse(routed.bodies['node-0']!.toString()) as Doc[];
    assert.equal(parsed[0]!._miroir_version, 12);
    const body = Buffer.from(JSON.stringify([docs[0], { id: 'b' }]));
    const out = ingestBatch({
      body,
      format: 'json',
      csvDelimiter: ',',
      primaryKey: 'id',
      shards: 4,
      targets,
      version: 3,
    });
    const sent = JSON.parse(out.routed!.bodies['node-0']!.toString()) as Doc[];
    assert.deepEqual(
      sent.map((d) => d._miroir_version),
      [3, 3],
    );
    const plain = ingestBatch({ body, format: 'json', csvDelimiter: ',', primaryKey: 'id', shards: 4, targets });
    assert.ok(!plain.routed!.bodies['node-0']!.toString().includes('_miroir_version'));
  });

  test('routing before the task uid exists leaves room that stampVersion fills in place, on both paths', () => {
    const docs = [{ id: 'a', meta: { _miroir_version: 7 } }, { id: 'b' }, {}];
    const body = Buffer.from(JSON.stringify(docs.slice(0, 2)));
    for (const out of [
      ingestBatch({ body, format: 'json', csvDelimiter: ',', primaryKey: 'id', shards: 4, targets, version: 'reserve' })
        .routed!,
      routeBatch({ docs: docs.slice(0, 2), primaryKey: 'id', shards: 4, targets, version: 'reserve' }),
    ]) {
      const sent = out.bodies['node-0']!;
      stampVersion(sent, 123456789012);
      const parsed = JSON.parse(sent.toString()) as Doc[];
      assert.deepEqual(
        parsed.map((d) => d._miroir_version),
        [123456789012, 123456789012],
      );
      assert.deepEqual(parsed[0]!.meta, { _miroir_version: 7 }, 'a nested client field is left alone');
    }
  });

  test('a client `_miroir_version` is refused like `_miroir_shard`', () => {
    const body = Buffer.from(JSON.stringify([{ id: 'a', _miroir_version: 1 }]));
    const out = ingestBatch({ body, format: 'json', csvDelimiter: ',', primaryKey: 'id', shards: 4, targets });
    assert.equal(out.routed!.error?.code, 'miroir_reserved_field');
  });

  test('expiry: integers kept, RFC 3339 stored as ms, anything else fails the batch', () => {
    const go = (docs: Doc[]) =>
      ingestBatch({
        body: Buffer.from(JSON.stringify(docs)),
        format: 'json',
        csvDelimiter: ',',
        primaryKey: 'id',
        shards: 4,
        targets,
        checkExpiry: true,
      });
    const ok = go([
      { id: 'a', _miroir_expires_at: 1700000000000 },
      { id: 'b', _miroir_expires_at: '2026-12-02T10:00:00Z' },
      { id: 'c', _miroir_expires_at: null },
    ]);
    const sent = JSON.parse(ok.routed!.bodies['node-0']!.toString()) as Doc[];
    const byId = new Map(sent.map((d) => [d.id, d._miroir_expires_at]));
    assert.deepEqual([byId.get('a'), byId.get('b'), byId.get('c')], [1700000000000, Date.UTC(2026, 11, 2, 10), null]);
    for (const bad of ['tomorrow', 1.5, true, { at: 1 }]) {
      const out = go([{ id: 'a' }, { id: 'b', _miroir_expires_at: bad }]);
      assert.equal(out.routed!.error?.code, 'miroir_invalid_document_expiry', JSON.stringify(bad));
      assert.match(out.routed!.error!.message, /Document at index 1/);
    }
  });
});
