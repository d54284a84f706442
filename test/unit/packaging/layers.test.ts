// The house's layers, checked on the import graph of src/ (docs/design/architecture.md "Which way imports run"):
// every relative import of a module is resolved to its folder, and no import may run against the picture.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';

const SRC = resolve('src');

/** `core`, `http`, `devnode`, … and `main/<folder>` for the proxy's own folders (`main` for its top-level files). */
function folderOf(file: string): string {
  const parts = relative(SRC, file).split('/');
  if (parts[0] === 'main' && parts.length > 2) return `main/${parts[1]}`;
  return parts.length > 1 ? parts[0]! : '(root)';
}

function sourceFiles(dir: string): string[] {
  const out: string[] = [];
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const p = join(dir, entry.name);
    if (entry.isDirectory()) out.push(...sourceFiles(p));
    else if (/\.tsx?$/.test(entry.name) && !entry.name.endsWith('.d.ts')) out.push(p);
  }
  return out;
}

interface Edge {
  from: string;
  file: string;
  to: string;
  /** The imported module's path under src/ (relative imports only). */
  toFile: string | null;
  spec: string;
}

/** `./x.js` names `x.ts` or `x.tsx` in the source tree. */
function moduleFile(target: string): string {
  const base = target.replace(/\.js$/, '');
  const file = existsSync(`${base}.ts`) ? `${base}.ts` : existsSync(`${base}.tsx`) ? `${base}.tsx` : target;
  return relative(SRC, file);
}

function imports(): Edge[] {
  const edges: Edge[] = [];
  for (const file of sourceFiles(SRC)) {
    const text = readFileSync(file, 'utf8');
    for (const m of text.matchAll(/(?:^|\n)\s*(?:import|export)\b[^'"]*?from\s+['"]([^'"]+)['"]/g)) {
      const spec = m[1]!;
      const to = spec.startsWith('.') ? folderOf(resolve(dirname(file), spec)) : spec;
      const toFile = spec.startsWith('.') ? moduleFile(resolve(dirname(file), spec)) : null;
      edges.push({ from: folderOf(file), file: relative(SRC, file), to, toFile, spec });
    }
  }
  return edges;
}

const EDGES = imports();

function violations(rule: (e: Edge) => boolean): string[] {
  return EDGES.filter(rule).map((e) => `${e.file} imports ${e.spec}`);
}

test('src/core is pure: it imports only src/core (and node:crypto for hashing), no I/O', () => {
  assert.deepEqual(
    violations(
      (e) =>
        e.from === 'core' &&
        e.to !== 'core' &&
        e.to !== 'node:crypto' &&
        (e.spec.startsWith('.') || e.spec.startsWith('node:')),
    ),
    [],
  );
});

test('the HTTP kernel (src/http) and the store (src/store) sit below the proxy: they import only src/core', () => {
  assert.deepEqual(
    violations(
      (e) => (e.from === 'http' || e.from === 'store') && e.spec.startsWith('.') && ![e.from, 'core'].includes(e.to),
    ),
    [],
  );
});

test('the dev node never imports the proxy (no arrow from devnode into main)', () => {
  assert.deepEqual(
    violations((e) => e.from === 'devnode' && (e.to === 'main' || e.to.startsWith('main/'))),
    [],
  );
});

test('the cluster, rebalance, state and tasks layers never import the HTTP handlers (main/api)', () => {
  const below = ['main/cluster', 'main/rebalance', 'main/state', 'main/tasks', 'main/writes'];
  assert.deepEqual(
    violations((e) => below.includes(e.from) && e.to === 'main/api'),
    [],
  );
});

test('only the entry points (main/commands and main’s top-level files) import the CLI commands', () => {
  assert.deepEqual(
    violations((e) => e.to === 'main/commands' && e.from !== 'main/commands' && e.from !== 'main'),
    [],
  );
});

test('no modules import each other in a loop (type imports count: a loop is one module in two files)', () => {
  const next = new Map<string, string[]>();
  for (const e of EDGES) if (e.toFile !== null) next.set(e.file, [...(next.get(e.file) ?? []), e.toFile]);
  const state = new Map<string, 'open' | 'done'>();
  const loops: string[] = [];
  const visit = (file: string, path: string[]): void => {
    if (state.get(file) === 'done') return;
    if (state.get(file) === 'open') {
      loops.push([...path.slice(path.indexOf(file)), file].join(' -> '));
      return;
    }
    state.set(file, 'open');
    for (const to of next.get(file) ?? []) visit(to, [...path, file]);
    state.set(file, 'done');
  };
  for (const file of next.keys()) visit(file, []);
  assert.deepEqual(loops, []);
});
