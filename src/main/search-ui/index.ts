// The search UI (SPEC A21, C13, issue 32): `registerSearchUi` adds every search-UI route to the proxy's route table
// — the page and its assets, sessions, beacons, the admin routes (per-index config, scoped-key rotation), locale,
// CORS preflights — and returns the one auth extension for JWT-shaped bearer tokens: a valid session token is served
// as a request made with the index's scoped ["search"] key (its `injected_filter` ANDed in like a tenant token's
// search rule), on the routes its scopes name. Page searches go through Miroir's own search routes; their handlers
// are wrapped once here to count the A21 metrics for session requests only.
import { membersOf, numberOf } from '../../core/types.js';
import type { IncomingMessage } from 'node:http';
import { z } from 'zod';
import { authorize, constantTimeEqual, type AuthResult } from '../../core/auth/authorize.js';
import { deriveKeyValue } from '../../core/auth/keys.js';
import type { KeyRegistry } from '../../core/auth/registry.js';
import { MeiliError, errorMessage } from '../../core/errors.js';
import { checkIndexUid } from '../../core/index-requests.js';
import { SEARCH_UI_LOCALES } from '../../core/search-ui/locale.js';
import { pageModel, type SearchUiIndexConfig } from '../../core/search-ui/page-model.js';
import { parseRate, type RateSpec } from '../../core/search-ui/rate.js';
import {
  isSessionJwtShaped,
  oauthFilter,
  parseGroups,
  scopeForRoute,
  type SessionClaims,
} from '../../core/search-ui/session.js';
import type { Store } from '../../store/store.js';
import type { RouteGuard } from '../api/routes.js';
import type { MiroirConfig } from '../config/schema.js';
import type { Logger } from '../observability/logger.js';
import type { Metrics } from '../observability/metrics.js';
import type { Reply, RequestContext, RouteSpec } from '../../http/server.js';
import type { RouteMethod } from '../../http/router.js';
import type { IndexStateService } from '../state/index-state.js';
import { every, type Periodic } from '../util/periodic.js';
import { loadAssets, PAGE_CSP, renderPage, type SearchUiAssets } from './assets.js';
import { SessionSigner } from './jwt.js';
import { searchUiMetrics, type SearchUiMetrics } from './metrics.js';
import { SearchUiRateLimits } from './rate-limit.js';
import { ScopedKeys, type RotationResult } from './scoped-keys.js';

export interface SearchUiDeps {
  config: Readonly<MiroirConfig>;
  store: Store;
  keys: KeyRegistry;
  state: IndexStateService;
  metrics: Metrics;
  logger: Logger | null;
  env?: NodeJS.ProcessEnv;
  /** Page bundle directory (default dist/ui/search/). */
  assetDir?: string;
}

export interface SearchUi {
  /** C13 step 1: null when the request carries no JWT-shaped bearer token (the usual key checks follow). */
  authenticate(ctx: RequestContext<AuthResult>, guard: RouteGuard): Promise<AuthResult | null>;
  /** Starts scoped-key upkeep once the pod knows its peer URL and the live pods. */
  start(pod: { url: string; livePods: () => readonly string[] }): Promise<void>;
  stop(): Promise<void>;
  readonly scopedKeys: ScopedKeys;
}

type Handler = (ctx: RequestContext<AuthResult>) => Promise<Reply> | Reply;

/** How often each pod re-reads the scoped-key records (changes also arrive at once on the `search_ui` channel). */
const TICK_MS = 5_000;

const indexConfigSchema = z.strictObject({
  title: z.string().min(1).max(200).optional(),
  title_attribute: z.string().min(1).max(200).optional(),
  displayed_attributes: z.array(z.string().min(1).max(200)).max(50).optional(),
  url_attribute: z.string().min(1).max(200).optional(),
  facets: z.array(z.string().min(1).max(200)).max(50).optional(),
  hits_per_page: z.number().int().min(1).max(100).optional(),
});

function scopeDenied(message: string): MeiliError {
  return new MeiliError('miroir_jwt_scope_denied', message);
}

