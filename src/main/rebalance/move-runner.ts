// Runs shard moves (SPEC H2 Mode C): every pod claims `shard_move` jobs (lease 30 s, heartbeat 10 s), at most
// `max_concurrent_migrations` at once, runs each with the shard mover from its saved cursor, and after a restart
// adopts the jobs it held before instead of waiting for their claims to lapse.
import type { Job } from '../../store/store.js';
import { every } from '../util/periodic.js';
import { SHARD_MOVE, type RebalancerOptions } from './changes.js';
import { JobLostError, ShardMover, type MoveCursor, type MoveJobPayload } from './shard-mover.js';

export class MoveRunner {
  private claiming = false;
  private adopted = false;
  private readonly running = new Map<string, Promise<void>>();
  stopped = false;
  /** This pod's id (job claims); set before the first tick. */
  podId = '';

  constructor(private readonly o: Required<RebalancerOptions>) {}

  /** Waits for the moves this pod runs (they stop at their next progress report once stopped). */
  async idle(): Promise<void> {
    await Promise.allSettled(this.running.values());
  }

  async tick(): Promise<void> {
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
      if (j.type !== SHARD_MOVE || j.state !== 'in_progress' || j.owner !== this.podId || this.running.has(j.id))
        continue;
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
    const op =
      this.o.topology.current.operations?.find((o) => o.id === payload.op) ??
      (await this.o.topology.refresh()).operations?.find((o) => o.id === payload.op);
    if (op === undefined) {
      await store.completeJob(job.id, podId);
      return;
    }
    let latest: MoveCursor | null = (job.cursor as MoveCursor | null) ?? payload.resume ?? null;
    // `rebalancer.migration_timeout_s`: a run that goes on longer stops at its next progress report and is failed;
    // the change driver requeues it, and the next run resumes from the saved cursor.
    const deadline = Date.now() + this.o.migrationTimeoutMs;
    let timedOut = false;
    const beat = every(this.o.heartbeatMs, () => store.heartbeatJob(job.id, podId, jobLeaseMs, latest ?? undefined), {
      onError: () => undefined,
    });
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
        if (held && Date.now() > deadline) timedOut = true;
        // Stopping: the cursor is saved; this pod (after a restart) or another resumes. A cancelled change: drop it.
        return (
          held &&
          !timedOut &&
          !this.stopped &&
          (this.o.topology.current.operations ?? []).some((o) => o.id === payload.op)
        );
      },
      onCopied: (n) => this.o.metrics?.rebalanceDocumentsMigrated.inc(n),
      changes: this.o.changes ?? null,
    });
    try {
      const final = await mover.run(payload, latest);
      await store.heartbeatJob(job.id, podId, jobLeaseMs, final);
      await store.completeJob(job.id, podId);
    } catch (err) {
      if (timedOut) {
        const message = `ran past rebalancer.migration_timeout_s (${this.o.migrationTimeoutMs / 1000} s)`;
        this.o.logger?.warn({ job: job.id }, `shard move ${message}; it resumes from its cursor`);
        await store.failJob(job.id, podId, message).catch(() => undefined);
        return;
      }
      if (err instanceof JobLostError || this.stopped) return;
      const message = err instanceof Error ? err.message : String(err);
      this.o.logger?.warn({ job: job.id, err: message }, 'shard move failed; it will be retried');
      await store.failJob(job.id, podId, message).catch(() => undefined);
    } finally {
      await beat.stop();
    }
  }
}
