// The dev node: one Meilisearch v1.50 CE node over real HTTP, for tests, benchmarks and `miroir dev`. Owns the
// index registry, the task queue and its processor, API keys and auth, experimental features, optional LMDB
// persistence and fault injection; the engine (./engine) answers per-index work.
import { isObject, membersOf, stringOf, stringsOf, type SearchQuery } from '../core/types.js';
import { randomUUID } from 'node:crypto';
import {
  authAllIndexes,
  authAllowsIndex,
  authorize,
  constantTimeEqual,
  invalidApiKey,
  missingAuthorization,
  tenantFilter,
  requireIndexes,
  type AuthResult,
} from '../core/auth/authorize.js';
import { KeyRegistry } from '../core/auth/registry.js';
import { PUBLIC_ROUTE, routeAuth, type RouteAuth } from '../core/auth/route-actions.js';
import { MeiliError, internalError } from '../core/errors.js';
import { andFilters } from '../core/shard-filter.js';
import {
  checkIndexUid,
  parseDocumentIds,
  swapConflict,
  validateCreateIndex,
  validateDeleteByFilter,
  validateSwap,
  validateUpdateIndex,
  type IndexSwap,
} from '../core/index-requests.js';
import { uintQueryParam } from '../core/pagination.js';
import { HttpServer, type Reply, type RequestContext, type RouteSpec } from '../http/server.js';
import type { HttpMethod } from '../http/router.js';
import {
  createIndexEngine,
  federatedSearch,
  parseDocumentsQuery,
  parseFacetSearchQuery,
  parseMultiSearch,
  parseSearchQuery,
  restoreIndexEngine,
  validateSettings,
  resetAllDetails,
  type EngineContext,
  type IndexEngineApi,
} from './engine/index.js';
import { csvDelimiter, parseDocuments, parseSkipCreation, writeFormat } from '../core/payload.js';
import { ALL_SETTINGS_ROUTES, settingsView, settingValue } from '../core/settings.js';
import { DevNodeStore } from './persistence.js';
import { now } from './clock.js';
import { matchesDates, splitDateFilters } from './task-dates.js';
import {
  failedDetails,
  matches,
  pageTasks,
  parseCancelOrDeleteFilter,
  parseTasksQuery,
  parseTaskUid,
  rawQueryOf,
  summarizedTask,
  taskNotFound,
  taskView,
  taskVisibility,
  type TaskFilter,
  type TaskRecord as MeiliTask,
} from '../core/tasks.js';
import {
  batchNotFound,
  batchView,
  batchVisibility,
  formatStepDuration,
  loneTaskBatchStrategy,
  pageBatches,
  parseBatchUid,
  summarizeBatch,
  type BatchRecord,
} from '../core/batches.js';
import { DevNodeDumps, type DumpHost } from './dumps.js';

/** A dev-node task: Meilisearch's record plus what the processor needs to run it (kept until it finishes), and a
 * copy of its finished batch (so batches persist with their tasks and go when the last of them is deleted). */
interface TaskRecord extends MeiliTask {
  input?: unknown;
  batch?: BatchRecord;
}

/** The batch being processed: one task (plus, for a cancelation, the tasks it cancels). */
interface RunningBatch {
  uid: number;
  tasks: TaskRecord[];
  startedAt: string;
  strategy: string;
}

/** `progressTrace` step (under `processing tasks`) of each task type, named as Meilisearch's progress steps. */
const BATCH_STEP: Record<string, string> = {
  documentAdditionOrUpdate: 'indexing',
  documentDeletion: 'delete documents',
  settingsUpdate: 'apply the settings',
  indexCreation: 'creating the index',
  indexUpdate: 'updating the index',
  indexDeletion: 'deleting the index',
  indexSwap: 'swapping the indexes',
  taskCancelation: 'updating tasks',
  taskDeletion: 'deleting tasks',
};

export interface DevNodeOptions {
  port?: number;
  host?: string;
  masterKey?: string | null;
  dataDir?: string | null;
  faultDelayMs?: number;
  maxBodyBytes?: number;
  /** Where `POST /dumps` writes `{dumpUid}.dump` (default `dumps/` under `dataDir`, else a temporary directory). */
  dumpDir?: string | null;
  /** A Meilisearch v6 dump loaded at start into an empty node (see ./dumps.ts). */
  importDump?: string | null;
}

export interface Faults {
  delay_ms: number;
  /** Share of requests (0..1) that wait `delay_ms`; 1 = every request. */
  delay_probability: number;
  error_rate: number;
  hang: boolean;
  /** Writes that enqueue their task and then answer 500 (or hang when `hang`): a count, or true for every write. */
  fail_after_enqueue: number | boolean;
  /** The next N requests (any route but /health) answer 500 before doing anything. */
  fail_requests: number;
  /** A task is not processed before this many ms after it was enqueued (replication lag; answers are not delayed). */
  task_delay_ms: number;
}

const EXPERIMENTAL_DEFAULTS: Record<string, boolean | null> = {
  metrics: false,
  logsRoute: false,
  editDocumentsByFunction: false,
  containsFilter: false,
  dynamicSearchRules: false,
  network: false,
  getTaskDocumentsRoute: false,
  taskQueueCompactionRoute: false,
  compositeEmbedders: false,
  chatCompletions: false,
  multimodal: false,
  foreignKeys: false,
  disableDocumentsFetchQueue: false,
  legacySearch: null,
  renderRoute: false,
};

/** Task processing re-validates settings already accepted at enqueue time, whatever the features are now. */
const ALL_FEATURES = { foreignKeys: true, chatCompletions: true };

type Handler = (ctx: RequestContext<AuthResult>) => Promise<Reply> | Reply;

interface RouteDef {
  method: HttpMethod;
  path: string;
  auth: RouteAuth;
  body: 'none' | 'json' | 'raw';
  write?: boolean;
  tenant?: boolean;
  handler: Handler;
}

function indexNotFound(uid: string): MeiliError {
  return new MeiliError('index_not_found', `Index \`${uid}\` not found.`);
}

function json(status: number, body: unknown): Reply {
  return { status, body };
}

