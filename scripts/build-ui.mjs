#!/usr/bin/env node
// Builds every browser UI under src/ui/<name>/ into dist/ui/<name>/ with esbuild (part of `npm run build`; no
// network, no CDN): entry `main.ts` (+ `style.css` when present) → one minified ES-module bundle and stylesheet with
// content-hashed names, and manifest.json `{entry: {js, css}, files}` that the server reads. A UI folder with a
// tsconfig.json is type-checked first (browser code has its own DOM-typed config; the root tsconfig skips src/ui).
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { basename, join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import { gzipSync } from 'node:zlib';
import { build } from 'esbuild';

const root = fileURLToPath(new URL('..', import.meta.url));
const uiRoot = join(root, 'src', 'ui');
const names = existsSync(uiRoot)
  ? readdirSync(uiRoot, { withFileTypes: true })
      .filter((e) => e.isDirectory() && existsSync(join(uiRoot, e.name, 'main.ts')))
      .map((e) => e.name)
      .sort()
  : [];

for (const name of names) {
  const dir = join(uiRoot, name);
  if (existsSync(join(dir, 'tsconfig.json')) && process.env.MIROIR_UI_SKIP_TYPECHECK !== '1') {
    const tsc = spawnSync(
      process.execPath,
      [join(root, 'node_modules', 'typescript', 'bin', 'tsc'), '-p', join(dir, 'tsconfig.json'), '--noEmit'],
      { stdio: 'inherit' },
    );
    if (tsc.status !== 0) process.exit(tsc.status ?? 1);
  }
  const outdir = join(root, 'dist', 'ui', name);
  rmSync(outdir, { recursive: true, force: true });
  mkdirSync(outdir, { recursive: true });
  const entryPoints = { [name]: join(dir, 'main.ts') };
  if (existsSync(join(dir, 'style.css'))) entryPoints[`${name}-style`] = join(dir, 'style.css');
  const result = await build({
    entryPoints,
    outdir,
    bundle: true,
    minify: true,
    format: 'esm',
    target: ['es2020', 'chrome100', 'firefox100', 'safari15'],
    entryNames: '[name]-[hash]',
    metafile: true,
    legalComments: 'eof',
    define: { 'process.env.NODE_ENV': '"production"' },
    logLevel: 'warning',
  });
  const manifest = { entry: { js: null, css: null }, files: [] };
  for (const [file, out] of Object.entries(result.metafile.outputs)) {
    const rel = basename(file);
    manifest.files.push(rel);
    if (out.entryPoint?.endsWith('main.ts')) manifest.entry.js = rel;
    if (out.entryPoint?.endsWith('style.css')) manifest.entry.css = rel;
  }
  manifest.files.sort();
  writeFileSync(join(outdir, 'manifest.json'), JSON.stringify(manifest, null, 2) + '\n');
  const sizes = manifest.files.map((f) => {
    const body = readFileSync(join(outdir, f));
    return `${f} ${(body.length / 1024).toFixed(1)} KiB (${(gzipSync(body).length / 1024).toFixed(1)} KiB gzipped)`;
  });
  console.log(`ui ${name} → ${relative(root, outdir)}: ${sizes.join(', ')}`);
}
