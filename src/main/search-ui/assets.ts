// The search page's static side: the bundle `npm run build` writes to dist/ui/search/ (scripts/build-ui.mjs,
// content-hashed names listed in manifest.json), loaded once at start, and the HTML shell each page load renders
// around the page model (embedded as JSON; the bundle reads it). No CDN: everything is served by Miroir.
import { errorMessage } from '../../core/errors.js';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import type { PageModel } from '../../core/search-ui/page-model.js';
import { SEARCH_UI_LOCALES } from '../../core/search-ui/locale.js';

export interface Asset {
  body: Buffer;
  type: string;
}

export interface SearchUiAssets {
  files: ReadonlyMap<string, Asset>;
  js: string;
  css: string;
}

const TYPES: Record<string, string> = {
  js: 'text/javascript; charset=utf-8',
  css: 'text/css; charset=utf-8',
  map: 'application/json',
};

/** Where the build puts the bundle: dist/ui/search/ beside dist/src/. */
export function assetDir(): string {
  return fileURLToPath(new URL('../../../ui/search/', import.meta.url));
}

export function loadAssets(dir = assetDir()): SearchUiAssets {
  let manifest: { entry: { js: string; css: string }; files: string[] };
  try {
    manifest = JSON.parse(readFileSync(`${dir}manifest.json`, 'utf8')) as typeof manifest;
  } catch (err) {
    throw new Error(
      `search_ui.enabled but the page bundle is missing (${dir}manifest.json: ${errorMessage(err)}); run \`npm run build\``,
      { cause: err },
    );
  }
  const files = new Map<string, Asset>();
  for (const name of manifest.files)
    files.set(name, {
      body: readFileSync(dir + name),
      type: TYPES[name.slice(name.lastIndexOf('.') + 1)] ?? 'application/octet-stream',
    });
  return { files, js: manifest.entry.js, css: manifest.entry.css };
}

const HTML_ESCAPES: Record<string, string> = { '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' };

export function escapeHtml(text: string): string {
  return text.replace(/[&<>"']/g, (c) => HTML_ESCAPES[c]!);
}

/** JSON safe inside a <script> element (no `</script>`, no HTML comment openers, no line separators). */
function scriptJson(value: unknown): string {
  return JSON.stringify(value)
    .replace(/</g, '\\u003c')
    .replace(/\u2028/g, '\\u2028')
    .replace(/\u2029/g, '\\u2029');
}

/** The page's Content-Security-Policy: only Miroir's own scripts, styles and API. */
export const PAGE_CSP =
  "default-src 'none'; script-src 'self'; style-src 'self'; connect-src 'self'; img-src 'self' data:; base-uri 'none'; form-action 'none'; frame-ancestors 'self'";

/** The HTML of `/ui/search/{index}` (asset URLs relative to it, so Miroir may sit behind a path prefix). */
export function renderPage(model: PageModel, assets: SearchUiAssets): string {
  const t = SEARCH_UI_LOCALES.en!;
  const title = escapeHtml(model.title);
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>${title}</title>
<link rel="icon" href="data:,">
<link rel="stylesheet" href="${escapeHtml(assets.css)}">
<script type="module" src="${escapeHtml(assets.js)}"></script>
</head>
<body>
<a class="skip-link" href="#results">${escapeHtml(t.skip!)}</a>
<header class="top">
<h1>${title}</h1>
<div id="searchbox" role="search"></div>
</header>
<div class="layout">
<aside id="filters" aria-labelledby="filters-heading">
<h2 id="filters-heading">${escapeHtml(t.filters!)}</h2>
<div id="clear-refinements"></div>
<div id="facets"></div>
</aside>
<main id="results" tabindex="-1">
<div class="toolbar"><div id="stats" role="status" aria-live="polite"></div><div id="sort"></div></div>
<div id="notice" role="alert"></div>
<div id="hits"></div>
<div id="pagination"></div>
</main>
</div>
<noscript><p>This search page needs JavaScript.</p></noscript>
<script type="application/json" id="miroir-search-ui">${scriptJson(model)}</script>
</body>
</html>
`;
}
