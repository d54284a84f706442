// The console's static side: the bundle `npm run build` writes to dist/ui/admin/ (scripts/build-ui.mjs: hashed names
// in manifest.json, read by the search UI's loader), gzipped once at start and served from memory, and the HTML page
// naming it under `admin_ui.path`. Its Content-Security-Policy allows nothing but Miroir's own origin (no CDN, no
// network).
import { errorMessage } from '../../core/errors.js';
import type { IncomingMessage } from 'node:http';
import { fileURLToPath } from 'node:url';
import { gzipSync } from 'node:zlib';
import type { Reply } from '../../http/server.js';
import { escapeHtml, loadAssets } from '../search-ui/assets.js';

export const PAGE_CSP =
  "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; font-src 'self'; connect-src 'self'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'";

const PAGE_HEADERS: Readonly<Record<string, string>> = Object.freeze({
  'content-type': 'text/html; charset=utf-8',
  'cache-control': 'no-cache',
  'content-security-policy': PAGE_CSP,
  'x-content-type-options': 'nosniff',
  'x-frame-options': 'DENY',
  'referrer-policy': 'no-referrer',
  'cross-origin-opener-policy': 'same-origin',
});

interface File {
  body: Buffer;
  gzip: Buffer;
  headers: Record<string, string>;
}

export interface ConsoleAssets {
  page(req: IncomingMessage): Reply;
  /** A hashed asset, or null when there is no such file. */
  asset(name: string, req: IncomingMessage): Reply | null;
}

/** Where the build puts the console: dist/ui/admin/ beside dist/src/. */
export function consoleDistDir(): string {
  return fileURLToPath(new URL('../../../ui/admin/', import.meta.url));
}

/** The console's HTML: the bundle's stylesheet and script under `basePath`, and the element the app renders into. */
export function renderConsolePage(basePath: string, js: string, css: string): string {
  const asset = (name: string) => escapeHtml(`${basePath}/assets/${name}`);
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>Miroir admin</title>
<link rel="icon" href="data:,">
<link rel="stylesheet" href="${asset(css)}">
<script type="module" src="${asset(js)}"></script>
</head>
<body>
<div id="app"><noscript>The Miroir admin console needs JavaScript.</noscript></div>
</body>
</html>
`;
}

function file(body: Buffer, headers: Record<string, string>): File {
  return { body, gzip: gzipSync(body, { level: 9 }), headers };
}

function send(f: File, req: IncomingMessage): Reply {
  const gzip = /\bgzip\b/.test(String(req.headers['accept-encoding'] ?? ''));
  return {
    status: 200,
    raw: gzip ? f.gzip : f.body,
    headers: gzip
      ? { ...f.headers, 'content-encoding': 'gzip', vary: 'accept-encoding' }
      : { ...f.headers, vary: 'accept-encoding' },
  };
}

export function loadConsoleAssets(dir: string, basePath: string): ConsoleAssets {
  let bundle: ReturnType<typeof loadAssets>;
  try {
    bundle = loadAssets(dir.endsWith('/') ? dir : `${dir}/`);
  } catch (err) {
    throw new Error(
      `admin_ui.enabled but the console is not built (${errorMessage(err).replace(/^search_ui\.enabled but the page bundle is missing \(/, '(')}`,
      { cause: err },
    );
  }
  const page = file(Buffer.from(renderConsolePage(basePath, bundle.js, bundle.css)), { ...PAGE_HEADERS });
  const assets = new Map<string, File>();
  for (const [name, a] of bundle.files)
    assets.set(
      name,
      file(a.body, {
        'content-type': a.type,
        'cache-control': 'public, max-age=31536000, immutable',
        'x-content-type-options': 'nosniff',
      }),
    );
  return {
    page: (req) => send(page, req),
    asset(name, req) {
      const f = assets.get(name);
      return f === undefined ? null : send(f, req);
    },
  };
}
