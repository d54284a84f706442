// Task settlement in the background (SPEC Round 2 "Task order and state ownership"): one drain per settlement
// queue (an index, or the control queue of task deletions/cancelations) follows its waiting tasks in uid order —
// their node tasks' statuses fetched in one call per node, `processing` as soon as a node started — and settles the
// head once its node tasks are terminal: the task type's settle module runs, the index state commits or drops the
// task's changes, the record becomes final, the queue moves on. A later task is never final before an earlier one
// of the same queue. In HA one pod drains a queue at a time (lease `settle:<queue>`); any pod may wake it. Reads
// never wait for any of this.
import { randomUUID } from 'node:crypto';
import type { ErrorBody } from '../../core/errors.js';
import { hideReservedFields } from '../../core/reserved.js';
import { failedDetails } from '../../core/tasks.js';
import { CONTROL_QUEUE, isFinished, type Store, type TaskRow, type TaskStatus } from '../../store/store.js';
import { isTerminalNodeTask, NodeRequestError, NodeResponseError, type NodeTask } from '../cluster/node-api.js';
import { NOT_ACQUIRED, withLease } from '../cluster/leases.js';
import type { TopologyService } from '../cluster/topology.js';
import type { Logger } from '../observability/logger.js';
import type { Metrics } from '../observability/metrics.js';
import type { IndexStateService } from '../state/index-state.js';
import { every, type Periodic } from '../util/periodic.js';
import type { TaskWaker } from './registry.js';

/** A node's view of one Miroir task: its node tasks in order (null where the node could not say). */
export interface NodeTasks {
  nodeId: string;
  tasks: NodeTask[];
}

export interface SettleContext {
  task: TaskRow;
  /** Node tasks of every node that took part and is still in the cluster and reachable. */
  nodes: NodeTasks[];
  /** The aggregate over those node tasks (SPEC Decisions "Tasks"). */
  status: TaskStatus;
  error: ErrorBody | null;
  signal: AbortSignal;
}

export interface SettleResult {
  status: TaskStatus;
  error: ErrorBody | null;
  details?: Record<string, unknown> | null;
}

/** Finishes one task type once its node tasks are terminal (settle/*.ts). */
export type SettleModule = (ctx: SettleContext) => Promise<SettleResult>;

export interface SettlerOptions {
  store: Store;
  topology: TopologyService;
  state: IndexStateService;
  modules: ReadonlyMap<string, SettleModule>;
  logger?: Logger | null;
  metrics?: Metrics | null;
  /** Slowest re-check of a waiting queue (a poke makes it fast again). */
  pollMs?: number;
  /** HA: drains take the lease `settle:<queue>` (owned by the pod id given to `start`); null for a single pod. */
  lease: { ttlMs: number } | null;
  /** This process's id: the owner of the uids it allocates, alive while its lease `alive:<incarnation>` is. */
  incarnation: string;
  /** Lifetime of the `alive:` lease (renewed every third of it). */
  aliveTtlMs: number;
}

/** Fastest re-check after a poke (a client is waiting, or a task was just created). */
const MIN_DELAY_MS = 3;
/** Waiting tasks looked at per pass (the rest are reached as the head moves on). */
const WINDOW = 64;

interface Drain {
  poke(): void;
  done: Promise<void>;
}

export function aggregate(nodes: readonly NodeTasks[]): {
  status: TaskStatus;
  error: ErrorBody | null;
  started: boolean;
} {
  const all = nodes.flatMap((n) => n.tasks);
  if (all.length === 0) return { status: 'succeeded', error: null, started: true };
  const started = all.some((t) => t.status !== 'enqueued');
  if (all.some((t) => !isTerminalNodeTask(t)))
    return { status: started ? 'processing' : 'enqueued', error: null, started };
  // A failure of a main (last) node task wins over one of a side task; a side task that found the index already
  // there (an implicit creation) changed nothing.
  let failed = nodes.map((n) => n.tasks[n.tasks.length - 1]!).find((t) => t.status === 'failed');
  failed ??= nodes
    .flatMap((n) => n.tasks.slice(0, -1))
    .find((t) => t.status === 'failed' && t.error?.code !== 'index_already_exists');
  if (failed !== undefined)
    return {
      status: 'failed',
      error: failed.error === null ? null : { ...failed.error, message: hideReservedFields(failed.error.message) },
      started,
    };
  if (all.every((t) => t.status === 'canceled')) return { status: 'canceled', error: null, started };
  return { status: 'succeeded', error: null, started };
}