export class DevNode {
  readonly masterKey: string | null;
  private readonly indexes = new Map<string, IndexEngineApi>();
  private readonly tasks = new Map<number, TaskRecord>();
  private nextTaskUid = 0;
  private readonly batches = new Map<number, BatchRecord>();
  private running: RunningBatch | null = null;
  private paused = false;
  /** Highest batch uid held; null = recompute (after batches were deleted). */
  private topBatchUid: number | null = null;
  private readonly keys: KeyRegistry;
  private readonly ctx: EngineContext = { experimentalFeatures: { ...EXPERIMENTAL_DEFAULTS } };
  private network: Record<string, unknown> = {
    self: null,
    leader: null,
    version: '00000000-0000-0000-0000-000000000000',
    remotes: {},
    shards: {},
  };
  faults: Faults;
  /** Requests served per route (`METHOD /path/template`), for tests that count what a proxy sent. */
  readonly requestCounts = new Map<string, number>();
  private readonly baseDelay: number;
  private readonly store: DevNodeStore | null;
  private readonly dumps: DevNodeDumps;
  private readonly http: HttpServer<AuthResult>;
  private processing = false;
  private stopped = false;
  private idleWaiters: Array<() => void> = [];
  private lastUpdate: string | null = null;
  port = 0;
  url = '';

  private constructor(opts: DevNodeOptions) {
    this.masterKey = opts.masterKey ?? null;
    this.baseDelay = opts.faultDelayMs ?? 0;
    this.faults = this.noFaults();
    this.store = opts.dataDir ? new DevNodeStore(opts.dataDir) : null;
    const store = this.store;
    this.keys = new KeyRegistry(this.masterKey, {
      save: (k) => store?.saveKey(k),
      remove: (uid) => store?.deleteKey(uid),
    });
    this.dumps = new DevNodeDumps({ dumpDir: opts.dumpDir, dataDir: opts.dataDir, importDump: opts.importDump }, () =>
      this.dumpHost(),
    );
    this.http = new HttpServer<AuthResult>({
      routes: this.routes(),
      hooks: { authenticate: (ctx, spec) => this.authenticate(ctx, spec as RouteDef) },
      maxBodyBytes: opts.maxBodyBytes ?? 104857600,
      maxConcurrentRequests: 100000,
      requestTimeoutMs: 300000,
      keepAliveTimeoutMs: 65000,
    });
  }

  static async start(opts: DevNodeOptions = {}): Promise<DevNode> {
    const node = new DevNode(opts);
    await node.load();
    await node.dumps.importAtStart().catch(async (err: unknown) => {
      await node.store?.close();
      throw err;
    });
    node.port = await node.http.listen(opts.port ?? 0, opts.host ?? '127.0.0.1');
    node.url = `http://${opts.host ?? '127.0.0.1'}:${node.port}`;
    node.kick();
    return node;
  }

  private async load(): Promise<void> {
    if (this.store !== null) {
      for (const { meta, docs } of this.store.loadIndexes())
        this.indexes.set(meta.uid, restoreIndexEngine(meta, docs, this.ctx));
      for (const task of this.store.loadTasks() as TaskRecord[]) {
        if (task.status === 'processing') Object.assign(task, { status: 'enqueued', batchUid: null, startedAt: null });
        this.tasks.set(task.uid, task);
        if (task.batch !== undefined) this.batches.set(task.batch.uid, task.batch);
      }
      this.nextTaskUid = Math.max(
        this.store.getMisc<number>('next_task_uid') ?? 0,
        ...[...this.tasks.keys()].map((u) => u + 1),
      );
      this.keys.load(this.store.loadKeys());
      Object.assign(
        this.ctx.experimentalFeatures,
        this.store.getMisc<Record<string, boolean | null>>('experimental') ?? {},
      );
      this.network = this.store.getMisc<Record<string, unknown>>('network') ?? this.network;
    }
    await this.keys.seedDefaults(now());
  }

  /** Stops serving; waits for the task in progress. */
  async stop(): Promise<void> {
    this.stopped = true;
    await this.http.close(200);
    if (this.processing) await new Promise<void>((r) => this.idleWaiters.push(r));
    await this.store?.close();
  }

  /** Resolves once no task is enqueued or processing. */
  async idle(): Promise<void> {
    if (!this.processing && ![...this.tasks.values()].some((t) => t.status === 'enqueued')) return;
    await new Promise<void>((r) => this.idleWaiters.push(r));
  }

  /** The state ./dumps.ts reads (dump creation) and fills (import at start). */
  private dumpHost(): DumpHost {
    const getNetwork = () => this.network;
    const setNetwork = (v: Record<string, unknown>) => void (this.network = v);
    const getNext = () => this.nextTaskUid;
    const setNext = (v: number) => void (this.nextTaskUid = v);
    return {
      indexes: this.indexes,
      tasks: this.tasks,
      keys: this.keys,
      ctx: this.ctx,
      store: this.store,
      get network() {
        return getNetwork();
      },
      set network(v) {
        setNetwork(v);
      },
      get nextTaskUid() {
        return getNext();
      },
      set nextTaskUid(v) {
        setNext(v);
      },
    };
  }

  // ------------------------------------------------------------------ auth

  private async authenticate(ctx: RequestContext<AuthResult>, route: RouteDef): Promise<AuthResult> {
    if (route.path.startsWith('/_devnode/')) {
      if (this.masterKey === null) return { kind: 'open' };
      const h = ctx.req.headers.authorization;
      if (h === undefined) throw missingAuthorization();
      if (!constantTimeEqual(h, `Bearer ${this.masterKey}`)) throw invalidApiKey();
      return { kind: 'master' };
    }
    return authorize({
      authorization: ctx.req.headers.authorization,
      masterKey: this.masterKey,
      route: route.auth,
      indexUid: ctx.params.uid ?? null,
      tenantTokenAllowed: route.tenant === true,
      keys: this.keys,
      nowMs: Date.now(),
    });
  }

  // ------------------------------------------------------------------ faults

  private async withFaults(
    route: RouteDef,
    ctx: RequestContext<AuthResult>,
    run: () => Promise<Reply> | Reply,
  ): Promise<Reply> {
    const f = this.faults;
    const key = `${route.method} ${route.path}`;
    this.requestCounts.set(key, (this.requestCounts.get(key) ?? 0) + 1);
    if (f.delay_ms > 0 && (f.delay_probability >= 1 || Math.random() < f.delay_probability))
      await new Promise((r) => setTimeout(r, f.delay_ms));
    if (f.hang && !route.write) return new Promise<Reply>(() => undefined);
    if (f.fail_requests > 0 && route.path !== '/health') {
      f.fail_requests--;
      throw new MeiliError('internal', 'An internal error has occurred. `injected fault`.');
    }
    if (f.error_rate > 0 && Math.random() < f.error_rate)
      throw new MeiliError('internal', 'An internal error has occurred. `injected fault`.');
    const reply = await run();
    if (route.write && reply.status === 202 && f.fail_after_enqueue !== 0 && f.fail_after_enqueue !== false) {
      if (typeof f.fail_after_enqueue === 'number') f.fail_after_enqueue--;
      if (f.hang) return new Promise<Reply>(() => undefined);
      throw new MeiliError('internal', 'An internal error has occurred. `injected fault after enqueue`.');
    }
    void ctx;
    return reply;
  }

