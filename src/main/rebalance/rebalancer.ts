// The rebalancer (SPEC C11, H2 Modes B and C): topology changes queue in the stored topology and run one at a time.
// One pod at a time drives them — the holder of the `rebalance` lease — through persisted phases, so a new leader
// (or the same pod after a restart) resumes where the last one stopped:
//   queued → provisioning (the change enters the topology: dual-writes start; indexes and physical settings are
//   created on new owners) → copying (one `shard_move` job per shard, at most `max_concurrent_migrations` queued or
//   running cluster-wide) → cutover (reads and writes move to the new owners) → cleanup (after a grace period the
//   obsolete copies are deleted) → done.
// Every pod also runs a job runner that claims `shard_move` jobs (lease 30 s, heartbeat 10 s, resumable cursor).
// A node flagged `catching_up` that is healthy again gets a `recovery` change (rebalancer.auto_rebalance_on_recovery).
import { randomUUID } from 'node:crypto';
import { MeiliError } from '../../core/errors.js';
import { shardInClause } from '../../core/shard-filter.js';
import { cutover, obsoleteCopies, planMoves, type ShardMove } from '../../core/topology-plan.js';
import type { Job, RebalanceRecord, Store, StoredTopology, TopologyOperation } from '../../store/store.js';
import { NodeResponseError } from '../cluster/node-api.js';
import type { TopologyService } from '../cluster/topology.js';
import type { IndexStateService } from '../state/index-state.js';
import { every, type Periodic } from '../util/periodic.js';
import { provisionIndex } from './provision.js';
import type { Logger } from '../observability/logger.js';
import type { Metrics } from '../observability/metrics.js';
import { JobLostError, ShardMover, settle, shardCounts, type MoveCursor, type MoveJobPayload } from './shard-mover.js';

export const SHARD_MOVE = 'shard_move';
export const LEASE_SCOPE = 'rebalance';
const RECENT_KEPT = 10;
/** Jobs of cancelled changes are looked for this often (their runners already stop at their next progress report). */
const SWEEP_EVERY_MS = 10_000;

export interface RebalancerOptions {
  store: Store;
  state: IndexStateService;
  topology: TopologyService;
  logger: Logger | null;
  metrics: Metrics | null;
  maxConcurrentMigrations: number;
  autoRebalanceOnRecovery: boolean;
  migrationTimeoutMs: number;
  leaseTtlMs: number;
  facetingOverfetch: number;
  taskTimeoutMs: number;
  /** How often the leader advances the running change and the job runner looks for work. */
  tickMs?: number;
  /** Time between the cut-over and deleting obsolete copies (every pod adopts the cut-over meanwhile). */
  cleanupGraceMs?: number;
  jobLeaseMs?: number;
  heartbeatMs?: number;
  pageSize?: number;
}

export type OperationRequest = Pick<TopologyOperation, 'kind' | 'node_id' | 'group_id' | 'node'>;

function emptyRecord(): RebalanceRecord {
  return { started_at: null, finished_at: null, last_error: null, recent: [] };
}

function jobPrefix(op: TopologyOperation): string {
  return `${op.id}:`;
}

/** The state change that starts an operation (the node or group enters its transitional state). */
function startChange(t: StoredTopology, op: TopologyOperation): void {
  switch (op.kind) {
    case 'node_add':
    case 'group_add': {
      const n = op.node!;
      if (!t.groups.some((g) => g.id === n.replica_group)) t.groups.push({ id: n.replica_group, state: 'initializing' });
      if (!t.nodes.some((x) => x.id === n.id)) t.nodes.push({ id: n.id, address: n.address, replica_group: n.replica_group, state: 'joining' });
      if (!t.retiredIds.includes(n.id)) t.retiredIds.push(n.id);
      break;
    }
    case 'node_drain':
    case 'node_remove': {
      const n = t.nodes.find((x) => x.id === op.node_id);
      if (n !== undefined && n.state !== 'removed') n.state = 'draining';
      break;
    }
    case 'group_remove': {
      const g = t.groups.find((x) => x.id === op.group_id);
      if (g !== undefined) g.state = 'draining';
      break;
    }
    case 'recovery':
    case 'rebalance':
      break;
  }
}

