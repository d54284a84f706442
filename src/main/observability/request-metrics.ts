// HOT PATH. The client-request metrics of SPEC C16 (`miroir_request_duration_seconds`, `miroir_requests_total`,
// `miroir_requests_in_flight`) kept in plain cells: the server caches each route's series, so a request costs a
// small status lookup, a bucket search and three additions (no label hashing, as prom-client's `labels()` does on
// every call); the registry reads the cells at scrape time, in prom-client's export format.
import type { Metric, Registry } from 'prom-client';

/** One (method, path template, status) series: histogram buckets (non-cumulative), sum and count. */
export class RequestSeries {
  readonly counts: Float64Array;
  sum = 0;
  count = 0;

  constructor(
    readonly labels: { readonly method: string; readonly path_template: string; readonly status: string },
    private readonly bounds: Float64Array,
  ) {
    this.counts = new Float64Array(bounds.length + 1);
  }

  observe(seconds: number): void {
    const b = this.bounds;
    let i = 0;
    while (i < b.length && seconds > b[i]!) i++;
    this.counts[i]!++;
    this.sum += seconds;
    this.count++;
  }
}

/** The series of one method + path template, by status; the server keeps one per route and method. */
export class RouteSeries {
  private readonly byStatus = new Map<number, RequestSeries>();

  constructor(
    private readonly owner: RequestMetrics,
    readonly method: string,
    readonly pathTemplate: string,
  ) {}

  observe(status: number, seconds: number): void {
    let s = this.byStatus.get(status);
    if (s === undefined) {
      s = this.owner.series(this.method, this.pathTemplate, status);
      this.byStatus.set(status, s);
    }
    s.observe(seconds);
  }
}

export class RequestMetrics {
  /** Client requests being served right now (read at scrape time by `miroir_requests_in_flight`). */
  inFlight = 0;
  private readonly all = new Map<string, RequestSeries>();
  private readonly bounds: Float64Array;

  constructor(registry: Registry, bounds: readonly number[]) {
    this.bounds = Float64Array.from(bounds);
    const cells = () => [...this.all.values()].filter((s) => s.count > 0);
    const duration = {
      name: 'miroir_request_duration_seconds',
      help: 'Client request latency by method, path template and status',
      type: 'histogram',
      aggregator: 'sum',
      get: async () => ({ name: duration.name, help: duration.help, type: duration.type, aggregator: duration.aggregator, values: cells().flatMap((s) => this.histogramValues(s)) }),
      reset: () => this.reset(),
    };
    const total = {
      name: 'miroir_requests_total',
      help: 'Client requests by method, path template and status',
      type: 'counter',
      aggregator: 'sum',
      get: async () => ({ name: total.name, help: total.help, type: total.type, aggregator: total.aggregator, values: cells().map((s) => ({ value: s.count, labels: { ...s.labels } })) }),
      reset: () => this.reset(),
    };
    // Registry only calls name/help/type/aggregator/get/reset on what it holds; these objects provide exactly that.
    registry.registerMetric(duration as unknown as Metric);
    registry.registerMetric(total as unknown as Metric);
  }

  /** The series of one method + path template + status (made on first use; callers keep it). */
  series(method: string, pathTemplate: string, status: number): RequestSeries {
    const key = `${method} ${status} ${pathTemplate}`;
    let s = this.all.get(key);
    if (s === undefined) {
      s = new RequestSeries({ method, path_template: pathTemplate, status: String(status) }, this.bounds);
      this.all.set(key, s);
    }
    return s;
  }

  /** Zeroes every series (servers keep the cells they cached). */
  reset(): void {
    for (const s of this.all.values()) {
      s.counts.fill(0);
      s.sum = 0;
      s.count = 0;
    }
  }

  route(method: string, pathTemplate: string): RouteSeries {
    return new RouteSeries(this, method, pathTemplate);
  }

  private histogramValues(s: RequestSeries): object[] {
    const name = 'miroir_request_duration_seconds';
    const out: object[] = [];
    let acc = 0;
    for (let i = 0; i < this.bounds.length; i++) {
      acc += s.counts[i]!;
      out.push({ value: acc, metricName: `${name}_bucket`, labels: { le: this.bounds[i]!, ...s.labels } });
    }
    out.push({ value: s.count, metricName: `${name}_bucket`, labels: { le: '+Inf', ...s.labels } });
    out.push({ value: s.sum, metricName: `${name}_sum`, labels: { ...s.labels } });
    out.push({ value: s.count, metricName: `${name}_count`, labels: { ...s.labels } });
    return out;
  }
}
