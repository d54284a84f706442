// Miroir's task registry (SPEC Decisions "Tasks", C7; Round 2 "Task order"): one Meilisearch-shaped task per client
// write. A task uid is allocated together with its place in the settlement queues of the indexes it touches; the
// record (the node tasks that ACKed, or an outcome Miroir decided) is durable before the 202. Reads answer from the
// store and never wait: they only wake the settler, which moves tasks to their final state in the background.
import { MeiliError, type ErrorBody } from '../../core/errors.js';
import { formatStepDuration, loneTaskBatchStrategy, summarizeBatch, type BatchRecord } from '../../core/batches.js';
import { summarizedTask, taskView, type TaskRecord } from '../../core/tasks.js';
import type { ChangeFacts } from '../../core/cdc.js';
import { isFinished, type Store, type TaskRow } from '../../store/store.js';
import type { ChangeRecorder } from '../cdc/log.js';
import type { Logger } from '../observability/logger.js';
import { every, type Periodic } from '../util/periodic.js';
import { UnrecordedUids } from './unrecorded.js';

/** Told about new and read tasks, so settlement starts at once instead of at the next poll. */
export interface TaskWaker {
  wake(queues: readonly string[]): void;
}

export interface TaskRegistryOptions {
  store: Store;
  waker: TaskWaker;
  /** This process's id, the owner of the uids it allocates (see Settler). */
  incarnation: string;
  logger?: Logger | null;
  retentionDays: number;
  now?: () => number;
  /** Mode A: whether this pod prunes (`task_pruner`); absent → this pod does. */
  owns?: (item: string) => boolean;
  /** `cdc.enabled`: the change log every new task's events are appended to before its 202 (null: CDC off). */
  changes?: ChangeRecorder | null;
}

export interface NewTask {
  uid: number;
  type: string;
  indexUid: string | null;
  queues: readonly string[];
  details: Record<string, unknown> | null;
  /** Node tasks that ACKed, in the order they were enqueued (several per node when a task needed several writes). */
  acks?: ReadonlyArray<{ nodeId: string; taskUid: number }>;
  customMetadata?: string | null;
  /** The group that reached write quorum first (read-your-writes sessions pin it). */
  pinGroup?: number | null;
  outcome?: TaskRow['outcome'];
  matched?: number[];
  /** CDC: what the write knows of its change (keys, shards, filter, documents); only read when CDC is on. */
  change?: ChangeFacts;
}

/**
 * The client-facing record of a Miroir task (internal fields left out). Miroir runs one task per batch: a task's
 * batch has the task's uid and exists from the moment the task leaves `enqueued`.
 */
export function meiliTask(t: TaskRow): TaskRecord {
  const out: TaskRecord = {
    uid: t.uid,
    batchUid: t.status === 'enqueued' ? null : t.uid,
    indexUid: t.indexUid,
    status: t.status,
    type: t.type,
    canceledBy: t.canceledBy,
    details: t.details,
    error: t.error,
    enqueuedAt: t.enqueuedAt,
    startedAt: t.startedAt,
    finishedAt: t.finishedAt,
  };
  if (t.customMetadata !== undefined) out.customMetadata = t.customMetadata;
  return out;
}

export function taskJson(t: TaskRow): Record<string, unknown> {
  return taskView(meiliTask(t));
}

/** The batch of a started task (one task per batch, same uid), in Meilisearch's batch shape. */
export function taskBatch(t: TaskRow): BatchRecord {
  const task = meiliTask(t);
  const finished = t.finishedAt;
  const durationMs =
    finished !== null && t.startedAt !== null ? Date.parse(finished) - Date.parse(t.startedAt) : undefined;
  return summarizeBatch({
    uid: t.uid,
    tasks: [task],
    startedAt: t.startedAt ?? t.enqueuedAt,
    finishedAt: finished,
    batchStrategy: loneTaskBatchStrategy(task, {
      enqueuedTotal: 1,
      enqueuedForIndex: 1,
      indexPrimaryKey: null,
      taskPrimaryKey: null,
    }),
    ...(durationMs === undefined
      ? {}
      : { durationMs, progressTrace: { 'processing tasks': formatStepDuration(durationMs) } }),
  });
}

/** Groups ACKs by node, keeping their order. */
export function nodeTaskMap(acks: ReadonlyArray<{ nodeId: string; taskUid: number }>): Record<string, number[]> {
  const out: Record<string, number[]> = {};
  for (const a of acks) (out[a.nodeId] ??= []).push(a.taskUid);
  return out;
}

export class TaskRegistry {
  private readonly opts: TaskRegistryOptions;
  private pruner: Periodic | null = null;
  private readonly unrecorded: UnrecordedUids;

  constructor(opts: TaskRegistryOptions) {
    this.opts = opts;
    this.unrecorded = new UnrecordedUids(opts.store, opts.incarnation, opts.logger ?? null);
  }