export class Settler implements TaskWaker {
  private readonly o: SettlerOptions;
  private readonly drains = new Map<string, Drain>();
  private alive: Promise<void> | null = null;
  /** Node tasks known terminal, `${node}:${uid}` (a node never changes a terminal task). */
  private readonly terminal = new Map<string, NodeTask>();
  private scanner: Periodic | null = null;
  private unsubscribe: (() => Promise<void>) | null = null;
  private readonly lastPublish = new Map<string, number>();
  private stopped = false;
  private readonly stop$ = new AbortController();
  private readonly origin = randomUUID();
  /** Owner → when its `alive:` lease was first seen missing (see abandoned). */
  private readonly ownerMissingSince = new Map<string, number>();
  private owner = '';

  constructor(opts: SettlerOptions) {
    this.o = opts;
  }

  /** Starts settling; `owner` is this pod's id (the owner of its settlement leases). */
  async start(owner: string): Promise<void> {
    this.owner = owner;
    this.alive = this.holdAlive();
    // A pod that restarted (or another pod's tasks) is found by the periodic scan; wake-ups make it fast.
    this.scanner = every(this.o.pollMs ?? 250, () => this.scan(), {
      firstAfterMs: 0,
      onError: (err) => this.o.logger?.warn({ err }, 'task settlement scan failed'),
    });
    if (this.o.lease !== null) {
      this.unsubscribe = await this.o.store.subscribe('tasks', (msg) => {
        const [origin, ...queues] = msg.split('\n');
        if (origin !== this.origin) this.wakeLocal(queues);
      });
    }
  }

  /** Holds `alive:<incarnation>` for the life of this process, so others can tell its unrecorded uids are in flight. */
  private async holdAlive(): Promise<void> {
    while (!this.stopped) {
      await withLease(
        {
          store: this.o.store,
          scope: `alive:${this.o.incarnation}`,
          owner: this.o.incarnation,
          ttlMs: this.o.aliveTtlMs,
          waitMs: this.o.aliveTtlMs,
          signal: this.stop$.signal,
        },
        (signal) => {
          return new Promise<void>((resolve) => signal.addEventListener('abort', () => resolve(), { once: true }));
        },
      ).catch(() => undefined);
      if (!this.stopped) await new Promise((r) => setTimeout(r, 100));
    }
  }

  async stop(): Promise<void> {
    this.stopped = true;
    this.stop$.abort();
    await this.alive;
    await this.scanner?.stop();
    await this.unsubscribe?.();
    for (const d of this.drains.values()) d.poke();
    await Promise.allSettled([...this.drains.values()].map((d) => d.done));
  }

  /** Something happened to tasks of these queues: check them now (and tell the other pods). */
  wake(queues: readonly string[]): void {
    this.wakeLocal(queues);
    if (this.o.lease === null || queues.length === 0) return;
    const now = Date.now();
    const due = queues.filter((q) => now - (this.lastPublish.get(q) ?? 0) >= 10);
    if (due.length === 0) return;
    for (const q of due) this.lastPublish.set(q, now);
    void this.o.store.publish('tasks', [this.origin, ...due].join('\n')).catch(() => undefined);
  }

  private wakeLocal(queues: readonly string[]): void {
    if (this.stopped) return;
    for (const q of queues) {
      const d = this.drains.get(q);
      if (d !== undefined) d.poke();
      else this.startDrain(q);
    }
  }

  /** Starts a drain for every queue with waiting tasks that has none here. */
  async scan(): Promise<void> {
    const queues = await this.o.store.activeQueues();
    for (const q of queues) if (!this.drains.has(q)) this.startDrain(q);
    await this.updateAgeGauge(queues);
  }

