// The auth hook extension of the admin console: on a `/_miroir/*` admin route sent without an admin key, the
// console's session cookie stands in for it. Checks, in order (SPEC C13, C14): the cookie was sealed by this cluster;
// for a state change the Origin is allowed (403 first); the session is live (not expired, not revoked, opened with
// the current admin key — else 401); for a state change the session's X-CSRF-Token was sent (403) and read-only
// mode is off (403). State changes re-read the session from the store; each one is counted by action (A19 metrics).
import type { IncomingMessage } from 'node:http';
import { constantTimeEqual, type AuthResult } from '../../core/auth/authorize.js';
import { MeiliError } from '../../core/errors.js';
import type { AdminSessionRecord } from '../../store/store.js';
import type { RequestContext } from '../../http/server.js';
import { readCookie, SESSION_COOKIE } from './cookie.js';
import { consoleAction, type ConsoleMetrics } from './metrics.js';
import { originAllowed } from './origin.js';
import type { AdminSessions } from './sessions.js';

export const CSRF_HEADER = 'x-csrf-token';
export const LOGOUT_ROUTE = '/_miroir/admin/logout';

const MASTER: AuthResult = Object.freeze({ kind: 'master' });

export interface GuardOptions {
  sessions: AdminSessions;
  /** SHA-256 of the admin key in force (sessions opened with another key are over). */
  adminKeyHash: string;
  allowedOrigins: readonly string[];
  readOnly: boolean;
  metrics: ConsoleMetrics;
}

export function isStateChange(method: string): boolean {
  return method !== 'GET' && method !== 'HEAD';
}

export function sessionExpired(): MeiliError {
  return new MeiliError(
    'miroir_invalid_auth',
    'The admin console session is missing, expired or revoked; log in again (or send the admin key as `Authorization: Bearer <key>` or `X-Admin-Key`).',
  );
}

export function originRefused(): MeiliError {
  return new MeiliError(
    'miroir_origin_not_allowed',
    "The request's `Origin` is not allowed to use the admin console (`admin_ui.allowed_origins`).",
  );
}

export class ConsoleGuard {
  /** The session each cookie-authenticated request carries, for the console's own handlers (logout, session). */
  private readonly bySession = new WeakMap<IncomingMessage, AdminSessionRecord>();

  constructor(private readonly o: GuardOptions) {}

  /** Whether the request carries a console session cookie at all. */
  hasCookie(req: IncomingMessage): boolean {
    return readCookie(req.headers.cookie, SESSION_COOKIE) !== undefined;
  }

  /** The session a request was authenticated with, if it came with the cookie. */
  sessionOf(req: IncomingMessage): AdminSessionRecord | undefined {
    return this.bySession.get(req);
  }

  async authenticate(ctx: RequestContext<AuthResult>): Promise<AuthResult> {
    const cookie = readCookie(ctx.req.headers.cookie, SESSION_COOKIE);
    const id = cookie === undefined ? null : this.o.sessions.idOf(cookie);
    const change = isStateChange(ctx.method);
    if (change && !originAllowed(ctx.req, this.o.allowedOrigins)) throw originRefused();
    if (id === null) throw sessionExpired();
    const session = await this.o.sessions.find(id, change);
    if (session === null || !constantTimeEqual(session.admin_key_hash, this.o.adminKeyHash)) throw sessionExpired();
    if (change) {
      const sent = ctx.req.headers[CSRF_HEADER];
      if (typeof sent !== 'string' || !constantTimeEqual(sent, session.csrf_token)) {
        throw new MeiliError(
          'miroir_csrf_token_invalid',
          "A state change with the admin console session needs the session's CSRF token in the `X-CSRF-Token` header.",
        );
      }
      if (ctx.routeName !== LOGOUT_ROUTE) {
        if (this.o.readOnly)
          throw new MeiliError(
            'miroir_admin_read_only',
            'The admin console is read-only (`admin_ui.read_only_mode`); use the admin key to change the cluster.',
          );
        const { action, destructive } = consoleAction(ctx.method, ctx.routeName);
        this.o.metrics.actions.labels(action).inc();
        if (destructive) this.o.metrics.destructive.labels(action).inc();
      }
    }
    this.bySession.set(ctx.req, session);
    return MASTER;
  }
}
