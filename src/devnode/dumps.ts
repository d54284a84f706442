// The dev node's dumps: `POST /dumps` (task `dumpCreation`) writes Meilisearch's v6 `.dump` of every index,
// setting, document, key and task into the dump directory as `{dumpUid}.dump`; `--import-dump FILE` loads one at
// start, as Meilisearch does (keys keep their uids, so the same master key gives the same key values). The format
// itself is src/dump's.
import { isObject, membersOf, stringOf } from '../core/types.js';
import { createWriteStream } from 'node:fs';
import { mkdir, mkdtemp, rename, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { defaultKeys, type ApiKeyRecord } from '../core/auth/keys.js';
import type { KeyRegistry } from '../core/auth/registry.js';
import { inferPrimaryKey, resolveDocumentId } from '../core/document-id.js';
import { MeiliError } from '../core/errors.js';
import { applySettingsPatch, defaultSettings, validateSettings } from '../core/settings.js';
import type { TaskRecord } from '../core/tasks.js';
import {
  DumpWriter,
  batchOfOneTask,
  freeDumpUid,
  invalidDump,
  readDumpFile,
  taskFromDump,
  taskToDump,
  type Document,
  type DocumentBatches,
  type DumpIndex,
  type TaskContent,
  type TaskEntry,
} from '../dump/index.js';
import { restoreIndexEngine, type EngineContext, type IndexEngineApi, type StoredDocument } from './engine/index.js';
import type { DevNodeStore } from './persistence.js';

/** A dev-node task: Meilisearch's record plus the processor's input while it is unfinished. */
export interface DevTask extends TaskRecord {
  input?: unknown;
}

/** The dev node's state dumps read and imports fill (handed over by the node). */
export interface DumpHost {
  readonly indexes: Map<string, IndexEngineApi>;
  readonly tasks: Map<number, DevTask>;
  readonly keys: KeyRegistry;
  readonly ctx: EngineContext;
  readonly store: DevNodeStore | null;
  network: Record<string, unknown>;
  nextTaskUid: number;
}

export interface DevNodeDumpOptions {
  /** `--dump-dir`: where `{dumpUid}.dump` files go (default `dumps/` under `--data`, else a temporary directory). */
  dumpDir?: string | null;
  dataDir?: string | null;
  /** `--import-dump`: a v6 dump loaded at start into an empty node. */
  importDump?: string | null;
}

/** What an import brought in (and what it left out). */
export interface DumpImportSummary {
  indexes: Array<{ uid: string; documents: number }>;
  keys: number;
  tasks: number;
  /** `index.setting` names from settings.json the dev node has no such setting for (ignored). */
  ignoredSettings: string[];
}

const SETTING_KEYS = new Set(Object.keys(defaultSettings()));

function now(): string {
  return new Date().toISOString();
}

/** A document with its top-level fields in the index's field order, as Meilisearch writes them (field-id order). */
function inFieldOrder(doc: Document, order: readonly string[]): Document {
  const out = Object.create(null) as Document; // a field named `__proto__` stays a field
  for (const f of order) if (Object.prototype.hasOwnProperty.call(doc, f)) out[f] = doc[f];
  for (const f of Object.keys(doc)) if (!(f in out)) out[f] = doc[f];
  return out;
}

/** What the dump's task `type` needs from a dev-node task still holding its input. */
function contentOf(t: DevTask): { content: TaskContent; updateFile: Document[] | null } {
  if (!isObject(t.input)) return { content: {}, updateFile: null };
  const input = t.input;
  const list = (v: unknown) => (Array.isArray(v) ? v : []);
  switch (t.type) {
    case 'documentAdditionOrUpdate':
      return {
        content: {
          primaryKey: stringOf(input.primaryKey) ?? null,
          method: input.merge === true ? 'UpdateDocuments' : 'ReplaceDocuments',
          allowIndexCreation: input.skipCreation !== true,
        },
        updateFile: t.status === 'enqueued' ? list(input.documents) : null,
      };
    case 'documentDeletion':
      if (input.mode === 'ids') return { content: { documentIds: list(input.ids).map(String) }, updateFile: null };
      if (input.mode === 'filter') return { content: { filter: input.filter }, updateFile: null };
      return { content: {}, updateFile: null };
    case 'settingsUpdate': {
      if (input.reset === true)
        return {
          content: { settings: Object.fromEntries([...SETTING_KEYS].map((k) => [k, null])), isDeletion: true },
          updateFile: null,
        };
      const patch = membersOf(input.patch);
      return {
        content: { settings: patch, isDeletion: Object.values(patch).every((v) => v === null) },
        updateFile: null,
      };
    }
    case 'indexCreation':
      return { content: { primaryKey: stringOf(input.primaryKey) ?? null }, updateFile: null };
    case 'indexUpdate':
      return {
        content: {
          primaryKey: stringOf(input.primaryKey) ?? null,
          newIndexUid: stringOf(input.newUid) ?? null,
        },
        updateFile: null,
      };
    case 'indexSwap':
      return { content: { swaps: list(input.swaps) }, updateFile: null };
    case 'dumpCreation':
      return { content: { keys: list(input.keys) }, updateFile: null };
  }
  return { content: {}, updateFile: null };
}

/** The processor's input for a task imported still enqueued (what the dev node needs to run it). */
async function inputOf(type: string, c: TaskContent, updateFile: DocumentBatches | null): Promise<unknown> {
  switch (type) {
    case 'documentAdditionOrUpdate': {
      const documents: Document[] = [];
      if (updateFile !== null) for await (const batch of updateFile) for (const d of batch) documents.push(d);
      return {
        documents,
        primaryKey: c.primaryKey ?? null,
        merge: c.method === 'UpdateDocuments',
        skipCreation: c.allowIndexCreation === false,
      };
    }
    case 'documentDeletion':
      if (c.documentIds !== undefined) return { mode: 'ids', ids: c.documentIds };
      if (c.filter !== undefined) return { mode: 'filter', filter: c.filter };
      return { mode: 'all' };
    case 'settingsUpdate':
      return { patch: Object.fromEntries(Object.entries(c.settings ?? {}).filter(([k]) => SETTING_KEYS.has(k))) };
    case 'indexCreation':
      return { primaryKey: c.primaryKey ?? null };
    case 'indexUpdate':
      return { primaryKey: c.primaryKey ?? null, newUid: c.newIndexUid ?? null };
    case 'indexDeletion':
      return {};
    case 'indexSwap':
      return { swaps: c.swaps ?? [] };
    case 'taskCancelation':
    case 'taskDeletion':
      return { query: (c.query ?? '').replace(/^\?/, '') };
    case 'dumpCreation':
      return { keys: c.keys ?? [] };
  }
  return undefined;
}

/** settings.json → the dev node's full settings (settings it does not have are ignored and named). */
function importSettings(raw: Record<string, unknown>, uid: string, ignored: string[]): Record<string, unknown> {
  const known: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(raw)) {
    if (!SETTING_KEYS.has(k)) ignored.push(`${uid}.${k}`);
    else if (v !== null) known[k] = v;
  }
  try {
    return applySettingsPatch(defaultSettings(), validateSettings(known, null, defaultSettings()));
  } catch (err) {
    if (err instanceof MeiliError) throw invalidDump(`\`indexes/${uid}/settings.json\`: ${err.message}`);
    throw err;
  }
}