  private async updateAgeGauge(queues: readonly string[]): Promise<void> {
    if (this.o.metrics === null || this.o.metrics === undefined) return;
    let oldest = Infinity;
    for (const q of queues) {
      const head = (await this.o.store.queuedTasks(q))[0];
      const row = head === undefined ? null : await this.o.store.getTask(head);
      if (row !== null) oldest = Math.min(oldest, Date.parse(row.enqueuedAt));
    }
    this.o.metrics.taskProcessingAge.set(oldest === Infinity ? 0 : Math.max(0, (Date.now() - oldest) / 1000));
  }

  private startDrain(queue: string): void {
    if (this.stopped || this.scanner === null) return;
    let wakeUp: (() => void) | null = null;
    let poked = false;
    const drain: Drain = {
      poke: () => {
        poked = true;
        wakeUp?.();
      },
      done: Promise.resolve(),
    };
    const sleep = (ms: number) =>
      new Promise<void>((resolve) => {
        if (poked || this.stopped) {
          poked = false;
          resolve();
          return;
        }
        const t = setTimeout(() => {
          wakeUp = null;
          resolve();
        }, ms);
        wakeUp = () => {
          clearTimeout(t);
          wakeUp = null;
          poked = false;
          resolve();
        };
      });
    const body = (signal: AbortSignal) => this.drain(queue, signal, sleep, () => poked);
    const run = async () => {
      if (this.o.lease === null) return body(this.stop$.signal);
      const res = await withLease(
        {
          store: this.o.store,
          scope: `settle:${queue}`,
          owner: this.owner,
          ttlMs: this.o.lease.ttlMs,
          signal: this.stop$.signal,
        },
        body,
      );
      if (res === NOT_ACQUIRED) return; // another pod drains it
    };
    this.drains.set(queue, drain);
    drain.done = run()
      .catch((err: unknown) => this.o.logger?.warn({ err, queue }, 'task settlement failed'))
      .finally(() => {
        if (this.drains.get(queue) === drain) this.drains.delete(queue);
      });
  }

  private async drain(
    queue: string,
    signal: AbortSignal,
    sleep: (ms: number) => Promise<void>,
    poked: () => boolean,
  ): Promise<void> {
    let delay = MIN_DELAY_MS;
    const max = this.o.pollMs ?? 250;
    while (!signal.aborted && !this.stopped) {
      const uids = (await this.o.store.queuedTasks(queue)).slice(0, WINDOW);
      if (uids.length === 0) return;
      let progressed = false;
      try {
        progressed =
          queue === CONTROL_QUEUE ? await this.controlPass(uids, signal) : await this.pass(queue, uids, signal);
      } catch (err) {
        if (signal.aborted) return;
        this.o.logger?.warn({ err, queue }, 'settling tasks failed; retrying');
      }
      if (progressed) delay = MIN_DELAY_MS;
      await sleep(delay);
      delay = poked() ? MIN_DELAY_MS : Math.min(max, Math.ceil(delay * 1.5));
    }
  }

  /** One look at a queue's waiting tasks: status updates, and the settled head(s). True when a task settled. */
  private async pass(queue: string, uids: readonly number[], signal: AbortSignal): Promise<boolean> {
    const rows = await this.o.store.getTasks(uids);
    const views = await this.nodeViews(rows);
    let progressed = false;
    let head = true;
    for (let i = 0; i < uids.length; i++) {
      if (signal.aborted) break;
      const uid = uids[i]!;
      const row = rows[i] ?? null;
      if (row === null) {
        if (await this.abandoned(uid)) {
          await this.o.store.dequeueTask([queue], uid);
          progressed = true;
          continue;
        }
        break; // still being sent by its pod: nothing after it may settle
      }
      if (isFinished(row)) {
        await this.o.store.dequeueTask(row.queues, row.uid);
        progressed = true;
        continue;
      }
      const nodes = views.get(row.uid) ?? null;
      const agg = nodes === null ? null : aggregate(nodes);
      const ready = row.outcome !== undefined || (agg !== null && isFinalStatus(agg.status));
      if (head && ready && row.queues[0] === queue && (await this.headEverywhere(row))) {
        await this.settle(row, nodes ?? [], agg, signal);
        progressed = true;
        continue;
      }
      head = false;
      const started = agg !== null && (agg.started || ready);
      if (started && row.status === 'enqueued')
        await this.o.store.putTask({
          ...row,
          status: 'processing',
          startedAt: laterOf(row.enqueuedAt, firstStart(nodes ?? [])),
        });
    }
    return progressed;
  }

