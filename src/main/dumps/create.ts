// Dump creation on Miroir (Round 2 "Dumps"): `POST /dumps` answers Meilisearch's 202 with a `dumpCreation` task;
// once every earlier task of every index is final, a merged logical dump is written as `{dumpUid}.dump` under
// `dumps.dir` with the shared v6 writer (src/dump): the key registry (uids kept), each index's metadata and logical
// settings, its documents read over a covering set page by page (never all in memory, `_miroir_shard` and
// `_miroir_version` left out) and the finished tasks. A single Meilisearch (or dev node) imports it as it is.
import { createWriteStream } from 'node:fs';
import { mkdir, rename, rm } from 'node:fs/promises';
import { join } from 'node:path';
import type { KeyRegistry } from '../../core/auth/registry.js';
import { MeiliError, internalError } from '../../core/errors.js';
import { RESERVED_FIELDS } from '../../core/reserved.js';
import { settingsView, type SettingsFeatures } from '../../core/settings.js';
import { membersOf, numberOf } from '../../core/types.js';
import { DumpWriter, freeDumpUid, taskToDump, type Document, type TaskEntry } from '../../dump/index.js';
import type { Reply } from '../../http/server.js';
import { isFinished, type Job, type Store, type TaskRow } from '../../store/store.js';
import { fetchDocumentPage } from '../cluster/document-pages.js';
import type { ScatterDeps } from '../cluster/scatter.js';
import type { MiroirConfig } from '../config/schema.js';
import type { Logger } from '../observability/logger.js';
import type { IndexStateService, IndexView } from '../state/index-state.js';
import { acceptedReply, meiliTask, type TaskRegistry } from '../tasks/registry.js';
import { every, type Periodic } from '../util/periodic.js';

/** Documents read per covering-set page. */
const PAGE = 1000;

export interface DumpCreationDeps {
  config: MiroirConfig['dumps'];
  store: Store;
  tasks: TaskRegistry;
  state: IndexStateService;
  keys: KeyRegistry;
  scatter: ScatterDeps;
  facetingOverfetch: number;
  features: () => Promise<SettingsFeatures>;
  logger?: Logger | null;
}

/** A node's document without Miroir's reserved fields. */
function logical(doc: Record<string, unknown>): Document {
  const out: Document = {};
  for (const [k, v] of Object.entries(doc)) if (!RESERVED_FIELDS.includes(k)) out[k] = v;
  return out;
}

export const DUMP_CREATION_JOB = 'dump_creation';
const LEASE_MS = 30_000;
const HEARTBEAT_MS = 10_000;
const CLAIM_EVERY_MS = 5_000;

/**
 * Each dump is a Mode C job (`dump_creation`, no cursor): a pod that dies while writing one leaves the job to the
 * next claim (at once when it restarts under the same pod id), which writes the dump again from the start.
 */
export class DumpCreations {
  private podId = '';
  private loop: Periodic | null = null;
  private claiming = false;
  private stopped = false;
  private readonly running = new Map<string, Promise<void>>();

  constructor(private readonly d: DumpCreationDeps) {}

  async request(): Promise<Reply> {
    const uid = await this.d.tasks.allocate([]);
    const task = await this.d.tasks.create({
      uid,
      type: 'dumpCreation',
      indexUid: null,
      queues: [],
      details: { dumpUid: null },
    });
    await this.d.store.enqueueJob({
      id: `${DUMP_CREATION_JOB}:${uid}`,
      type: DUMP_CREATION_JOB,
      payload: { taskUid: uid },
    });
    void this.tick().catch((err: unknown) => this.d.logger?.warn({ err }, 'dump creation claim failed'));
    return acceptedReply(task);
  }

  start(podId: string): void {
    this.podId = podId;
    this.loop = every(CLAIM_EVERY_MS, () => this.tick(), {
      firstAfterMs: 0,
      onError: (err) => this.d.logger?.warn({ err }, 'dump creation claim failed'),
    });
  }

  async stop(): Promise<void> {
    this.stopped = true;
    await this.loop?.stop();
    await Promise.allSettled(this.running.values());
  }

  private async tick(): Promise<void> {
    if (this.claiming || this.stopped || this.podId === '') return;
    this.claiming = true;
    const { store } = this.d;
    try {
      for (const j of await store.listJobs()) {
        if (j.type !== DUMP_CREATION_JOB || j.state !== 'in_progress' || j.owner !== this.podId) continue;
        if (!this.running.has(j.id) && (await store.heartbeatJob(j.id, this.podId, LEASE_MS))) this.runJob(j);
      }
      while (this.running.size === 0 && !this.stopped) {
        const job = await store.claimJob(this.podId, LEASE_MS, [DUMP_CREATION_JOB]);
        if (job === null) break;
        this.runJob(job);
      }
    } finally {
      this.claiming = false;
    }
  }

