// A hand-made minimal Meilisearch v6 dump for tests, written as data: every file follows the exact shape of
// Meilisearch's test dumps (crates/dump/tests/assets/*.dump, crates/meilisearch/tests/assets/v6_v1.13.0_*.dump),
// in an order its tar writer may produce (file-system order, `./` names, an AppleDouble file).
import { gzipSync } from 'node:zlib';
import { pack } from 'tar-stream';

export type Item = [name: string, body: string | null];

/** A tar.gz of the items (null body = directory), in the order given. */
export async function tarGz(items: Item[]): Promise<Buffer> {
  const p = pack();
  const chunks: Buffer[] = [];
  const done = (async () => {
    for await (const c of p as AsyncIterable<Buffer>) chunks.push(c);
  })();
  for (const [name, body] of items) {
    await new Promise<void>((resolve, reject) => {
      const cb = (err?: Error | null) => (err ? reject(err) : resolve());
      if (body === null) p.entry({ name, type: 'directory', mode: 0o755 }, cb);
      else p.entry({ name, mode: 0o644 }, Buffer.from(body), cb);
    });
  }
  p.finalize();
  await done;
  return gzipSync(Buffer.concat(chunks));
}

export const KEY_LINE =
  '{"description":"Use it to search from the frontend","name":"Default Search API Key","uid":"42092c55-5496-4579-8a51-768ad7866998","actions":["search"],"indexes":["*"],"expires_at":null,"created_at":"2025-02-04T10:14:11.442986832Z","updated_at":"2025-02-04T10:14:11.442986832Z"}';
export const SETTINGS =
  '{"displayedAttributes":["*"],"searchableAttributes":["*"],"filterableAttributes":[],"sortableAttributes":[],"rankingRules":["words","typo","proximity","attribute","sort","exactness"],"stopWords":[],"nonSeparatorTokens":[],"separatorTokens":[],"dictionary":[],"synonyms":{},"distinctAttribute":null,"proximityPrecision":"byWord","typoTolerance":{"enabled":true,"minWordSizeForTypos":{"oneTypo":5,"twoTypos":9},"disableOnWords":[],"disableOnAttributes":[]},"faceting":{"maxValuesPerFacet":100,"sortFacetValuesBy":{"*":"alpha"}},"pagination":{"maxTotalHits":1000},"embedders":{},"searchCutoffMs":null,"localizedAttributes":null,"facetSearch":true,"prefixSearch":"indexingTime"}';
export const QUEUE = [
  '{"uid":0,"batchUid":null,"indexUid":"kefir","status":"succeeded","type":{"indexCreation":{"primary_key":null}},"details":{"IndexInfo":{"primary_key":null}},"enqueuedAt":"2025-02-04T10:14:43.550379968Z","startedAt":"2025-02-04T10:14:43.559526162Z","finishedAt":"2025-02-04T10:14:43.592428348Z"}',
  '{"uid":1,"batchUid":null,"indexUid":"kefir","status":"enqueued","type":{"documentImport":{"primary_key":null,"method":"ReplaceDocuments","documents_count":1,"allow_index_creation":true}},"details":{"DocumentAdditionOrUpdate":{"received_documents":1,"indexed_documents":null}},"enqueuedAt":"2025-02-04T10:15:49.212484063Z"}',
].join('\n');
export const BATCH =
  '{"uid":0,"details":{},"stats":{"totalNbTasks":1,"status":{"succeeded":1},"types":{"indexCreation":1},"indexUids":{"kefir":1}},"startedAt":"2025-02-04T10:14:43.559526162Z","finishedAt":"2025-02-04T10:14:43.592428348Z","enqueuedAt":{"earliest":"2025-02-04T10:14:43.550379968Z","oldest":"2025-02-04T10:14:43.550379968Z"}}';

/** A minimal v6 dump in the order Meilisearch's tar writer may produce (its file system's order). */
export function meiliOrdered(overrides: Partial<Record<string, string | null>> = {}, drop: string[] = []): Item[] {
  const items: Item[] = [
    ['./', null],
    [
      './experimental-features.json',
      '{"metrics":false,"logsRoute":false,"editDocumentsByFunction":false,"containsFilter":true}',
    ],
    ['./batches', null],
    ['./batches/queue.jsonl', BATCH + '\n'],
    ['./tasks', null],
    ['./tasks/update_files', null],
    ['./tasks/update_files/1.jsonl', '{"id":2,"dog":"intel"}\n'],
    ['./indexes', null],
    ['./indexes/._kefir', 'AppleDouble junk'],
    ['./indexes/kefir', null],
    ['./indexes/kefir/documents.jsonl', '{"id":1,"dog":"kefir"}\n{"id":3,"dog":"echo"}\n'],
    ['./indexes/kefir/settings.json', SETTINGS],
    [
      './indexes/kefir/metadata.json',
      '{"uid":"kefir","primaryKey":"id","createdAt":"2025-02-04T10:14:43.560230749Z","updatedAt":"2025-02-04T10:15:21.391248252Z"}',
    ],
    ['./tasks/queue.jsonl', QUEUE + '\n'],
    ['./keys.jsonl', KEY_LINE + '\n'],
    ['./network.json', '{"self":"ms-0","remotes":{"ms-0":{"url":"http://localhost:7700","searchApiKey":null}}}'],
    ['./metadata.json', '{"dumpVersion":"V6","dbVersion":"1.13.0","dumpDate":"2025-02-04T10:22:31.331764736Z"}'],
    ['./instance_uid.uuid', '972b0d34-a73b-4b37-9a06-eac9af32c9b3'],
  ];
  return items.filter(([n]) => !drop.includes(n)).map(([n, b]) => [n, n in overrides ? overrides[n]! : b]);
}

/**
 * Writes a generated v6 dump (streamed: memory flat in `docsPerIndex`) with `indexes` indexes of `docsPerIndex`
 * documents each (`id`, `title`, `genre`, `year`, `body`), `genre`/`year` filterable; returns the file's size.
 */
export async function writeGeneratedDump(
  path: string,
  opts: { indexes?: string[]; docsPerIndex: number },
): Promise<number> {
  const { createWriteStream } = await import('node:fs');
  const { stat } = await import('node:fs/promises');
  const { dirname } = await import('node:path');
  const { DumpWriter } = await import('../../src/dump/index.js');
  const words = ['river', 'night', 'star', 'garden', 'machine', 'winter', 'ocean', 'shadow', 'city', 'dream'];
  const writer = await DumpWriter.create(createWriteStream(path), { dumpDate: new Date(), tmpDir: dirname(path) });
  const now = new Date().toISOString();
  await writer.keys([]);
  for (const uid of opts.indexes ?? ['generated']) {
    await writer.index(
      { uid, primaryKey: 'id', createdAt: now, updatedAt: now },
      { filterableAttributes: ['genre', 'year'], sortableAttributes: ['year'] },
      (function* () {
        for (let i = 0; i < opts.docsPerIndex; i++)
          yield {
            id: i,
            title: `${words[i % 10]} ${words[(i * 7) % 10]} ${i}`,
            genre: words[(i * 3) % 10],
            year: 1950 + (i % 70),
            body: `${words[(i * 11) % 10]} ${words[(i * 13) % 10]} ${words[(i * 17) % 10]} number ${i * 31}`,
          };
      })(),
    );
  }
  await writer.finish();
  return (await stat(path)).size;
}
