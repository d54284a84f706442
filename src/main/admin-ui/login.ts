// The console's own routes (SPEC A19, C10 `GET admin`, `POST admin/login|logout`): login exchanges the admin key
// for a session cookie and a CSRF token (limited per address, see login-limit.ts; constant-time compare); logout
// revokes the session; `GET /_miroir/admin/session` gives a reloaded page its CSRF token and what it may show.
import { isObject } from '../../core/types.js';
import type { AuthResult } from '../../core/auth/authorize.js';
import { constantTimeEqual } from '../../core/auth/authorize.js';
import { errorBody, MeiliError } from '../../core/errors.js';
import type { AdminSessionRecord } from '../../store/store.js';
import type { Reply, RequestContext } from '../../http/server.js';
import { clearedCookie, needsSecure, sessionCookie } from './cookie.js';
import { originRefused, type ConsoleGuard } from './guard.js';
import type { LoginLimiter } from './login-limit.js';
import type { ConsoleMetrics } from './metrics.js';
import { originAllowed } from './origin.js';
import type { AdminSessions } from './sessions.js';

export interface LoginOptions {
  adminKey: string;
  sessions: AdminSessions;
  limiter: LoginLimiter;
  guard: ConsoleGuard;
  metrics: ConsoleMetrics;
  allowedOrigins: readonly string[];
  ttlS: number;
  readOnly: boolean;
  /** Optional views the console may show (capabilities that are on). */
  capabilities: readonly string[];
}

type Ctx = RequestContext<AuthResult>;

const NO_STORE = 'no-store';

function sessionBody(o: LoginOptions, s: AdminSessionRecord | undefined): Record<string, unknown> {
  return {
    csrf_token: s?.csrf_token ?? null,
    expires_at: s === undefined ? null : new Date(s.expires_at).toISOString(),
    read_only: o.readOnly,
    capabilities: o.capabilities,
  };
}

function adminKeyFrom(body: unknown): string {
  const key = isObject(body) && Object.keys(body).every((k) => k === 'admin_key') ? body.admin_key : undefined;
  if (typeof key !== 'string')
    throw new MeiliError('bad_request', 'Expected a JSON object `{"admin_key": "<the admin API key>"}`.');
  return key;
}

export async function login(o: LoginOptions, ctx: Ctx): Promise<Reply> {
  if (!originAllowed(ctx.req, o.allowedOrigins)) throw originRefused();
  const ip = ctx.req.socket.remoteAddress ?? 'unknown';
  const refused = await o.limiter.admit(ip);
  if (refused !== null) {
    return {
      status: 429,
      body: errorBody('miroir_rate_limited', refused.message),
      headers: { 'retry-after': String(refused.retryAfterS), 'cache-control': NO_STORE },
    };
  }
  const given = adminKeyFrom(ctx.json);
  if (!constantTimeEqual(given, o.adminKey)) {
    await o.limiter.failed(ip);
    throw new MeiliError('miroir_invalid_auth', 'The admin key is wrong.');
  }
  await o.limiter.succeeded(ip);
  const { cookie, session } = await o.sessions.open(o.adminKey);
  o.metrics.sessions.inc();
  return {
    status: 200,
    body: sessionBody(o, session),
    headers: { 'set-cookie': sessionCookie(cookie, o.ttlS, needsSecure(ctx.req)), 'cache-control': NO_STORE },
  };
}

export async function logout(o: LoginOptions, ctx: Ctx): Promise<Reply> {
  const s = o.guard.sessionOf(ctx.req);
  if (s !== undefined) await o.sessions.revoke(s.id);
  return { status: 204, headers: { 'set-cookie': clearedCookie(needsSecure(ctx.req)), 'cache-control': NO_STORE } };
}

export function sessionInfo(o: LoginOptions, ctx: Ctx): Reply {
  return { status: 200, body: sessionBody(o, o.guard.sessionOf(ctx.req)), headers: { 'cache-control': NO_STORE } };
}