  // ------------------------------------------------------------------ tasks

  private async enqueue(
    type: string,
    indexUid: string | null,
    details: Record<string, unknown> | null,
    input: unknown,
    customMetadata?: string | null,
  ): Promise<Reply> {
    const task: TaskRecord = {
      uid: this.nextTaskUid++,
      batchUid: null,
      indexUid,
      status: 'enqueued',
      type,
      canceledBy: null,
      details,
      error: null,
      enqueuedAt: now(),
      startedAt: null,
      finishedAt: null,
      input,
    };
    if (customMetadata !== undefined && customMetadata !== null) task.customMetadata = customMetadata;
    this.tasks.set(task.uid, task);
    if (this.store !== null) {
      await this.store.saveTask(task);
      await this.store.putMisc('next_task_uid', this.nextTaskUid);
    }
    this.kick();
    return json(202, summarizedTask(task));
  }

  /** Tests: holds enqueued tasks (the one processing finishes) until resumed, to act on them while enqueued. */
  pauseTasks(paused: boolean): void {
    this.paused = paused;
    if (!paused) this.kick();
  }

  private kick(): void {
    if (this.processing || this.stopped || this.paused) return;
    const next = this.nextEnqueued();
    if (next === undefined) {
      for (const w of this.idleWaiters.splice(0)) w();
      return;
    }
    this.processing = true;
    setImmediate(() => {
      void this.process(next).finally(() => {
        this.processing = false;
        if (this.stopped) for (const w of this.idleWaiters.splice(0)) w();
        else this.kick();
      });
    });
  }

  /** Meilisearch's scheduling order: the last enqueued cancelation, then task deletions, then the oldest task. */
  private nextEnqueued(): TaskRecord | undefined {
    let oldest: TaskRecord | undefined;
    let cancelation: TaskRecord | undefined;
    let deletion: TaskRecord | undefined;
    for (const t of this.tasks.values()) {
      if (t.status !== 'enqueued') continue;
      if (oldest === undefined || t.uid < oldest.uid) oldest = t;
      if (t.type === 'taskCancelation' && (cancelation === undefined || t.uid > cancelation.uid)) cancelation = t;
      if (t.type === 'taskDeletion' && (deletion === undefined || t.uid < deletion.uid)) deletion = t;
    }
    return cancelation ?? deletion ?? oldest;
  }

  /** Each task runs as its own batch (a cancelation's batch also holds the tasks it cancels), like Meilisearch
   * with `--experimental-max-number-of-batched-tasks 1`. */
  private async process(task: TaskRecord): Promise<void> {
    if (task.status !== 'enqueued') return;
    const lag = this.faults.task_delay_ms - (Date.now() - Date.parse(task.enqueuedAt));
    if (lag > 0) await new Promise((r) => setTimeout(r, lag));
    if (task.status !== 'enqueued') return;
    const startedAt = now();
    const batch: RunningBatch = {
      uid: this.nextBatchUid(),
      tasks: [task],
      startedAt,
      strategy: this.batchStrategy(task),
    };
    this.running = batch;
    task.status = 'processing';
    task.startedAt = startedAt;
    task.batchUid = batch.uid;
    const started = performance.now();
    try {
      await this.run(task);
      task.status = 'succeeded';
    } catch (err) {
      const e = internalError(err);
      task.status = 'failed';
      task.error = e.toJSON();
      task.details = failedDetails(task.type, task.details);
    }
    const ran = performance.now() - started;
    const finishedAt = now();
    const durationMs = performance.now() - started;
    for (const t of batch.tasks) Object.assign(t, { batchUid: batch.uid, startedAt, finishedAt, durationMs });
    delete task.input;
    this.lastUpdate = finishedAt;
    const writing = performance.now();
    for (const t of batch.tasks) if (t !== task) await this.store?.saveTask(t);
    const progressTrace: Record<string, string> = {};
    const step = BATCH_STEP[task.type];
    if (step !== undefined) progressTrace[`processing tasks > ${step}`] = formatStepDuration(ran);
    progressTrace['processing tasks'] = formatStepDuration(durationMs);
    progressTrace['writing tasks to disk'] = formatStepDuration(performance.now() - writing);
    const record = summarizeBatch({
      uid: batch.uid,
      tasks: batch.tasks,
      startedAt,
      finishedAt,
      batchStrategy: batch.strategy,
      progressTrace,
      durationMs,
    });
    task.batch = record;
    this.batches.set(record.uid, record);
    this.topBatchUid = record.uid;
    this.running = null;
    await this.store?.saveTask(task);
  }

  /** Meilisearch's next batch uid: one past the highest batch still held. */
  private nextBatchUid(): number {
    if (this.topBatchUid === null) {
      this.topBatchUid = -1;
      for (const uid of this.batches.keys()) if (uid > this.topBatchUid) this.topBatchUid = uid;
    }
    return this.topBatchUid + 1;
  }

  private batchStrategy(task: TaskRecord): string {
    let enqueuedTotal = 0;
    let enqueuedForIndex = 0;
    for (const t of this.tasks.values()) {
      if (t.status !== 'enqueued') continue;
      enqueuedTotal++;
      if (t.indexUid !== null && t.indexUid === task.indexUid) enqueuedForIndex++;
    }
    const pk = membersOf(task.input).primaryKey;
    return loneTaskBatchStrategy(task, {
      enqueuedTotal,
      enqueuedForIndex,
      indexPrimaryKey: task.indexUid === null ? null : (this.indexes.get(task.indexUid)?.primaryKey ?? null),
      taskPrimaryKey: typeof pk === 'string' ? pk : null,
    });
  }

  /** Deletes finished tasks; a batch goes with its last task, else its stored copy moves to a remaining task. */
  private async forgetTasks(uids: number[]): Promise<void> {
    const affected = new Set<number>();
    for (const uid of uids) {
      const t = this.tasks.get(uid);
      if (t?.batchUid !== null && t?.batchUid !== undefined) affected.add(t.batchUid);
      this.tasks.delete(uid);
    }
    await this.store?.deleteTasks(uids);
    if (affected.size === 0) return;
    const members = this.batchMembers();
    for (const uid of affected) {
      const left = members.get(uid);
      const record = this.batches.get(uid);
      if (left === undefined) {
        this.batches.delete(uid);
        this.topBatchUid = null;
      } else if (record !== undefined && !left.some((t) => t.batch !== undefined)) {
        left[0]!.batch = record;
        await this.store?.saveTask(left[0]!);
      }
    }
  }

  private batchMembers(): Map<number, TaskRecord[]> {
    const out = new Map<number, TaskRecord[]>();
    for (const t of this.tasks.values()) {
      if (t.batchUid === null) continue;
      const list = out.get(t.batchUid);
      if (list === undefined) out.set(t.batchUid, [t]);
      else list.push(t);
    }
    return out;
  }