export class Rebalancer {
  private readonly o: Required<RebalancerOptions>;
  private loops: Periodic[] = [];
  private driving: Promise<void> | null = null;
  private claiming = false;
  private stopped = false;
  private readonly running = new Map<string, Promise<void>>();
  /** job id → earliest time a failed job is queued again. */
  private readonly retryAt = new Map<string, number>();
  /** job id → times the final check sent it back. */
  private readonly rechecks = new Map<string, number>();
  private adopted = false;
  private lastSweep = 0;
  private leader = false;
  /** This pod's id (leases and job claims); set before `start`. */
  podId = '';
  /** Mode B: whether this pod holds the `rebalance` lease (a LeaseKeeper's view); null → acquire it on each tick. */
  leadership: (() => boolean) | null = null;

  constructor(opts: RebalancerOptions) {
    this.o = { tickMs: 250, cleanupGraceMs: 2000, jobLeaseMs: 30_000, heartbeatMs: 10_000, pageSize: 1000, ...opts };
  }

  get isLeader(): boolean {
    return this.leader;
  }

  start(): void {
    const onError = (err: unknown) => this.o.logger?.warn({ err }, 'rebalancer tick failed');
    this.loops = [every(this.o.tickMs, () => this.leaderTick(), { firstAfterMs: 0, onError }), every(this.o.tickMs, () => this.workerTick(), { firstAfterMs: 0, onError })];
  }

  async stop(): Promise<void> {
    this.stopped = true;
    await Promise.all(this.loops.map((l) => l.stop()));
    await this.driving;
    await Promise.allSettled(this.running.values());
    if (this.leader && this.leadership === null) await this.o.store.releaseLease(LEASE_SCOPE, this.podId).catch(() => undefined);
    this.leader = false;
  }

  // ---------------------------------------------------------------- submitting changes (admin API)

  /**
   * Queues a change. `make` runs on the latest stored topology inside the compare-and-set, so conflicting requests
   * made through different pods cannot both pass; it throws to refuse, or returns an already queued operation to
   * answer with instead of a new request.
   */
  async submit(make: (t: StoredTopology) => OperationRequest | TopologyOperation): Promise<TopologyOperation> {
    let result: TopologyOperation | null = null;
    await this.o.topology.update((t) => {
      const req = make(t);
      if ('id' in req) {
        result = req;
        return null;
      }
      const op: TopologyOperation = { id: `op-${Date.now().toString(36)}-${randomUUID().slice(0, 8)}`, ...req, phase: 'queued', created_at: new Date().toISOString(), error: null };
      t.operations = [...(t.operations ?? []), op];
      result = op;
      return t;
    });
    const op = result! as TopologyOperation;
    this.o.logger?.info({ op: op.id, kind: op.kind, node_id: op.node_id, group_id: op.group_id }, 'topology change queued');
    this.kick();
    return op;
  }

  /**
   * Cancels the addition of a node that is queued or still joining (e.g. it never became healthy): the node is
   * removed (its id stays used), an initializing group left without nodes disappears, and the shard moves of the
   * change are dropped. Returns the cancelled operation, or null when no addition of that node is pending.
   */
  async cancelAddition(nodeId: string): Promise<TopologyOperation | null> {
    let cancelled: TopologyOperation | null = null;
    await this.o.topology.update((t) => {
      const ops = t.operations ?? [];
      const i = ops.findIndex((o) => (o.kind === 'node_add' || o.kind === 'group_add') && o.node?.id === nodeId);
      if (i < 0) return null;
      const op = ops[i]!;
      const node = t.nodes.find((n) => n.id === nodeId);
      if (node !== undefined) {
        if (node.state !== 'joining') return null; // already cut over: an ordinary removal
        node.state = 'removed';
        const group = t.groups.find((g) => g.id === node.replica_group);
        if (group?.state === 'initializing' && !t.nodes.some((n) => n.replica_group === group.id && n.state !== 'removed')) t.groups = t.groups.filter((g) => g !== group);
      }
      if (!t.retiredIds.includes(nodeId)) t.retiredIds.push(nodeId);
      const now = new Date().toISOString();
      cancelled = { ...op, phase: 'failed', finished_at: now, error: `cancelled by DELETE /_miroir/nodes/${nodeId}` };
      delete cancelled.plan;
      t.operations = ops.filter((_, j) => j !== i);
      const rec = t.rebalance ?? emptyRecord();
      t.rebalance = { ...rec, recent: [...rec.recent, cancelled].slice(-RECENT_KEPT), finished_at: t.operations.length === 0 ? now : rec.finished_at };
      return t;
    });
    if (cancelled !== null) {
      this.o.logger?.warn({ node_id: nodeId }, 'node addition cancelled');
      this.kick();
    }
    return cancelled;
  }

