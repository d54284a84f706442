// Loads the proxy config once at start: YAML file (root keys, or under a `miroir:` wrapper) → env overrides
// (MIROIR_MASTER_KEY, MIROIR_NODE_MASTER_KEY, MIROIR_ADMIN_API_KEY, MIROIR_REDIS_PASSWORD, MIROIR__SECTION__KEY) →
// schema defaults and validation → cross-key checks → deep-frozen config. Every problem is reported, each naming its key.
import { errorMessage } from '../../core/errors.js';
import { readFileSync } from 'node:fs';
import { parse as parseYaml } from 'yaml';
import type { z } from 'zod';
import { storeProblemForPods } from './open-store.js';
import { configSchema, type MiroirConfig } from './schema.js';

export class ConfigError extends Error {
  readonly problems: string[];
  constructor(problems: string[]) {
    super(`invalid Miroir config:\n  - ${problems.join('\n  - ')}`);
    this.name = 'ConfigError';
    this.problems = problems;
  }
}

const SECRET_ENV: ReadonlyArray<readonly [string, readonly string[]]> = [
  ['MIROIR_MASTER_KEY', ['master_key']],
  ['MIROIR_NODE_MASTER_KEY', ['node_master_key']],
  ['MIROIR_ADMIN_API_KEY', ['admin', 'api_key']],
  ['MIROIR_REDIS_PASSWORD', ['task_store', 'redis', 'password']],
];

type Obj = Record<string, unknown>;

function isObject(v: unknown): v is Obj {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function setPath(root: Obj, path: readonly string[], value: unknown): void {
  let cur = root;
  for (const key of path.slice(0, -1)) {
    if (!isObject(cur[key])) cur[key] = {};
    cur = cur[key] as Obj;
  }
  cur[path[path.length - 1]!] = value;
}

function parseEnvValue(raw: string): unknown {
  try {
    return JSON.parse(raw);
  } catch {
    return raw;
  }
}

/** Applies env overrides onto the raw (pre-validation) config object. */
export function applyEnvOverrides(raw: Obj, env: NodeJS.ProcessEnv): Obj {
  for (const [name, path] of SECRET_ENV) {
    const v = env[name];
    if (v !== undefined && v !== '') setPath(raw, path, v);
  }
  for (const [name, value] of Object.entries(env)) {
    if (!name.startsWith('MIROIR__') || value === undefined) continue;
    const path = name
      .slice('MIROIR__'.length)
      .split('__')
      .filter(Boolean)
      .map((p) => p.toLowerCase());
    if (path.length > 0) setPath(raw, path, parseEnvValue(value));
  }
  return raw;
}

function formatPath(path: ReadonlyArray<PropertyKey>): string {
  let out = '';
  for (const p of path) out += typeof p === 'number' ? `[${p}]` : out === '' ? String(p) : `.${String(p)}`;
  return out === '' ? '(root)' : out;
}

function formatIssues(issues: readonly z.core.$ZodIssue[]): string[] {
  const problems: string[] = [];
  for (const issue of issues) {
    if (issue.code === 'unrecognized_keys') {
      for (const key of issue.keys) problems.push(`${formatPath([...issue.path, key])}: unknown key`);
    } else {
      problems.push(`${formatPath(issue.path)}: ${issue.message}`);
    }
  }
  return problems;
}

/** Checks that span several keys (the schema checks one key at a time). */
export function crossKeyProblems(cfg: MiroirConfig): string[] {
  const problems: string[] = [];
  const seen = new Map<string, number>();
  const perGroup = new Map<number, number>();
  cfg.nodes.forEach((node, i) => {
    const first = seen.get(node.id);
    if (first !== undefined) problems.push(`nodes[${i}].id: duplicate node id "${node.id}" (also nodes[${first}])`);
    else seen.set(node.id, i);
    if (node.replica_group >= cfg.replica_groups) {
      problems.push(
        `nodes[${i}].replica_group: ${node.replica_group} is not a seed group id (replica_groups is ${cfg.replica_groups}, so ids are 0..${cfg.replica_groups - 1})`,
      );
    }
    perGroup.set(node.replica_group, (perGroup.get(node.replica_group) ?? 0) + 1);
  });
  if (cfg.nodes.length > 0) {
    for (let g = 0; g < cfg.replica_groups; g++) {
      const n = perGroup.get(g) ?? 0;
      if (n === 0) problems.push(`nodes: replica group ${g} has no node (replica_groups is ${cfg.replica_groups})`);
      else if (n < cfg.replication_factor) {
        problems.push(`replication_factor: ${cfg.replication_factor} exceeds the ${n} node(s) of replica group ${g}`);
      }
    }
  }
  const pods = cfg.peer_discovery.mode === 'dns' ? Infinity : cfg.peer_discovery.peers.length;
  const storeProblem = storeProblemForPods(cfg.task_store.backend, pods);
  if (storeProblem !== null) problems.push(storeProblem);
  if (cfg.admin.enabled && cfg.admin.api_key === null) {
    problems.push('admin.api_key: required while admin.enabled is true (set it or MIROIR_ADMIN_API_KEY)');
  }
  if (cfg.admin_ui.enabled && !cfg.admin.enabled) {
    problems.push('admin_ui.enabled: the admin console drives the admin API, so it needs admin.enabled');
  }
  if (cfg.server.port !== 0 && cfg.server.port === cfg.metrics.port && cfg.server.bind === cfg.metrics.bind) {
    problems.push(`metrics.port: ${cfg.metrics.port} is also server.port`);
  }
  if (cfg.leader_election.renew_interval_s >= cfg.leader_election.lease_ttl_s) {
    problems.push('leader_election.renew_interval_s: must be shorter than leader_election.lease_ttl_s');
  }
  return problems;
}

function deepFreeze<T>(value: T): Readonly<T> {
  if (typeof value === 'object' && value !== null && !Object.isFrozen(value)) {
    Object.freeze(value);
    for (const v of Object.values(value as Obj)) deepFreeze(v);
  }
  return value;
}

/** Validates a raw config object (already merged with env); throws ConfigError listing every problem. */
export function resolveConfig(raw: unknown, env: NodeJS.ProcessEnv = process.env): Readonly<MiroirConfig> {
  let root: unknown = raw ?? {};
  if (!isObject(root)) throw new ConfigError(['(root): the config must be a mapping of keys']);
  if (Object.keys(root).length === 1 && isObject(root['miroir'])) root = root['miroir'];
  const merged = applyEnvOverrides(structuredClone(root as Obj), env);
  const parsed = configSchema.safeParse(merged);
  if (!parsed.success) throw new ConfigError(formatIssues(parsed.error.issues));
  const problems = crossKeyProblems(parsed.data);
  if (problems.length > 0) throw new ConfigError(problems);
  return deepFreeze(parsed.data);
}

/** Reads and validates a YAML config file. */
export function loadConfigFile(file: string, env: NodeJS.ProcessEnv = process.env): Readonly<MiroirConfig> {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (err) {
    throw new ConfigError([`(file): cannot read ${file}: ${errorMessage(err)}`]);
  }
  let raw: unknown;
  try {
    raw = parseYaml(text);
  } catch (err) {
    throw new ConfigError([`(file): ${file} is not valid YAML: ${errorMessage(err)}`]);
  }
  return resolveConfig(raw, env);
}