  private index(uid: string): IndexEngineApi {
    const idx = this.indexes.get(uid);
    if (idx === undefined) throw indexNotFound(uid);
    return idx;
  }

  private async persistIndex(
    idx: IndexEngineApi,
    changes: { upserted: []; deleted: [] } | Parameters<DevNodeStore['saveIndex']>[1],
  ): Promise<void> {
    await this.store?.saveIndex(idx, changes);
  }

  private async createIndex(uid: string, primaryKey: string | null): Promise<IndexEngineApi> {
    const idx = createIndexEngine(uid, primaryKey, now(), this.ctx);
    this.indexes.set(uid, idx);
    await this.persistIndex(idx, null);
    return idx;
  }

  private async run(task: TaskRecord): Promise<void> {
    const input = membersOf(task.input);
    const uid = task.indexUid!;
    const d = task.details ?? {};
    switch (task.type) {
      case 'indexCreation': {
        if (this.indexes.has(uid)) throw new MeiliError('index_already_exists', `Index \`${uid}\` already exists.`);
        await this.createIndex(uid, stringOf(input.primaryKey) ?? null);
        return;
      }
      case 'indexUpdate': {
        const idx = this.index(uid);
        if (typeof input.primaryKey === 'string') idx.setPrimaryKey(input.primaryKey);
        if (typeof input.newUid === 'string' && input.newUid !== uid) {
          if (this.indexes.has(input.newUid))
            throw new MeiliError('index_already_exists', `Index \`${input.newUid}\` already exists.`);
          this.indexes.delete(uid);
          idx.rename(input.newUid);
          this.indexes.set(input.newUid, idx);
          await this.store?.rewriteIndex(uid, idx);
        } else await this.persistIndex(idx, null);
        return;
      }
      case 'indexDeletion': {
        const idx = this.index(uid);
        d.deletedDocuments = idx.numberOfDocuments();
        this.indexes.delete(uid);
        await this.store?.deleteIndex(uid);
        return;
      }
      case 'indexSwap': {
        const swaps = input.swaps as IndexSwap[];
        const conflict = swapConflict(swaps, (u) => this.indexes.has(u));
        if (conflict !== null) throw conflict;
        for (const s of swaps) {
          const [a, b] = s.indexes;
          const ia = this.index(a);
          if (s.rename) {
            this.indexes.delete(a);
            ia.rename(b);
            this.indexes.set(b, ia);
            await this.store?.rewriteIndex(a, ia);
          } else {
            const ib = this.index(b);
            ia.rename(b);
            ib.rename(a);
            this.indexes.set(a, ib);
            this.indexes.set(b, ia);
            await this.store?.rewriteIndex(a, ib);
            await this.store?.rewriteIndex(b, ia);
          }
        }
        // Like Meilisearch, the tasks of swapped indexes follow them (their indexUid is swapped too).
        for (const s of swaps) {
          const [a, b] = s.indexes;
          const follow = (u: string): string => (u === a ? b : u === b && !s.rename ? a : u);
          for (const t of this.tasks.values()) {
            if (t.uid === task.uid) continue;
            let changed = false;
            if (t.indexUid !== null && follow(t.indexUid) !== t.indexUid) {
              t.indexUid = follow(t.indexUid);
              changed = true;
            }
            // Earlier swaps name the indexes too.
            const earlier =
              t.type === 'indexSwap' ? (t.details?.swaps as Array<{ indexes: string[] }> | undefined) : undefined;
            for (const e of earlier ?? []) {
              const next = e.indexes.map(follow);
              if (next.some((u, i) => u !== e.indexes[i])) {
                e.indexes = next;
                changed = true;
              }
            }
            if (changed) await this.store?.saveTask(t);
          }
        }
        return;
      }
      case 'documentAdditionOrUpdate': {
        // Like Meilisearch, the index is created even with skipCreation (which only skips documents that do not exist).
        const idx = this.indexes.get(uid) ?? (await this.createIndex(uid, null));
        const res = idx.addDocuments(Array.isArray(input.documents) ? input.documents : [], {
          primaryKey: stringOf(input.primaryKey) ?? null,
          merge: input.merge === true,
          skipCreation: input.skipCreation === true,
        });
        d.indexedDocuments = res.indexedDocuments;
        await this.persistIndex(idx, res);
        return;
      }
      case 'documentDeletion': {
        const idx = this.index(uid);
        let res;
        if (input.mode === 'ids') res = idx.deleteDocuments(stringsOf(input.ids) ?? []);
        else if (input.mode === 'filter') res = idx.deleteByFilter(input.filter);
        else res = idx.clearDocuments();
        d.deletedDocuments = res.deletedDocuments;
        await this.persistIndex(idx, res);
        return;
      }
      case 'settingsUpdate': {
        // A reset (DELETE /settings or a sub-route) never creates the index: it fails on a missing one.
        if (input.deletion === true && !this.indexes.has(uid)) throw indexNotFound(uid);
        const idx = this.indexes.get(uid) ?? (await this.createIndex(uid, null));
        if (input.reset === true) idx.resetSettings();
        else idx.updateSettings(validateSettings(input.patch, null, idx.getSettings(), ALL_FEATURES));
        await this.persistIndex(idx, null);
        return;
      }
      case 'taskCancelation': {
        // The tasks matched when it was enqueued; the enqueued ones among them join its batch, canceled.
        let canceled = 0;
        for (const uid of this.matchedAtEnqueue(input)) {
          const t = this.tasks.get(uid);
          if (t === undefined || t.status !== 'enqueued') continue;
          Object.assign(t, { status: 'canceled', canceledBy: task.uid, details: failedDetails(t.type, t.details) });
          delete t.input;
          this.running?.tasks.push(t);
          canceled++;
        }
        d.canceledTasks = canceled;
        return;
      }
      case 'dumpCreation':
        d.dumpUid = await this.dumps.create(task);
        return;
      case 'taskDeletion': {
        const doomed = this.matchedAtEnqueue(input).filter((uid) => {
          const s = this.tasks.get(uid)?.status;
          return s === 'succeeded' || s === 'failed' || s === 'canceled';
        });
        await this.forgetTasks(doomed);
        d.deletedTasks = doomed.length;
        return;
      }
    }
    throw new MeiliError('internal', `unknown task type ${task.type}`);
  }

  // ------------------------------------------------------------------ routes