  /**
   * `DELETE /_miroir/nodes/{id}?force=true`: the node's data is given up (it is dead for good). It is flagged catching
   * up, so it is never a copy source; a drain of it that is already copying is planned again without it (shards
   * with no other copy are dropped — their documents are lost — instead of waiting for the node forever).
   */
  async forgetNodeData(nodeId: string): Promise<void> {
    let replanned: TopologyOperation | null = null;
    await this.o.topology.update((t) => {
      const node = t.nodes.find((n) => n.id === nodeId && n.state !== 'removed');
      if (node === undefined) return null;
      node.catching_up = true;
      const cur = t.operations?.[0];
      if (cur !== undefined && (cur.kind === 'node_drain' || cur.kind === 'node_remove') && cur.node_id === nodeId && cur.phase === 'copying') {
        cur.phase = 'provisioning';
        delete cur.plan;
        replanned = cur;
      }
      return t;
    });
    if (replanned !== null) {
      for (const j of await this.o.store.listJobs()) if (j.id.startsWith(jobPrefix(replanned))) await this.o.store.deleteJob(j.id);
    }
    this.o.logger?.warn({ node_id: nodeId }, 'node data given up (forced removal)');
    this.kick();
  }

  /** Advances the running change soon (instead of at the next tick). */
  private kick(): void {
    if (!this.stopped) setImmediate(() => void this.leaderTick().catch(() => undefined));
  }

  // ---------------------------------------------------------------- status

  async status(): Promise<Record<string, unknown>> {
    const t = await this.o.topology.refresh();
    const jobs = await this.o.store.listJobs();
    const rec = t.rebalance ?? emptyRecord();
    const ops = t.operations ?? [];
    return {
      in_progress: ops.length > 0,
      started_at: rec.started_at,
      finished_at: ops.length > 0 ? null : rec.finished_at,
      operations: [...rec.recent, ...ops].map((op) => this.operationView(op, jobs)),
      last_error: rec.last_error,
    };
  }

  operationView(op: TopologyOperation, jobs: readonly Job[]): Record<string, unknown> {
    const mine = jobs.filter((j) => j.id.startsWith(jobPrefix(op)));
    const live = op.phase !== 'done' && op.phase !== 'cleanup';
    const view: Record<string, unknown> = { id: op.id, kind: op.kind };
    if (op.node_id !== undefined) view.node_id = op.node_id;
    if (op.group_id !== undefined) view.group_id = op.group_id;
    view.shards_total = op.plan?.length ?? op.shards_total ?? 0;
    view.shards_done = live ? mine.filter((j) => j.state === 'completed').length : (op.shards_done ?? 0);
    view.documents_copied = live ? mine.reduce((n, j) => n + ((j.cursor as MoveCursor | null)?.copied ?? 0), 0) : (op.documents_copied ?? 0);
    view.phase = op.phase;
    if (live) {
      // The moves not finished yet, for an operator looking at a slow or stuck change: who runs them, how far, why not.
      view.moves_pending = mine
        .filter((j) => j.state !== 'completed')
        .sort((a, b) => (a.payload as MoveJobPayload).shard - (b.payload as MoveJobPayload).shard)
        .map((j) => ({ shard: (j.payload as MoveJobPayload).shard, state: j.state, owner: j.owner, attempts: j.attempts, documents_copied: (j.cursor as MoveCursor | null)?.copied ?? 0, ...(j.error === null ? {} : { error: j.error }) }));
    }
    view.created_at = op.created_at;
    if (op.started_at !== undefined) view.started_at = op.started_at;
    if (op.finished_at !== undefined) view.finished_at = op.finished_at;
    if (op.error) view.error = op.error;
    return view;
  }

