// Miroir's task registry (SPEC Decisions "Tasks", C7): one Meilisearch-shaped task per client write, uids from the
// store's cluster-wide sequence, durable before the 202. Status is derived from the node tasks that ACKed:
// enqueued/processing while any is not terminal; then failed (first node error) if any failed, canceled if all
// were, else succeeded — after the task's settle step (e.g. pushing physical settings) has run. Non-terminal tasks
// refresh from their nodes on read (short cache) and in a background poller; finished tasks are pruned after
// `task_registry.retention_days`.
import { MeiliError, internalError, type ErrorBody } from '../../core/errors.js';
import { summarizedTask } from '../../core/tasks.js';
import { NodeClient, NodeRequestError } from '../cluster/node-client.js';
import type { Store, TaskRow, TaskStatus } from '../../store/store.js';
import type { Logger } from '../observability/logger.js';
import { every, type Periodic } from '../util/periodic.js';

export interface NodeTask {
  status: TaskStatus;
  error: ErrorBody | null;
  startedAt: string | null;
  finishedAt: string | null;
  details?: Record<string, unknown>;
}

/** Runs once every node task of a Miroir task succeeded, before the Miroir task is reported succeeded. */
export type SettleStep = (task: TaskRow, nodeTasks: Readonly<Record<string, NodeTask>>) => Promise<void>;

/**
 * 10 ms: at most 100 node round trips per second for a task however many clients poll it, while a client waiting
 * on a batch sees it finish within 10 ms of its last node (50 ms added ~10% to a 20-batch ingest measured end to
 * end in bench/e2e/ingest.bench.ts).
 */
export const REFRESH_TTL_MS = 10;

export interface TaskRegistryOptions {
  store: Store;
  client: (nodeId: string) => NodeClient | undefined;
  logger?: Logger | null;
  /**
   * How long a refreshed non-terminal task is served from memory before asking its nodes again (default
   * REFRESH_TTL_MS). It caps how often clients polling one task reach the nodes (concurrent polls also share one
   * refresh in flight) and is also the most a poll can lag behind the nodes finishing.
   */
  refreshTtlMs?: number;
  pollIntervalMs?: number;
  retentionDays: number;
  now?: () => number;
  /** Mode A: whether this pod polls a task (or, for `task_pruner`, prunes); absent → everything is this pod's. */
  owns?: (item: number | string) => boolean;
}

const TERMINAL: ReadonlySet<TaskStatus> = new Set(['succeeded', 'failed', 'canceled']);

export function isTerminal(status: TaskStatus): boolean {
  return TERMINAL.has(status);
}

/** The Decisions' aggregation over node task statuses (assumes at least one node task). */
export function aggregateStatus(nodes: readonly NodeTask[]): { status: TaskStatus; error: ErrorBody | null } {
  if (nodes.some((n) => !isTerminal(n.status))) return { status: nodes.some((n) => n.status === 'processing' || isTerminal(n.status)) ? 'processing' : 'enqueued', error: null };
  const failed = nodes.find((n) => n.status === 'failed');
  if (failed !== undefined) return { status: 'failed', error: failed.error };
  if (nodes.every((n) => n.status === 'canceled')) return { status: 'canceled', error: null };
  return { status: 'succeeded', error: null };
}

export class TaskRegistry {
  private readonly opts: TaskRegistryOptions;
  private readonly settleSteps = new Map<string, SettleStep>();
  private readonly refreshedAt = new Map<number, number>();
  private readonly inflight = new Map<number, Promise<TaskRow>>();
  private poller: Periodic | null = null;
  private pruner: Periodic | null = null;

  constructor(opts: TaskRegistryOptions) {
    this.opts = opts;
  }

  private now(): number {
    return (this.opts.now ?? Date.now)();
  }

  /** Registers the step that finishes a task type once its node tasks succeeded. */
  onSettle(type: string, step: SettleStep): void {
    this.settleSteps.set(type, step);
  }

  nextUid(): Promise<number> {
    return this.opts.store.nextTaskUid();
  }

  /**
   * Records a new enqueued task for the node tasks that ACKed (uid allocated unless given); durable when it
   * resolves, so the caller may answer 202.
   */
  async create(t: { uid?: number; type: string; indexUid: string | null; details: Record<string, unknown> | null; acks: ReadonlyArray<{ nodeId: string; taskUid: number }>; customMetadata?: string | null }): Promise<TaskRow> {
    const task: TaskRow = {
      uid: t.uid ?? (await this.nextUid()),
      indexUid: t.indexUid,
      type: t.type,
      status: 'enqueued',
      nodeTasks: Object.fromEntries(t.acks.map((a) => [a.nodeId, a.taskUid])),
      details: t.details,
      error: null,
      canceledBy: null,
      enqueuedAt: new Date(this.now()).toISOString(),
      startedAt: null,
      finishedAt: null,
    };
    if (t.customMetadata !== undefined && t.customMetadata !== null) task.customMetadata = t.customMetadata;
    return this.record(task);
  }

  /** Writes a task durably; the caller answers 202 only after this resolves. */
  async record(task: TaskRow): Promise<TaskRow> {
    await this.opts.store.putTask(task);
    return task;
  }

