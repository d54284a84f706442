// Drives the running topology change (SPEC C11, H2 Mode B), on the holder of the `rebalance` lease only, through
// persisted phases, so a new leader (or the same pod after a restart) resumes where the last one stopped:
//   queued → provisioning (the change enters the topology: dual-writes start; indexes and physical settings are
//   created on new owners) → copying (one `shard_move` job per shard, at most `max_concurrent_migrations` queued or
//   running cluster-wide) → cutover (reads and writes move to the new owners) → cleanup (after a grace period the
//   obsolete copies are deleted) → done.
// A node flagged `catching_up` that is healthy again gets a `recovery` change (rebalancer.auto_rebalance_on_recovery).
import { MeiliError } from '../../core/errors.js';
import { shardInClause } from '../../core/shard-filter.js';
import { cutover, obsoleteCopies, planMoves, type ShardMove } from '../../core/topology-plan.js';
import type { StoredTopology, TopologyOperation } from '../../store/store.js';
import { NodeResponseError } from '../cluster/node-api.js';
import type { ChangeQueue } from './change-queue.js';
import {
  emptyRecord,
  jobPrefix,
  LEASE_SCOPE,
  movedDocuments,
  movePayload,
  RECENT_KEPT,
  SHARD_MOVE,
  startChange,
  type RebalancerOptions,
} from './changes.js';
import { provisionIndex } from './provision.js';
import { settle, shardCounts, type MoveJobPayload } from './shard-mover.js';

/** Jobs of cancelled changes are looked for this often (their runners already stop at their next progress report). */
const SWEEP_EVERY_MS = 10_000;

export class ChangeDriver {
  private driving: Promise<void> | null = null;
  /** job id → earliest time a failed job is queued again. */
  private readonly retryAt = new Map<string, number>();
  /** job id → times the final check sent it back. */
  private readonly rechecks = new Map<string, number>();
  private lastSweep = 0;
  leader = false;
  stopped = false;
  /** This pod's id (the lease owner when no lease keeper decides); set before the first tick. */
  podId = '';
  /** Mode B: whether this pod holds the `rebalance` lease (a LeaseKeeper's view); null → acquire it on each tick. */
  leadership: (() => boolean) | null = null;

  constructor(
    private readonly o: Required<RebalancerOptions>,
    private readonly queue: ChangeQueue,
  ) {}

  /** Waits for the tick in progress. */
  async idle(): Promise<void> {
    await this.driving;
  }

  tick(): Promise<void> {
    if (this.driving !== null) return this.driving;
    this.driving = this.drive().finally(() => {
      this.driving = null;
    });
    return this.driving;
  }