  // ---------------------------------------------------------------- leader (Mode B)

  private leaderTick(): Promise<void> {
    if (this.driving !== null) return this.driving;
    this.driving = this.drive().finally(() => {
      this.driving = null;
    });
    return this.driving;
  }

  private async drive(): Promise<void> {
    if (this.stopped) return;
    this.leader = this.leadership !== null ? this.leadership() : await this.o.store.acquireLease(LEASE_SCOPE, this.podId, this.o.leaseTtlMs);
    if (!this.leader) return;
    let t = await this.o.topology.refresh();
    if (this.o.autoRebalanceOnRecovery && (t.operations ?? []).length === 0) {
      const back = t.nodes.find((n) => n.catching_up === true && n.state !== 'removed' && this.o.topology.health.isHealthy(n.id));
      if (back !== undefined) {
        await this.submit((cur) => ((cur.operations ?? []).length > 0 ? cur.operations![0]! : { kind: 'recovery', node_id: back.id }));
        t = this.o.topology.current;
      }
    }
    if (Date.now() - this.lastSweep >= SWEEP_EVERY_MS) {
      this.lastSweep = Date.now();
      await this.sweepOrphanJobs(t);
    }
    // Several phases may complete in one tick; stop when one has to wait.
    for (let step = 0; step < 8 && !this.stopped; step++) {
      const op = this.o.topology.current.operations?.[0];
      if (op === undefined) return;
      const before = op.phase;
      try {
        await this.advance(op);
      } catch (err) {
        const message = err instanceof Error ? err.message : String(err);
        this.o.logger?.warn({ op: op.id, phase: op.phase, err: message }, 'topology change step failed; retrying');
        await this.recordError(message);
        return;
      }
      const after = this.o.topology.current.operations?.[0];
      if (after?.id === op.id && after.phase === before) return;
    }
  }

  /** Deletes shard moves of changes that no longer exist (cancelled), once nobody runs them. */
  private async sweepOrphanJobs(t: StoredTopology): Promise<void> {
    const live = new Set((t.operations ?? []).map((o) => o.id));
    const now = Date.now();
    for (const j of await this.o.store.listJobs()) {
      if (j.type !== SHARD_MOVE || live.has((j.payload as MoveJobPayload).op)) continue;
      if (j.state !== 'in_progress' || (j.leaseExpiresAt ?? 0) <= now) await this.o.store.deleteJob(j.id);
    }
  }

  /** Changes the running operation (and the rebalance record) in the stored topology, if it is still `op`. */
  private async updateOp(op: TopologyOperation, change: (t: StoredTopology, cur: TopologyOperation) => void): Promise<void> {
    await this.o.topology.update((t) => {
      const cur = t.operations?.[0];
      if (cur === undefined || cur.id !== op.id || cur.phase !== op.phase) return null;
      t.rebalance ??= emptyRecord();
      change(t, cur);
      return t;
    });
  }

  private async recordError(message: string): Promise<void> {
    await this.o.topology.update((t) => {
      if (t.rebalance?.last_error === message) return null;
      t.rebalance = { ...(t.rebalance ?? emptyRecord()), last_error: message };
      return t;
    });
  }

