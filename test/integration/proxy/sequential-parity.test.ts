// A sequential client (waiting for each task, as every SDK does) sends the same random mix of 200 index, settings,
// document, delete and task-deletion operations to one dev node and to Miroir over three nodes; afterwards both
// hold the same indexes, logical settings and documents, and `GET /tasks` lists the same tasks (uids, batch uids
// and dates aside). The mix comes from a seeded generator, so a failure is reproducible from its seed.
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { Meilisearch, type Task } from 'meilisearch';
import { DevNode } from '../../../src/devnode/node.js';
import { startCluster, type TestCluster } from '../../support/cluster.js';

const SEED = 20261202;
const OPS = 200;

function rng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

type Op = (ms: Meilisearch) => Promise<unknown>;

/** The random operation mix (each op waits for its task). */
function operations(seed: number): Array<{ name: string; run: Op }> {
  const r = rng(seed);
  const pick = <T>(xs: readonly T[]): T => xs[Math.floor(r() * xs.length)]!;
  const uids = ['movies', 'books', 'songs'];
  const genres = ['drama', 'horror', 'comedy', 'jazz'];
  const fields = ['title', 'genre', 'year', 'note', 'rating'];
  const wait = async (p: { waitTask(o?: { timeout?: number }): Promise<Task> }) => p.waitTask({ timeout: 30_000 });
  const ops: Array<{ name: string; run: Op }> = [];
  for (let i = 0; i < OPS; i++) {
    const uid = pick(uids);
    const kind = r();
    if (kind < 0.08) {
      const pk = r() < 0.5 ? 'id' : undefined;
      ops.push({
        name: `createIndex ${uid} ${pk ?? ''}`,
        run: (ms) => wait(ms.createIndex(uid, pk === undefined ? {} : { primaryKey: pk })),
      });
    } else if (kind < 0.13) {
      ops.push({ name: `deleteIndex ${uid}`, run: (ms) => wait(ms.deleteIndex(uid)) });
    } else if (kind < 0.28) {
      const settings: Record<string, unknown> = {};
      if (r() < 0.6) settings.filterableAttributes = fields.filter(() => r() < 0.4);
      if (r() < 0.4) settings.sortableAttributes = fields.filter(() => r() < 0.3);
      if (r() < 0.3) settings.searchableAttributes = r() < 0.5 ? ['*'] : fields.filter(() => r() < 0.6).concat('title');
      if (r() < 0.3) settings.stopWords = r() < 0.5 ? ['the'] : [];
      if (r() < 0.2) settings.synonyms = { film: ['movie'] };
      if (r() < 0.2) settings.typoTolerance = { enabled: r() < 0.5 };
      if (r() < 0.15) settings.faceting = { maxValuesPerFacet: 1 + Math.floor(r() * 50) };
      ops.push({
        name: `updateSettings ${uid} ${JSON.stringify(settings)}`,
        run: (ms) => wait(ms.index(uid).updateSettings(settings)),
      });
    } else if (kind < 0.32) {
      ops.push({ name: `resetSettings ${uid}`, run: (ms) => wait(ms.index(uid).resetSettings()) });
    } else if (kind < 0.62) {
      const n = 1 + Math.floor(r() * 8);
      const docs = Array.from({ length: n }, () => {
        const d: Record<string, unknown> = { id: Math.floor(r() * 40) };
        for (const f of fields)
          if (r() < 0.5)
            d[f] =
              f === 'year' || f === 'rating'
                ? Math.floor(r() * 100)
                : f === 'genre'
                  ? pick(genres)
                  : `${f} ${Math.floor(r() * 10)}`;
        return d;
      });
      const merge = r() < 0.3;
      ops.push({
        name: `${merge ? 'update' : 'add'}Documents ${uid} ${n}`,
        run: (ms) => wait(merge ? ms.index(uid).updateDocuments(docs) : ms.index(uid).addDocuments(docs)),
      });
    } else if (kind < 0.7) {
      const id = Math.floor(r() * 40);
      ops.push({ name: `deleteDocument ${uid} ${id}`, run: (ms) => wait(ms.index(uid).deleteDocument(id)) });
    } else if (kind < 0.78) {
      const ids = Array.from({ length: 1 + Math.floor(r() * 6) }, () => Math.floor(r() * 40));
      ops.push({ name: `deleteDocuments ${uid} ${ids}`, run: (ms) => wait(ms.index(uid).deleteDocuments(ids)) });
    } else if (kind < 0.84) {
      const g = pick(genres);
      ops.push({
        name: `deleteDocuments ${uid} filter ${g}`,
        run: (ms) => wait(ms.index(uid).deleteDocuments({ filter: `genre = ${g}` })),
      });
    } else if (kind < 0.88) {
      ops.push({ name: `deleteAllDocuments ${uid}`, run: (ms) => wait(ms.index(uid).deleteAllDocuments()) });
    } else if (kind < 0.94) {
      const filter =
        r() < 0.5 ? { statuses: ['failed' as const] } : { types: ['documentDeletion' as const], indexUids: [uid] };
      ops.push({ name: `deleteTasks ${JSON.stringify(filter)}`, run: (ms) => wait(ms.tasks.deleteTasks(filter)) });
    } else {
      const pk = pick(['id', 'title']);
      ops.push({ name: `updateIndex ${uid} pk ${pk}`, run: (ms) => wait(ms.updateIndex(uid, { primaryKey: pk })) });
    }
  }
  return ops;
}