  /** Whether a task naming several queues is at the head of each (it settles only then). */
  private async headEverywhere(row: TaskRow): Promise<boolean> {
    for (const q of row.queues.slice(1)) if ((await this.o.store.queuedTasks(q))[0] !== row.uid) return false;
    return true;
  }

  /**
   * A queued uid without a record whose allocating process is gone (it died while sending): never recorded. An
   * `alive:` lease also lapses while the store is away (a Redis failover longer than its TTL) though its process
   * lives on, so the owner counts as gone only once its lease stayed missing for a whole lease time here.
   */
  private async abandoned(uid: number): Promise<boolean> {
    const owner = await this.o.store.taskOwner(uid);
    if (owner === this.o.incarnation) return false; // this process is still sending it
    if (owner !== null) {
      if ((await this.o.store.getLease(`alive:${owner}`)) !== null) {
        this.ownerMissingSince.delete(owner);
        return false;
      }
      const now = Date.now();
      const since = this.ownerMissingSince.get(owner) ?? now;
      this.ownerMissingSince.set(owner, since);
      if (now - since < this.o.aliveTtlMs) return false;
    }
    this.o.logger?.warn(
      { task_uid: uid },
      'a task uid was allocated but never recorded (its process stopped while sending); skipping it',
    );
    return true;
  }

  /**
   * Node tasks of each row, fetched in one call per node. A node that left the topology is left out (its copies
   * live on their new owners), and so is an unhealthy one (it missed the write and is caught up before it serves
   * reads again); a task whose healthy node did not answer gets null (not known yet).
   */
  private async nodeViews(rows: ReadonlyArray<TaskRow | null>): Promise<Map<number, NodeTasks[] | null>> {
    const wanted = new Map<string, Set<number>>();
    for (const row of rows) {
      if (row === null || isFinished(row) || row.outcome !== undefined) continue;
      for (const [node, uids] of Object.entries(row.nodeTasks)) {
        for (const u of uids)
          if (!this.terminal.has(`${node}:${u}`)) (wanted.get(node) ?? wanted.set(node, new Set()).get(node)!).add(u);
      }
    }
    const fetched = new Map<string, Map<number, NodeTask> | null>();
    await Promise.all(
      [...wanted].map(async ([node, set]) => {
        const api = this.o.topology.client(node);
        if (api === undefined) return;
        try {
          const got = await api.tasks([...set]);
          for (const [u, t] of got) if (isTerminalNodeTask(t)) this.terminal.set(`${node}:${u}`, t);
          fetched.set(node, got);
        } catch (err) {
          if (!(err instanceof NodeRequestError) && !(err instanceof NodeResponseError)) throw err;
          fetched.set(node, null);
        }
      }),
    );
    const out = new Map<number, NodeTasks[] | null>();
    for (const row of rows) {
      if (row === null || isFinished(row) || row.outcome !== undefined) continue;
      const nodes: NodeTasks[] = [];
      let unknown = false;
      for (const [node, uids] of Object.entries(row.nodeTasks)) {
        if (this.o.topology.client(node) === undefined) continue; // left the cluster
        const got = fetched.get(node);
        const tasks: NodeTask[] = [];
        for (const u of uids) {
          const known = this.terminal.get(`${node}:${u}`) ?? got?.get(u);
          // A task the node no longer has (it lost its data): the node is caught up from its replicas.
          if (known === undefined && got !== null && got !== undefined)
            tasks.push({ uid: u, status: 'succeeded', error: null, startedAt: null, finishedAt: null });
          else if (known !== undefined) tasks.push(known);
        }
        if (tasks.length === uids.length) nodes.push({ nodeId: node, tasks });
        else if (this.o.topology.health.isHealthy(node)) unknown = true;
      }
      out.set(row.uid, unknown ? null : nodes);
    }
    return out;
  }

