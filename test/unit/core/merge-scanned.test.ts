// The scanned merge against the object merge, and the addon's answer scan against the TypeScript one: over real
// shard answers of the dev node engine (relevancy, sort, distinct, facets, highlighting, paging) and hand-made ones
// (reserved and added fields, score ties, escapes, whitespace), `mergeScannedResults` over scanned answers must give
// the JSON `mergeSearchResults` gives over parsed ones — same members, same order — with either scan; and both scans
// must write the same spans or refuse the same texts, including every truncation and many byte mutations.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { loadAddon } from '../../../native/index.js';
import {
  NOT_SCANNABLE,
  OUT_TOO_SMALL,
  scanAnswer,
  scanAnswerTs,
  type AnswerScanner,
} from '../../../src/core/answer-spans.js';
import { shardForKey } from '../../../src/core/hash.js';
import { mergeSearchResults, type MergeQuery, type MergeSettings } from '../../../src/core/merge.js';
import { mergeScannedResults, scannedMergeBody } from '../../../src/core/merge-scanned.js';
import { createIndexEngine, parseSearchQuery, validateSettings } from '../../../src/devnode/engine/index.js';

const addon = loadAddon();
const scanners: Array<[string, AnswerScanner]> = [['typescript', scanAnswerTs]];
if (addon !== null) scanners.push(['native', (b, out) => addon.scanAnswer(b, out)]);

const ctx = { experimentalFeatures: {} };
const colors = ['red', 'green', 'blue'];
const words = ['alpha', 'bravo', 'charlie', 'delta', 'echo', 'foxtrot', 'golf', 'hotel'];
const docs = Array.from({ length: 240 }, (_, i) => ({
  id: i,
  title: `${words[i % 8]} ${words[(i * 3) % 8]} "item" \\ é ${i}`,
  color: colors[i % 3],
  price: (i * 37) % 101,
  brand: `b${i % 7}`,
  _miroir_shard: i % 3,
}));
const shards = [0, 1, 2].map((s) => {
  const e = createIndexEngine('x', 'id', '2026-01-01T00:00:00Z', ctx);
  e.updateSettings(
    validateSettings(
      {
        filterableAttributes: ['color', 'price', 'brand'],
        sortableAttributes: ['price'],
        searchableAttributes: ['title'],
      },
      null,
    ),
  );
  e.addDocuments(
    docs.filter((d) => shardForKey(String(d.id), 3) === s),
    { merge: false },
  );
  return e;
});
const settings: MergeSettings = {
  primaryKey: 'id',
  maxTotalHits: 1000,
  maxValuesPerFacet: 100,
  sortFacetValuesBy: { '*': 'alpha', color: 'count' },
  distinctAttribute: null,
};

/** Both merges over the same node texts, with every scan: equal JSON, member order included. */
function same(texts: string[], q: MergeQuery, s = settings, addedFields: string[] = []): void {
  const objects = mergeSearchResults(
    texts.map((t) => JSON.parse(t) as Record<string, unknown>),
    q,
    s,
    { addedFields },
  );
  for (const [name, scanner] of scanners) {
    const scanned = texts.map((t) => scanAnswer(Buffer.from(t), scanner));
    assert.ok(
      scanned.every((a) => a !== null),
      `${name} scans every answer`,
    );
    const body = scannedMergeBody(
      mergeScannedResults(
        scanned.map((a) => a!),
        q,
        s,
        { addedFields },
      ),
    );
    assert.equal(
      JSON.stringify(JSON.parse(body.toString('utf8'))),
      JSON.stringify(objects),
      `${name} ${JSON.stringify(q)}`,
    );
  }
}

function viaShards(q: MergeQuery & Record<string, unknown>, pretty = false): string[] {
  const w =
    q.page !== undefined || q.hitsPerPage !== undefined
      ? { offset: 0, limit: ((q.page ?? 1) as number) * ((q.hitsPerPage ?? 20) as number) }
      : { offset: 0, limit: ((q.offset ?? 0) as number) + ((q.limit ?? 20) as number) };
  const nodeQuery: Record<string, unknown> = { ...q, ...w, showRankingScore: true };
  if (q.sort) nodeQuery.showRankingScoreDetails = true;
  delete nodeQuery.page;
  delete nodeQuery.hitsPerPage;
  return shards.map((e) => JSON.stringify(e.search(parseSearchQuery(nodeQuery, 'json')), null, pretty ? 2 : 0));
}