  private async drive(): Promise<void> {
    if (this.stopped) return;
    this.leader =
      this.leadership !== null
        ? this.leadership()
        : await this.o.store.acquireLease(LEASE_SCOPE, this.podId, this.o.leaseTtlMs);
    if (!this.leader) return;
    let t = await this.o.topology.refresh();
    if (this.o.autoRebalanceOnRecovery && (t.operations ?? []).length === 0) {
      const back = t.nodes.find(
        (n) => n.catching_up === true && n.state !== 'removed' && this.o.topology.health.isHealthy(n.id),
      );
      if (back !== undefined) {
        await this.queue.submit((cur) =>
          (cur.operations ?? []).length > 0 ? cur.operations![0]! : { kind: 'recovery', node_id: back.id },
        );
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
      if (j.type !== SHARD_MOVE || live.has(movePayload(j).op)) continue;
      if (j.state !== 'in_progress' || (j.leaseExpiresAt ?? 0) <= now) await this.o.store.deleteJob(j.id);
    }
  }

  /**
   * The shard ids a change must move: every index's own count (a resharded index has more shards than the cluster
   * default). A shard's owners do not depend on the count, so one plan over the largest covers every index; an index
   * with fewer shards simply has nothing under the ids beyond its count.
   */
  private async shardSpan(clusterShards: number): Promise<number> {
    let span = clusterShards;
    for (const r of await this.o.store.listIndexes()) span = Math.max(span, r.shards);
    return span;
  }

  /** Changes the running operation (and the rebalance record) in the stored topology, if it is still `op`. */
  private async updateOp(
    op: TopologyOperation,
    change: (t: StoredTopology, cur: TopologyOperation) => void,
  ): Promise<void> {
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
        const catchUp = t.nodes
          .filter((n) => n.catching_up === true && n.state !== 'removed' && this.o.topology.health.isHealthy(n.id))
          .map((n) => n.id);
        const plan = planMoves({ ...t, shards: await this.shardSpan(t.shards) }, catchUp);
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
        const span = await this.shardSpan(this.o.topology.current.shards);
        await this.updateOp(op, (t, cur) => {
          const next = cutover(t, cur.catch_up_nodes ?? []);
          cur.deletes = obsoleteCopies({ ...t, shards: span }, { ...next, shards: span });
          cur.shards_total = (cur.plan ?? []).length;
          cur.shards_done = jobs.filter((j) => j.state === 'completed').length;
          cur.documents_copied = jobs.reduce((n, j) => n + movedDocuments(j), 0);
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
        for (const j of await this.o.store.listJobs())
          if (j.id.startsWith(jobPrefix(op))) await this.o.store.deleteJob(j.id);
        const finishedAt = new Date().toISOString();
        await this.updateOp(op, (t, cur) => {
          t.operations = t.operations!.slice(1);
          const done: TopologyOperation = { ...cur, phase: 'done', finished_at: finishedAt };
          delete done.plan;
          delete done.deletes;
          t.rebalance = {
            ...t.rebalance!,
            recent: [...t.rebalance!.recent, done].slice(-RECENT_KEPT),
            finished_at: t.operations.length === 0 ? finishedAt : t.rebalance!.finished_at,
            last_error: null,
          };
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
    const jobs = new Map(
      (await this.o.store.listJobs()).filter((j) => j.id.startsWith(jobPrefix(op))).map((j) => [j.id, j]),
    );
    let active = 0;
    for (const j of jobs.values()) {
      if (j.state === 'queued') active++;
      else if (j.state === 'in_progress') active++;
      else if (j.state === 'failed') {
        await this.recordError(`shard move ${j.id}: ${j.error ?? 'failed'}`);
        const at = this.retryAt.get(j.id);
        if (at === undefined) this.retryAt.set(j.id, now + Math.min(30_000, 500 * 2 ** Math.min(j.attempts, 6)));
        else if (now >= at) {
          this.retryAt.delete(j.id);
          const payload = movePayload(j);
          await this.o.store.deleteJob(j.id);
          jobs.set(
            j.id,
            await this.o.store.enqueueJob({ id: j.id, type: SHARD_MOVE, payload: { ...payload, resume: j.cursor } }),
          );
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
      if (differing.length > 0)
        this.o.logger?.warn(
          { op: op.id, shards: differing },
          'shard counts still differ after 3 re-copies; cutting over',
        );
      await this.updateOp(op, (_t, cur) => void (cur.phase = 'cutover'));
      return;
    }
    await this.recordError(
      `shards ${redo.join(', ')} differed from their sources at the final check; copying them again`,
    );
    for (const s of redo) {
      const id = `${op.id}:${s}`;
      this.rechecks.set(id, (this.rechecks.get(id) ?? 0) + 1);
      const payload = movePayload(jobs.get(id)!);
      await this.o.store.deleteJob(id);
      await this.o.store.enqueueJob({
        id,
        type: SHARD_MOVE,
        payload: { op: payload.op, shard: payload.shard, copies: payload.copies },
      });
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
      for (const index of indexes)
        await provisionIndex(client, index.uid, {
          state: this.o.state,
          facetingOverfetch: this.o.facetingOverfetch,
          taskTimeoutMs: this.o.taskTimeoutMs,
        });
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
            this.o.logger?.warn(
              { op: op.id, node_id: id, index: index.uid, err: String(err) },
              'deleting an obsolete shard copy failed; left in place',
            );
          });
        }
      } finally {
        if (own === undefined) await client.close();
      }
    }
  }
}
