// The built admin console (dist/ui/admin, from `npm run build`): the page Miroir renders plus its JS and CSS within
// SPEC A19's 100 KB gzipped, and a page that loads nothing but its own hashed assets from Miroir (no CDN, no external
// stylesheet, font or image).
import assert from 'node:assert/strict';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { gzipSync } from 'node:zlib';
import { consoleDistDir, renderConsolePage } from '../../../src/main/admin-ui/assets.js';

const BUDGET_BYTES = 100 * 1024;
const dir = consoleDistDir();
const manifestPath = join(dir, 'manifest.json');

function manifest(): { entry: { js: string; css: string }; files: string[] } {
  assert.ok(existsSync(manifestPath), `${manifestPath} missing: run npm run build`);
  return JSON.parse(readFileSync(manifestPath, 'utf8')) as ReturnType<typeof manifest>;
}

test('the console (HTML + JS + CSS) is at most 100 KB gzipped', () => {
  const m = manifest();
  assert.match(m.entry.js, /\.js$/);
  assert.match(m.entry.css, /\.css$/);
  const html = renderConsolePage('/_miroir/admin', m.entry.js, m.entry.css);
  let total = gzipSync(html, { level: 9 }).length;
  for (const f of m.files) total += gzipSync(readFileSync(join(dir, f)), { level: 9 }).length;
  assert.ok(total <= BUDGET_BYTES, `${total} bytes gzipped > ${BUDGET_BYTES}`);
});

test('the page loads only its own hashed assets, and the stylesheet nothing from elsewhere', () => {
  const m = manifest();
  const html = renderConsolePage('/_miroir/admin', m.entry.js, m.entry.css);
  const refs = [...html.matchAll(/\b(?:src|href)="([^"]*)"/g)].map((x) => x[1]!);
  assert.deepEqual(
    refs,
    ['data:,', `/_miroir/admin/assets/${m.entry.css}`, `/_miroir/admin/assets/${m.entry.js}`],
    'the empty favicon (no request) and the two assets',
  );
  for (const css of m.files.filter((f) => f.endsWith('.css'))) {
    assert.doesNotMatch(
      readFileSync(join(dir, css), 'utf8'),
      /@import|url\(\s*['"]?(https?:)?\/\//i,
      `${css} loads from elsewhere`,
    );
  }
});
