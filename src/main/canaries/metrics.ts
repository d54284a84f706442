// The canaries' metrics (SPEC A18) on the proxy's one registry: runs by result, the last run's latency, failed
// assertions by type, and a 0/1 gauge per canary that `MiroirCanaryFailing` alerts on. Series of a deleted canary
// are removed with it.
import { Counter, Gauge, type Registry } from 'prom-client';

export function canaryMetrics(registry: Registry) {
  const r = [registry];
  return {
    runs: new Counter({
      name: 'miroir_canary_runs_total',
      help: 'Canary runs on this pod, by canary and result (pass, fail, error)',
      labelNames: ['canary', 'result'] as const,
      registers: r,
    }),
    latency: new Gauge({
      name: 'miroir_canary_latency_ms',
      help: "Latency (ms) of the canary's last search on this pod",
      labelNames: ['canary'] as const,
      registers: r,
    }),
    assertionFailures: new Counter({
      name: 'miroir_canary_assertion_failures_total',
      help: 'Failed canary assertions, by canary and assertion type (query_error: the search itself failed)',
      labelNames: ['canary', 'assertion_type'] as const,
      registers: r,
    }),
    failing: new Gauge({
      name: 'miroir_canary_failing',
      help: "1 while the canary's last run on this pod failed, 0 while it passes",
      labelNames: ['canary'] as const,
      registers: r,
    }),
  };
}

export type CanaryMetrics = ReturnType<typeof canaryMetrics>;

/** Forgets a deleted (or no longer owned) canary's gauges. */
export function dropCanarySeries(m: CanaryMetrics, canary: string): void {
  m.latency.remove({ canary });
  m.failing.remove({ canary });
}