  private routes(): Array<RouteSpec<AuthResult>> {
    const defs: RouteDef[] = [];
    const r = (
      method: HttpMethod,
      path: string,
      handler: Handler,
      opts: { body?: 'none' | 'json' | 'raw'; write?: boolean; tenant?: boolean; auth?: RouteAuth } = {},
    ) => {
      defs.push({
        method,
        path,
        handler,
        body: opts.body ?? (method === 'GET' || method === 'DELETE' ? 'none' : 'json'),
        write: opts.write,
        tenant: opts.tenant,
        auth: opts.auth ?? routeAuth(method, path),
      });
    };
    r('GET', '/health', () => json(200, { status: 'available' }), { auth: PUBLIC_ROUTE });
    r('GET', '/version', () =>
      json(200, { commitSha: 'miroir-devnode', commitDate: '2026-01-01T00:00:00Z', pkgVersion: '1.50.0' }),
    );
    r('GET', '/stats', (ctx) => this.globalStats(ctx.auth!));
    r('GET', '/indexes/:uid/stats', (ctx) => json(200, this.index(checkIndexUid(ctx.params.uid!)).stats()));
    r('GET', '/indexes', (ctx) => this.listIndexes(ctx));
    r('POST', '/indexes', (ctx) => this.postIndex(ctx), { write: true });
    r('GET', '/indexes/:uid', (ctx) => json(200, this.indexView(this.index(checkIndexUid(ctx.params.uid!)))));
    r('PATCH', '/indexes/:uid', (ctx) => this.patchIndex(ctx), { write: true });
    r(
      'DELETE',
      '/indexes/:uid',
      (ctx) => this.enqueue('indexDeletion', checkIndexUid(ctx.params.uid!), { deletedDocuments: null }, {}),
      { write: true },
    );
    r('POST', '/swap-indexes', (ctx) => this.swapIndexes(ctx), { write: true });
    r('POST', '/indexes/:uid/search', (ctx) => this.search(ctx, parseSearchQuery(ctx.json, 'json')), { tenant: true });
    r(
      'GET',
      '/indexes/:uid/search',
      (ctx) => this.search(ctx, parseSearchQuery(Object.fromEntries(ctx.query), 'query')),
      { tenant: true },
    );
    r('POST', '/indexes/:uid/facet-search', (ctx) => this.facetSearch(ctx), { tenant: true });
    r('POST', '/multi-search', (ctx) => this.multiSearch(ctx), { tenant: true });
    r('POST', '/indexes/:uid/documents', (ctx) => this.addDocuments(ctx, false), { body: 'raw', write: true });
    r('PUT', '/indexes/:uid/documents', (ctx) => this.addDocuments(ctx, true), { body: 'raw', write: true });
    // Parameters are checked before the index is looked up (a bad parameter is a 400 even on a missing index).
    r('GET', '/indexes/:uid/documents', (ctx) => {
      const uid = checkIndexUid(ctx.params.uid!);
      const query = parseDocumentsQuery(Object.fromEntries(ctx.query), 'query');
      return json(200, this.index(uid).fetchDocuments(query));
    });
    r('POST', '/indexes/:uid/documents/fetch', (ctx) => {
      const uid = checkIndexUid(ctx.params.uid!);
      const query = parseDocumentsQuery(ctx.json, 'json');
      return json(200, this.index(uid).fetchDocuments(query));
    });
    r('GET', '/indexes/:uid/documents/:id', (ctx) => this.getDocument(ctx));
    r(
      'DELETE',
      '/indexes/:uid/documents/:id',
      (ctx) =>
        this.enqueue(
          'documentDeletion',
          checkIndexUid(ctx.params.uid!),
          { providedIds: 1, deletedDocuments: null, originalFilter: null },
          { mode: 'ids', ids: [ctx.params.id] },
          ctx.query.get('customMetadata'),
        ),
      { write: true },
    );
    r('POST', '/indexes/:uid/documents/delete-batch', (ctx) => this.deleteBatch(ctx), { write: true });
    r('POST', '/indexes/:uid/documents/delete', (ctx) => this.deleteByFilter(ctx), { write: true });
    r(
      'DELETE',
      '/indexes/:uid/documents',
      (ctx) =>
        this.enqueue(
          'documentDeletion',
          checkIndexUid(ctx.params.uid!),
          { deletedDocuments: null },
          { mode: 'all' },
          ctx.query.get('customMetadata'),
        ),
      { write: true },
    );
    r('GET', '/indexes/:uid/settings', (ctx) =>
      json(200, settingsView(this.index(checkIndexUid(ctx.params.uid!)).getSettings(), this.ctx.experimentalFeatures)),
    );
    r('PATCH', '/indexes/:uid/settings', (ctx) => this.updateSettings(ctx, null), { write: true });
    r(
      'DELETE',
      '/indexes/:uid/settings',
      (ctx) =>
        this.enqueue('settingsUpdate', checkIndexUid(ctx.params.uid!), resetAllDetails(), {
          reset: true,
          deletion: true,
        }),
      { write: true },
    );
    r('GET', '/indexes/:uid/settings/:setting', (ctx) => this.getSetting(ctx));
    r('PUT', '/indexes/:uid/settings/:setting', (ctx) => this.updateSettings(ctx, 'PUT'), { write: true });
    r('PATCH', '/indexes/:uid/settings/:setting', (ctx) => this.updateSettings(ctx, 'PATCH'), { write: true });
    r('DELETE', '/indexes/:uid/settings/:setting', (ctx) => this.resetSetting(ctx), { write: true });
    r('GET', '/tasks', (ctx) => {
      // Meilisearch's parameter errors from the shared parser; dates then matched at nanosecond precision.
      parseTasksQuery(ctx.query);
      const { rest, dates } = splitDateFilters(ctx.query);
      return json(
        200,
        pageTasks(
          [...this.tasks.values()].filter((t) => matchesDates(t, dates)),
          rest,
          this.taskVisible(ctx.auth!),
        ),
      );
    });
    r('GET', '/tasks/:taskUid', (ctx) => this.getTask(ctx));
    r('POST', '/tasks/cancel', (ctx) => this.taskFilterWrite(ctx, 'taskCancelation'), { body: 'none', write: true });
    r('DELETE', '/tasks', (ctx) => this.taskFilterWrite(ctx, 'taskDeletion'), { write: true });
    r('GET', '/batches', (ctx) => this.listBatches(ctx));
    r('GET', '/batches/:batchUid', (ctx) => this.getBatch(ctx));
    r('GET', '/keys', (ctx) => json(200, this.keys.list(ctx.query)));
    r('POST', '/keys', async (ctx) => json(201, await this.keys.create(ctx.json, new Date())));
    r('GET', '/keys/:key', (ctx) => json(200, this.keys.get(ctx.params.key!)));
    r('PATCH', '/keys/:key', async (ctx) => json(200, await this.keys.update(ctx.params.key!, ctx.json, new Date())));
    r('DELETE', '/keys/:key', async (ctx) => {
      await this.keys.delete(ctx.params.key!);
      return { status: 204 };
    });
    r('POST', '/dumps', () => this.enqueue('dumpCreation', null, { dumpUid: null }, this.dumps.taskInput()), {
      body: 'none',
      write: true,
    });
    r('GET', '/experimental-features', () => json(200, this.ctx.experimentalFeatures));
    r('PATCH', '/experimental-features', (ctx) => this.patchExperimental(ctx));
    r('GET', '/network', () => this.getNetwork());
    r('PATCH', '/network', (ctx) => this.patchNetwork(ctx));
    r('GET', '/_devnode/faults', () => json(200, this.faults), { auth: PUBLIC_ROUTE });
    r('POST', '/_devnode/faults', (ctx) => this.setFaults(ctx.json), { auth: PUBLIC_ROUTE });
    r('POST', '/_devnode/faults/reset', () => this.setFaults(null), { auth: PUBLIC_ROUTE, body: 'none' });
    r('GET', '/_devnode/requests', () => json(200, Object.fromEntries(this.requestCounts)), { auth: PUBLIC_ROUTE });
    return defs.map((def) => ({
      method: def.method,
      path: def.path,
      body: def.body,
      auth: def,
      handler: (ctx: RequestContext<AuthResult>) =>
        def.path.startsWith('/_devnode/') ? def.handler(ctx) : this.withFaults(def, ctx, () => def.handler(ctx)),
    }));
  }