test(`real shard answers: relevancy, paging, sort, distinct, facets, formatting merge to the same JSON (${scanners.map((s) => s[0]).join(', ')})`, () => {
  const queries: Array<MergeQuery & Record<string, unknown>> = [
    { q: 'alpha' },
    { q: 'item', offset: 10, limit: 15 },
    { q: 'bravo charlie', showRankingScore: true },
    { q: 'golf', page: 2, hitsPerPage: 7 },
    { q: '', sort: ['price:asc'], limit: 30 },
    { q: 'echo', sort: ['price:desc'], showRankingScoreDetails: true },
    { q: 'item', distinct: 'brand', limit: 10 },
    { q: 'delta', facets: ['color', 'price'] },
    { q: 'hotel', attributesToHighlight: ['title'], showMatchesPosition: true },
    { q: 'nothing-matches-this' },
  ];
  for (const q of queries) {
    same(viaShards(q), q);
    same(viaShards(q, true), q);
  }
  same(viaShards({ q: 'alpha' }), { q: 'alpha' }, { ...settings, distinctAttribute: 'color' });
});

test('reserved and added fields are cut from hits and _formatted; equal scores fall back to the primary key', () => {
  const hit = (id: unknown, score: number, extra: Record<string, unknown> = {}) => ({
    id,
    title: `t ${String(id)}`,
    _miroir_shard: 1,
    _formatted: { id: String(id), title: 'x', _miroir_shard: '1', brand: 'b' },
    ...extra,
    _rankingScore: score,
  });
  const node = (hits: unknown[], total: number) =>
    JSON.stringify({ hits, query: 'q', processingTimeMs: total % 5, limit: 20, offset: 0, estimatedTotalHits: total });
  const texts = [
    node([hit(3, 0.9, { brand: 'b' }), hit('a', 0.5), hit(7, 0.5)], 3),
    node([hit(1, 0.9, { brand: 'c' }), hit('b', 0.5)], 2),
    node([], 0),
  ];
  same(texts, { q: 'q' });
  same(texts, { q: 'q', showRankingScore: true }, settings, ['brand']);
  same(texts, { q: 'q', attributesToHighlight: ['brand'] }, settings, ['brand']);
  same(texts, { q: 'q', attributesToHighlight: ['*'] }, settings, ['brand']);
  // A cut first member, a cut last member, a hit left with nothing, and the node's whitespace around members.
  const edges = [
    node(
      [
        { _miroir_shard: 2, id: 'x', _rankingScore: 0.8, _miroir_version: 3 },
        { _miroir_shard: 2, _rankingScore: 0.7 },
        { id: 'y', _formatted: { id: 'y', _miroir_shard: '2' }, _rankingScore: 0.6 },
      ],
      3,
    ),
    JSON.stringify(
      {
        hits: [{ _formatted: { id: 'z' }, id: 'z', _rankingScore: 0.75, title: 'kept last' }],
        query: 'q',
        processingTimeMs: 2,
        limit: 20,
        offset: 0,
        estimatedTotalHits: 1,
      },
      null,
      3,
    ),
  ];
  same(edges, { q: 'q' });
  same(edges, { q: 'q', showRankingScore: true });
});

test('escaped strings, whitespace, numbers and nested values scan like JSON.parse reads them', () => {
  const text =
    ' { "hits" : [ { "id" : "a\\"b" , "w\\u00e9" : 1, "v": [1, {"x": "]}"}], "n": null, "_rankingScore" : 0.5 } ,' +
    '{"id":2,"_rankingScore":1e-1,"s":"\\\\","t":true,"f":-0.5E+3} ] , "query":"q", "processingTimeMs":1, "estimatedTotalHits": 2 } ';
  // A hit key written with an escape is refused (the merge compares keys as bytes): the answer is parsed instead.
  for (const [name, scanner] of scanners) assert.equal(scanAnswer(Buffer.from(text), scanner), null, name);
  const plain = text.replace('"w\\u00e9" : 1,', '"wé" : 1,');
  for (const [name, scanner] of scanners) {
    const s = scanAnswer(Buffer.from(plain), scanner)!;
    assert.ok(s !== null, name);
    assert.equal(s.hits.length, 2);
    assert.deepEqual(
      Array.from({ length: s.hits[0]!.size }, (_, m) => s.hits[0]!.key(m)),
      ['id', 'wé', 'v', 'n', '_rankingScore'],
    );
    const h = s.hits[0]!;
    assert.deepEqual(
      JSON.parse(h.bytes.toString('utf8', h.start, h.end)),
      (JSON.parse(plain) as { hits: unknown[] }).hits[0],
    );
    assert.deepEqual(s.members, { query: 'q', processingTimeMs: 1, estimatedTotalHits: 2 });
  }
  same([plain], { q: 'q', showRankingScore: true });
});

