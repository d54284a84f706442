// The traffic shadow's metrics (SPEC A16) on the proxy's one registry: compared reads by kind (`identical` for
// answers that match, which are not listed as diffs), Kendall τ of the common hits, the latency delta (target minus
// client answer), errors by side, reads shed because a target's queue was full, and each target's queue depth.
import { Counter, Gauge, Histogram, type Registry } from 'prom-client';

export function shadowMetrics(registry: Registry, queueDepth: () => Array<{ target: string; depth: number }>) {
  const r = [registry];
  return {
    diffs: new Counter({
      name: 'miroir_shadow_diff_total',
      help: 'Teed reads compared with a shadow target, by target and kind (identical, hits_differ, order_differs, error, latency)',
      labelNames: ['target', 'kind'] as const,
      registers: r,
    }),
    kendallTau: new Histogram({
      name: 'miroir_shadow_kendall_tau',
      help: "Kendall tau of the hits both answers hold (1 = the target ranks them in the client answer's order)",
      labelNames: ['target'] as const,
      buckets: [-0.5, 0, 0.5, 0.8, 0.9, 0.95, 0.99, 1],
      registers: r,
    }),
    latencyDelta: new Histogram({
      name: 'miroir_shadow_latency_delta_seconds',
      help: "The target's latency minus the client answer's, per compared read (negative: the target was faster)",
      labelNames: ['target'] as const,
      buckets: [-1, -0.25, -0.1, -0.025, -0.005, 0, 0.005, 0.025, 0.1, 0.25, 1, 5],
      registers: r,
    }),
    errors: new Counter({
      name: 'miroir_shadow_errors_total',
      help: "Teed reads that failed, by target and side (shadow: the target's error, timeout or unreadable answer; primary: the client answer could not be read)",
      labelNames: ['target', 'side'] as const,
      registers: r,
    }),
    shed: new Counter({
      name: 'miroir_shadow_shed_total',
      help: "Sampled reads not teed because the target's queue was full (the target is slow or down)",
      labelNames: ['target'] as const,
      registers: r,
    }),
    queueDepth: new Gauge({
      name: 'miroir_shadow_queue_depth',
      help: 'Teed reads waiting for or in flight to each shadow target',
      labelNames: ['target'] as const,
      registers: r,
      collect() {
        for (const q of queueDepth()) this.set({ target: q.target }, q.depth);
      },
    }),
  };
}

export type ShadowMetrics = ReturnType<typeof shadowMetrics>;
