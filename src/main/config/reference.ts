// Renders docs/configuration.md from the config schema, so the reference can never drift from the code
// (a test compares the file with this output; `npm run docs:config` rewrites it).
import { z } from 'zod';
import { configSchema } from './schema.js';

interface JsonSchema {
  type?: string | string[];
  description?: string;
  default?: unknown;
  enum?: unknown[];
  properties?: Record<string, JsonSchema>;
  items?: JsonSchema;
  minimum?: number;
  maximum?: number;
  anyOf?: JsonSchema[];
}

function typeOf(s: JsonSchema): string {
  if (s.enum) return s.enum.map((v) => `\`${String(v)}\``).join(' \\| ');
  if (s.anyOf) return s.anyOf.map(typeOf).join(' \\| ');
  const t = Array.isArray(s.type) ? s.type.join(' \\| ') : (s.type ?? 'any');
  if (t === 'array' && s.items) return `list of ${s.items.type === 'object' ? 'objects' : typeOf(s.items)}`;
  return t;
}

function defaultOf(s: JsonSchema): string {
  if (s.default === undefined) return '—';
  if (
    typeof s.default === 'object' &&
    s.default !== null &&
    !Array.isArray(s.default) &&
    Object.keys(s.default).length === 0
  )
    return '—';
  return `\`${JSON.stringify(s.default)}\``;
}

function rows(schema: JsonSchema, prefix: string, out: string[]): void {
  for (const [key, sub] of Object.entries(schema.properties ?? {})) {
    const path = prefix === '' ? key : `${prefix}.${key}`;
    if (sub.type === 'object' && sub.properties) {
      rows(sub, path, out);
      continue;
    }
    out.push(`| \`${path}\` | ${typeOf(sub)} | ${defaultOf(sub)} | ${sub.description ?? ''} |`);
    if (sub.type === 'array' && sub.items?.type === 'object') rows(sub.items, `${path}[]`, out);
  }
}

export function renderConfigReference(): string {
  const schema = z.toJSONSchema(configSchema, { io: 'input' }) as JsonSchema;
  const out = [
    '# Configuration reference',
    '',
    '<!-- Generated from src/main/config/schema.ts by `npm run docs:config`; do not edit by hand. -->',
    '',
    '`miroir serve --config FILE` reads YAML. Keys sit at the root (a root `miroir:` wrapper is accepted too).',
    'Unknown keys are errors naming the key. Secrets come from the environment in production:',
    '`MIROIR_MASTER_KEY`, `MIROIR_NODE_MASTER_KEY`, `MIROIR_ADMIN_API_KEY`, `MIROIR_REDIS_PASSWORD`. Any other key can be overridden as',
    '`MIROIR__SECTION__KEY` (double underscores between levels; the value is parsed as JSON when it parses, e.g.',
    '`MIROIR__SERVER__PORT=8080`). `MIROIR_NATIVE=0` (not a config key) forces the TypeScript paths.',
    '',
    'After the first start the stored topology is authoritative: `nodes` only seeds an empty store.',
    '',
    'The Redis store (`task_store.backend: redis`) is reached through exactly one of `task_store.redis.url` (or its',
    'short form `task_store.url`), `task_store.redis.sentinels` + `name`, or `task_store.redis.cluster`; bad',
    'combinations (two of them, sentinels without `name`, TLS files while TLS is off, a certificate without its key,',
    'mixed `redis://`/`rediss://` seeds) are refused at start naming the key. Examples, the key layout and what a',
    'failover can and cannot lose: docs/design/redis-layout.md.',
    '',
    '```yaml',
    'task_store:',
    '  backend: redis',
    '  redis:',
    '    sentinels: [{host: redis-sentinel-0, port: 26379}, {host: redis-sentinel-1, port: 26379}]',
    '    name: mymaster',
    '    username: miroir          # password from MIROIR_REDIS_PASSWORD',
    '    tls: {enabled: true, ca: /etc/miroir/redis-ca.pem}',
    '```',
    '',
    '| key | type | default | meaning |',
    '|---|---|---|---|',
  ];
  rows(schema, '', out);
  return out.join('\n') + '\n';
}