test('what is not valid JSON, or not an object with one hits array of objects, is not scanned', () => {
  const refused = [
    '[]',
    '{"hits":{}}',
    '{"hits":[1]}',
    '{"query":"q"}',
    '{"hits":[{}]',
    'null',
    '{"hits":[{"a":1}]}x',
    '{"hits":[],"hits":[]}',
    '{"hits":[{"a":01}]}',
    '{"hits":[{"a":1.}]}',
    '{"hits":[{"a":-}]}',
    '{"hits":[{"a":tru}]}',
    '{"hits":[{"a":"\\x"}]}',
    '{"hits":[{"a":"\u0001"}]}',
    '{"hits":[{"a":[1,]}]}',
    '{"hits":[{"a":1,}]}',
    '{"h\\u0069ts":[],"hits":[]}',
    `{"hits":[{"a":${'['.repeat(200)}${']'.repeat(200)}}]}`,
  ];
  for (const [name, scanner] of scanners) {
    for (const t of refused)
      assert.equal(scanner(Buffer.from(t), new Uint32Array(256)), NOT_SCANNABLE, `${name}: ${t}`);
    assert.equal(scanner(Buffer.from('{"hits":[{"a":1},{"b":2}]}'), new Uint32Array(8)), OUT_TOO_SMALL, name);
  }
  // Not UTF-8: parsed whole (JSON.parse reads it with replacement characters, as the object merge always has).
  for (const [name, scanner] of scanners)
    assert.equal(
      scanner(
        Buffer.from([
          0x7b, 0x22, 0x68, 0x69, 0x74, 0x73, 0x22, 0x3a, 0x5b, 0x5d, 0x2c, 0x22, 0xff, 0x22, 0x3a, 0x31, 0x7d,
        ]),
        new Uint32Array(64),
      ),
      NOT_SCANNABLE,
      name,
    );
  assert.equal(
    scanAnswer(Buffer.from([0x7b, 0x22, 0x68, 0x69, 0x74, 0x73, 0x22, 0x3a, 0x5b, 0x5d, 0xff, 0x7d]), scanAnswerTs),
    null,
  );
});

test(
  'the addon and the TypeScript scan agree on every truncation and on byte mutations',
  { skip: addon === null ? 'the native addon is not built (cargo missing): nothing to compare' : false },
  () => {
    const texts = [
      ...viaShards({ q: 'item', facets: ['color'], attributesToHighlight: ['title'] }),
      ...viaShards({ q: 'golf' }, true),
    ];
    const a = new Uint32Array(65_536);
    const b = new Uint32Array(65_536);
    const agree = (bytes: Buffer, what: string): void => {
      const n = scanAnswerTs(bytes, a);
      const m = addon!.scanAnswer(bytes, b);
      assert.equal(m, n, what);
      if (n > 0) assert.deepEqual(b.subarray(0, n), a.subarray(0, n), what);
    };
    let seed = 7;
    const rand = (k: number): number => {
      seed = (seed * 1_103_515_245 + 12_345) % 2_147_483_648;
      return seed % k;
    };
    const alphabet = Buffer.from('{}[]",:\\ -+.eE0123456789tfnu"a');
    for (const t of texts) {
      const bytes = Buffer.from(t);
      agree(bytes, 'whole');
      for (let cut = 0; cut < bytes.length; cut += 7) agree(bytes.subarray(0, cut), `cut at ${cut}`);
      for (let k = 0; k < 400; k++) {
        const copy = Buffer.from(bytes);
        copy[rand(copy.length)] = alphabet[rand(alphabet.length)]!;
        agree(copy, `mutation ${k}`);
      }
    }
  },
);