async function snapshot(ms: Meilisearch): Promise<Record<string, unknown>> {
  const indexes = (await ms.getIndexes({ limit: 100 })).results.map((i) => ({ uid: i.uid, primaryKey: i.primaryKey }));
  const out: Record<string, unknown> = { indexes };
  for (const { uid } of indexes) {
    const docs = (await ms.index(uid).getDocuments({ limit: 1000 })).results as Array<Record<string, unknown>>;
    docs.sort((a, b) => JSON.stringify(a.id ?? a.title).localeCompare(JSON.stringify(b.id ?? b.title)));
    out[`${uid}.settings`] = await ms.index(uid).getSettings();
    out[`${uid}.documents`] = docs;
  }
  const tasks = (await ms.tasks.getTasks({ limit: 1000 })).results;
  out.tasks = tasks.map((t) => ({
    indexUid: t.indexUid,
    status: t.status,
    type: t.type,
    details: t.details ?? null,
    error: t.error === null ? null : { code: t.error.code, message: t.error.message },
  }));
  return out;
}

let node: DevNode;
let cluster: TestCluster;
before(async () => {
  node = await DevNode.start({ port: 0, masterKey: 'parity-master' });
  cluster = await startCluster({ nodes: 3, rf: 1, shards: 8 });
});
after(async () => {
  await node.stop();
  await cluster.close();
});

test(`a sequential client's random mix of ${OPS} operations (seed ${SEED}) ends the same on one dev node and through Miroir`, async () => {
  const single = new Meilisearch({ host: node.url, apiKey: 'parity-master' });
  const miroir = new Meilisearch({ host: cluster.app.url, apiKey: cluster.masterKey });
  const history: string[] = [];
  for (const op of operations(SEED)) {
    history.push(op.name);
    const [a, b] = await Promise.all([op.run(single), op.run(miroir)]);
    const view = (t: unknown) => {
      const x = t as Task;
      return { status: x.status, type: x.type, error: x.error?.code ?? null, details: x.details ?? null };
    };
    assert.deepEqual(
      view(b),
      view(a),
      `op ${history.length}: ${op.name} (before it: ${history.slice(-12, -1).join(' | ')})`,
    );
  }
  assert.deepEqual(await snapshot(miroir), await snapshot(single));
});