/** One dumped index as a dev-node index (documents keep the dump's order). */
async function importIndex(
  index: DumpIndex,
  documents: DocumentBatches,
  ctx: EngineContext,
  ignored: string[],
): Promise<IndexEngineApi> {
  const { uid, createdAt, updatedAt } = index.metadata;
  const settings = importSettings(index.settings, uid, ignored);
  let primaryKey = index.metadata.primaryKey;
  const stored: StoredDocument[] = [];
  for await (const batch of documents) {
    for (const doc of batch) {
      try {
        if (primaryKey === null) primaryKey = inferPrimaryKey(doc);
        stored.push({ id: resolveDocumentId(doc, primaryKey), seq: stored.length, doc });
      } catch (err) {
        if (err instanceof MeiliError)
          throw invalidDump(`\`indexes/${uid}/documents.jsonl\` document ${stored.length + 1}: ${err.message}`);
        throw err;
      }
    }
  }
  return restoreIndexEngine(
    { uid, primaryKey, createdAt, updatedAt, settings, fieldOrder: [], nextSeq: stored.length },
    stored,
    ctx,
  );
}

export class DevNodeDumps {
  private tempDir: string | null = null;

  constructor(
    private readonly opts: DevNodeDumpOptions,
    private readonly host: () => DumpHost,
  ) {}

