// `admin_ui.allowed_origins` (SPEC C14: a bad Origin → 403 first): which browser origins may log in to the console
// or change state with its session cookie. `same-origin` matches the Host the request was sent to; other entries are
// exact origins. A request without an Origin header (not a browser's cross-site request) passes to the CSRF check.
import type { IncomingMessage } from 'node:http';

export function originAllowed(req: IncomingMessage, allowed: readonly string[]): boolean {
  const origin = req.headers.origin;
  if (origin === undefined) return true;
  if (allowed.includes(origin)) return true;
  if (!allowed.includes('same-origin')) return false;
  const host = req.headers.host;
  if (host === undefined) return false;
  try {
    return new URL(origin).host === host.toLowerCase();
  } catch {
    return false;
  }
}