  private async settle(
    row: TaskRow,
    nodes: NodeTasks[],
    agg: ReturnType<typeof aggregate> | null,
    signal: AbortSignal,
  ): Promise<void> {
    let result: SettleResult;
    if (row.outcome !== undefined) result = { status: row.outcome.status, error: row.outcome.error };
    else {
      const module = this.o.modules.get(row.type);
      const base = { status: agg!.status, error: agg!.error };
      result = module === undefined ? base : await module({ task: row, nodes, ...base, signal });
    }
    signal.throwIfAborted();
    const now = Date.now();
    const at = new Date(now).toISOString();
    const outcome = result.status === 'succeeded' ? 'succeeded' : result.status === 'canceled' ? 'canceled' : 'failed';
    for (const q of row.queues) if (q !== CONTROL_QUEUE) await this.o.state.settle(q, row.uid, outcome, at);
    const startedAt = row.startedAt ?? laterOf(row.enqueuedAt, firstStart(nodes));
    const lastNode = Math.max(
      0,
      ...nodes.flatMap((n) => n.tasks.map((t) => (t.finishedAt === null ? 0 : Date.parse(t.finishedAt)))),
    );
    const finishedAt = new Date(
      Math.max(Date.parse(startedAt), Math.min(now, lastNode > 0 ? lastNode : now)),
    ).toISOString();
    const final: TaskRow = { ...row, status: result.status, error: result.error, startedAt, finishedAt };
    if (result.details !== undefined) final.details = result.details;
    if (result.status !== 'succeeded') final.details = failedDetails(row.type, final.details);
    delete final.outcome;
    await this.o.store.finishTask(final);
    for (const n of nodes) for (const u of n.tasks) this.terminal.delete(`${n.nodeId}:${u.uid}`);
    this.o.metrics?.tasksTotal.labels(result.status).inc();
    if (row.queues.length > 1) this.wakeLocal(row.queues.slice(1));
    this.drains.get(CONTROL_QUEUE)?.poke(); // a deletion or cancelation may be waiting for this task
  }

  /** Task deletions and cancelations settle once their own node tasks and every task they matched are final. */
  private async controlPass(uids: readonly number[], signal: AbortSignal): Promise<boolean> {
    const rows = await this.o.store.getTasks(uids);
    const views = await this.nodeViews(rows);
    let progressed = false;
    for (let i = 0; i < uids.length; i++) {
      const row = rows[i] ?? null;
      if (row === null) {
        if (await this.abandoned(uids[i]!)) {
          await this.o.store.dequeueTask([CONTROL_QUEUE], uids[i]!);
          progressed = true;
        }
        continue;
      }
      if (isFinished(row)) {
        await this.o.store.dequeueTask(row.queues, row.uid);
        progressed = true;
        continue;
      }
      const nodes = views.get(row.uid) ?? null;
      const agg = nodes === null ? null : aggregate(nodes);
      if (row.outcome === undefined && (agg === null || !isFinalStatus(agg.status))) continue;
      const matched = await this.o.store.getTasks((row.matched ?? []).filter((u) => u !== row.uid));
      // Matched control tasks are not waited for (two deletions matching each other would wait forever).
      if (matched.some((m) => m !== null && !isFinished(m) && !m.queues.includes(CONTROL_QUEUE))) {
        if (row.status === 'enqueued')
          await this.o.store.putTask({
            ...row,
            status: 'processing',
            startedAt: laterOf(row.enqueuedAt, new Date().toISOString()),
          });
        continue;
      }
      await this.settle(row, nodes ?? [], agg, signal);
      progressed = true;
    }
    return progressed;
  }
}

function isFinalStatus(s: TaskStatus): boolean {
  return s === 'succeeded' || s === 'failed' || s === 'canceled';
}

function firstStart(nodes: readonly NodeTasks[]): string | null {
  let first: string | null = null;
  for (const n of nodes)
    for (const t of n.tasks) if (t.startedAt !== null && (first === null || t.startedAt < first)) first = t.startedAt;
  return first;
}

/** `at`, but never before `floor` (a task cannot start before Miroir enqueued it). */
function laterOf(floor: string, at: string | null): string {
  if (at === null) return new Date(Math.max(Date.now(), Date.parse(floor))).toISOString();
  return Date.parse(at) < Date.parse(floor) ? floor : at;
}
