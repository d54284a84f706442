// The built admin console (dist/ui/admin, from `npm run build`): HTML+JS+CSS within SPEC A19's 100 KB gzipped, and a
// page that loads nothing but its own hashed assets from Miroir (no CDN, no external stylesheet, font or image).
import assert from 'node:assert/strict';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { gzipSync } from 'node:zlib';
import { BASE_PLACEHOLDER, consoleDistDir } from '../../../src/main/admin-ui/assets.js';

const BUDGET_BYTES = 100 * 1024;
const dir = consoleDistDir();

test('the console bundle (HTML + JS + CSS) is at most 100 KB gzipped', () => {
  assert.ok(existsSync(join(dir, 'index.html')), `${dir}/index.html missing: run npm run build`);
  const files = ['index.html', ...readdirSync(join(dir, 'assets')).map((f) => `assets/${f}`)];
  assert.ok(files.some((f) => f.endsWith('.js')) && files.some((f) => f.endsWith('.css')), files.join(', '));
  let total = 0;
  for (const f of files) total += gzipSync(readFileSync(join(dir, f)), { level: 9 }).length;
  assert.ok(total <= BUDGET_BYTES, `${total} bytes gzipped > ${BUDGET_BYTES}`);
});

test('the page loads only its own hashed assets, and the stylesheet nothing from elsewhere', () => {
  const html = readFileSync(join(dir, 'index.html'), 'utf8');
  const refs = [...html.matchAll(/\b(?:src|href)="([^"]*)"/g)].map((m) => m[1]!);
  assert.ok(refs.length >= 2, html);
  for (const ref of refs) {
    if (ref === 'data:,') continue; // the empty favicon: no request at all
    assert.match(ref, new RegExp(`^${BASE_PLACEHOLDER}/assets/[A-Za-z0-9_-]+\\.(js|css)$`), `unexpected reference ${ref}`);
    assert.ok(existsSync(join(dir, ref.slice(BASE_PLACEHOLDER.length + 1))), `${ref} not built`);
  }
  for (const css of readdirSync(join(dir, 'assets')).filter((f) => f.endsWith('.css'))) {
    const text = readFileSync(join(dir, 'assets', css), 'utf8');
    assert.doesNotMatch(text, /@import|url\(\s*['"]?(https?:)?\/\//i, `${css} loads from elsewhere`);
  }
});
