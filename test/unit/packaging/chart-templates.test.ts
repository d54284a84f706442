// Static checks of charts/miroir/templates: every .Values path exists in values.yaml, the required objects exist,
// the Deployment wires the env names Miroir reads, and the PrometheusRule has SPEC's alerts (C16, H4) with SPEC's
// thresholds and durations, on metric names Miroir registers or SPEC lists. When a `helm` binary is available
// (HELM_BIN or PATH) the chart is also linted and rendered, and each rendered config is loaded by Miroir's loader.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { describe, test } from 'node:test';
import { parseAllDocuments } from 'yaml';
import { resolveConfig } from '../../../src/main/config/load.js';
import { findBinary } from '../../support/binaries.js';
import {
  CHART,
  ROOT,
  SPEC_METRICS_NOT_YET_REGISTERED,
  isObject,
  listFiles,
  metricsIn,
  readText,
  readYaml,
  registeredMetricNames,
  unknownMetrics,
  type Json,
  type JsonObject,
} from './support.js';

const TEMPLATES = join(CHART, 'templates');
const templateFiles = readdirSync(TEMPLATES).sort();
const template = (name: string) => readText('charts', 'miroir', 'templates', name);
const values = readYaml('charts', 'miroir', 'values.yaml') as JsonObject;
// SPEC's C16 and H4 sections, kept in the repo (test/fixtures) so these checks run in every checkout.
const SPEC_PATH = join(ROOT, 'test', 'fixtures', 'spec-observability.md');
const spec = existsSync(SPEC_PATH) ? readText('test', 'fixtures', 'spec-observability.md') : null;

/** The kind of each object a template file declares (top-level `kind:` lines; nested refs are indented). */
function kindsIn(text: string): string[] {
  return [...text.matchAll(/^kind:\s*(\w+)\s*$/gm)].map((m) => m[1]!);
}

interface Alert {
  name: string;
  expr: string;
  for: string | null;
  severity: string | null;
  runbook: string | null;
}

/** The alerts of templates/prometheusrule.yaml, read from its text (one `expr:` line per alert). */
function alertsIn(text: string): Alert[] {
  const alerts: Alert[] = [];
  for (const line of text.split('\n')) {
    const alert = /^\s*- alert:\s*(\S+)\s*$/.exec(line);
    if (alert) {
      alerts.push({ name: alert[1]!, expr: '', for: null, severity: null, runbook: null });
      continue;
    }
    const cur = alerts.at(-1);
    if (cur === undefined) continue;
    const field = /^\s*(expr|for|severity|runbook_url):\s*(.*?)\s*$/.exec(line);
    if (field === null) continue;
    if (field[1] === 'expr') cur.expr = field[2]!;
    else if (field[1] === 'for') cur.for = field[2]!;
    else if (field[1] === 'severity') cur.severity = field[2]!;
    else cur.runbook = field[2]!;
  }
  return alerts;
}

/** SPEC's alert list (the "**Alerts:**" lines of C16 and H4): name → its text (threshold and duration). */
function specAlerts(text: string): Map<string, string> {
  const out = new Map<string, string>();
  for (const line of text.split('\n').filter((l) => l.includes('**Alerts:**'))) {
    for (const part of line.split('**Alerts:**')[1]!.split(';')) {
      const m = /`(Miroir[A-Za-z]+)`(.*)$/.exec(part.trim());
      if (m) out.set(m[1]!, m[2]!.trim().replace(/\.$/, ''));
    }
  }
  return out;
}

const alerts = alertsIn(template('prometheusrule.yaml'));
const known = new Set([...registeredMetricNames(), ...SPEC_METRICS_NOT_YET_REGISTERED]);

test('every .Values path used by a template exists in values.yaml', () => {
  let checked = 0;
  for (const file of templateFiles) {
    for (const m of template(file).matchAll(/\.Values((?:\.[A-Za-z_][A-Za-z0-9_]*)+)/g)) {
      const path = m[1]!.slice(1).split('.');
      let node: Json | undefined = values;
      for (const key of path) {
        assert.ok(isObject(node) && key in node, `${file}: .Values.${path.join('.')} is not in values.yaml`);
        node = node[key];
      }
      checked++;
    }
  }
  assert.ok(checked > 50, `${checked} references checked`);
});

