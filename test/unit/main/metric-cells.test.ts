// Histogram cells export exactly what a prom-client Histogram (and Counter) fed the same observations exports, keep
// one cell per label set, and reset to zero without dropping the cells callers hold.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { Counter, Histogram, Registry } from 'prom-client';
import { HistogramCells } from '../../../src/main/observability/cells.js';

const buckets = [0.001, 0.01, 0.1, 1];
const observations: Array<[string, string, number]> = [
  ['node-0', 'search', 0.0004],
  ['node-0', 'search', 0.001],
  ['node-0', 'search', 0.05],
  ['node-1', 'search', 3],
  ['node-0', 'documents_add', 0.2],
];

test("the exposition equals prom-client's for the same observations", async () => {
  const ours = new Registry();
  const cells = new HistogramCells(ours, {
    name: 'x_seconds',
    help: 'h',
    labelNames: ['node_id', 'operation'],
    buckets,
    counter: { name: 'x_total', help: 'c' },
  });
  const theirs = new Registry();
  const h = new Histogram({
    name: 'x_seconds',
    help: 'h',
    labelNames: ['node_id', 'operation'],
    buckets,
    registers: [theirs],
  });
  const c = new Counter({ name: 'x_total', help: 'c', labelNames: ['node_id', 'operation'], registers: [theirs] });
  for (const [node, op, v] of observations) {
    cells.cell(node, op).observe(v);
    h.labels(node, op).observe(v);
    c.labels(node, op).inc();
  }
  assert.equal(await ours.metrics(), await theirs.metrics());
  const json = async (r: Registry) => JSON.parse(JSON.stringify(await r.getMetricsAsJSON())) as unknown;
  assert.deepEqual(await json(ours), await json(theirs));
});

test('one cell per label set; reset zeroes the cells callers hold and hides them until observed again', async () => {
  const registry = new Registry();
  const cells = new HistogramCells(registry, { name: 'y_seconds', help: 'h', labelNames: ['op'], buckets });
  const a = cells.cell('a');
  assert.equal(cells.cell('a'), a);
  assert.notEqual(cells.cell('b'), a);
  a.observe(0.5);
  assert.match(await registry.metrics(), /y_seconds_count\{op="a"\} 1/);
  registry.resetMetrics();
  assert.doesNotMatch(await registry.metrics(), /op="a"/);
  a.observe(0.5);
  assert.match(await registry.metrics(), /y_seconds_count\{op="a"\} 1\n/);
});
