// docs/dashboards/miroir.json: a Grafana dashboard on a Prometheus data-source variable whose every query reads
// metrics Miroir registers (or SPEC names, or the one proposed store metric), covering SPEC C16's metrics and the
// operations panels, with a layout Grafana can place (no overlapping panels).
import assert from 'node:assert/strict';
import { test } from 'node:test';
import {
  PROPOSED_METRICS,
  SPEC_METRICS_NOT_YET_REGISTERED,
  metricsIn,
  readText,
  registeredMetricNames,
  unknownMetrics,
} from './support.js';

interface Target {
  expr?: string;
  refId?: string;
  datasource?: { type?: string; uid?: string };
}
interface Panel {
  id: number;
  type: string;
  title: string;
  gridPos: { h: number; w: number; x: number; y: number };
  datasource?: { type?: string; uid?: string };
  targets?: Target[];
  panels?: Panel[];
}
interface Variable {
  name: string;
  type: string;
  query: unknown;
}
interface Dashboard {
  schemaVersion: number;
  title: string;
  uid: string;
  panels: Panel[];
  templating: { list: Variable[] };
}

const dashboard = JSON.parse(readText('docs', 'dashboards', 'miroir.json')) as Dashboard;
const allPanels = dashboard.panels.flatMap((p) => [p, ...(p.panels ?? [])]);
const queryPanels = allPanels.filter((p) => p.type !== 'row');
const exprs = queryPanels.flatMap((p) => (p.targets ?? []).map((t) => ({ panel: p.title, expr: t.expr ?? '' })));
// Names as written, and histogram series (_bucket/_sum/_count) as their metric.
const used = new Set(
  exprs.flatMap((e) => metricsIn(e.expr).flatMap((m) => [m, m.replace(/_(bucket|sum|count)$/, '')])),
);

test('a current Grafana dashboard with a Prometheus data-source variable', () => {
  assert.ok(dashboard.schemaVersion >= 36 && dashboard.schemaVersion <= 41, `schemaVersion ${dashboard.schemaVersion}`);
  assert.equal(dashboard.title, 'Miroir');
  assert.match(dashboard.uid, /^[a-z0-9-]{1,40}$/);
  const ds = dashboard.templating.list.find((v) => v.type === 'datasource');
  assert.ok(ds, 'a datasource variable');
  assert.equal(ds.query, 'prometheus');
  for (const p of queryPanels) {
    assert.equal(p.datasource?.uid, '${' + ds.name + '}', `${p.title} queries the data-source variable`);
    assert.ok((p.targets ?? []).length > 0, `${p.title} has queries`);
    for (const t of p.targets ?? [])
      assert.equal(t.datasource?.uid, '${' + ds.name + '}', `${p.title} target ${t.refId}`);
  }
});

test('every variable a query uses is defined', () => {
  const defined = new Set([
    '__rate_interval',
    '__interval',
    '__range',
    ...dashboard.templating.list.map((v) => v.name),
  ]);
  for (const { panel, expr } of exprs) {
    for (const m of expr.matchAll(/\$(\w+)/g)) assert.ok(defined.has(m[1]!), `${panel}: $${m[1]} is not defined`);
  }
  for (const v of dashboard.templating.list.filter((x) => x.type === 'query')) {
    const q = JSON.stringify(v.query);
    assert.deepEqual(unknownMetrics(q, registeredMetricNames()), [], `variable ${v.name}: ${q}`);
  }
});

test('every panel query reads metrics Miroir registers, SPEC names, or the proposed store metric', () => {
  const known = new Set([...registeredMetricNames(), ...SPEC_METRICS_NOT_YET_REGISTERED, ...PROPOSED_METRICS]);
  assert.ok(exprs.length >= 30, `${exprs.length} queries`);
  for (const { panel, expr } of exprs) {
    assert.ok(metricsIn(expr).length > 0, `${panel}: ${expr} reads no miroir_ metric`);
    assert.deepEqual(unknownMetrics(expr, known), [], `${panel}: ${expr}`);
  }
  // A proposed name is never also registered or in SPEC (then it belongs to those lists instead).
  const registered = registeredMetricNames();
  for (const name of PROPOSED_METRICS)
    assert.ok(!registered.has(name), `${name} is registered now: remove it from PROPOSED_METRICS`);
});

test('panels cover the C16 metrics and the operations views', () => {
  // SPEC C16's metric list, from the SPEC excerpt kept in the repo.
  const c16 = [
    ...(
      /\*\*C16[\s\S]*?- \*\*M\*\* (.*)\n/.exec(readText('test', 'fixtures', 'spec-observability.md'))?.[1] ?? ''
    ).matchAll(/`(miroir_[a-z0-9_]+)/g),
  ].map((m) => m[1]!);
  assert.ok(c16.length >= 9, `C16 metrics: ${c16.join(', ')}`);
  const ops = [
    'miroir_rebalance_in_progress', // rebalance progress
    'miroir_rebalance_documents_migrated_total',
    'miroir_task_registry_size', // task registry
    'miroir_store_operation_duration_seconds', // store latency
    'miroir_process_process_resident_memory_bytes', // memory / RSS (prom-client's process_* under metrics.ts' prefix miroir_process_)
    'miroir_memory_pressure',
    'miroir_leader', // leader gauge
    'miroir_peer_pod_count', // peer pod count
  ];
  for (const name of [...c16, ...ops]) assert.ok(used.has(name), `no panel reads ${name}`);
  // Latency percentiles by route.
  for (const q of ['0.5', '0.95', '0.99']) {
    assert.ok(
      exprs.some(
        (e) =>
          e.expr.includes(`histogram_quantile(${q},`) &&
          /by \(le, path_template\)/.test(e.expr) &&
          e.expr.includes('miroir_request_duration_seconds_bucket'),
      ),
      `p${q} by route`,
    );
  }
});

test('panels have unique ids and do not overlap on the 24-column grid', () => {
  const ids = allPanels.map((p) => p.id);
  assert.equal(new Set(ids).size, ids.length);
  for (const p of allPanels) {
    assert.ok(p.gridPos.x >= 0 && p.gridPos.w > 0 && p.gridPos.x + p.gridPos.w <= 24, `${p.title} fits 24 columns`);
  }
  for (let i = 0; i < allPanels.length; i++) {
    for (let j = i + 1; j < allPanels.length; j++) {
      const a = allPanels[i]!.gridPos;
      const b = allPanels[j]!.gridPos;
      const overlap = a.x < b.x + b.w && b.x < a.x + a.w && a.y < b.y + b.h && b.y < a.y + a.h;
      assert.ok(!overlap, `${allPanels[i]!.title} overlaps ${allPanels[j]!.title}`);
    }
  }
});
