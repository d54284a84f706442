// The search UI's metrics (SPEC A21) on the proxy's one registry: sessions opened, page queries and zero-hit
// queries per index, click-through beacons, and the 95th-percentile latency of page queries over the last 1,024.
import { Counter, Gauge, type Registry } from 'prom-client';
import { LatencyWindow } from '../../core/search-ui/latency.js';

export function searchUiMetrics(registry: Registry) {
  const windows = new Map<string, LatencyWindow>();
  const r = [registry];
  return {
    sessions: new Counter({
      name: 'miroir_search_ui_sessions_total',
      help: 'Search page sessions opened',
      registers: r,
    }),
    queries: new Counter({
      name: 'miroir_search_ui_queries_total',
      help: 'Searches the search page sent, by index',
      labelNames: ['index'] as const,
      registers: r,
    }),
    zeroHits: new Counter({
      name: 'miroir_search_ui_zero_hits_total',
      help: 'Search page queries that found nothing, by index',
      labelNames: ['index'] as const,
      registers: r,
    }),
    clicks: new Counter({
      name: 'miroir_search_ui_click_through_total',
      help: 'Search page hits opened (click-through beacons), by index',
      labelNames: ['index'] as const,
      registers: r,
    }),
    p95: new Gauge({
      name: 'miroir_search_ui_p95_ms',
      help: '95th percentile latency (ms) of the last 1024 search page queries, by index',
      labelNames: ['index'] as const,
      registers: r,
      collect() {
        for (const [index, w] of windows) {
          const v = w.percentile(95);
          if (v !== null) this.set({ index }, Math.round(v * 100) / 100);
        }
      },
    }),
    latency(index: string, ms: number): void {
      let w = windows.get(index);
      if (w === undefined) windows.set(index, (w = new LatencyWindow()));
      w.record(ms);
    },
  };
}

export type SearchUiMetrics = ReturnType<typeof searchUiMetrics>;
