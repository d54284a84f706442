// The task uids this process allocated and may still record, and the clean-up of those it never will. A uid waits in
// its settlement queues from allocation on; while its owner is alive no pod skips it, so a uid whose allocation
// reply or release was lost to a store outage (a Redis failover) would hold back every later task of its queues.
// After such a failure this process sweeps: its own queued uids that have no record and that no allocation or
// sending of this process can still produce are dequeued.
import type { Logger } from '../observability/logger.js';
import type { Store } from '../../store/store.js';

export class UnrecordedUids {
  /** Allocations awaiting their uid, by serial. */
  private readonly pending = new Map<number, Promise<unknown>>();
  private serial = 0;
  /** Uids allocated and not yet recorded or given up. */
  private readonly sending = new Set<number>();
  private dirty = false;
  private timer: NodeJS.Timeout | null = null;
  private sweeping: Promise<void> | null = null;

  constructor(
    private readonly store: Store,
    private readonly incarnation: string,
    private readonly logger: Logger | null,
    private readonly sweepEveryMs = 1000,
  ) {}

  /** Runs an allocation, tracking it until its uid is known (then the uid counts as being sent). */
  async allocate(run: () => Promise<number>): Promise<number> {
    const serial = ++this.serial;
    const p = run();
    this.pending.set(serial, p);
    try {
      const uid = await p;
      this.sending.add(uid);
      return uid;
    } catch (err) {
      this.failed();
      throw err;
    } finally {
      this.pending.delete(serial);
    }
  }

  /** The uid is recorded or given up: this process will not record it (any more). */
  done(uid: number): void {
    this.sending.delete(uid);
  }

  /** A store call about a uid failed: its queue entry may be left behind, so sweep soon. */
  failed(): void {
    this.dirty = true;
    if (this.timer === null) {
      this.timer = setInterval(() => {
        if (this.dirty && this.sweeping === null)
          this.sweeping = this.sweep()
            .then(() => undefined)
            .catch((err: unknown) => {
              this.dirty = true; // again on the next tick
              this.logger?.warn({ err }, 'sweeping unrecorded task uids failed');
            })
            .finally(() => (this.sweeping = null));
      }, this.sweepEveryMs);
      this.timer.unref();
    }
  }

  /** Dequeues this process's queued uids without a record that nothing here can still record; how many. */
  async sweep(): Promise<number> {
    this.dirty = false;
    const before = [...this.pending.values()];
    const candidates: Array<{ queue: string; uid: number }> = [];
    for (const queue of await this.store.activeQueues())
      for (const uid of await this.store.queuedTasks(queue))
        if (!this.sending.has(uid) && (await this.store.taskOwner(uid)) === this.incarnation)
          candidates.push({ queue, uid });
    // An allocation pending now may return one of the candidates; one started later cannot.
    await Promise.allSettled(before);
    let swept = 0;
    for (const { queue, uid } of candidates) {
      if (this.sending.has(uid) || (await this.store.getTask(uid)) !== null) continue;
      await this.store.dequeueTask([queue], uid);
      swept++;
      this.logger?.warn(
        { task_uid: uid, queue },
        'a task uid allocated during a store outage was never recorded; skipped',
      );
    }
    return swept;
  }

  stop(): void {
    if (this.timer !== null) clearInterval(this.timer);
    this.timer = null;
  }
}