test('the chart declares every object kind operations need', () => {
  const kinds = templateFiles.flatMap((f) => kindsIn(template(f)));
  const count = (k: string) => kinds.filter((x) => x === k).length;
  for (const k of [
    'Deployment',
    'ConfigMap',
    'Secret',
    'HorizontalPodAutoscaler',
    'ServiceMonitor',
    'PrometheusRule',
    'PodDisruptionBudget',
    'StatefulSet',
    'PersistentVolumeClaim',
  ]) {
    assert.ok(count(k) >= 1, `no ${k} in ${templateFiles.join(', ')}`);
  }
  assert.ok(count('Service') >= 3, `${count('Service')} Services`);
  assert.deepEqual(kindsIn(template('service.yaml')), ['Service']);
  assert.deepEqual(kindsIn(template('service-metrics.yaml')), ['Service']);
  assert.deepEqual(kindsIn(template('service-headless.yaml')), ['Service']);
  assert.match(template('hpa.yaml'), /^apiVersion: autoscaling\/v2$/m);
  assert.deepEqual(kindsIn(template('meilisearch.yaml')), ['Service', 'StatefulSet']);
  assert.deepEqual(kindsIn(template('redis.yaml')), ['Deployment', 'Service', 'PersistentVolumeClaim']);
});

test('services: clients on 7700, Prometheus on 9090, a headless service for peer discovery', () => {
  assert.equal((values['service'] as JsonObject)['port'], 7700);
  assert.equal((values['metricsService'] as JsonObject)['port'], 9090);
  assert.match(template('service.yaml'), /port: \{\{ \.Values\.service\.port \}\}/);
  assert.match(template('service-metrics.yaml'), /name: \{\{ include "miroir\.fullname" \. \}\}-metrics/);
  assert.match(template('service-metrics.yaml'), /port: \{\{ \.Values\.metricsService\.port \}\}/);
  const headless = template('service-headless.yaml');
  assert.match(headless, /name: \{\{ include "miroir\.fullname" \. \}\}-headless/);
  assert.match(headless, /^\s+clusterIP: None$/m);
  assert.match(headless, /^\s+publishNotReadyAddresses: true$/m);
  // Miroir's default peer_discovery.service_name is the headless Service of a release named "miroir".
  const schema = readText('src', 'main', 'config', 'schema.ts');
  assert.match(schema, /service_name: z\.string\(\)[^\n]*\.default\('miroir-headless'\)/);
});

