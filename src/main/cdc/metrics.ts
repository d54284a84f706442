// The change stream's metrics (SPEC A13) on the proxy's one registry.
import { Counter, Gauge, type Registry } from 'prom-client';

export function cdcMetrics(registry: Registry) {
  const r = [registry];
  return {
    published: new Counter({
      name: 'miroir_cdc_events_published_total',
      help: 'Change events delivered by a sink (long_poll: served by GET /_miroir/changes), by sink and index',
      labelNames: ['sink', 'index'] as const,
      registers: r,
    }),
    lag: new Gauge({
      name: 'miroir_cdc_lag_seconds',
      help: 'Age of the oldest event a sink has not delivered yet (0 when it is caught up), on the pod delivering it',
      labelNames: ['sink'] as const,
      registers: r,
    }),
    bufferBytes: new Gauge({
      name: 'miroir_cdc_buffer_bytes',
      help: 'Bytes of events a sink holds in memory while delivering them',
      labelNames: ['sink'] as const,
      registers: r,
    }),
    dropped: new Counter({
      name: 'miroir_cdc_dropped_total',
      help: 'Events retention trimmed from the change log before the sink read them',
      labelNames: ['sink'] as const,
      registers: r,
    }),
    suppressed: new Counter({
      name: 'miroir_cdc_events_suppressed_total',
      help: 'Internal writes not logged as change events (cdc.emit_internal_writes / emit_ttl_deletes off), by origin',
      labelNames: ['origin'] as const,
      registers: r,
    }),
  };
}

export type CdcMetrics = ReturnType<typeof cdcMetrics>;