  /** A task that failed before any node call (content problems): failed at once, like Meilisearch reports them. */
  async recordFailed(uid: number, base: Pick<TaskRow, 'indexUid' | 'type' | 'details' | 'customMetadata'>, error: MeiliError): Promise<TaskRow> {
    const at = new Date(this.now()).toISOString();
    return this.record({ uid, ...base, status: 'failed', nodeTasks: {}, error: error.toJSON(), canceledBy: null, enqueuedAt: at, startedAt: at, finishedAt: at });
  }

  /** The task, refreshed from its nodes when it is not terminal and its cached view is older than the TTL. */
  async get(uid: number): Promise<TaskRow | null> {
    const task = await this.opts.store.getTask(uid);
    if (task === null || isTerminal(task.status)) return task;
    const fresh = this.refreshedAt.get(uid);
    if (fresh !== undefined && this.now() - fresh < (this.opts.refreshTtlMs ?? REFRESH_TTL_MS)) return task;
    return this.refresh(task);
  }

  /** Asks every ACKed node for its task and stores the aggregated state; one refresh per task at a time. */
  refresh(task: TaskRow): Promise<TaskRow> {
    const running = this.inflight.get(task.uid);
    if (running !== undefined) return running;
    const p = this.doRefresh(task).finally(() => this.inflight.delete(task.uid));
    this.inflight.set(task.uid, p);
    return p;
  }

  /** The node's task; `gone` when the node left the topology (removed: its copies live on their new owners). */
  private async fetchNodeTask(nodeId: string, nodeTaskUid: number): Promise<NodeTask | null | 'gone'> {
    const client = this.opts.client(nodeId);
    if (client === undefined) return 'gone';
    try {
      const res = await client.request({ method: 'GET', path: `/tasks/${nodeTaskUid}`, operation: 'task_get' });
      if (res.status !== 200) return null;
      return NodeClient.json<NodeTask>(res);
    } catch (err) {
      if (err instanceof NodeRequestError) return null;
      throw err;
    }
  }

  private async doRefresh(task: TaskRow): Promise<TaskRow> {
    const fetched = await Promise.all(Object.entries(task.nodeTasks).map(async ([node, uid]) => [node, await this.fetchNodeTask(node, uid)] as const));
    this.refreshedAt.set(task.uid, this.now());
    if (fetched.some(([, n]) => n === null)) return task; // a node did not answer: keep the last known state
    const entries = fetched.filter(([, n]) => n !== 'gone');
    const nodeTasks = entries.map(([, n]) => n as NodeTask);
    const known = nodeTasks as NodeTask[];
    const { status, error } = entries.length === 0 ? { status: 'succeeded' as TaskStatus, error: null } : aggregateStatus(known);
    const startedAt = known.map((n) => n.startedAt).filter((x): x is string => x !== null).sort()[0] ?? null;
    let next: TaskRow = { ...task, status, error, startedAt: task.startedAt ?? startedAt };
    if (status === 'succeeded') {
      const step = this.settleSteps.get(task.type);
      if (step !== undefined) {
        try {
          await step(next, Object.fromEntries(entries.map(([node], i) => [node, known[i]!])));
        } catch (err) {
          next = { ...next, status: 'failed', error: internalError(err).toJSON() };
        }
      }
    }
    if (isTerminal(next.status)) {
      next.finishedAt = new Date(Math.max(this.now(), ...known.map((n) => (n.finishedAt === null ? 0 : Date.parse(n.finishedAt))))).toISOString();
      this.refreshedAt.delete(task.uid);
    }
    if (next.status !== task.status || next.startedAt !== task.startedAt || next.finishedAt !== task.finishedAt) await this.opts.store.putTask(next);
    return next;
  }

  /** Polls every non-terminal task among the most recent ones; prunes old finished tasks hourly. */
  start(pollIntervalMs = this.opts.pollIntervalMs ?? 500): void {
    this.poller = every(pollIntervalMs, () => this.pollOnce(), { onError: (err) => this.opts.logger?.warn({ err }, 'task poll failed') });
    this.pruner = every(3_600_000, () => this.prune(), { firstAfterMs: 0, onError: (err) => this.opts.logger?.warn({ err }, 'task pruning failed') });
  }

  async pollOnce(): Promise<void> {
    const recent = await this.opts.store.listTasks({ limit: 1000 });
    const mine = this.opts.owns ?? (() => true);
    await Promise.all(recent.filter((t) => !isTerminal(t.status) && mine(t.uid)).map((t) => this.refresh(t)));
  }

  async prune(): Promise<number> {
    if (this.opts.owns !== undefined && !this.opts.owns('task_pruner')) return 0;
    return this.opts.store.pruneTasks(this.now() - this.opts.retentionDays * 86_400_000);
  }

  async stop(): Promise<void> {
    await Promise.all([this.poller?.stop(), this.pruner?.stop()]);
    this.poller = this.pruner = null;
    await Promise.all(this.inflight.values());
  }
}

/** Meilisearch's 202 answer for an enqueued Miroir task (the five summarized-task keys). */
export function acceptedReply(task: TaskRow, headers: Record<string, string> = {}): { status: number; body: Record<string, unknown>; headers: Record<string, string> } {
  return { status: 202, body: summarizedTask({ ...task, batchUid: null }), headers };
}
