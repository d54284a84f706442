// The worker pool runs the same core functions as the inline path: equal results in a worker thread and inline,
// batch routing semantics (shards, grouping, injection, whole-batch refusal), raw payloads to routed bodies,
// fingerprints.
import assert from 'node:assert/strict';
import { after, test } from 'node:test';
import { shardForKey } from '../../../src/core/hash.js';
import { ingestBatch, ingestParsed } from '../../../src/core/ingest-batch.js';
import { routeBatch, type RouteBatchOutput } from '../../../src/core/route-batch.js';
import { WorkerPool } from '../../../src/workers/pool.js';
import { fingerprintPage, type IngestBatchReturn } from '../../../src/workers/tasks.js';

const pool = new WorkerPool({
  maxThreads: 1,
  thresholds: { ingestBatch: 0, mergeResults: 0, fingerprintPage: 0, canonicalHash: 0 },
});
after(() => pool.close());

const targets = Array.from({ length: 16 }, (_, s) => [`node-${s % 3}`, `node-${(s + 1) % 3}`]);
const docs = Array.from({ length: 500 }, (_, i) => ({ id: i % 2 === 0 ? i : `doc-${i}`, title: `t${i}` }));

test('routeBatch: every document reaches its RF targets once, with _miroir_shard injected', () => {
  const out = routeBatch({ docs, primaryKey: 'id', shards: 16, targets });
  assert.equal(out.error, null);
  let total = 0;
  for (const [node, body] of Object.entries(out.bodies)) {
    const list = JSON.parse(body.toString()) as Array<{ id: string | number; _miroir_shard: number }>;
    total += list.length;
    for (const d of list) {
      assert.equal(d._miroir_shard, shardForKey(String(d.id), 16));
      assert.ok(targets[d._miroir_shard]!.includes(node));
    }
    assert.deepEqual(
      out.nodeShards[node],
      [...new Set(list.map((d) => d._miroir_shard))].sort((a, b) => a - b),
    );
  }
  assert.equal(total, 1000, 'RF=2 → each of 500 docs twice');
  assert.equal(
    Object.values(out.shardCounts).reduce((a, b) => a + b, 0),
    500,
  );
});

test('routeBatch refuses the whole batch for a bad id or a reserved field, routing nothing', () => {
  const missing = routeBatch({ docs: [{ id: 1 }, { title: 'x' }], primaryKey: 'id', shards: 16, targets });
  assert.equal(missing.error?.code, 'missing_document_id');
  assert.deepEqual(missing.bodies, {});
  assert.equal(
    routeBatch({ docs: [{ id: 'a b' }], primaryKey: 'id', shards: 16, targets }).error?.code,
    'invalid_document_id',
  );
  const reserved = routeBatch({ docs: [{ id: 1, _miroir_shard: 3 }], primaryKey: 'id', shards: 16, targets });
  assert.equal(reserved.error?.code, 'miroir_reserved_field');
});

test('ingestBatch: refuses a malformed payload, infers or reports the primary key, lists the fields', () => {
  const run = (text: string, primaryKey: string | null, format: 'json' | 'ndjson' | 'csv' = 'json') =>
    ingestBatch({ body: Buffer.from(text), format, csvDelimiter: ',', primaryKey, shards: 16, targets });
  assert.equal(run('[{"id": 1', 'id').refused?.code, 'malformed_payload');
  assert.equal(run('', 'id').refused?.code, 'missing_payload');
  const inferred = run('[{"sku_id": "a", "title": "x"}, {"sku_id": "b", "price": 3, "_miroir_shard": 1}]', null);
  assert.equal(inferred.primaryKey, 'sku_id');
  assert.equal(inferred.count, 2);
  assert.deepEqual(inferred.fields, ['sku_id', 'title', 'price']);
  assert.equal(inferred.routed?.error?.code, 'miroir_reserved_field');
  const none = run('[{"title": "x"}]', null);
  assert.equal(none.keyError?.code, 'index_primary_key_no_candidate_found');
  assert.equal(none.routed, null);
  const ndjson = run('{"id": 1}\n{"id": 2}\n', 'id', 'ndjson');
  assert.equal(ndjson.count, 2);
  assert.equal(
    Object.values(ndjson.routed!.shardCounts).reduce((a, b) => a + b, 0),
    2,
  );
  const csv = run('id,price:number\n1,3\n2,4\n', 'id', 'csv');
  assert.deepEqual(csv.fields, ['id', 'price']);
  assert.equal(run('[]', null).routed, null);
});

