// Every config key is read or gone: each leaf of the resolved default config must be read somewhere in src/ outside
// the schema modules — a source file that names the key's section (`admin_ui`, `rate_limit`, …) and reads `.key`.
// A key that only the schema and the docs know is a promise the code does not keep.
import assert from 'node:assert/strict';
import { readFileSync, readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { resolveConfig } from '../../../src/main/config/load.js';

const ROOT = fileURLToPath(new URL('../../../../', import.meta.url));

function sources(dir: string, out: string[] = []): string[] {
  for (const name of readdirSync(dir)) {
    const path = join(dir, name);
    if (statSync(path).isDirectory()) sources(path, out);
    else if (name.endsWith('.ts') && !/schema\.ts$/.test(name)) out.push(readFileSync(path, 'utf8'));
  }
  return out;
}

function leaves(value: unknown, path: string[] = [], out: string[][] = []): string[][] {
  if (value !== null && typeof value === 'object' && !Array.isArray(value)) {
    for (const [k, v] of Object.entries(value)) leaves(v, [...path, k], out);
  } else out.push(path);
  return out;
}

test('every config key is read by some code outside the schema', () => {
  const cfg = resolveConfig(
    { nodes: [{ id: 'node-0', address: 'http://127.0.0.1:7701' }], replication_factor: 1, admin: { api_key: 'k' } },
    {},
  );
  const files = sources(join(ROOT, 'src'));
  const unread: string[] = [];
  for (const path of leaves(cfg)) {
    const key = path[path.length - 1]!;
    const section = path.length > 1 ? path[path.length - 2]! : null;
    const access = new RegExp(`\\.${key}\\b`);
    const read = files.some((f) => access.test(f) && (section === null || new RegExp(`\\b${section}\\b`).test(f)));
    if (!read) unread.push(path.join('.'));
  }
  assert.deepEqual(unread, [], `config keys no code reads: ${unread.join(', ')}`);
});