test('the Deployment passes the env names Miroir reads, from the Secret, and POD_NAME', () => {
  const deployment = template('deployment.yaml');
  const load = readText('src', 'main', 'config', 'load.ts');
  const secretEnv = [...load.matchAll(/\['(MIROIR_[A-Z_]+)', \[/g)].map((m) => m[1]!);
  assert.deepEqual(secretEnv.sort(), [
    'MIROIR_ADMIN_API_KEY',
    'MIROIR_MASTER_KEY',
    'MIROIR_NODE_MASTER_KEY',
    'MIROIR_REDIS_PASSWORD',
  ]);
  for (const name of secretEnv) {
    const block = new RegExp(
      `- name: ${name}\\n\\s+valueFrom:\\n\\s+secretKeyRef:\\n\\s+name: \\{\\{ include "miroir\\.secretName" \\. \\}\\}`,
    );
    assert.match(deployment, block, `${name} from the Secret`);
  }
  assert.match(deployment, /- name: POD_NAME\n\s+valueFrom:\n\s+fieldRef:\n\s+fieldPath: metadata\.name/);
  assert.match(deployment, /args: \["serve", "--config", "\/etc\/miroir\/config\.yaml"\]/);
  assert.match(deployment, /mountPath: \/etc\/miroir\n/);
  assert.match(template('configmap.yaml'), /\$config := deepCopy \.Values\.config/);
  assert.match(template('configmap.yaml'), /config\.yaml: \|\n\s+\{\{- toYaml \$config \| nindent 4 \}\}/);
  // The Secret is made only without secrets.existingSecret.
  assert.match(template('secret.yaml'), /^\{\{- if not \.Values\.secrets\.existingSecret \}\}$/m);
  // The HPA's Pods metric is the in-flight gauge Miroir registers.
  assert.match(template('hpa.yaml'), /name: miroir_requests_in_flight/);
  assert.ok(registeredMetricNames().has('miroir_requests_in_flight'));
});

test('every alert expression reads metrics Miroir registers or SPEC names', () => {
  assert.ok(alerts.length >= 12, `${alerts.length} alerts`);
  for (const a of alerts) {
    assert.notEqual(a.expr, '', `${a.name} has an expr`);
    assert.ok(metricsIn(a.expr).length > 0, `${a.name} reads a miroir_ metric`);
    assert.deepEqual(unknownMetrics(a.expr, known), [], `${a.name}: ${a.expr}`);
    assert.ok(a.severity === 'warning' || a.severity === 'critical', `${a.name} severity ${a.severity}`);
  }
  assert.equal(new Set(alerts.map((a) => a.name)).size, alerts.length, 'alert names are unique');
});

test('the allowlist holds only metric names SPEC defines', (t) => {
  if (spec === null) return t.skip(`no ${SPEC_PATH}`);
  for (const name of SPEC_METRICS_NOT_YET_REGISTERED)
    assert.ok(new RegExp(`\\b${name}\\b`).test(spec), `${name} is not in SPEC`);
});

test('the PrometheusRule carries SPEC C16 and H4 alerts with their thresholds and durations', (t) => {
  if (spec === null) return t.skip(`no ${SPEC_PATH}`);
  const wanted = specAlerts(spec);
  assert.ok(wanted.size >= 12, `${wanted.size} alerts in SPEC`);
  const latency = String((values['prometheusRule'] as JsonObject)['searchLatencyP95Seconds']);
  for (const [name, text] of wanted) {
    const a = alerts.find((x) => x.name === name);
    assert.ok(a, `${name} (SPEC: ${text}) missing`);
    const duration = /(\d+[smh])$/.exec(text)![1];
    assert.equal(a.for, duration, `${name}: for ${a.for}, SPEC ${text}`);
    const threshold = /(>=|≥|==|>|<)\s*(\d+(?:\.\d+)?)/.exec(text.replace(/`/g, ''));
    if (threshold !== null) {
      const op = threshold[1] === '≥' ? '>=' : threshold[1]!;
      const expr = a.expr.replace('{{ .Values.prometheusRule.searchLatencyP95Seconds }}', latency);
      const found = [...expr.matchAll(/(>=|==|!=|>|<)\s*(\d+(?:\.\d+)?)(?![\w\]])/g)].some(
        (m) => m[1] === op && Number(m[2]) === Number(threshold[2]),
      );
      assert.ok(found, `${name}: SPEC wants ${op} ${threshold[2]} in ${a.expr}`);
    }
  }
  // The p95 alert is a p95 over search routes that exist in the route table.
  const high = alerts.find((a) => a.name === 'MiroirHighSearchLatency')!;
  assert.match(high.expr, /histogram_quantile\(0\.95,/);
  const routes = readText('src', 'main', 'api', 'routes.ts');
  for (const route of /path_template=~"([^"]+)"/.exec(high.expr)![1]!.split('|'))
    assert.ok(routes.includes(`'${route}'`), `${route} is a route`);
});

test('each alert links a section of docs/operations.md', () => {
  const ops = readText('docs', 'operations.md');
  const headings = new Set([...ops.matchAll(/^#{2,4} (\S.*)$/gm)].map((m) => m[1]!.trim()));
  for (const a of alerts) {
    assert.equal(a.runbook, `{{ $runbook }}#${a.name.toLowerCase()}`, a.name);
    assert.ok(headings.has(a.name), `docs/operations.md has no "### ${a.name}" section`);
  }
  assert.match(String((values['prometheusRule'] as JsonObject)['runbookBaseUrl']), /\/docs\/operations\.md$/);
});

// helm is optional: it is not a Debian package, so CI cannot install it and a missing helm skips (even under CI).
const helmBin = process.env['HELM_BIN'];
const helm = helmBin !== undefined && helmBin !== '' && existsSync(helmBin) ? helmBin : findBinary('helm');
const FIXTURES = join(ROOT, 'test', 'fixtures', 'helm');

function render(file: string | null): { status: number | null; stdout: string; stderr: string } {
  const args = [
    'template',
    'miroir',
    CHART,
    '--namespace',
    'search',
    ...(file === null ? [] : ['-f', join(FIXTURES, file)]),
  ];
  const r = spawnSync(helm!, args, { encoding: 'utf8' });
  return { status: r.status, stdout: r.stdout, stderr: r.stderr };
}

describe(
  'helm lint and template',
  { skip: helm === null ? 'helm not found (not a Debian package): set HELM_BIN or put helm on PATH' : false },
  () => {
    test('helm lint --strict passes', () => {
      const r = spawnSync(helm!, ['lint', '--strict', CHART], { encoding: 'utf8' });
      assert.equal(r.status, 0, r.stdout + r.stderr);
    });

    for (const file of listFiles(FIXTURES, '.yaml').filter((f) => f.startsWith('good-'))) {
      test(`helm template -f ${file}: the objects render and Miroir loads the rendered config`, () => {
        const r = render(file);
        assert.equal(r.status, 0, r.stderr);
        const docs = parseAllDocuments(r.stdout)
          .map((d) => d.toJS() as JsonObject | null)
          .filter((d): d is JsonObject => d !== null);
        const kinds = docs.map((d) => String(d['kind']));
        for (const k of ['Deployment', 'ConfigMap', 'Service'])
          assert.ok(kinds.includes(k), `${k} in ${kinds.join(', ')}`);
        const overrides = (readYaml('test', 'fixtures', 'helm', file) ?? {}) as JsonObject;
        const hpa = isObject(overrides['autoscaling']) && overrides['autoscaling']['enabled'] === true;
        assert.equal(kinds.includes('HorizontalPodAutoscaler'), hpa);
        const configMap = docs.find((d) => d['kind'] === 'ConfigMap')!;
        const rendered = readYamlText(String((configMap['data'] as JsonObject)['config.yaml']));
        // The keys come from the Secret as env, exactly as in the pod.
        const env = {
          MIROIR_MASTER_KEY: 'k'.repeat(32),
          MIROIR_NODE_MASTER_KEY: 'n'.repeat(32),
          MIROIR_ADMIN_API_KEY: 'a'.repeat(32),
        };
        const cfg = resolveConfig(rendered, env);
        assert.ok(cfg.nodes.length > 0, 'the rendered config seeds nodes');
        const deployment = docs.find(
          (d) => d['kind'] === 'Deployment' && (d['metadata'] as JsonObject)['name'] === 'miroir',
        )!;
        const container = (((deployment['spec'] as JsonObject)['template'] as JsonObject)['spec'] as JsonObject)[
          'containers'
        ] as JsonObject[];
        const ports = (container[0]!['ports'] as JsonObject[]).map((p) => p['containerPort']);
        assert.deepEqual(ports, [cfg.server.port, cfg.metrics.port]);
        if (cfg.peer_discovery.mode === 'dns') {
          const envNames = (container[0]!['env'] as JsonObject[]).map((e) => e['name']);
          assert.ok(
            envNames.includes('MIROIR__PEER_DISCOVERY__SERVICE_NAME'),
            'dns discovery is pointed at the headless Service',
          );
        }
        if (cfg.task_store.backend === 'lmdb')
          assert.equal(((deployment['spec'] as JsonObject)['strategy'] as JsonObject)['type'], 'Recreate');
      });
    }

    for (const file of listFiles(FIXTURES, '.yaml').filter((f) => f.startsWith('bad-'))) {
      test(`helm template -f ${file} is refused by the values schema`, () => {
        const r = render(file);
        assert.notEqual(r.status, 0, 'rendered');
        assert.match(r.stderr, /values don't meet the specifications of the schema/);
      });
    }
  },
);

function readYamlText(text: string): Json {
  const docs = parseAllDocuments(text);
  assert.equal(docs.length, 1);
  return docs[0]!.toJS() as Json;
}
