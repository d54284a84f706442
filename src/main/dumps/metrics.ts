// The dump import's metrics (SPEC A9) on the proxy's one registry: compressed bytes read, documents routed, the
// current rate and the phase the import is in (one 0/1 series per phase).
import { Counter, Gauge, type Registry } from 'prom-client';

export const IMPORT_PHASES = ['idle', 'uploading', 'keys', 'indexes', 'documents', 'waiting', 'rollback'] as const;
export type ImportPhase = (typeof IMPORT_PHASES)[number];

export function dumpMetrics(registry: Registry) {
  const r = [registry];
  return {
    bytesRead: new Counter({
      name: 'miroir_dump_import_bytes_read_total',
      help: 'Compressed dump bytes read by imports on this pod',
      registers: r,
    }),
    documentsRouted: new Counter({
      name: 'miroir_dump_import_documents_routed_total',
      help: 'Dump documents routed to their shards (acknowledged by the replicated write) on this pod',
      registers: r,
    }),
    rate: new Gauge({
      name: 'miroir_dump_import_rate_docs_per_sec',
      help: 'Documents per second routed by the import running on this pod (0 when none runs)',
      registers: r,
    }),
    phase: new Gauge({
      name: 'miroir_dump_import_phase',
      help: 'The phase of the import on this pod: 1 for the current phase, 0 for the others',
      labelNames: ['phase'] as const,
      registers: r,
    }),
  };
}

export type DumpMetrics = ReturnType<typeof dumpMetrics>;

export function setPhase(m: DumpMetrics, phase: ImportPhase): void {
  for (const p of IMPORT_PHASES) m.phase.set({ phase: p }, p === phase ? 1 : 0);
}
