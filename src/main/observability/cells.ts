// HOT PATH. Histograms for per-request metrics kept in plain cells, one per label set: a caller keeps the cell of
// its labels (per route, per node and operation…), so an observation is a bucket search and three additions, with
// no label hashing (prom-client's `labels()` validates and hashes on every call, ~1.4 µs). The registry reads the
// cells at scrape time, in prom-client's export format; an optional companion counter exports each cell's count.
import type { Metric, Registry } from 'prom-client';

/** One label set: non-cumulative bucket counts (the last is above the highest bound), sum and count. */
export class HistogramCell {
  readonly counts: Float64Array;
  sum = 0;
  count = 0;

  constructor(
    readonly labels: Readonly<Record<string, string>>,
    private readonly bounds: Float64Array,
  ) {
    this.counts = new Float64Array(bounds.length + 1);
  }

  observe(value: number): void {
    const b = this.bounds;
    let i = 0;
    while (i < b.length && value > b[i]!) i++;
    this.counts[i]!++;
    this.sum += value;
    this.count++;
  }
}

export interface HistogramCellsOptions {
  name: string;
  help: string;
  labelNames: readonly string[];
  buckets: readonly number[];
  /** Also export `name` as a counter of each cell's observations (e.g. miroir_requests_total). */
  counter?: { name: string; help: string };
}

/** One exported sample, in prom-client's `get()` shape. */
export interface CellValue {
  value: number;
  metricName: string;
  labels: Record<string, string | number>;
  exemplar?: null;
}

export class HistogramCells {
  private readonly all = new Map<string, HistogramCell>();
  private readonly bounds: Float64Array;

  constructor(
    registry: Registry,
    private readonly opts: HistogramCellsOptions,
  ) {
    this.bounds = Float64Array.from(opts.buckets);
    const live = () => [...this.all.values()].filter((c) => c.count > 0);
    const metric = (name: string, help: string, type: 'histogram' | 'counter', values: () => object[]) => ({
      name,
      help,
      type,
      aggregator: 'sum',
      get: async () => ({ name, help, type, aggregator: 'sum', values: values() }),
      reset: () => this.reset(),
    });
    // The registry calls only name/help/type/aggregator/get/reset on what it holds; these objects provide exactly that.
    registry.registerMetric(
      metric(opts.name, opts.help, 'histogram', () => live().flatMap((c) => this.exported(c))) as unknown as Metric,
    );
    const counter = opts.counter;
    if (counter !== undefined)
      registry.registerMetric(
        metric(counter.name, counter.help, 'counter', () =>
          live().map((c) => ({ value: c.count, labels: { ...c.labels } })),
        ) as unknown as Metric,
      );
  }

  /** The cell of these label values (in `labelNames` order), made on first use; callers keep it. */
  cell(...values: string[]): HistogramCell {
    const key = values.join('\u0000');
    let c = this.all.get(key);
    if (c === undefined) {
      const labels: Record<string, string> = {};
      this.opts.labelNames.forEach((n, i) => (labels[n] = values[i] ?? ''));
      c = new HistogramCell(labels, this.bounds);
      this.all.set(key, c);
    }
    return c;
  }

  /** Every live cell's samples, as prom-client's `Histogram.get()` gives them (tests and callers reading values). */
  async get(): Promise<{ name: string; type: 'histogram'; values: CellValue[] }> {
    await Promise.resolve();
    const values: CellValue[] = [];
    for (const c of this.all.values()) if (c.count > 0) values.push(...this.exported(c));
    return { name: this.opts.name, type: 'histogram', values };
  }

  /** Zeroes every cell (callers keep the cells they hold); zeroed cells are not exported. */
  reset(): void {
    for (const c of this.all.values()) {
      c.counts.fill(0);
      c.sum = 0;
      c.count = 0;
    }
  }

  private exported(c: HistogramCell): CellValue[] {
    const name = this.opts.name;
    const out: CellValue[] = [];
    let acc = 0;
    for (let i = 0; i < this.bounds.length; i++) {
      acc += c.counts[i]!;
      out.push({
        value: acc,
        metricName: `${name}_bucket`,
        exemplar: null,
        labels: { le: this.bounds[i]!, ...c.labels },
      });
    }
    out.push({ value: c.count, metricName: `${name}_bucket`, exemplar: null, labels: { le: '+Inf', ...c.labels } });
    out.push({ value: c.sum, metricName: `${name}_sum`, labels: { ...c.labels } });
    out.push({ value: c.count, metricName: `${name}_count`, labels: { ...c.labels } });
    return out;
  }
}
