// Shared by the packaging tests: the repository root, YAML/JSON readers, Helm's values merge, the JSON Schema the
// chart's `config` must carry (derived from src/main/config/schema.ts), and the metric names Miroir can export.
import { existsSync, readFileSync, readdirSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { collectDefaultMetrics, Registry } from 'prom-client';
import { parse } from 'yaml';
import { z } from 'zod';
import { configSchema } from '../../../src/main/config/schema.js';

export type Json = null | boolean | number | string | Json[] | { [key: string]: Json };
export type JsonObject = { [key: string]: Json };

/** The repository root: the nearest directory above this file (source or dist/) holding package.json with name miroir. */
export function repoRoot(): string {
  const candidates = [process.cwd(), dirname(fileURLToPath(import.meta.url))];
  for (const start of candidates) {
    let dir = start;
    for (;;) {
      const pkg = join(dir, 'package.json');
      if (existsSync(pkg) && (JSON.parse(readFileSync(pkg, 'utf8')) as { name?: string }).name === 'miroir') return dir;
      const up = dirname(dir);
      if (up === dir) break;
      dir = up;
    }
  }
  throw new Error('repository root (package.json of miroir) not found');
}

export const ROOT = repoRoot();
export const CHART = join(ROOT, 'charts', 'miroir');

export function readText(...parts: string[]): string {
  return readFileSync(join(ROOT, ...parts), 'utf8');
}

export function readYaml(...parts: string[]): Json {
  return parse(readText(...parts)) as Json;
}

export function isObject(v: unknown): v is JsonObject {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/** Helm's merge of user values over the chart's values.yaml: maps merge key by key, anything else replaces, null deletes. */
export function mergeValues(base: Json, over: Json): Json {
  if (!isObject(base) || !isObject(over)) return structuredClone(over);
  const out: JsonObject = structuredClone(base);
  for (const [key, value] of Object.entries(over)) {
    if (value === null) delete out[key];
    else out[key] = key in out ? mergeValues(out[key]!, value) : structuredClone(value);
  }
  return out;
}

export function listFiles(dir: string, suffix: string): string[] {
  return readdirSync(dir)
    .filter((f) => f.endsWith(suffix))
    .sort();
}

function rewrite(node: unknown): unknown {
  if (Array.isArray(node)) return node.map(rewrite);
  if (!isObject(node)) return node;
  const out: JsonObject = {};
  for (const [key, value] of Object.entries(node)) {
    // Helm's validator and ajv without ajv-formats disagree on `format`; a pattern says the same everywhere.
    if (key === 'format' && value === 'uri') out['pattern'] = '^https?://';
    else out[key] = rewrite(value) as Json;
  }
  return out;
}

/** The JSON Schema (draft-07) of Miroir's config, as values.schema.json must hold it under `properties.config`. */
export function expectedConfigSchema(): JsonObject {
  const schema = z.toJSONSchema(configSchema, { target: 'draft-7', io: 'input' }) as JsonObject;
  delete schema['$schema'];
  return rewrite(schema) as JsonObject;
}

function tsFilesUnder(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) =>
    e.isDirectory() ? tsFilesUnder(join(dir, e.name)) : e.name.endsWith('.ts') ? [join(dir, e.name)] : [],
  );
}

/**
 * Metric names Miroir registers: every `name: 'miroir_...'` in src/ (src/main/observability/metrics.ts holds the
 * C16 set; other modules register their own, e.g. the H4 pressure gauges), plus prom-client's default metrics
 * under the prefix metrics.ts gives collectDefaultMetrics().
 */
export function registeredMetricNames(): Set<string> {
  const names = new Set<string>();
  for (const file of tsFilesUnder(join(ROOT, 'src'))) {
    for (const m of readFileSync(file, 'utf8').matchAll(/name:\s*'(miroir_[a-z0-9_]+)'/g)) names.add(m[1]!);
  }
  const text = readText('src', 'main', 'observability', 'metrics.ts');
  const prefix = /collectDefaultMetrics\([^)]*prefix:\s*'([a-z0-9_]+)'/.exec(text)?.[1];
  if (prefix !== undefined) {
    const registry = new Registry();
    collectDefaultMetrics({ register: registry, prefix });
    for (const metric of registry.getMetricsAsArray()) names.add(metric.name);
  }
  return names;
}

/**
 * Metrics SPEC names (C7, A5, A8) that no module of src/ registers yet: alerts and panels on them are kept, and stay
 * empty until the capability that exports them lands. A name may stay here after it is registered (harmless); a
 * name that is not in SPEC may not be added (a test checks SPEC for each).
 */
export const SPEC_METRICS_NOT_YET_REGISTERED = [
  'miroir_task_processing_age_seconds', // C7
  'miroir_tasks_total', // C7
  'miroir_task_registry_size', // C7
  'miroir_settings_hash_mismatch_total', // A5
  'miroir_settings_drift_repair_total', // A5
  'miroir_antientropy_mismatches_found_total', // A8
];

/**
 * Metrics named by neither SPEC nor metrics.ts, used only by the Grafana dashboard (docs/dashboards/miroir.json) for
 * a panel the operations issue asks for. SPEC has no task-store latency metric; this is the proposed name
 * (a histogram labelled backend and operation). Alerts may not use these.
 */
export const PROPOSED_METRICS = ['miroir_store_operation_duration_seconds'];

/** Every `miroir_*` name a PromQL expression reads. */
export function metricsIn(expr: string): string[] {
  return [...new Set([...expr.matchAll(/\b(miroir_[a-z0-9_]+)\b/g)].map((m) => m[1]!))];
}

/** The names in `expr` that are none of `known`, also after dropping a histogram's _bucket/_sum/_count suffix. */
export function unknownMetrics(expr: string, known: ReadonlySet<string>): string[] {
  return metricsIn(expr).filter((name) => !known.has(name) && !known.has(name.replace(/_(bucket|sum|count)$/, '')));
}
