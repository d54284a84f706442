// Online reshard metrics (SPEC A1) on the proxy's one registry: reshards in progress, the phase of each, and the
// documents this pod's backfill jobs copied.
import { Counter, Gauge, type Registry } from 'prom-client';

export function reshardMetrics(registry: Registry) {
  const r = [registry];
  return {
    inProgress: new Gauge({
      name: 'miroir_reshard_in_progress',
      help: 'Reshards not finished yet (preparing, backfilling, verifying or flipped with the old copy kept)',
      registers: r,
    }),
    phase: new Gauge({
      name: 'miroir_reshard_phase',
      help: 'Reshard phase per index: 0 idle (done, failed), 1 preparing, 2 backfilling, 3 verifying, 4 flipped, 5 cleanup',
      labelNames: ['index'] as const,
      registers: r,
    }),
    backfilled: new Counter({
      name: 'miroir_reshard_documents_backfilled_total',
      help: "Documents this pod's reshard_backfill jobs copied to new copies",
      labelNames: ['index'] as const,
      registers: r,
    }),
  };
}

export type ReshardMetrics = ReturnType<typeof reshardMetrics>;