  private runJob(job: Job): void {
    const p = this.execute(job)
      .catch((err: unknown) => this.d.logger?.error({ err, job: job.id }, 'dump creation failed'))
      .finally(() => this.running.delete(job.id));
    this.running.set(job.id, p);
  }

  private async execute(job: Job): Promise<void> {
    const { store } = this.d;
    const uid = numberOf(membersOf(job.payload).taskUid);
    const task = uid === undefined ? null : await store.getTask(uid);
    if (task === null || isFinished(task)) {
      await store.completeJob(job.id, this.podId);
      return;
    }
    const beat = every(HEARTBEAT_MS, () => store.heartbeatJob(job.id, this.podId, LEASE_MS), {
      onError: (err) => this.d.logger?.warn({ err }, 'dump creation heartbeat failed'),
    });
    try {
      await this.run(task);
    } finally {
      await beat.stop();
    }
    await store.completeJob(job.id, this.podId);
  }

  /** Waits until no task older than `uid` is still waiting in any index's queue (the dump includes them). */
  private async earlierTasksDone(uid: number): Promise<void> {
    for (const idx of await this.d.state.list()) {
      for (let delay = 10; (await this.d.tasks.queued(idx.uid)).some((u) => u < uid); delay = Math.min(delay * 2, 500))
        await new Promise((r) => setTimeout(r, delay));
    }
  }

  private async run(task: TaskRow): Promise<void> {
    const { store } = this.d;
    await this.earlierTasksDone(task.uid);
    const startedAt = new Date();
    let row: TaskRow = { ...task, status: 'processing', startedAt: startedAt.toISOString() };
    await store.putTask(row);
    const dir = this.d.config.dir;
    let writer: DumpWriter | null = null;
    let partial: string | null = null;
    try {
      await mkdir(dir, { recursive: true });
      const dumpUid = await freeDumpUid(dir, startedAt);
      const final = join(dir, `${dumpUid}.dump`);
      partial = `${final}.partial`;
      const features = await this.d.features().catch(() => ({}));
      writer = await DumpWriter.create(createWriteStream(partial), { dumpDate: startedAt, tmpDir: dir });
      await writer.keys(this.d.keys.all());
      await writer.experimentalFeatures({ ...features });
      const indexes = (await this.d.state.list()).sort((a, b) => (a.uid < b.uid ? -1 : a.uid > b.uid ? 1 : 0));
      for (const idx of indexes)
        await writer.index(
          { uid: idx.uid, primaryKey: idx.primaryKey, createdAt: idx.createdAt, updatedAt: idx.updatedAt },
          settingsView(idx.settings, features),
          this.documents(idx),
        );
      const finishedAt = new Date().toISOString();
      await writer.tasks(this.finishedTasks({ ...row, status: 'succeeded', finishedAt, details: { dumpUid } }));
      await writer.finish();
      await rename(partial, final);
      row = { ...row, status: 'succeeded', finishedAt, details: { dumpUid } };
      await store.finishTask(row);
    } catch (err) {
      await writer?.abort(err instanceof Error ? err : new Error(String(err)));
      if (partial !== null) await rm(partial, { force: true });
      const error = err instanceof MeiliError ? err : internalError(err);
      await store.finishTask({
        ...row,
        status: 'failed',
        error: error.toJSON(),
        finishedAt: new Date().toISOString(),
        details: { dumpUid: null },
      });
    }
  }

  /** The index's documents over a covering set, one page at a time. */
  private async *documents(idx: IndexView): AsyncGenerator<Document> {
    if (idx.primaryKey === null) return;
    const faceting = idx.settings.faceting;
    const maxValues =
      typeof faceting === 'object' && faceting !== null && 'maxValuesPerFacet' in faceting
        ? (numberOf(faceting.maxValuesPerFacet) ?? 100)
        : 100;
    for (let offset = 0; ; offset += PAGE) {
      const page = await fetchDocumentPage(this.d.scatter, {
        uid: idx.uid,
        primaryKey: idx.primaryKey,
        query: {},
        offset,
        limit: PAGE,
        facetValues: maxValues * this.d.facetingOverfetch,
        distinct: idx.settings.distinctAttribute !== null && idx.settings.distinctAttribute !== undefined,
      });
      if (page.missing.length > 0)
        throw new MeiliError(
          'miroir_shard_unavailable',
          `The dump cannot be complete: no replica of shard(s) ${page.missing.join(', ')} of \`${idx.uid}\` answered.`,
        );
      for (const d of page.results) yield logical(d);
      if (page.results.length < PAGE) return;
    }
  }

  /** Finished tasks in uid order (this very one as succeeded, so an importing node does not run it again). */
  private async *finishedTasks(self: TaskRow): AsyncGenerator<TaskEntry> {
    for await (const t of this.d.store.scanTasks({ reverse: true })) {
      const row = t.uid === self.uid ? self : t;
      if (!isFinished(row)) continue;
      const dumped = taskToDump(meiliTask(row));
      if (dumped !== null) yield { task: dumped };
    }
  }
}
