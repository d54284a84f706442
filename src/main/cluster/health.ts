// Node health: polls every node's GET /health each `health.interval_ms` (deadline `health.timeout_ms`); a node turns
// unhealthy after `unhealthy_threshold` consecutive failures and healthy after `recovery_threshold` successes.
// `probeAll()` runs once before the proxy listens and sets each node's health from that single probe.
import type { Logger } from '../observability/logger.js';
import type { Metrics } from '../observability/metrics.js';
import { every, type Periodic } from '../util/periodic.js';
import type { NodeApi } from './node-api.js';

export type Health = 'healthy' | 'unhealthy';

export interface NodeHealth {
  health: Health;
  /** Wall-clock ms of the last successful probe, or null if never seen. */
  lastSeenAt: number | null;
  error: string | null;
  consecutiveFailures: number;
  consecutiveSuccesses: number;
}

export interface HealthCheckerOptions {
  intervalMs: number;
  timeoutMs: number;
  unhealthyThreshold: number;
  recoveryThreshold: number;
  /** The nodes to probe, read at every round (topology may change). */
  clients: () => Iterable<NodeApi>;
  onChange?: (nodeId: string, health: Health, previous: Health) => void;
  metrics?: Metrics | null;
  logger?: Logger | null;
  now?: () => number;
}

export class HealthChecker {
  private readonly states = new Map<string, NodeHealth>();
  private loop: Periodic | null = null;
  private readonly opts: HealthCheckerOptions;

  constructor(opts: HealthCheckerOptions) {
    this.opts = opts;
  }

  get(nodeId: string): NodeHealth {
    let s = this.states.get(nodeId);
    if (s === undefined) {
      s = {
        health: 'unhealthy',
        lastSeenAt: null,
        error: 'not probed yet',
        consecutiveFailures: 0,
        consecutiveSuccesses: 0,
      };
      this.states.set(nodeId, s);
    }
    return s;
  }

  isHealthy(nodeId: string): boolean {
    return this.get(nodeId).health === 'healthy';
  }

  /** One probe per node; health is set from it directly (start-up, before listening). */
  async probeAll(): Promise<void> {
    await Promise.all([...this.opts.clients()].map((c) => this.probe(c, true)));
  }

  /** One probe of a node that just joined the topology; health is set from it directly, like at start-up. */
  async probeNew(client: NodeApi): Promise<void> {
    await this.probe(client, true);
  }

  start(): void {
    this.loop ??= every(this.opts.intervalMs, () => this.runRound());
  }

  async stop(): Promise<void> {
    await this.loop?.stop();
    this.loop = null;
  }

  /** Forgets a node that left the topology. */
  forget(nodeId: string): void {
    this.states.delete(nodeId);
    this.opts.metrics?.nodeHealthy.remove(nodeId);
  }

  private async runRound(): Promise<void> {
    await Promise.all([...this.opts.clients()].map((c) => this.probe(c, false)));
  }

  private async probe(client: NodeApi, initial: boolean): Promise<void> {
    const state = this.get(client.nodeId);
    const previous = state.health;
    let ok: boolean;
    let error: string | null;
    try {
      ({ ok, error } = await client.health(this.opts.timeoutMs));
    } catch (err) {
      ok = false;
      error = String(err);
    }
    const now = (this.opts.now ?? Date.now)();
    if (ok) {
      state.lastSeenAt = now;
      state.error = null;
      state.consecutiveFailures = 0;
      state.consecutiveSuccesses++;
      if (initial || (previous === 'unhealthy' && state.consecutiveSuccesses >= this.opts.recoveryThreshold))
        state.health = 'healthy';
    } else {
      state.error = error;
      state.consecutiveSuccesses = 0;
      state.consecutiveFailures++;
      if (initial || (previous === 'healthy' && state.consecutiveFailures >= this.opts.unhealthyThreshold))
        state.health = 'unhealthy';
    }
    this.opts.metrics?.nodeHealthy.labels(client.nodeId).set(state.health === 'healthy' ? 1 : 0);
    if (state.health !== previous) {
      const log = this.opts.logger;
      if (state.health === 'healthy')
        log?.info({ node_id: client.nodeId, health: state.health }, 'node health changed');
      else log?.warn({ node_id: client.nodeId, health: state.health, error: state.error }, 'node health changed');
      this.opts.onChange?.(client.nodeId, state.health, previous);
    }
  }
}