  /** The faults of a node started without any (the start-up delay aside). */
  private noFaults(): Faults {
    return {
      delay_ms: this.baseDelay,
      delay_probability: 1,
      error_rate: 0,
      hang: false,
      fail_after_enqueue: 0,
      fail_requests: 0,
      task_delay_ms: 0,
    };
  }

  private setFaults(body: unknown): Reply {
    if (body === null) {
      this.faults = this.noFaults();
      return json(200, this.faults);
    }
    if (typeof body !== 'object' || Array.isArray(body))
      throw new MeiliError('bad_request', 'Expected an object of faults.');
    const next = { ...this.faults };
    for (const [k, v] of Object.entries(body as Record<string, unknown>)) {
      if (k === 'delay_ms' && typeof v === 'number' && v >= 0) next.delay_ms = v;
      else if (k === 'delay_probability' && typeof v === 'number' && v >= 0 && v <= 1) next.delay_probability = v;
      else if (k === 'error_rate' && typeof v === 'number' && v >= 0 && v <= 1) next.error_rate = v;
      else if (k === 'hang' && typeof v === 'boolean') next.hang = v;
      else if (k === 'fail_requests' && typeof v === 'number' && Number.isInteger(v) && v >= 0) next.fail_requests = v;
      else if (k === 'task_delay_ms' && typeof v === 'number' && v >= 0) next.task_delay_ms = v;
      else if (
        k === 'fail_after_enqueue' &&
        (typeof v === 'boolean' || (typeof v === 'number' && Number.isInteger(v) && v >= 0))
      )
        next.fail_after_enqueue = v;
      else throw new MeiliError('bad_request', `Invalid fault \`${k}\`: ${JSON.stringify(v)}.`);
    }
    this.faults = next;
    return json(200, this.faults);
  }

  private indexView(idx: IndexEngineApi): Record<string, unknown> {
    return { uid: idx.uid, createdAt: idx.createdAt, updatedAt: idx.updatedAt, primaryKey: idx.primaryKey };
  }

  private listIndexes(ctx: RequestContext<AuthResult>): Reply {
    const offset = uintQueryParam(ctx.query, 'offset', 0, 'invalid_index_offset');
    const limit = uintQueryParam(ctx.query, 'limit', 20, 'invalid_index_limit');
    for (const k of ctx.query.keys())
      if (k !== 'offset' && k !== 'limit')
        throw new MeiliError('bad_request', `Unknown parameter \`${k}\`: expected one of \`offset\`, \`limit\``);
    const all = [...this.indexes.values()]
      .filter((i) => authAllowsIndex(ctx.auth!, i.uid))
      .sort((a, b) => (a.uid < b.uid ? -1 : 1));
    return json(200, {
      results: all.slice(offset, offset + limit).map((i) => this.indexView(i)),
      offset,
      limit,
      total: all.length,
    });
  }

  private postIndex(ctx: RequestContext<AuthResult>): Promise<Reply> {
    const { uid, primaryKey } = validateCreateIndex(ctx.json);
    requireIndexes(ctx.auth!, [uid]);
    return this.enqueue('indexCreation', uid, { primaryKey }, { primaryKey });
  }

  private patchIndex(ctx: RequestContext<AuthResult>): Promise<Reply> {
    const uid = checkIndexUid(ctx.params.uid!);
    const b = validateUpdateIndex(ctx.json);
    if (b.uid !== undefined) requireIndexes(ctx.auth!, [b.uid]);
    const details: Record<string, unknown> = { primaryKey: b.primaryKey ?? null };
    if (b.uid !== undefined) {
      details.oldIndexUid = uid;
      details.newIndexUid = b.uid;
    }
    return this.enqueue('indexUpdate', uid, details, { primaryKey: b.primaryKey ?? null, newUid: b.uid ?? null });
  }

  private swapIndexes(ctx: RequestContext<AuthResult>): Promise<Reply> {
    const swaps = validateSwap(ctx.json);
    requireIndexes(
      ctx.auth!,
      swaps.flatMap((s) => s.indexes),
    );
    return this.enqueue('indexSwap', null, { swaps }, { swaps });
  }

  private globalStats(auth: AuthResult): Reply {
    const indexes: Record<string, unknown> = {};
    let size = 0;
    for (const idx of [...this.indexes.values()].sort((a, b) => (a.uid < b.uid ? -1 : 1))) {
      if (!authAllowsIndex(auth, idx.uid)) continue;
      const s = idx.stats();
      size += s.rawDocumentDbSize;
      indexes[idx.uid] = s;
    }
    return json(200, { databaseSize: size, usedDatabaseSize: size, lastUpdate: this.lastUpdate, indexes });
  }

  private search(ctx: RequestContext<AuthResult>, query: SearchQuery): Reply {
    const uid = checkIndexUid(ctx.params.uid!);
    const idx = this.index(uid);
    const extra = tenantFilter(ctx.auth!, uid);
    if (extra !== null) query.filter = andFilters(query.filter, extra);
    return json(200, idx.search(query));
  }

  private facetSearch(ctx: RequestContext<AuthResult>): Reply {
    const uid = checkIndexUid(ctx.params.uid!);
    const idx = this.index(uid);
    const query = parseFacetSearchQuery(ctx.json ?? {});
    const extra = tenantFilter(ctx.auth!, uid);
    if (extra !== null) query.filter = andFilters(query.filter, extra);
    return json(200, idx.facetSearch(query));
  }

