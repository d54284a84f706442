// The admin console (SPEC A19) as one unit the app plugs in: `registerAdminUi` adds its routes to the proxy's route
// table (the page and its assets, login / logout / session, and the admin API routes the console reads) and answers
// the one auth hook extension —
// on an admin route sent without an admin key, the console's session cookie may stand in for it (guard.ts).
// Null when `admin_ui.enabled` is false: no route, no cookie accepted, nothing on the request path.
import type { Registry } from 'prom-client';
import type { AuthResult } from '../../core/auth/authorize.js';
import { PUBLIC_ROUTE } from '../../core/auth/route-actions.js';
import type { Store } from '../../store/store.js';
import type { RouteGuard } from '../api/routes.js';
import type { MiroirConfig } from '../config/schema.js';
import type { Logger } from '../observability/logger.js';
import type { RequestContext, RouteSpec } from '../../http/server.js';
import type { HttpMethod } from '../../http/router.js';
import { consoleDistDir, loadConsoleAssets } from './assets.js';
import { consoleApiRoutes, type ConsoleApiDeps } from './console-api.js';
import { ConsoleGuard } from './guard.js';
import { login, logout, sessionInfo, type LoginOptions } from './login.js';
import { LoginLimiter } from './login-limit.js';
import { registerConsoleMetrics } from './metrics.js';
import { SEAL_KEY_ENV, SessionSeal } from './seal.js';
import { adminKeyHash, AdminSessions } from './sessions.js';

export interface AdminUiDeps {
  config: Readonly<MiroirConfig>;
  store: Store;
  /** The proxy's metrics registry (the A19 counters are added to it). */
  registry: Registry;
  logger: Logger;
  /** The services the console's admin routes call. */
  api: ConsoleApiDeps;
  /** Where ADMIN_SESSION_SEAL_KEY is read (default process.env). */
  env?: NodeJS.ProcessEnv;
  /** The built console (default dist/ui/admin). */
  assetsDir?: string;
}

export interface AdminUi {
  /**
   * The auth hook extension for admin routes sent without an admin key: null when the request carries no console
   * session cookie (the caller refuses it as before), else the authentication by that cookie (throws 401/403).
   */
  authenticate(ctx: RequestContext<AuthResult>): Promise<AuthResult> | null;
  close(): Promise<void>;
}

/**
 * The optional views the console shows, one per capability that is on. The capabilities with a console view —
 * aliases, reshard, anti-entropy, canaries, shadow diffs — are not built yet; each adds its name here when its
 * config block is enabled, and its view in src/ui/admin/views/registry.ts names the same capability.
 */
export function consoleCapabilities(_config: Readonly<MiroirConfig>): string[] {
  return [];
}

const ADMIN_GUARD: RouteGuard = Object.freeze({ kind: 'admin', auth: PUBLIC_ROUTE, tenant: false });
const PUBLIC_GUARD: RouteGuard = Object.freeze({ kind: 'public', auth: PUBLIC_ROUTE, tenant: false });

export async function registerAdminUi(
  routes: Array<RouteSpec<AuthResult>>,
  deps: AdminUiDeps,
): Promise<AdminUi | null> {
  const cfg = deps.config.admin_ui;
  if (!cfg.enabled) return null;
  const adminKey = deps.config.admin.api_key;
  if (!deps.config.admin.enabled || adminKey === null)
    throw new Error('admin_ui.enabled needs admin.enabled and admin.api_key');
  const assets = loadConsoleAssets(deps.assetsDir ?? consoleDistDir(), cfg.path);
  const { seal, random } = SessionSeal.fromEnv((deps.env ?? process.env)[SEAL_KEY_ENV]);
  if (random) {
    deps.logger.warn(
      `${SEAL_KEY_ENV} is not set: admin console sessions are sealed with a random key of this process, so they end when it restarts and are not honoured by other pods; set the same value (e.g. openssl rand -hex 64) on every pod`,
    );
  }
  const metrics = registerConsoleMetrics(deps.registry);
  const sessions = new AdminSessions(deps.store, seal, cfg.session_ttl_s * 1000);
  await sessions.start();
  const guard = new ConsoleGuard({
    sessions,
    adminKeyHash: adminKeyHash(adminKey),
    allowedOrigins: cfg.allowed_origins,
    readOnly: cfg.read_only_mode,
    metrics,
  });
  const o: LoginOptions = {
    adminKey,
    sessions,
    limiter: new LoginLimiter(deps.store),
    guard,
    metrics,
    allowedOrigins: cfg.allowed_origins,
    ttlS: cfg.session_ttl_s,
    readOnly: cfg.read_only_mode,
    capabilities: consoleCapabilities(deps.config),
  };

  const add = (
    method: HttpMethod,
    path: string,
    guardSpec: RouteGuard,
    body: 'none' | 'json',
    handler: RouteSpec<AuthResult>['handler'],
  ) => routes.push({ method, path, name: path, body, auth: guardSpec, handler });
  add('GET', cfg.path, PUBLIC_GUARD, 'none', (ctx) => assets.page(ctx.req));
  add(
    'GET',
    `${cfg.path}/assets/:file`,
    PUBLIC_GUARD,
    'none',
    (ctx) => assets.asset(ctx.params.file!, ctx.req) ?? { status: 404 },
  );
  add('POST', '/_miroir/admin/login', PUBLIC_GUARD, 'json', (ctx) => login(o, ctx));
  add('POST', '/_miroir/admin/logout', ADMIN_GUARD, 'none', (ctx) => logout(o, ctx));
  add('GET', '/_miroir/admin/session', ADMIN_GUARD, 'none', (ctx) => sessionInfo(o, ctx));
  for (const [method, path, handler] of consoleApiRoutes(deps.api))
    add(method, path, ADMIN_GUARD, method === 'POST' ? 'json' : 'none', handler);

  return {
    authenticate: (ctx) => (guard.hasCookie(ctx.req) ? guard.authenticate(ctx) : null),
    close: () => sessions.close(),
  };
}