  private now(): number {
    return (this.opts.now ?? Date.now)();
  }

  /** A new task uid, already waiting in `queues` (settled after every earlier task of each). */
  allocate(queues: readonly string[]): Promise<number> {
    return this.unrecorded.allocate(() => this.opts.store.enqueueTask(queues, this.opts.incarnation));
  }

  /** The uids waiting to settle in a queue, ascending. */
  queued(queue: string): Promise<number[]> {
    return this.opts.store.queuedTasks(queue);
  }

  /** Gives an allocated uid up (its request failed before anything was sent): nothing waits for it. */
  async release(queues: readonly string[], uid: number): Promise<void> {
    this.unrecorded.done(uid);
    try {
      await this.opts.store.dequeueTask(queues, uid);
    } catch (err) {
      this.unrecorded.failed(); // swept once the store is back
      throw err;
    }
  }

  /** Records a new enqueued task; durable when it resolves, so the caller may answer 202. */
  async create(t: NewTask): Promise<TaskRow> {
    const task: TaskRow = {
      uid: t.uid,
      indexUid: t.indexUid,
      type: t.type,
      status: 'enqueued',
      nodeTasks: nodeTaskMap(t.acks ?? []),
      details: t.details,
      error: null,
      canceledBy: null,
      enqueuedAt: new Date(this.now()).toISOString(),
      startedAt: null,
      finishedAt: null,
      queues: [...t.queues],
    };
    if (t.customMetadata !== undefined && t.customMetadata !== null) task.customMetadata = t.customMetadata;
    if (t.outcome !== undefined) task.outcome = t.outcome;
    if (t.pinGroup !== undefined && t.pinGroup !== null) task.pinGroup = t.pinGroup;
    if (t.matched !== undefined) task.matched = t.matched;
    try {
      // CDC on: the task's events go to the change log alongside its record (one commit on LMDB), both before the 202.
      const changes = this.opts.changes ?? null;
      if (changes === null) await this.opts.store.putTask(task);
      else await Promise.all([this.opts.store.putTask(task), changes.record(task, t.change)]);
    } catch (err) {
      this.unrecorded.failed();
      throw err;
    } finally {
      this.unrecorded.done(task.uid);
    }
    this.opts.waker.wake(task.queues);
    return task;
  }

  /** A task whose result Miroir knows at once (content problems, existence checks): reported in task order. */
  decided(t: Omit<NewTask, 'acks' | 'outcome'>, error: MeiliError | null): Promise<TaskRow> {
    const outcome: { status: 'succeeded' | 'failed'; error: ErrorBody | null } =
      error === null ? { status: 'succeeded', error: null } : { status: 'failed', error: error.toJSON() };
    return this.create({ ...t, outcome });
  }

  /** The task as stored; a task still settling wakes the settler (the read itself never waits). */
  async get(uid: number): Promise<TaskRow | null> {
    const task = await this.opts.store.getTask(uid);
    if (task !== null && !isFinished(task)) this.opts.waker.wake(task.queues);
    return task;
  }

  /**
   * Waits until the task is finished (succeeded, failed or canceled) and returns it; reading it wakes the settler.
   * Throws when it is unknown or still unfinished after `timeoutMs`. For background work (reshard, rollover), never a
   * client request: clients poll `GET /tasks/{uid}` themselves.
   */
  async waitFinished(uid: number, timeoutMs: number): Promise<TaskRow> {
    const deadline = Date.now() + timeoutMs;
    for (let delay = 10; ; delay = Math.min(delay * 2, 200)) {
      const t = await this.get(uid);
      if (t !== null && isFinished(t)) return t;
      if (Date.now() > deadline) throw new Error(`task ${uid} did not finish within ${timeoutMs} ms`);
      await new Promise((r) => setTimeout(r, delay));
    }
  }

  /** Prunes finished tasks older than `task_registry.retention_days`, hourly. */
  start(): void {
    this.pruner = every(3_600_000, () => this.prune(), {
      firstAfterMs: 0,
      onError: (err) => this.opts.logger?.warn({ err }, 'task pruning failed'),
    });
  }

  async prune(): Promise<number> {
    if (this.opts.owns !== undefined && !this.opts.owns('task_pruner')) return 0;
    return this.opts.store.pruneTasks(this.now() - this.opts.retentionDays * 86_400_000);
  }

  async stop(): Promise<void> {
    this.unrecorded.stop();
    await this.pruner?.stop();
    this.pruner = null;
  }
}

/** Meilisearch's 202 answer for an enqueued Miroir task (the summarized-task keys). */
export function acceptedReply(
  task: TaskRow,
  headers: Record<string, string> = {},
): { status: number; body: Record<string, unknown>; headers: Record<string, string> } {
  return { status: 202, body: summarizedTask({ ...meiliTask(task), status: 'enqueued' }), headers };
}
