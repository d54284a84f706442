// The admin console's session cookie on the wire (SPEC A19): `miroir_admin_session`, Path /_miroir, HttpOnly,
// SameSite=Strict, and Secure unless the request reached Miroir over plain HTTP on a loopback address (where no
// browser would send a Secure cookie back). Reading it from a Cookie header and writing the Set-Cookie line.
import type { IncomingMessage } from 'node:http';

export const SESSION_COOKIE = 'miroir_admin_session';
export const COOKIE_PATH = '/_miroir';

/** The value of cookie `name` in a Cookie header (the first one when repeated), or undefined. */
export function readCookie(header: string | undefined, name: string): string | undefined {
  if (header === undefined) return undefined;
  for (const part of header.split(';')) {
    const eq = part.indexOf('=');
    if (eq === -1) continue;
    if (part.slice(0, eq).trim() === name) return part.slice(eq + 1).trim();
  }
  return undefined;
}

function isLoopback(address: string | undefined): boolean {
  if (address === undefined) return false;
  const a = address.startsWith('::ffff:') ? address.slice(7) : address;
  return a === '::1' || /^127\.\d{1,3}\.\d{1,3}\.\d{1,3}$/.test(a);
}

/**
 * Whether the cookie needs `Secure`: always, except for plain HTTP on a loopback listener (a local `miroir dev`, or
 * a test) — a TLS-terminating proxy in front says `X-Forwarded-Proto: https`, which keeps Secure.
 */
export function needsSecure(req: IncomingMessage): boolean {
  const forwarded = req.headers['x-forwarded-proto'];
  const proto =
    typeof forwarded === 'string'
      ? forwarded.split(',')[0]!.trim().toLowerCase()
      : 'encrypted' in req.socket
        ? 'https'
        : 'http';
  return proto !== 'http' || !isLoopback(req.socket.localAddress);
}

/** The Set-Cookie value opening a session for `maxAgeS` seconds. */
export function sessionCookie(value: string, maxAgeS: number, secure: boolean): string {
  return `${SESSION_COOKIE}=${value}; Path=${COOKIE_PATH}; Max-Age=${maxAgeS}; HttpOnly; SameSite=Strict${secure ? '; Secure' : ''}`;
}

/** The Set-Cookie value that deletes the session cookie. */
export function clearedCookie(secure: boolean): string {
  return `${SESSION_COOKIE}=; Path=${COOKIE_PATH}; Max-Age=0; HttpOnly; SameSite=Strict${secure ? '; Secure' : ''}`;
}