  /** Like Meilisearch, a query's missing index fails the multi-search with 400 (index_not_found). */
  private multiSearch(ctx: RequestContext<AuthResult>): Reply {
    try {
      return this.multiSearchOrThrow(ctx);
    } catch (err) {
      if (err instanceof MeiliError && err.code === 'index_not_found') return { status: 400, body: err.toJSON() };
      throw err;
    }
  }

  private multiSearchOrThrow(ctx: RequestContext<AuthResult>): Reply {
    const parsed = parseMultiSearch(ctx.json);
    const entries = parsed.queries.map((q, i) => {
      const prefix = `Inside \`.queries[${i}]\`: `;
      if (!authAllowsIndex(ctx.auth!, q.indexUid))
        throw new MeiliError('invalid_api_key', `${prefix}The provided API key is invalid.`);
      const idx = this.indexes.get(q.indexUid);
      if (idx === undefined) throw new MeiliError('index_not_found', `${prefix}Index \`${q.indexUid}\` not found.`);
      const extra = tenantFilter(ctx.auth!, q.indexUid);
      if (extra !== null) q.query.filter = andFilters(q.query.filter, extra);
      return { idx, q, i, prefix };
    });
    if (parsed.federation !== null) {
      try {
        return json(
          200,
          federatedSearch(
            entries.map((e) => ({
              index: e.idx,
              query: e.q.query,
              weight: e.q.federationOptions?.weight ?? 1,
              queryPosition: e.i,
            })),
            parsed.federation,
          ),
        );
      } catch (err) {
        throw internalError(err);
      }
    }
    const results = entries.map((e) => {
      try {
        return { indexUid: e.q.indexUid, ...e.idx.search(e.q.query) };
      } catch (err) {
        const m = internalError(err);
        throw new MeiliError(m.code, `${e.prefix}${m.message}`);
      }
    });
    return json(200, { results });
  }

  private getDocument(ctx: RequestContext<AuthResult>): Reply {
    const uid = checkIndexUid(ctx.params.uid!);
    for (const k of ctx.query.keys())
      if (k !== 'fields' && k !== 'retrieveVectors')
        throw new MeiliError(
          'bad_request',
          `Unknown parameter \`${k}\`: expected one of \`fields\`, \`retrieveVectors\``,
        );
    const fieldsRaw = ctx.query.get('fields');
    const fields =
      fieldsRaw === null
        ? null
        : fieldsRaw
            .split(',')
            .map((s) => s.trim())
            .filter(Boolean);
    const rv = ctx.query.get('retrieveVectors');
    if (rv !== null && rv !== 'true' && rv !== 'false') {
      throw new MeiliError(
        'invalid_document_retrieve_vectors',
        `Invalid value in parameter \`retrieveVectors\`: could not parse \`${rv}\` as a boolean, expected either \`true\` or \`false\``,
      );
    }
    return json(200, this.index(uid).getDocument(ctx.params.id!, fields, rv === 'true'));
  }

  private addDocuments(ctx: RequestContext<AuthResult>, merge: boolean): Promise<Reply> {
    const uid = checkIndexUid(ctx.params.uid!);
    for (const k of ctx.query.keys()) {
      if (!['primaryKey', 'csvDelimiter', 'customMetadata', 'skipCreation'].includes(k)) {
        throw new MeiliError(
          'bad_request',
          `Unknown parameter \`${k}\`: expected one of \`primaryKey\`, \`csvDelimiter\`, \`customMetadata\`, \`skipCreation\``,
        );
      }
    }
    // Query parameters first, then the content type, then the payload (Meilisearch's order of checks).
    const delimiterRaw = ctx.query.get('csvDelimiter');
    const delimiter = csvDelimiter(delimiterRaw);
    const skipCreation = parseSkipCreation(ctx.query.get('skipCreation'));
    const format = writeFormat(ctx.req.headers['content-type'], delimiterRaw);
    const docs = parseDocuments(ctx.rawBody ?? Buffer.alloc(0), format, delimiter);
    const pk = ctx.query.get('primaryKey');
    return this.enqueue(
      'documentAdditionOrUpdate',
      uid,
      { receivedDocuments: docs.length, indexedDocuments: null },
      { documents: docs, primaryKey: pk, merge, skipCreation },
      ctx.query.get('customMetadata'),
    );
  }

  private deleteBatch(ctx: RequestContext<AuthResult>): Promise<Reply> {
    const uid = checkIndexUid(ctx.params.uid!);
    const ids = parseDocumentIds(ctx.json);
    return this.enqueue(
      'documentDeletion',
      uid,
      { providedIds: ids.length, deletedDocuments: null, originalFilter: null },
      { mode: 'ids', ids },
      ctx.query.get('customMetadata'),
    );
  }

  private deleteByFilter(ctx: RequestContext<AuthResult>): Promise<Reply> {
    const uid = checkIndexUid(ctx.params.uid!);
    const filter = validateDeleteByFilter(ctx.json, {
      containsFilter: this.ctx.experimentalFeatures.containsFilter === true,
    });
    return this.enqueue(
      'documentDeletion',
      uid,
      { providedIds: 0, deletedDocuments: null, originalFilter: JSON.stringify(filter) },
      { mode: 'filter', filter },
      ctx.query.get('customMetadata'),
    );
  }

  private settingRoute(ctx: RequestContext<AuthResult>): { key: string; updateVerb: 'PUT' | 'PATCH' } {
    const spec = ALL_SETTINGS_ROUTES[ctx.params.setting!];
    if (spec === undefined) throw new MeiliError('bad_request', `Unknown settings route \`${ctx.params.setting}\``);
    return spec;
  }

  private getSetting(ctx: RequestContext<AuthResult>): Reply {
    const spec = ALL_SETTINGS_ROUTES[ctx.params.setting!];
    if (spec === undefined) return { status: 404 };
    return json(200, settingValue(this.index(checkIndexUid(ctx.params.uid!)).getSettings(), spec.key));
  }

  private updateSettings(ctx: RequestContext<AuthResult>, verb: 'PUT' | 'PATCH' | null): Promise<Reply> | Reply {
    const uid = checkIndexUid(ctx.params.uid!);
    const features = this.ctx.experimentalFeatures;
    let patch: Record<string, unknown>;
    if (verb === null) patch = validateSettings(ctx.json, null, this.indexes.get(uid)?.getSettings(), features);
    else {
      if (ALL_SETTINGS_ROUTES[ctx.params.setting!] === undefined) return { status: 404 };
      const spec = this.settingRoute(ctx);
      if (spec.updateVerb !== verb) return { status: 405, headers: { allow: `GET, ${spec.updateVerb}, DELETE` } };
      validateSettings(ctx.json, ctx.params.setting!, this.indexes.get(uid)?.getSettings(), features);
      patch = { [spec.key]: ctx.json };
    }
    return this.enqueue(
      'settingsUpdate',
      uid,
      structuredClone(verb === null ? (ctx.json as Record<string, unknown>) : patch),
      { patch: verb === null ? ctx.json : patch },
    );
  }

