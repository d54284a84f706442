// The console's static files, built by `npm run build` (scripts/build-ui.mjs) into dist/ui/admin: the page and its
// hashed assets, read once at start, gzipped once, served from memory. The page names its assets under the
// configured `admin_ui.path`; its Content-Security-Policy allows nothing but Miroir's own origin (no CDN, no network).
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { gzipSync } from 'node:zlib';
import type { IncomingMessage } from 'node:http';
import type { Reply } from '../server/http.js';

/** What the page's template says where the configured path goes. */
export const BASE_PLACEHOLDER = '__MIROIR_ADMIN_BASE__';

const TYPES: Readonly<Record<string, string>> = Object.freeze({
  '.js': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.svg': 'image/svg+xml',
  '.woff2': 'font/woff2',
});

const PAGE_HEADERS: Readonly<Record<string, string>> = Object.freeze({
  'content-type': 'text/html; charset=utf-8',
  'cache-control': 'no-cache',
  'content-security-policy': "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; font-src 'self'; connect-src 'self'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'",
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

/** dist/ui/admin, whether this module runs compiled (dist/src/main/admin-ui) or from source under tsx. */
export function consoleDistDir(): string {
  const here = fileURLToPath(import.meta.url);
  const root = here.includes('/dist/') ? here.slice(0, here.indexOf('/dist/')) : join(here, '../../../..');
  return join(root, 'dist', 'ui', 'admin');
}

function file(body: Buffer, headers: Record<string, string>): File {
  return { body, gzip: gzipSync(body, { level: 9 }), headers };
}

function send(f: File, req: IncomingMessage): Reply {
  const gzip = /\bgzip\b/.test(String(req.headers['accept-encoding'] ?? ''));
  return { status: 200, raw: gzip ? f.gzip : f.body, headers: gzip ? { ...f.headers, 'content-encoding': 'gzip', vary: 'accept-encoding' } : { ...f.headers, vary: 'accept-encoding' } };
}

export function loadConsoleAssets(dir: string, basePath: string): ConsoleAssets {
  const pagePath = join(dir, 'index.html');
  if (!existsSync(pagePath)) throw new Error(`admin_ui.enabled: the console is not built (no ${pagePath}); run \`npm run build\``);
  const page = file(Buffer.from(readFileSync(pagePath, 'utf8').replaceAll(BASE_PLACEHOLDER, basePath)), { ...PAGE_HEADERS });
  const assets = new Map<string, File>();
  const assetDir = join(dir, 'assets');
  for (const name of existsSync(assetDir) ? readdirSync(assetDir) : []) {
    const type = TYPES[name.slice(name.lastIndexOf('.'))];
    if (type === undefined) continue;
    assets.set(name, file(readFileSync(join(assetDir, name)), { 'content-type': type, 'cache-control': 'public, max-age=31536000, immutable', 'x-content-type-options': 'nosniff' }));
  }
  return {
    page: (req) => send(page, req),
    asset(name, req) {
      const f = assets.get(name);
      return f === undefined ? null : send(f, req);
    },
  };
}