  private async advance(op: TopologyOperation): Promise<void> {
    const now = Date.now();
    switch (op.phase) {
      case 'queued':
        await this.updateOp(op, (t, cur) => {
          startChange(t, cur);
          cur.phase = 'provisioning';
          cur.started_at = new Date(now).toISOString();
          t.rebalance = { ...t.rebalance!, started_at: cur.started_at, finished_at: null };
        });
        this.o.logger?.info({ op: op.id, kind: op.kind }, 'topology change started');
        return;
      case 'provisioning': {
        const t = this.o.topology.current;
        const catchUp = t.nodes.filter((n) => n.catching_up === true && n.state !== 'removed' && this.o.topology.health.isHealthy(n.id)).map((n) => n.id);
        const plan = planMoves(t, catchUp);
        await this.provision([...new Set(plan.flatMap((m) => m.copies.map((c) => c.target)))]);
        await this.updateOp(op, (_t, cur) => {
          cur.plan = plan;
          cur.catch_up_nodes = catchUp;
          cur.phase = 'copying';
        });
        this.o.logger?.info({ op: op.id, shards: plan.length, catch_up: catchUp }, 'topology change planned');
        return;
      }
      case 'copying':
        return this.copying(op, now);
      case 'cutover': {
        const jobs = (await this.o.store.listJobs()).filter((j) => j.id.startsWith(jobPrefix(op)));
        await this.updateOp(op, (t, cur) => {
          const next = cutover(t, cur.catch_up_nodes ?? []);
          cur.deletes = obsoleteCopies(t, next);
          cur.shards_total = (cur.plan ?? []).length;
          cur.shards_done = jobs.filter((j) => j.state === 'completed').length;
          cur.documents_copied = jobs.reduce((n, j) => n + ((j.cursor as MoveCursor | null)?.copied ?? 0), 0);
          cur.cleanup_after = now + this.o.cleanupGraceMs;
          cur.phase = 'cleanup';
          t.groups = next.groups;
          t.nodes = next.nodes;
        });
        this.o.logger?.info({ op: op.id }, 'topology change cut over');
        return;
      }
      case 'cleanup': {
        if (now < (op.cleanup_after ?? 0)) return;
        await this.deleteObsolete(op);
        for (const j of await this.o.store.listJobs()) if (j.id.startsWith(jobPrefix(op))) await this.o.store.deleteJob(j.id);
        const finishedAt = new Date().toISOString();
        await this.updateOp(op, (t, cur) => {
          t.operations = t.operations!.slice(1);
          const done: TopologyOperation = { ...cur, phase: 'done', finished_at: finishedAt };
          delete done.plan;
          delete done.deletes;
          t.rebalance = { ...t.rebalance!, recent: [...t.rebalance!.recent, done].slice(-RECENT_KEPT), finished_at: t.operations.length === 0 ? finishedAt : t.rebalance!.finished_at, last_error: null };
        });
        const seconds = (Date.parse(finishedAt) - Date.parse(op.started_at ?? finishedAt)) / 1000;
        this.o.metrics?.rebalanceDuration.labels(op.kind).observe(seconds);
        this.o.logger?.info({ op: op.id, kind: op.kind, seconds }, 'topology change finished');
        return;
      }
      default:
        return;
    }
  }