  private resetSetting(ctx: RequestContext<AuthResult>): Promise<Reply> | Reply {
    const uid = checkIndexUid(ctx.params.uid!);
    if (ALL_SETTINGS_ROUTES[ctx.params.setting!] === undefined) return { status: 404 };
    const spec = this.settingRoute(ctx);
    return this.enqueue('settingsUpdate', uid, { [spec.key]: null }, { patch: { [spec.key]: null }, deletion: true });
  }

  private taskVisible(auth: AuthResult): (t: MeiliTask) => boolean {
    return taskVisibility(authAllIndexes(auth), (uid) => authAllowsIndex(auth, uid));
  }

  private getTask(ctx: RequestContext<AuthResult>): Reply {
    const uid = parseTaskUid(ctx.params.taskUid!);
    const t = this.tasks.get(uid);
    if (t === undefined || !this.taskVisible(ctx.auth!)(t)) throw taskNotFound(uid);
    return json(200, taskView(t));
  }

  /** `POST /tasks/cancel` / `DELETE /tasks`: the tasks matched now (as the caller may see them) are the ones acted on. */
  private taskFilterWrite(ctx: RequestContext<AuthResult>, type: 'taskCancelation' | 'taskDeletion'): Promise<Reply> {
    const filter = parseCancelOrDeleteFilter(ctx.query, type === 'taskCancelation' ? 'cancel' : 'delete');
    const visible = this.taskVisible(ctx.auth!);
    const uids: number[] = [];
    const matching = this.exactTaskMatcher(ctx.query, filter);
    for (const t of this.tasks.values()) if (visible(t) && matching(t)) uids.push(t.uid);
    const originalFilter = `?${rawQueryOf(ctx.req.url)}`;
    const details =
      type === 'taskCancelation'
        ? { matchedTasks: uids.length, canceledTasks: null, originalFilter }
        : { matchedTasks: uids.length, deletedTasks: null, originalFilter };
    // Meilisearch answers these two with 200, not 202 (a FIXME in its route code): the body is the summarized task.
    return this.enqueue(type, null, details, { uids }).then((reply) => ({ ...reply, status: 200 }));
  }

  /** The shared task filter with its date bounds compared at nanosecond precision (task-dates.ts), not in ms. */
  private exactTaskMatcher(params: URLSearchParams, filter: TaskFilter): (t: MeiliTask) => boolean {
    const { dates } = splitDateFilters(params);
    const rest: TaskFilter = { ...filter, dates: [] };
    return (t) => matches(t, rest) && matchesDates(t, dates);
  }

  private matchedAtEnqueue(input: Record<string, unknown>): number[] {
    return Array.isArray(input.uids) ? input.uids.filter((u): u is number => typeof u === 'number') : [];
  }

  private runningBatch(): BatchRecord | null {
    const r = this.running;
    return r === null
      ? null
      : summarizeBatch({
          uid: r.uid,
          tasks: r.tasks,
          startedAt: r.startedAt,
          finishedAt: null,
          batchStrategy: r.strategy,
        });
  }

  private batchVisible(auth: AuthResult): (b: BatchRecord, tasks: readonly MeiliTask[]) => boolean {
    return batchVisibility(authAllIndexes(auth), (uid) => authAllowsIndex(auth, uid));
  }

  private listBatches(ctx: RequestContext<AuthResult>): Reply {
    const members = this.batchMembers();
    const all = [...this.batches.values()];
    const current = this.runningBatch();
    if (current !== null) all.push(current);
    return json(
      200,
      pageBatches(all, ctx.query, (b) => members.get(b.uid) ?? [], this.batchVisible(ctx.auth!)),
    );
  }

  private getBatch(ctx: RequestContext<AuthResult>): Reply {
    const uid = parseBatchUid(ctx.params.batchUid!);
    const b = this.batches.get(uid) ?? (this.running?.uid === uid ? this.runningBatch() : null);
    if (b === null || !this.batchVisible(ctx.auth!)(b, this.batchMembers().get(uid) ?? [])) throw batchNotFound(uid);
    return json(200, batchView(b));
  }

  private async patchExperimental(ctx: RequestContext<AuthResult>): Promise<Reply> {
    const body = ctx.json;
    if (!isObject(body))
      throw new MeiliError('bad_request', `Invalid value type: expected an object, but found ${JSON.stringify(body)}`);
    const next = { ...this.ctx.experimentalFeatures };
    for (const [k, v] of Object.entries(body)) {
      if (!(k in EXPERIMENTAL_DEFAULTS))
        throw new MeiliError(
          'bad_request',
          `Unknown field \`${k}\`: expected one of ${Object.keys(EXPERIMENTAL_DEFAULTS)
            .map((x) => `\`${x}\``)
            .join(', ')}`,
        );
      if (v !== null && typeof v !== 'boolean')
        throw new MeiliError(
          'bad_request',
          `Invalid value type at \`.${k}\`: expected a boolean, but found ${JSON.stringify(v)}`,
        );
      next[k] = v;
    }
    Object.assign(this.ctx.experimentalFeatures, next);
    await this.store?.putMisc('experimental', this.ctx.experimentalFeatures);
    return json(200, this.ctx.experimentalFeatures);
  }

  private requireNetwork(): void {
    if (this.ctx.experimentalFeatures.network !== true) {
      throw new MeiliError(
        'feature_not_enabled',
        'Using the /network route requires enabling the `network` experimental feature. See https://github.com/orgs/meilisearch/discussions/805',
      );
    }
  }

  private getNetwork(): Reply {
    this.requireNetwork();
    return json(200, this.network);
  }

  private async patchNetwork(ctx: RequestContext<AuthResult>): Promise<Reply> {
    this.requireNetwork();
    const body = ctx.json;
    if (!isObject(body)) throw new MeiliError('bad_request', 'Invalid value type: expected an object');
    for (const [k, v] of Object.entries(body)) {
      if (!['self', 'leader', 'remotes', 'shards'].includes(k))
        throw new MeiliError(
          'bad_request',
          `Unknown field \`${k}\`: expected one of \`self\`, \`leader\`, \`remotes\`, \`shards\``,
        );
      this.network[k] = v;
    }
    this.network.version = randomUUID();
    await this.store?.putMisc('network', this.network);
    return json(200, this.network);
  }
}