  /** Where dumps are written: `--dump-dir`, else `dumps/` under `--data`, else a temporary directory. */
  async directory(): Promise<string> {
    if (typeof this.opts.dumpDir === 'string' && this.opts.dumpDir !== '') return this.opts.dumpDir;
    if (typeof this.opts.dataDir === 'string' && this.opts.dataDir !== '') return join(this.opts.dataDir, 'dumps');
    this.tempDir ??= await mkdtemp(join(tmpdir(), 'miroir-devnode-dumps-'));
    return this.tempDir;
  }

  /** The `dumpCreation` task's input: the keys as they are when the dump is asked for (as Meilisearch). */
  taskInput(): { keys: ApiKeyRecord[] } {
    return {
      keys: this.host()
        .keys.all()
        .map((k) => ({ ...k })),
    };
  }

  /** Runs a `dumpCreation` task: writes `{dumpUid}.dump` (atomically: a temporary name, then a rename); returns the uid. */
  async create(task: DevTask): Promise<string> {
    const h = this.host();
    const dir = await this.directory();
    await mkdir(dir, { recursive: true });
    const started = task.startedAt !== null ? new Date(task.startedAt) : new Date();
    const dumpUid = await freeDumpUid(dir, started);
    const final = join(dir, `${dumpUid}.dump`);
    const partial = `${final}.partial`;
    let writer: DumpWriter | null = null;
    try {
      writer = await DumpWriter.create(createWriteStream(partial), { dumpDate: new Date(), tmpDir: dir });
      const listed = membersOf(task.input).keys;
      await writer.keys(Array.isArray(listed) ? listed : h.keys.all());
      await writer.experimentalFeatures({ ...h.ctx.experimentalFeatures });
      await writer.network(structuredClone(h.network));
      await writer.webhooks();
      await writer.chatCompletionsSettings();
      for (const idx of [...h.indexes.values()].sort((a, b) => (a.uid < b.uid ? -1 : a.uid > b.uid ? 1 : 0))) {
        const meta = idx.meta();
        const docs = [...idx.allDocuments()].sort((a, b) => a.seq - b.seq);
        await writer.index(
          { uid: idx.uid, primaryKey: idx.primaryKey, createdAt: idx.createdAt, updatedAt: idx.updatedAt },
          idx.getSettings(),
          (function* () {
            for (const d of docs) yield inFieldOrder(d.doc, meta.fieldOrder);
          })(),
        );
      }
      const finishedAt = now();
      // This very task is written as succeeded, so that a node importing the dump does not run it again.
      const tasks = [...h.tasks.values()]
        .sort((a, b) => a.uid - b.uid)
        .map((t) => (t.uid === task.uid ? { ...t, status: 'succeeded' as const, finishedAt } : t));
      await writer.tasks(
        (function* (): Generator<TaskEntry> {
          for (const t of tasks) {
            const { content, updateFile } = contentOf(t);
            const dumped = taskToDump(t, content);
            if (dumped !== null) yield { task: dumped, updateFile };
          }
        })(),
      );
      await writer.batches(
        (function* () {
          for (const t of tasks) {
            const b = batchOfOneTask(t);
            if (b !== null) yield b;
          }
        })(),
      );
      await writer.finish();
      await rename(partial, final);
      return dumpUid;
    } catch (err) {
      await writer?.abort(err as Error);
      await rm(partial, { force: true });
      throw err;
    }
  }