  /** Keeps at most `max_concurrent_migrations` jobs queued or running; requeues failed ones; cuts over when all done. */
  private async copying(op: TopologyOperation, now: number): Promise<void> {
    const plan = op.plan ?? [];
    const jobs = new Map((await this.o.store.listJobs()).filter((j) => j.id.startsWith(jobPrefix(op))).map((j) => [j.id, j]));
    let active = 0;
    for (const j of jobs.values()) {
      if (j.state === 'queued') active++;
      else if (j.state === 'in_progress') {
        if (now - j.createdAt > this.o.migrationTimeoutMs && j.leaseExpiresAt !== null && j.leaseExpiresAt > now) {
          this.o.logger?.warn({ job: j.id }, 'shard move exceeded rebalancer.migration_timeout_s; it keeps running and is watched');
        }
        active++;
      } else if (j.state === 'failed') {
        await this.recordError(`shard move ${j.id}: ${j.error ?? 'failed'}`);
        const at = this.retryAt.get(j.id);
        if (at === undefined) this.retryAt.set(j.id, now + Math.min(30_000, 500 * 2 ** Math.min(j.attempts, 6)));
        else if (now >= at) {
          this.retryAt.delete(j.id);
          const payload = j.payload as MoveJobPayload;
          await this.o.store.deleteJob(j.id);
          jobs.set(j.id, await this.o.store.enqueueJob({ id: j.id, type: SHARD_MOVE, payload: { ...payload, resume: j.cursor } }));
          active++;
        }
      }
    }
    for (const move of plan) {
      if (active >= this.o.maxConcurrentMigrations) break;
      const id = `${op.id}:${move.shard}`;
      if (jobs.has(id)) continue;
      const payload: MoveJobPayload = { op: op.id, shard: move.shard, copies: move.copies };
      jobs.set(id, await this.o.store.enqueueJob({ id, type: SHARD_MOVE, payload }));
      active++;
    }
    const done = plan.every((m) => jobs.get(`${op.id}:${m.shard}`)?.state === 'completed');
    if (!done) return;
    // Final check before the cut-over: a target that restarted empty after some of its moves finished would
    // otherwise go live without them. Shards whose counts differ twice in a row are moved again (at most 3 times).
    const differing = await this.finalCheck(plan);
    const redo = differing.filter((s) => (this.rechecks.get(`${op.id}:${s}`) ?? 0) < 3);
    if (redo.length === 0) {
      if (differing.length > 0) this.o.logger?.warn({ op: op.id, shards: differing }, 'shard counts still differ after 3 re-copies; cutting over');
      await this.updateOp(op, (_t, cur) => void (cur.phase = 'cutover'));
      return;
    }
    await this.recordError(`shards ${redo.join(', ')} differed from their sources at the final check; copying them again`);
    for (const s of redo) {
      const id = `${op.id}:${s}`;
      this.rechecks.set(id, (this.rechecks.get(id) ?? 0) + 1);
      const payload = jobs.get(id)!.payload as MoveJobPayload;
      await this.o.store.deleteJob(id);
      await this.o.store.enqueueJob({ id, type: SHARD_MOVE, payload: { op: payload.op, shard: payload.shard, copies: payload.copies } });
    }
  }

  /** Shards of the plan whose document count differs between a target and its source in two rounds. */
  private async finalCheck(plan: readonly ShardMove[]): Promise<number[]> {
    const t = this.o.topology;
    const indexes = await this.o.state.list();
    const pairs = new Map<string, { target: string; source: string; shards: number[] }>();
    for (const m of plan) {
      for (const c of m.copies) {
        const source = c.sources.find((id) => t.routing.canRead(id) && t.client(id) !== undefined);
        if (source === undefined || t.client(c.target) === undefined) continue;
        const key = `${c.target}<${source}`;
        const pair = pairs.get(key) ?? { target: c.target, source, shards: [] };
        pair.shards.push(m.shard);
        pairs.set(key, pair);
      }
    }
    const round = async (): Promise<Set<number>> => {
      const bad = new Set<number>();
      for (const { target, source, shards } of pairs.values()) {
        const [a, b] = [t.client(target)!, t.client(source)!];
        await Promise.all([settle(a, this.o.taskTimeoutMs), settle(b, this.o.taskTimeoutMs)]);
        for (const index of indexes) {
          const [got, want] = await Promise.all([shardCounts(a, index.uid), shardCounts(b, index.uid)]);
          if (want === null) continue;
          for (const s of shards) if ((got?.get(s) ?? 0) !== (want.get(s) ?? 0)) bad.add(s);
        }
      }
      return bad;
    };
    const first = await round();
    if (first.size === 0) return [];
    const second = await round();
    return [...first].filter((s) => second.has(s)).sort((a, b) => a - b);
  }

  /** Creates every index (with its primary key and physical settings) on the nodes about to receive shards. */
  private async provision(nodeIds: readonly string[]): Promise<void> {
    const indexes = await this.o.state.records();
    for (const id of nodeIds) {
      const client = this.o.topology.client(id);
      if (client === undefined) throw new MeiliError('internal', `node ${id} is not in the topology`);
      for (const index of indexes) await provisionIndex(client, index.uid, { state: this.o.state, facetingOverfetch: this.o.facetingOverfetch, taskTimeoutMs: this.o.taskTimeoutMs });
    }
  }