test('the pool and the inline path give identical results', async () => {
  const body = Buffer.from(JSON.stringify(docs));
  const input = { body, format: 'json' as const, csvDelimiter: ',', primaryKey: 'id', shards: 16, targets };
  const inline = ingestBatch(input);
  assert.deepEqual(decoded(inline.routed), decoded(routeBatch({ docs, primaryKey: 'id', shards: 16, targets })));
  assert.ok(pool.usesPool('ingestBatch', body.length));
  const sent = Buffer.from(body);
  const { movedBody, ...pooled } = await pool.run<IngestBatchReturn>('ingestBatch', input, body.length);
  assert.deepEqual(pooled, inline);
  // The body moved to the worker (no copy on the event loop) and came back whole.
  assert.equal(body.byteLength, 0, 'the sent buffer is detached');
  assert.deepEqual(movedBody, sent);
  const fp = fingerprintPage({ docs, primaryKey: 'id' });
  assert.deepEqual(await pool.run('fingerprintPage', { docs, primaryKey: 'id' }, docs.length), fp);
  const shuffled = fingerprintPage({ docs: [...docs].reverse(), primaryKey: 'id' });
  assert.equal(shuffled.digest, fp.digest, 'the digest does not depend on page order');
  const changed = fingerprintPage({
    docs: docs.map((d, i) => (i === 7 ? { ...d, title: 'changed' } : d)),
    primaryKey: 'id',
  });
  assert.notEqual(changed.digest, fp.digest);
  assert.equal(await pool.run('canonicalHash', { b: 1, a: 2 }, 1), await pool.run('canonicalHash', { a: 2, b: 1 }, 1));
});

/** A routed batch with its bodies parsed: byte-for-byte bodies differ between paths (spans keep the client's bytes). */
function decoded(r: RouteBatchOutput | null) {
  if (r === null) return null;
  return { ...r, bodies: Object.fromEntries(Object.entries(r.bodies).map(([n, b]) => [n, JSON.parse(b.toString())])) };
}

test('a JSON or NDJSON batch read document by document routes exactly like the whole payload parsed', () => {
  const payloads: Array<[string, 'json' | 'ndjson', string | null]> = [
    ['[{"id": 1, "t": "a \\" } { ["}, {"id":"x-2","nested":{"a":[1,{"b":"]"}]}} ,{}]', 'json', 'id'],
    ['  [ ]  ', 'json', 'id'],
    ['[{"id": 1, "t": "ends with a backslash \\\\"}, {"id": 2}]', 'json', 'id'],
    ['[]', 'json', null],
    ['{"sku_id": "a", "title": "é ü 日本"}', 'json', null],
    ['[{"sku_id": 1, "title": "x"}, {"sku_id": "b", "_miroir_shard": 1}, {"sku_id": "bad id"}]', 'json', null],
    ['[{"id": 1}, {"id": "bad id"}, {"id": 3, "_miroir_shard": 2}]', 'json', 'id'],
    ['[{"id": 1}, {"title": "no id"}]', 'json', 'id'],
    ['[{"a_id": 1, "b_id": 2}]', 'json', null],
    ['[{"title": "none"}]', 'json', null],
    ['{"id": 1}\r\n\n  {"id": 2, "x": [1, 2]}\n{}\n', 'ndjson', 'id'],
    ['[{"id": 1}, 2]', 'json', 'id'],
    ['[{"id": 1}, {"id": 2]', 'json', 'id'],
    ['[{"id": 1}] trailing', 'json', 'id'],
    ['{"id": 1}\n[1]\n', 'ndjson', 'id'],
    ['[{"id": tru}]', 'json', 'id'],
    [`[{"id": 1, "deep": ${'['.repeat(200)}${']'.repeat(200)}}]`, 'json', 'id'],
  ];
  const many = Array.from({ length: 300 }, (_, i) => ({ id: i, text: `doc "${i}" {x}`, tags: [i, { k: '}' }] }));
  payloads.push(
    [JSON.stringify(many, null, 2), 'json', 'id'],
    [many.map((d) => JSON.stringify(d)).join('\n'), 'ndjson', null],
  );
  for (const [text, format, primaryKey] of payloads) {
    const input = { body: Buffer.from(text), format, csvDelimiter: ',', primaryKey, shards: 16, targets };
    const got = ingestBatch(input);
    // The reference: the whole payload parsed, then routed.
    const whole = ingestParsed(input);
    const expected = whole.refused !== null ? whole : { ...whole, routed: decoded(whole.routed) };
    const actual = got.refused !== null ? got : { ...got, routed: decoded(got.routed) };
    assert.deepEqual(actual, expected, text.slice(0, 80));
  }
});