function bearer(req: IncomingMessage): string | null {
  const h = req.headers.authorization;
  return h !== undefined && h.startsWith('Bearer ') ? h.slice(7).trim() : null;
}

function header(req: IncomingMessage, name: string): string | undefined {
  const v = req.headers[name];
  return Array.isArray(v) ? v.join(',') : v;
}

export function registerSearchUi(routes: Array<RouteSpec<AuthResult>>, deps: SearchUiDeps): SearchUi {
  const cfg = deps.config.search_ui;
  const masterKey = deps.config.master_key;
  if (masterKey === null)
    throw new Error('search_ui.enabled needs master_key: the page searches with an API key Miroir derives from it');
  const env = deps.env ?? process.env;
  const signer = new SessionSigner(cfg.auth.jwt_secret_env, env);
  const sharedKey = cfg.auth.mode === 'shared_key' ? env[cfg.auth.shared_key_env] : undefined;
  if (cfg.auth.mode === 'shared_key' && (sharedKey === undefined || sharedKey === '')) {
    throw new Error(`search_ui.auth.mode shared_key needs the key in env ${cfg.auth.shared_key_env}`);
  }
  const assets: SearchUiAssets = loadAssets(deps.assetDir);
  const perIp: RateSpec = parseRate(cfg.rate_limit.per_ip)!;
  const sessionRate: RateSpec = parseRate(cfg.auth.session_rate_limit)!;
  if (cfg.rate_limit.backend === 'memory' && deps.store.backend === 'redis')
    deps.logger?.warn({}, 'search_ui.rate_limit.backend is memory: each pod counts its own clients');
  const limits = new SearchUiRateLimits(deps.store, cfg.rate_limit.backend, cfg.rate_limit.redis_ttl_s * 1000);
  const metrics: SearchUiMetrics = searchUiMetrics(deps.metrics.registry);
  const scopedKeys = new ScopedKeys({
    store: deps.store,
    keys: deps.keys,
    logger: deps.logger,
    maxAgeDays: cfg.scoped_key_max_age_days,
    rotateBeforeDays: cfg.scoped_key_rotate_before_expiry_days,
    drainMs: cfg.scoped_key_rotation_drain_s * 1000,
  });
  /** Requests authenticated by a session token, with their claims. */
  const sessions = new WeakMap<IncomingMessage, SessionClaims>();
  const anyOrigin = cfg.allowed_origins.includes('*');
  const rateInfo = { limit: perIp.limit, window_s: perIp.windowMs / 1000 };

  /** CORS answer headers for the request's Origin, when allowed. */
  const cors = (ctx: RequestContext<AuthResult>): void => {
    const origin = header(ctx.req, 'origin');
    if (origin === undefined) return;
    if (anyOrigin) ctx.replyHeaders['access-control-allow-origin'] = '*';
    else if (cfg.allowed_origins.includes(origin)) {
      ctx.replyHeaders['access-control-allow-origin'] = origin;
      ctx.replyHeaders.vary = 'Origin';
    } else return;
    ctx.replyHeaders['access-control-expose-headers'] = 'retry-after, x-request-id';
  };

  const preflight: Handler = (ctx) => {
    cors(ctx);
    if (ctx.replyHeaders['access-control-allow-origin'] !== undefined) {
      ctx.replyHeaders['access-control-allow-methods'] = 'GET, POST, OPTIONS';
      ctx.replyHeaders['access-control-allow-headers'] =
        header(ctx.req, 'access-control-request-headers') ?? 'authorization, content-type';
      ctx.replyHeaders['access-control-max-age'] = '600';
    }
    return { status: 204 };
  };

  const ip = (ctx: RequestContext<AuthResult>) => SearchUiRateLimits.clientIp(ctx.req);

  // ---- the page and its assets (C13 step 0: IP-limited)
  const page: Handler = async (ctx): Promise<Reply> => {
    const index = checkIndexUid(ctx.params.uid!);
    if (ctx.path.length > 1 && ctx.path.endsWith('/'))
      return { status: 308, headers: { location: `../${encodeURIComponent(index)}` } };
    await limits.hit('searchui', ip(ctx), perIp, 'page loads', ctx.replyHeaders);
    const view = await deps.state.readable(index);
    const model = pageModel({
      index,
      primaryKey: view.primaryKey,
      settings: view.settings,
      config: await deps.store.getSearchUiConfig(index),
      rateLimit: rateInfo,
      sessionTtlS: cfg.auth.session_ttl_s,
      authMode: cfg.auth.mode,
    });
    return {
      status: 200,
      raw: renderPage(model, assets),
      headers: {
        'content-type': 'text/html; charset=utf-8',
        'content-security-policy': PAGE_CSP,
        'x-content-type-options': 'nosniff',
        'referrer-policy': 'no-referrer',
        'cache-control': 'no-store',
      },
    };
  };

  // ---- sessions (C13 step 0: auth per mode)
  const session: Handler = async (ctx) => {
    cors(ctx);
    const index = checkIndexUid(ctx.params.uid!);
    await limits.hit('searchui:session', ip(ctx), sessionRate, 'search sessions', ctx.replyHeaders);
    let filter: string | null = null;
    if (cfg.auth.mode === 'shared_key') {
      const given = header(ctx.req, 'x-search-ui-key');
      if (given === undefined || !constantTimeEqual(given, sharedKey!))
        throw new MeiliError('miroir_invalid_auth', 'The `X-Search-UI-Key` header is missing or wrong.');
    } else if (cfg.auth.mode === 'oauth_proxy') {
      const user = header(ctx.req, 'x-forwarded-user');
      if (user === undefined || user.trim() === '')
        throw new MeiliError(
          'miroir_invalid_auth',
          'The `X-Forwarded-User` header is missing: this search page must be reached through its sign-in proxy.',
        );
      filter = oauthFilter(user.trim(), parseGroups(header(ctx.req, 'x-forwarded-groups')), {
        userAttribute: cfg.auth.oauth_proxy.user_filter_attribute,
        groupsAttribute: cfg.auth.oauth_proxy.groups_filter_attribute,
      });
    }
    await deps.state.readable(index);
    await scopedKeys.keyFor(index);
    const { token, claims } = await signer.sign(index, cfg.auth.session_ttl_s, Date.now(), filter);
    metrics.sessions.inc();
    return {
      status: 200,
      body: { token, expires_at: new Date(claims.exp * 1000).toISOString(), index, rate_limit: rateInfo },
      headers: { 'cache-control': 'no-store' },
    };
  };

  // ---- click-through beacons (session scope `beacon`)
  const beacon: Handler = (ctx) => {
    const claims = sessions.get(ctx.req);
    if (claims === undefined) throw scopeDenied('Beacons are sent with a search session token.');
    const body = membersOf(ctx.json);
    if (body.type !== 'click')
      throw new MeiliError(
        'bad_request',
        'A beacon is `{"type": "click", "position": <1-based rank>, "query": "<text>"}`.',
      );
    metrics.clicks.inc({ index: claims.idx });
    if (cfg.analytics.enabled)
      deps.logger?.info(
        {
          index: claims.idx,
          event: 'click',
          position: typeof body.position === 'number' ? body.position : null,
          query: typeof body.query === 'string' ? body.query.slice(0, 512) : null,
        },
        'search_ui',
      );
    return { status: 204 };
  };

  // ---- admin routes
  const rotate: Handler = async (ctx) => {
    const index = checkIndexUid(ctx.params.uid!);
    let force = false;
    if (ctx.rawBody !== null && ctx.rawBody.length > 0) {
      let body: unknown;
      try {
        body = JSON.parse(ctx.rawBody.toString('utf8'));
      } catch (err) {
        throw new MeiliError('malformed_payload', `The json payload provided is malformed. \`${errorMessage(err)}\`.`);
      }
      const f = membersOf(body).force;
      if (
        typeof body !== 'object' ||
        body === null ||
        Array.isArray(body) ||
        (f !== undefined && typeof f !== 'boolean')
      )
        throw new MeiliError('bad_request', 'The body is `{"force": true|false}` (optional).');
      force = f === true;
    }
    const result: RotationResult = await scopedKeys.rotate(index, force);
    return { status: 200, body: result };
  };

  const getConfig: Handler = async (ctx) => ({
    status: 200,
    body: (await deps.store.getSearchUiConfig(checkIndexUid(ctx.params.uid!))) ?? {},
  });
  const putConfig: Handler = async (ctx) => {
    const index = checkIndexUid(ctx.params.uid!);
    const parsed = indexConfigSchema.safeParse(ctx.json);
    if (!parsed.success) {
      const issue = parsed.error.issues[0]!;
      const key = [...issue.path, ...(issue.code === 'unrecognized_keys' ? issue.keys : [])].join('.');
      throw new MeiliError(
        'bad_request',
        `Invalid search UI config${key === '' ? '' : ` at \`${key}\``}: ${issue.message}.`,
      );
    }
    const config: SearchUiIndexConfig = parsed.data;
    await deps.store.putSearchUiConfig(index, config);
    return { status: 200, body: config };
  };

  const locale: Handler = (ctx) => {
    const m = /^([a-z]{2}(?:-[A-Za-z]{2})?)\.json$/.exec(ctx.params.file ?? '');
    const strings = m === null ? undefined : SEARCH_UI_LOCALES[m[1]!];
    return strings === undefined
      ? { status: 404 }
      : { status: 200, body: strings, headers: { 'cache-control': 'public, max-age=3600' } };
  };

  // ---- the route table additions
  const guard = (kind: RouteGuard['kind'], actions: readonly string[] = []): RouteGuard => ({
    kind,
    auth: { actions, scope: 'index' },
    tenant: false,
  });
  const add = (
    method: RouteMethod,
    path: string,
    handler: Handler,
    g: RouteGuard,
    body: 'none' | 'json' | 'raw' = 'none',
  ) => routes.push({ method, path, body, auth: g, handler });
  const open = guard('public');
  add('GET', '/ui/search/:uid', page, open);
  for (const [name, asset] of assets.files) {
    add(
      'GET',
      `/ui/search/${name}`,
      () => ({
        status: 200,
        raw: asset.body,
        headers: {
          'content-type': asset.type,
          'cache-control': 'public, max-age=31536000, immutable',
          'x-content-type-options': 'nosniff',
        },
      }),
      open,
    );
  }
  for (const prefix of ['', '/_miroir']) {
    add('GET', `${prefix}/ui/search/:uid/session`, session, open);
    add('OPTIONS', `${prefix}/ui/search/:uid/session`, preflight, open);
    add('POST', `${prefix}/ui/search/:uid/beacon`, beacon, guard('client', ['search']), 'json');
    add('OPTIONS', `${prefix}/ui/search/:uid/beacon`, preflight, open);
  }
  add('GET', '/_miroir/ui/search/locale/:file', locale, open);
  add('POST', '/_miroir/ui/search/:uid/rotate-scoped-key', rotate, guard('admin'), 'raw');
  add('POST', '/_miroir/ui/search/:uid/config', putConfig, guard('admin'), 'json');
  add('GET', '/_miroir/ui/search/:uid/config', getConfig, guard('admin'));
  for (const path of ['/multi-search', '/indexes/:uid/search', '/indexes/:uid/facet-search'])
    add('OPTIONS', path, preflight, open);

  // Page searches run through Miroir's own search routes; session requests are counted on the way out.
  for (const spec of routes) {
    const kind =
      spec.method === 'POST' && spec.path === '/multi-search'
        ? 'multi'
        : (spec.method === 'POST' || spec.method === 'GET') && spec.path === '/indexes/:uid/search'
          ? 'single'
          : null;
    if (kind === null) continue;
    const inner = spec.handler;
    spec.handler = async (ctx) => {
      const claims = sessions.get(ctx.req);
      if (claims === undefined) return inner(ctx);
      let query: unknown = null;
      if (kind === 'multi') {
        const queries = membersOf(ctx.json).queries;
        if (Array.isArray(queries)) {
          queries.forEach((q: unknown, i) => {
            const uid = membersOf(q).indexUid;
            if (typeof uid === 'string' && uid !== claims.idx)
              throw scopeDenied(
                `Inside \`.queries[${i}]\`: this search session is for index \`${claims.idx}\`, not \`${uid}\`.`,
              );
          });
          query = membersOf(queries[0]).q ?? null;
        }
      } else query = ctx.method === 'GET' ? ctx.query.get('q') : (membersOf(ctx.json).q ?? null);
      const started = performance.now();
      const reply = await inner(ctx);
      const ms = performance.now() - started;
      const body = membersOf(reply.body);
      const results = body.results;
      const first = kind === 'multi' && Array.isArray(results) && results.length > 0 ? membersOf(results[0]) : body;
      const hits = numberOf(first.totalHits) ?? numberOf(first.estimatedTotalHits) ?? null;
      metrics.queries.inc({ index: claims.idx });
      metrics.latency(claims.idx, ms);
      if (hits === 0) metrics.zeroHits.inc({ index: claims.idx });
      if (cfg.analytics.enabled)
        deps.logger?.info(
          {
            index: claims.idx,
            event: 'query',
            query: typeof query === 'string' ? query.slice(0, 512) : null,
            hits,
            duration_ms: Math.round(ms * 100) / 100,
          },
          'search_ui',
        );
      return reply;
    };
  }

  let loop: Periodic | null = null;
  let unsubscribe: (() => Promise<void>) | null = null;
  let running: Promise<void> | null = null;
  let again = false;
  const runTick = (): Promise<void> => {
    if (running !== null) {
      again = true;
      return running;
    }
    running = scopedKeys
      .tick()
      .catch((err: unknown) => deps.logger?.warn({ err }, 'search UI key upkeep failed'))
      .finally(() => {
        running = null;
        if (again) {
          again = false;
          void runTick();
        }
      });
    return running;
  };

  return {
    scopedKeys,
    async authenticate(ctx, g) {
      if (g.kind !== 'client') return null;
      const token = bearer(ctx.req);
      if (token === null || !isSessionJwtShaped(token)) return null;
      cors(ctx);
      const claims = await signer.verify(token, Date.now());
      const scope = scopeForRoute(ctx.method, ctx.routeName);
      if (scope === null || !claims.scope.includes(scope))
        throw scopeDenied(`A search session token does not grant \`${ctx.method} ${ctx.routeName}\`.`);
      const pathIndex = ctx.params.uid;
      if (pathIndex !== undefined && pathIndex !== claims.idx)
        throw scopeDenied(`This search session is for index \`${claims.idx}\`, not \`${pathIndex}\`.`);
      if (scope !== 'beacon') await limits.hit('searchui', ip(ctx), perIp, 'searches', ctx.replyHeaders);
      const key = await scopedKeys.keyFor(claims.idx);
      // Served exactly as a request made with the scoped key (its actions, index and expiry are checked).
      const auth = await authorize({
        authorization: `Bearer ${deriveKeyValue(masterKey, key.uid)}`,
        masterKey,
        route: g.auth,
        indexUid: pathIndex ?? null,
        tenantTokenAllowed: false,
        keys: deps.keys,
        nowMs: Date.now(),
      });
      sessions.set(ctx.req, claims);
      if (claims.injected_filter === undefined || auth.kind !== 'key') return auth;
      return { kind: 'tenant', key: auth.key, searchRules: { [claims.idx]: { filter: claims.injected_filter } } };
    },
    async start(pod) {
      scopedKeys.attach(pod.url, pod.livePods);
      unsubscribe = await deps.store.subscribe('search_ui', () => void runTick());
      await runTick();
      loop = every(TICK_MS, runTick);
    },
    async stop() {
      await loop?.stop();
      await unsubscribe?.();
      await running;
    },
  };
}
