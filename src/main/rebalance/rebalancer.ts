// The rebalancer (SPEC C11, H2 Modes B and C): topology changes queue in the stored topology (change-queue.ts) and
// run one at a time, driven by the holder of the `rebalance` lease (change-driver.ts); every pod runs the shard
// moves they are made of (move-runner.ts). This class wires the three and owns their loops.
import { every, type Periodic } from '../util/periodic.js';
import { ChangeDriver } from './change-driver.js';
import { ChangeQueue } from './change-queue.js';
import { LEASE_SCOPE, type OperationRequest, type RebalancerOptions } from './changes.js';
import { MoveRunner } from './move-runner.js';
import type { StoredTopology, TopologyOperation } from '../../store/store.js';

export { LEASE_SCOPE, SHARD_MOVE, type OperationRequest, type RebalancerOptions } from './changes.js';

export class Rebalancer {
  private readonly o: Required<RebalancerOptions>;
  private readonly queue: ChangeQueue;
  private readonly driver: ChangeDriver;
  private readonly runner: MoveRunner;
  private loops: Periodic[] = [];
  private stopped = false;

  constructor(opts: RebalancerOptions) {
    this.o = {
      tickMs: 250,
      cleanupGraceMs: 2000,
      jobLeaseMs: 30_000,
      heartbeatMs: 10_000,
      pageSize: 1000,
      changes: null,
      ...opts,
    };
    this.queue = new ChangeQueue(this.o, () => {
      if (!this.stopped) setImmediate(() => void this.driver.tick().catch(() => undefined));
    });
    this.driver = new ChangeDriver(this.o, this.queue);
    this.runner = new MoveRunner(this.o);
  }

  /** This pod's id (leases and job claims); set before `start`. */
  set podId(id: string) {
    this.driver.podId = id;
    this.runner.podId = id;
  }

  get podId(): string {
    return this.driver.podId;
  }

  /** Mode B: whether this pod holds the `rebalance` lease (a LeaseKeeper's view); null → acquire it on each tick. */
  set leadership(fn: (() => boolean) | null) {
    this.driver.leadership = fn;
  }

  get isLeader(): boolean {
    return this.driver.leader;
  }

  start(): void {
    const onError = (err: unknown) => this.o.logger?.warn({ err }, 'rebalancer tick failed');
    this.loops = [
      every(this.o.tickMs, () => this.driver.tick(), { firstAfterMs: 0, onError }),
      every(this.o.tickMs, () => this.runner.tick(), { firstAfterMs: 0, onError }),
    ];
  }

  async stop(): Promise<void> {
    this.stopped = true;
    this.driver.stopped = true;
    this.runner.stopped = true;
    await Promise.all(this.loops.map((l) => l.stop()));
    await this.driver.idle();
    await this.runner.idle();
    if (this.driver.leader && this.driver.leadership === null)
      await this.o.store.releaseLease(LEASE_SCOPE, this.driver.podId).catch(() => undefined);
    this.driver.leader = false;
  }

  submit(make: (t: StoredTopology) => OperationRequest | TopologyOperation): Promise<TopologyOperation> {
    return this.queue.submit(make);
  }

  cancelAddition(nodeId: string): Promise<TopologyOperation | null> {
    return this.queue.cancelAddition(nodeId);
  }

  forgetNodeData(nodeId: string): Promise<void> {
    return this.queue.forgetNodeData(nodeId);
  }

  status(): Promise<Record<string, unknown>> {
    return this.queue.status();
  }
}
