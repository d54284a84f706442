// HOT PATH. The client-request metrics of SPEC C16: `miroir_request_duration_seconds` and `miroir_requests_total`
// from one set of histogram cells, which the server reaches through a per-route cache (status → cell), and the
// in-flight count, a plain number read at scrape time by `miroir_requests_in_flight`.
import type { Registry } from 'prom-client';
import { HistogramCells, type HistogramCell } from './cells.js';

/** The cells of one method + path template, by status; the server keeps one per route and method. */
export class RouteSeries {
  private readonly byStatus = new Map<number, HistogramCell>();

  constructor(
    private readonly cells: HistogramCells,
    readonly method: string,
    readonly pathTemplate: string,
  ) {}

  observe(status: number, seconds: number): void {
    let c = this.byStatus.get(status);
    if (c === undefined)
      this.byStatus.set(status, (c = this.cells.cell(this.method, this.pathTemplate, String(status))));
    c.observe(seconds);
  }
}

export class RequestMetrics {
  /** Client requests being served right now. */
  inFlight = 0;
  private readonly cells: HistogramCells;

  constructor(registry: Registry, buckets: readonly number[]) {
    this.cells = new HistogramCells(registry, {
      name: 'miroir_request_duration_seconds',
      help: 'Client request latency by method, path template and status',
      labelNames: ['method', 'path_template', 'status'],
      buckets,
      counter: { name: 'miroir_requests_total', help: 'Client requests by method, path template and status' },
    });
  }

  route(method: string, pathTemplate: string): RouteSeries {
    return new RouteSeries(this.cells, method, pathTemplate);
  }
}