  /** Deletes the shards nodes no longer own (for every index); a node that is gone is skipped. */
  private async deleteObsolete(op: TopologyOperation): Promise<void> {
    const indexes = await this.o.state.records();
    const t = this.o.topology.current;
    for (const [id, shards] of Object.entries(op.deletes ?? {})) {
      const node = t.nodes.find((n) => n.id === id);
      if (node === undefined) continue;
      const own = this.o.topology.client(id);
      const client = own ?? this.o.topology.newClient(id, node.address);
      try {
        for (const index of indexes) {
          await client.deleteByFilter(index.uid, shardInClause(shards), 'shard_delete').catch((err: unknown) => {
            if (err instanceof NodeResponseError && err.code === 'index_not_found') return;
            this.o.logger?.warn({ op: op.id, node_id: id, index: index.uid, err: String(err) }, 'deleting an obsolete shard copy failed; left in place');
          });
        }
      } finally {
        if (own === undefined) await client.close();
      }
    }
  }

  // ---------------------------------------------------------------- job runner (Mode C)

  private async workerTick(): Promise<void> {
    if (this.claiming || this.stopped) return;
    this.claiming = true;
    try {
      if (!this.adopted) {
        await this.adoptOrphans();
        this.adopted = true;
      }
      while (this.running.size < this.o.maxConcurrentMigrations && !this.stopped) {
        const job = await this.o.store.claimJob(this.podId, this.o.jobLeaseMs, [SHARD_MOVE]);
        if (job === null) break;
        this.runJob(job);
      }
    } finally {
      this.claiming = false;
    }
  }

  /** Jobs this pod id held before a restart resume at once instead of waiting for their claim to lapse (only a
   * previous process under the same id can have left them, so this runs once). */
  private async adoptOrphans(): Promise<void> {
    for (const j of await this.o.store.listJobs()) {
      if (j.type !== SHARD_MOVE || j.state !== 'in_progress' || j.owner !== this.podId || this.running.has(j.id)) continue;
      if (await this.o.store.heartbeatJob(j.id, this.podId, this.o.jobLeaseMs)) this.runJob(j);
    }
  }

  private runJob(job: Job): void {
    const run = this.execute(job).finally(() => this.running.delete(job.id));
    this.running.set(job.id, run);
  }

  private async execute(job: Job): Promise<void> {
    const { store, jobLeaseMs } = this.o;
    const podId = this.podId;
    const payload = job.payload as MoveJobPayload & { resume?: MoveCursor | null };
    const op = this.o.topology.current.operations?.find((o) => o.id === payload.op) ?? (await this.o.topology.refresh()).operations?.find((o) => o.id === payload.op);
    if (op === undefined) {
      await store.completeJob(job.id, podId);
      return;
    }
    let latest: MoveCursor | null = (job.cursor as MoveCursor | null) ?? payload.resume ?? null;
    const beat = every(this.o.heartbeatMs, () => store.heartbeatJob(job.id, podId, jobLeaseMs, latest ?? undefined), { onError: () => undefined });
    const mover = new ShardMover({
      state: this.o.state,
      topology: this.o.topology,
      facetingOverfetch: this.o.facetingOverfetch,
      pageSize: this.o.pageSize,
      verifyRounds: 10,
      taskTimeoutMs: this.o.taskTimeoutMs,
      progress: async (cursor) => {
        latest = cursor;
        const held = await store.heartbeatJob(job.id, podId, jobLeaseMs, cursor);
        // Stopping: the cursor is saved; this pod (after a restart) or another resumes. A cancelled change: drop it.
        return held && !this.stopped && (this.o.topology.current.operations ?? []).some((o) => o.id === payload.op);
      },
      onCopied: (n) => this.o.metrics?.rebalanceDocumentsMigrated.inc(n),
    });
    try {
      const final = await mover.run(payload, latest);
      await store.heartbeatJob(job.id, podId, jobLeaseMs, final);
      await store.completeJob(job.id, podId);
    } catch (err) {
      if (err instanceof JobLostError || this.stopped) return;
      const message = err instanceof Error ? err.message : String(err);
      this.o.logger?.warn({ job: job.id, err: message }, 'shard move failed; it will be retried');
      await store.failJob(job.id, podId, message).catch(() => undefined);
    } finally {
      await beat.stop();
    }
  }
}
