#!/usr/bin/env node
// Builds the admin console (src/ui/admin) with esbuild into dist/ui/admin: one minified ES module and one stylesheet
// with content hashes, and index.html naming them under the placeholder the server replaces with `admin_ui.path`.
// Everything the page loads comes from Miroir itself (no CDN). Prints the gzipped sizes (budget: 100 KB in all).
import { mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { basename, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { gzipSync } from 'node:zlib';
import { build } from 'esbuild';

const root = fileURLToPath(new URL('..', import.meta.url));
const src = join(root, 'src', 'ui', 'admin');
const out = join(root, 'dist', 'ui', 'admin');
rmSync(out, { recursive: true, force: true });
mkdirSync(join(out, 'assets'), { recursive: true });

const result = await build({
  entryPoints: { app: join(src, 'main.tsx'), style: join(src, 'styles.css') },
  outdir: join(out, 'assets'),
  entryNames: '[name]-[hash]',
  bundle: true,
  minify: true,
  format: 'esm',
  platform: 'browser',
  target: ['chrome111', 'firefox115', 'safari16.4'],
  jsx: 'automatic',
  jsxImportSource: 'preact',
  legalComments: 'none',
  metafile: true,
  logLevel: 'warning',
});

const outputs = Object.keys(result.metafile.outputs).map((p) => basename(p));
const script = outputs.find((f) => f.startsWith('app-') && f.endsWith('.js'));
const style = outputs.find((f) => f.startsWith('style-') && f.endsWith('.css'));
if (script === undefined || style === undefined) throw new Error(`build-ui: unexpected outputs ${outputs.join(', ')}`);
const html = readFileSync(join(src, 'index.html'), 'utf8').replace('{{SCRIPT}}', script).replace('{{STYLE}}', style);
writeFileSync(join(out, 'index.html'), html);

let total = 0;
for (const f of ['index.html', `assets/${script}`, `assets/${style}`]) total += gzipSync(readFileSync(join(out, f)), { level: 9 }).length;
console.log(`admin console: ${script}, ${style} — ${(total / 1024).toFixed(1)} KB gzipped (HTML+JS+CSS)`);
