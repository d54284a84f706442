// Streaming dump import (SPEC A9, Round 2 "Dumps"): `POST /_miroir/dumps/import` streams a Meilisearch v6 `.dump`
// (raw gzip body) into a spool file — never into memory — and answers 202 with one `miroirDumpImport` task. The import
// runs as a Mode C job (`dump_import`, claimable by any pod, heartbeat + cursor): keys first (their uids kept, so
// their values derive from uid + master key as in Meilisearch), then per index its creation and settings through the
// index operations (task order and index state rules hold), then its documents in batches of `batch_size` through
// the normal replicated write (routed by shard, `_miroir_*` fields injected), up to `parallel_target_writes` in
// flight and at most `memory_buffer_bytes` of batches held. The cursor (indexes done, the current index and the
// acknowledged document offset) is saved on every heartbeat and every `chunk_size_bytes`, so a pod that dies
// mid-import is resumed from it by the next claim. A malformed or truncated dump fails the task with the reader's
// `malformed_payload` message and deletes the indexes and keys it created, unless `?keep_partial=true`.
import { randomUUID } from 'node:crypto';
import { createWriteStream } from 'node:fs';
import { mkdir, rm, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { pipeline } from 'node:stream/promises';
import type { AuthResult } from '../../core/auth/authorize.js';
import type { KeyRegistry } from '../../core/auth/registry.js';
import { MeiliError, errorMessage, internalError, type ErrorBody } from '../../core/errors.js';
import type { SettingsFeatures } from '../../core/settings.js';
import { booleanOf, isObject, numberOf, stringOf, stringsOf } from '../../core/types.js';
import {
  invalidDump,
  readDumpFile,
  settingsPatch,
  type Document,
  type DocumentBatches,
  type DumpIndex,
} from '../../dump/index.js';
import type { Reply, RequestContext } from '../../http/server.js';
import { isFinished, type Job, type Store, type TaskRow } from '../../store/store.js';
import type { MiroirConfig } from '../config/schema.js';
import type { Logger } from '../observability/logger.js';
import type { IndexStateService } from '../state/index-state.js';
import type { IndexOperations } from '../state/index-ops.js';
import { acceptedReply, taskJson, type TaskRegistry } from '../tasks/registry.js';
import { every, type Periodic } from '../util/periodic.js';
import type { DocumentWrites } from '../writes/documents.js';
import { setPhase, type DumpMetrics, type ImportPhase } from './metrics.js';

export const DUMP_IMPORT_JOB = 'dump_import';
export const DUMP_IMPORT_TYPE = 'miroirDumpImport';

const LEASE_MS = 30_000;
const HEARTBEAT_MS = 10_000;
const CLAIM_EVERY_MS = 5_000;
/** Claims of a job whose spooled upload no pod had before its task fails with `dump_not_found`. */
const MAX_MISSING_ATTEMPTS = 20;

export interface DumpImportDeps {
  config: MiroirConfig['dump_import'];
  store: Store;
  tasks: TaskRegistry;
  ops: IndexOperations;
  writes: DocumentWrites;
  state: IndexStateService;
  keys: KeyRegistry;
  metrics: DumpMetrics;
  features: () => Promise<SettingsFeatures>;
  logger?: Logger | null;
}

interface ImportPayload {
  taskUid: number;
  file: string;
  bytes: number;
  keepPartial: boolean;
}

/** Where a resumed import starts again (saved with the job's heartbeats). */
interface ImportCursor {
  keysDone: boolean;
  /** Indexes whose documents were all acknowledged. */
  done: string[];
  /** The index whose documents are being sent, and how many of them (in dump order) were acknowledged. */
  index: string | null;
  offset: number;
  createdIndexes: string[];
  createdKeys: string[];
  /** Miroir tasks the import registered (creation, settings, document batches): all must succeed. */
  tasks: number[];
  /** Documents of the indexes in `done` (those of the current index are `offset`). */
  documents: number;
  keys: number;
}

function freshCursor(): ImportCursor {
  return {
    keysDone: false,
    done: [],
    index: null,
    offset: 0,
    createdIndexes: [],
    createdKeys: [],
    tasks: [],
    documents: 0,
    keys: 0,
  };
}

function payloadOf(v: unknown): ImportPayload | null {
  if (!isObject(v)) return null;
  const taskUid = numberOf(v.taskUid);
  const file = stringOf(v.file);
  if (taskUid === undefined || file === undefined) return null;
  return { taskUid, file, bytes: numberOf(v.bytes) ?? 0, keepPartial: booleanOf(v.keepPartial) ?? false };
}

function cursorOf(v: unknown): ImportCursor {
  const c = freshCursor();
  if (!isObject(v)) return c;
  const nums = (x: unknown) => (Array.isArray(x) ? x.filter((n): n is number => typeof n === 'number') : []);
  return {
    keysDone: booleanOf(v.keysDone) ?? false,
    done: stringsOf(v.done) ?? [],
    index: stringOf(v.index) ?? null,
    offset: numberOf(v.offset) ?? 0,
    createdIndexes: stringsOf(v.createdIndexes) ?? [],
    createdKeys: stringsOf(v.createdKeys) ?? [],
    tasks: nums(v.tasks),
    documents: numberOf(v.documents) ?? 0,
    keys: numberOf(v.keys) ?? 0,
  };
}

/** The job was taken over (its claim lapsed) or this pod is stopping: leave it to the next claim. */
class Interrupted extends Error {}

/** Admission of routed batches: at most `slots` in flight and `bytes` held (one batch always goes through). */
class Window {
  private inFlight = 0;
  private held = 0;
  private waiters: Array<() => void> = [];

  constructor(
    private readonly slots: number,
    private readonly bytes: number,
  ) {}

  async acquire(size: number): Promise<void> {
    while (this.inFlight > 0 && (this.inFlight >= this.slots || this.held + size > this.bytes))
      await new Promise<void>((r) => this.waiters.push(r));
    this.inFlight++;
    this.held += size;
  }

  release(size: number): void {
    this.inFlight--;
    this.held -= size;
    for (const w of this.waiters.splice(0)) w();
  }

  async idle(): Promise<void> {
    while (this.inFlight > 0) await new Promise<void>((r) => this.waiters.push(r));
  }
}

interface Progress {
  phase: ImportPhase;
  bytesRead: number;
  startedMs: number;
  documentsThisRun: number;
}

export class DumpImports {
  private podId = '';
  private loop: Periodic | null = null;
  private claiming = false;
  private stopped = false;
  private readonly running = new Map<string, Promise<void>>();
  /** Live progress of the imports this pod runs, by task uid. */
  private readonly live = new Map<number, { progress: Progress; cursor: ImportCursor }>();

  constructor(private readonly d: DumpImportDeps) {
    setPhase(d.metrics, 'idle');
  }

  start(podId: string): void {
    this.podId = podId;
    this.loop = every(CLAIM_EVERY_MS, () => this.tick(), {
      firstAfterMs: 0,
      onError: (err) => this.d.logger?.warn({ err }, 'dump import claim failed'),
    });
  }

  async stop(): Promise<void> {
    this.stopped = true;
    await this.loop?.stop();
    await Promise.allSettled(this.running.values());
  }

  // ---------------------------------------------------------------- POST /_miroir/dumps/import

  async upload(ctx: RequestContext<AuthResult>): Promise<Reply> {
    if (!this.d.config.enabled) {
      ctx.req.resume();
      throw new MeiliError(
        'miroir_not_supported',
        'Dump import is off: set `dump_import.enabled: true` in the config.',
      );
    }
    const type = (ctx.req.headers['content-type'] ?? '').split(';')[0]!.trim().toLowerCase();
    if (type !== '' && !['application/gzip', 'application/x-gzip', 'application/octet-stream'].includes(type)) {
      ctx.req.resume();
      throw new MeiliError(
        'invalid_content_type',
        `The Content-Type \`${type}\` is invalid. Accepted values for a dump are: \`application/gzip\`, \`application/octet-stream\``,
      );
    }
    const keepPartial = ctx.query.get('keep_partial') === 'true';
    const dir = this.d.config.spool_dir;
    await mkdir(dir, { recursive: true });
    const file = join(dir, `${randomUUID()}.dump`);
    setPhase(this.d.metrics, 'uploading');
    try {
      // Streamed to disk: memory holds one chunk at a time whatever the upload size.
      await pipeline(ctx.req, createWriteStream(file));
    } catch (err) {
      await rm(file, { force: true });
      throw invalidDump(`the upload did not complete (${errorMessage(err)}).`);
    } finally {
      if (this.live.size === 0) setPhase(this.d.metrics, 'idle');
    }
    const bytes = (await stat(file)).size;
    if (bytes === 0) {
      await rm(file, { force: true });
      throw new MeiliError('missing_payload', 'A dump payload is missing.');
    }
    const uid = await this.d.tasks.allocate([]);
    const task = await this.d.tasks.create({
      uid,
      type: DUMP_IMPORT_TYPE,
      indexUid: null,
      queues: [],
      details: detailsOf({ phase: 'enqueued', bytesTotal: bytes }, freshCursor(), 0),
    });
    const payload: ImportPayload = { taskUid: uid, file, bytes, keepPartial };
    await this.d.store.enqueueJob({ id: jobId(uid), type: DUMP_IMPORT_JOB, payload });
    void this.tick().catch((err: unknown) => this.d.logger?.warn({ err }, 'dump import claim failed'));
    return acceptedReply(task);
  }

  // ---------------------------------------------------------------- GET /_miroir/dumps/import/{taskUid}/status

  async status(taskUidText: string): Promise<Reply> {
    const uid = Number(taskUidText);
    const task = Number.isSafeInteger(uid) && uid >= 0 ? await this.d.store.getTask(uid) : null;
    if (task === null || task.type !== DUMP_IMPORT_TYPE)
      throw new MeiliError('task_not_found', `Task \`${taskUidText}\` not found.`);
    const job = await this.d.store.getJob(jobId(uid));
    const live = this.live.get(uid);
    const cursor = live?.cursor ?? cursorOf(job?.cursor);
    return {
      status: 200,
      body: {
        taskUid: uid,
        status: task.status,
        mode: this.d.config.mode,
        phase: live?.progress.phase ?? (isFinished(task) ? task.status : (stringOf(task.details?.phase) ?? 'enqueued')),
        details: task.details,
        error: task.error,
        cursor: { indexesDone: cursor.done, index: cursor.index, offset: cursor.offset },
        rateDocsPerSec: live === undefined ? 0 : rateOf(live.progress),
        job: job === null ? null : { state: job.state, owner: job.owner, attempts: job.attempts },
        task: taskJson(task),
      },
    };
  }

  // ---------------------------------------------------------------- Mode C

  async tick(): Promise<void> {
    if (this.claiming || this.stopped || this.podId === '') return;
    this.claiming = true;
    try {
      // A job this pod id held before a restart resumes at once (only a previous process under this id has it).
      for (const j of await this.d.store.listJobs()) {
        if (j.type !== DUMP_IMPORT_JOB || j.state !== 'in_progress' || j.owner !== this.podId) continue;
        if (this.running.has(j.id)) continue;
        if (await this.d.store.heartbeatJob(j.id, this.podId, LEASE_MS)) this.run(j);
      }
      while (this.running.size === 0 && !this.stopped) {
        const job = await this.d.store.claimJob(this.podId, LEASE_MS, [DUMP_IMPORT_JOB]);
        if (job === null) break;
        this.run(job);
      }
    } finally {
      this.claiming = false;
    }
  }

  private run(job: Job): void {
    const p = this.execute(job)
      .catch((err: unknown) => this.d.logger?.error({ err, job: job.id }, 'dump import failed'))
      .finally(() => this.running.delete(job.id));
    this.running.set(job.id, p);
  }

  private async execute(job: Job): Promise<void> {
    const { store } = this.d;
    const payload = payloadOf(job.payload);
    if (payload === null) {
      await store.failJob(job.id, this.podId, 'unreadable job payload');
      return;
    }
    let row = await store.getTask(payload.taskUid);
    if (row === null || isFinished(row)) {
      await store.completeJob(job.id, this.podId);
      await rm(payload.file, { force: true });
      return;
    }
    if (
      !(await stat(payload.file).then(
        () => true,
        () => false,
      ))
    ) {
      // The upload was spooled on another pod (a `spool_dir` not shared between pods): its claim lapses and the pod
      // that holds the file (or one sharing the directory) takes it.
      this.d.logger?.warn({ job: job.id, file: payload.file }, 'dump import: the spooled upload is not on this pod');
      if (job.attempts < MAX_MISSING_ATTEMPTS) return;
      const error = new MeiliError('dump_not_found', `The uploaded dump of task ${payload.taskUid} is gone.`);
      await store.finishTask({ ...row, status: 'failed', error: error.toJSON(), finishedAt: new Date().toISOString() });
      await store.failJob(job.id, this.podId, error.message);
      return;
    }
    const cursor = cursorOf(job.cursor);
    const progress: Progress = { phase: 'keys', bytesRead: 0, startedMs: Date.now(), documentsThisRun: 0 };
    this.live.set(payload.taskUid, { progress, cursor });
    row = { ...row, status: 'processing', startedAt: row.startedAt ?? new Date().toISOString() };
    let lost = false;
    const save = async () => {
      if (!(await store.heartbeatJob(job.id, this.podId, LEASE_MS, cursor))) lost = true;
      if (!lost && row !== null)
        await store.putTask({
          ...row,
          details: detailsOf(
            { phase: progress.phase, bytesTotal: payload.bytes, bytesRead: progress.bytesRead },
            cursor,
            rateOf(progress),
          ),
        });
      this.d.metrics.rate.set(rateOf(progress));
    };
    await save();
    const beat = every(HEARTBEAT_MS, save, {
      onError: (err) => this.d.logger?.warn({ err }, 'dump import heartbeat failed'),
    });
    const check = () => {
      if (lost || this.stopped) throw new Interrupted('interrupted');
    };
    const phase = (p: ImportPhase) => {
      progress.phase = p;
      setPhase(this.d.metrics, p);
    };
    try {
      phase('keys');
      await readDumpFile(
        payload.file,
        {
          header: async (h) => {
            check();
            if (cursor.keysDone) return;
            for (const k of h.keys) {
              if (this.d.keys.byUid(k.uid) === null && !cursor.createdKeys.includes(k.uid))
                cursor.createdKeys.push(k.uid);
              await this.d.keys.restore(k);
            }
            if (h.keys.length > 0) await store.publish('keys', 'dump-import');
            cursor.keys = h.keys.length;
            cursor.keysDone = true;
            await save();
          },
          index: (index, documents) => this.importIndex(index, documents, cursor, progress, phase, check, save),
        },
        {
          tmpDir: this.d.config.spool_dir,
          onBytes: (n) => {
            progress.bytesRead += n;
            this.d.metrics.bytesRead.inc(n);
          },
        },
      );
      check();
      phase('waiting');
      await save();
      await this.waitForTasks(cursor.tasks, check);
      await beat.stop();
      await store.finishTask({
        ...row,
        status: 'succeeded',
        finishedAt: new Date().toISOString(),
        details: detailsOf(
          { phase: 'succeeded', bytesTotal: payload.bytes, bytesRead: progress.bytesRead },
          cursor,
          rateOf(progress),
        ),
      });
      await store.completeJob(job.id, this.podId);
      await rm(payload.file, { force: true });
    } catch (err) {
      await beat.stop();
      if (err instanceof Interrupted) return; // resumed from the saved cursor by the next claim
      const error = err instanceof MeiliError ? err : internalError(err);
      if (!payload.keepPartial) {
        phase('rollback');
        await this.rollback(cursor);
      }
      await store.finishTask({
        ...row,
        status: 'failed',
        error: error.toJSON(),
        finishedAt: new Date().toISOString(),
        details: detailsOf(
          {
            phase: 'failed',
            bytesTotal: payload.bytes,
            bytesRead: progress.bytesRead,
            keptPartial: payload.keepPartial,
          },
          cursor,
          rateOf(progress),
        ),
      });
      await store.failJob(job.id, this.podId, error.message);
      await rm(payload.file, { force: true });
    } finally {
      this.live.delete(payload.taskUid);
      this.d.metrics.rate.set(0);
      if (this.live.size === 0) setPhase(this.d.metrics, 'idle');
    }
  }

  private async importIndex(
    index: DumpIndex,
    documents: DocumentBatches,
    cursor: ImportCursor,
    progress: Progress,
    phase: (p: ImportPhase) => void,
    check: () => void,
    save: () => Promise<void>,
  ): Promise<void> {
    check();
    const { uid, primaryKey } = index.metadata;
    if (cursor.done.includes(uid)) return; // read past (and still checked)
    if (cursor.index !== uid) {
      phase('indexes');
      if ((await this.d.state.projected(uid)).exists)
        throw new MeiliError(
          'index_already_exists',
          `Index \`${uid}\` already exists: a dump is imported into indexes that do not exist yet. Nothing of the dump was kept.`,
        );
      cursor.createdIndexes.push(uid);
      cursor.tasks.push((await this.d.ops.createIndex(uid, primaryKey)).uid);
      const patch = settingsPatch(index.settings);
      if (Object.keys(patch).length > 0) {
        try {
          cursor.tasks.push((await this.d.ops.updateSettings(uid, patch, null, 'PATCH', await this.d.features())).uid);
        } catch (err) {
          if (err instanceof MeiliError && err.type === 'invalid_request')
            throw invalidDump(`\`indexes/${uid}/settings.json\`: ${err.message}`);
          throw err;
        }
      }
      cursor.index = uid;
      cursor.offset = 0;
      await save();
    }
    phase('documents');
    const batchSize = this.d.config.batch_size;
    const window = new Window(this.d.config.parallel_target_writes, this.d.config.memory_buffer_bytes);
    // Acknowledged batches advance the cursor only as a contiguous prefix (a resume never skips an unsent batch).
    const pending: Array<{ count: number; done: boolean }> = [];
    let failure: unknown = null;
    let skip = cursor.offset;
    let sinceSave = 0;
    let buf: Document[] = [];
    let pk = primaryKey;
    const advance = () => {
      while (pending.length > 0 && pending[0]!.done) cursor.offset += pending.shift()!.count;
    };
    // Backpressure from the nodes: the nodes index slower than the proxy routes, so at most `maxUnsettled` batches
    // are accepted but not finished at a time (what the proxy and the nodes hold stays flat whatever the dump size).
    const maxUnsettled = Math.max(4, this.d.config.parallel_target_writes * 4);
    let settled = 0; // cursor.tasks[0, settled) are known to be finished
    const send = async (docs: Document[]) => {
      if (failure !== null) throw failure;
      check();
      if (cursor.tasks.length - settled > maxUnsettled) {
        const upTo = cursor.tasks.length - maxUnsettled;
        await this.waitForTasks(cursor.tasks.slice(settled, upTo), check);
        settled = upTo;
      }
      const body = Buffer.from(JSON.stringify(docs));
      await window.acquire(body.length);
      const slot = { count: docs.length, done: false };
      pending.push(slot);
      const sentPk = pk;
      void this.d.writes
        .add(uid, {
          body,
          format: 'json',
          csvDelimiter: ',',
          primaryKey: sentPk,
          customMetadata: null,
          skipCreation: false,
          merge: false,
        })
        .then(async ({ task }) => {
          cursor.tasks.push(task.uid);
          if (task.outcome?.status === 'failed') throw failedBatch(uid, task.outcome.error);
          slot.done = true;
          advance();
          progress.documentsThisRun += docs.length;
          this.d.metrics.documentsRouted.inc(docs.length);
          sinceSave += body.length;
          if (sinceSave >= this.d.config.chunk_size_bytes) {
            sinceSave = 0;
            await save();
          }
        })
        .catch((err: unknown) => {
          failure ??= err;
        })
        .finally(() => window.release(body.length));
    };
    try {
      for await (const batch of documents) {
        for (const doc of batch) {
          if (skip > 0) {
            skip--;
            continue;
          }
          buf.push(doc);
          if (buf.length >= batchSize) {
            await send(buf);
            buf = [];
            // The first batch settles the primary key (inferred when the dump had none): the next ones wait for it.
            if (pk === null) {
              await window.idle();
              pk = (await this.d.state.projected(uid)).primaryKey;
            }
          }
        }
      }
      if (buf.length > 0) await send(buf);
    } finally {
      // Nothing of this index is still in flight when it is done, failed or interrupted.
      await window.idle();
    }
    if (failure !== null) throw failure;
    cursor.done.push(uid);
    cursor.documents += cursor.offset;
    cursor.index = null;
    cursor.offset = 0;
    await save();
  }

  /** Waits until every task the import registered is final; the first that failed fails the import. */
  private async waitForTasks(uids: readonly number[], check: () => void): Promise<void> {
    let open = [...uids];
    for (let delay = 20; open.length > 0; delay = Math.min(delay * 2, 500)) {
      check();
      const rows: Array<TaskRow | null> = [];
      for (let i = 0; i < open.length; i += 500) rows.push(...(await this.d.store.getTasks(open.slice(i, i + 500))));
      const next: number[] = [];
      rows.forEach((row, i) => {
        if (row === null) return;
        if (row.status === 'failed' || row.status === 'canceled')
          throw failedBatch(row.indexUid ?? '', row.error, row.uid, row.type);
        if (!isFinished(row)) next.push(open[i]!);
      });
      if (next.length > 0) await this.d.tasks.get(next[0]!); // wakes the settler
      if (next.length < open.length) delay = 20;
      open = next;
      if (open.length > 0) await new Promise((r) => setTimeout(r, delay));
    }
  }

  /** Deletes what the failed import created (indexes, keys). */
  private async rollback(cursor: ImportCursor): Promise<void> {
    for (const uid of cursor.createdIndexes) {
      try {
        await this.d.ops.deleteIndex(uid);
      } catch (err) {
        this.d.logger?.warn({ err, index: uid }, 'dump import rollback: deleting the index failed');
      }
    }
    for (const uid of cursor.createdKeys) {
      try {
        await this.d.keys.delete(uid);
      } catch {
        // already gone
      }
    }
    if (cursor.createdKeys.length > 0) await this.d.store.publish('keys', 'dump-import').catch(() => undefined);
  }
}

function jobId(taskUid: number): string {
  return `${DUMP_IMPORT_JOB}:${taskUid}`;
}

function rateOf(p: Progress): number {
  const s = (Date.now() - p.startedMs) / 1000;
  return s <= 0 ? 0 : Math.round(p.documentsThisRun / s);
}

function failedBatch(uid: string, error: ErrorBody | null, taskUid?: number, type?: string): MeiliError {
  const what = taskUid === undefined ? 'a batch of documents' : `its task ${taskUid} (${type})`;
  const err = new MeiliError(
    'malformed_payload',
    `The dump is invalid: index \`${uid}\`: ${what} failed: ${error?.message ?? 'unknown error'}`,
  );
  return err;
}

function detailsOf(head: Record<string, unknown>, cursor: ImportCursor, rate: number): Record<string, unknown> {
  return {
    ...head,
    importedKeys: cursor.keys,
    indexesDone: cursor.done.length,
    currentIndex: cursor.index,
    routedDocuments: cursor.documents + (cursor.index === null ? 0 : cursor.offset),
    rateDocsPerSec: rate,
  };
}