  /**
   * `--import-dump`: loads the dump into this (empty) node — indexes, settings, documents, keys, experimental
   * features, network (without `self` and `leader`, as Meilisearch) and the task queue (tasks still enqueued run
   * after start). Nothing is installed unless the whole dump reads cleanly.
   */
  async importAtStart(): Promise<DumpImportSummary | null> {
    const file = this.opts.importDump;
    if (file === undefined || file === null || file === '') return null;
    const h = this.host();
    const defaults = new Set(defaultKeys('').map((k) => k.uid));
    if (h.indexes.size > 0 || h.tasks.size > 0 || h.keys.all().some((k) => !defaults.has(k.uid))) {
      throw new Error(`database already exists at ${this.opts.dataDir ?? '(memory)'}, try to delete it or rename it`);
    }
    const ignoredSettings: string[] = [];
    const indexes = new Map<string, IndexEngineApi>();
    const tasks: DevTask[] = [];
    let keys: ApiKeyRecord[] = [];
    const summary = await readDumpFile(file, {
      header: (header) => void (keys = header.keys),
      index: async (index, documents) =>
        void indexes.set(index.metadata.uid, await importIndex(index, documents, h.ctx, ignoredSettings)),
      task: async (raw, updateFile) => {
        const { task, durationMs, content } = taskFromDump(raw, `\`tasks/queue.jsonl\``);
        const t: DevTask = { ...task };
        if (durationMs !== null) t.durationMs = durationMs;
        if (t.status === 'enqueued' || t.status === 'processing') {
          t.status = 'enqueued';
          t.input = await inputOf(t.type, content, updateFile);
        }
        tasks.push(t);
      },
    });
    await this.install(h, {
      keys,
      indexes,
      tasks,
      features: summary.header.experimentalFeatures,
      network: summary.header.network,
    });
    if (ignoredSettings.length > 0)
      process.stderr.write(
        `devnode: the dump's settings the dev node does not have were ignored: ${ignoredSettings.join(', ')}\n`,
      );
    return { indexes: summary.indexes, keys: keys.length, tasks: tasks.length, ignoredSettings };
  }

  private async install(
    h: DumpHost,
    d: {
      keys: ApiKeyRecord[];
      indexes: Map<string, IndexEngineApi>;
      tasks: DevTask[];
      features: Record<string, unknown> | null;
      network: Record<string, unknown> | null;
    },
  ): Promise<void> {
    const store = h.store;
    for (const old of h.keys.all()) await store?.deleteKey(old.uid);
    h.keys.load(d.keys);
    for (const k of d.keys) await store?.saveKey(k);
    for (const [uid, idx] of d.indexes) {
      h.indexes.set(uid, idx);
      await store?.rewriteIndex(uid, idx);
    }
    for (const t of d.tasks) {
      h.tasks.set(t.uid, t);
      await store?.saveTask(t);
    }
    h.nextTaskUid = Math.max(h.nextTaskUid, ...d.tasks.map((t) => t.uid + 1));
    await store?.putMisc('next_task_uid', h.nextTaskUid);
    if (d.features !== null) {
      for (const [k, v] of Object.entries(d.features)) {
        if (k in h.ctx.experimentalFeatures && (typeof v === 'boolean' || v === null))
          h.ctx.experimentalFeatures[k] = v;
      }
      await store?.putMisc('experimental', h.ctx.experimentalFeatures);
    }
    if (d.network !== null) {
      h.network = { ...h.network, ...d.network, self: null, leader: null };
      await store?.putMisc('network', h.network);
    }
  }
}
