// Canaries (SPEC A18, issue 30): `registerCanaries` adds the admin routes — create/replace, list, get, delete,
// status, capture — to the proxy's route table, wraps the search routes once so this pod remembers recent searches
// for capture, and returns the runner to start once the pod knows its live peers. Called only when
// `canary_runner.enabled`; otherwise nothing here exists on the request path.
import type { AuthResult } from '../../core/auth/authorize.js';
import { PUBLIC_ROUTE } from '../../core/auth/route-actions.js';
import { captureAssertions, hitIdsOf, parseCanary, type CanaryDefinition, type CanaryRun } from '../../core/canary.js';
import { MeiliError } from '../../core/errors.js';
import { checkIndexUid } from '../../core/index-requests.js';
import { parseSearchQuery } from '../../core/search-params.js';
import type { Reply, RequestContext, RouteSpec } from '../../http/server.js';
import type { HttpMethod } from '../../http/router.js';
import type { Store } from '../../store/store.js';
import type { RouteGuard } from '../api/routes.js';
import { scatterSearch, type ReadDeps } from '../api/search.js';
import type { MiroirConfig } from '../config/schema.js';
import type { Logger } from '../observability/logger.js';
import type { Metrics } from '../observability/metrics.js';
import { canaryMetrics } from './metrics.js';
import { RecentQueries } from './recent-queries.js';
import { CanaryRunner } from './runner.js';

export interface CanaryDeps {
  config: Readonly<MiroirConfig>;
  store: Store;
  read: ReadDeps;
  metrics: Metrics;
  logger: Logger | null;
}

export interface Canaries {
  /** Starts the runner once the pod knows which canaries it owns. */
  start(owns: (item: string) => boolean): Promise<void>;
  stop(): Promise<void>;
}

type Handler = (ctx: RequestContext<AuthResult>) => Promise<Reply> | Reply;

const ADMIN: RouteGuard = { kind: 'admin', auth: PUBLIC_ROUTE, tenant: false };
const MAX_CAPTURE = 100;

function notFound(name: string): MeiliError {
  return new MeiliError('miroir_canary_not_found', `Canary \`${name}\` not found.`);
}

function invalid(message: string): MeiliError {
  return new MeiliError('miroir_invalid_canary', message);
}

function stateOf(last: CanaryRun | undefined): 'passing' | 'failing' | 'unknown' {
  return last === undefined ? 'unknown' : last.passed ? 'passing' : 'failing';
}

function intParam(b: Record<string, unknown>, key: string, fallback: number, min: number, max: number): number {
  const v = b[key] ?? fallback;
  if (typeof v !== 'number' || !Number.isInteger(v) || v < min || v > max)
    throw invalid(
      `Invalid value at \`${key}\`: expected an integer from ${min} to ${max}, got \`${JSON.stringify(v)}\`.`,
    );
  return v;
}

export function registerCanaries(routes: Array<RouteSpec<AuthResult>>, deps: CanaryDeps): Canaries {
  const cfg = deps.config.canary_runner;
  const store = deps.store;
  const recent = new RecentQueries(cfg.capture_recent_queries);
  let runner: CanaryRunner | null = null;
  const add = (method: HttpMethod, path: string, handler: Handler) =>
    routes.push({
      method,
      path,
      name: path,
      body: method === 'GET' || method === 'DELETE' ? 'none' : 'json',
      auth: ADMIN,
      handler,
    });

  const save = async (def: CanaryDefinition): Promise<boolean> => {
    const existed = (await store.getCanary(def.name)) !== null;
    await store.putCanary(def);
    await store.publish('canaries', def.name);
    return existed;
  };

  add('POST', '/_miroir/canaries', async (ctx) => {
    const def = parseCanary(ctx.json, new Date().toISOString());
    const replaced = await save(def);
    return { status: replaced ? 200 : 201, body: def };
  });
  add('GET', '/_miroir/canaries', async () => ({ status: 200, body: { results: await store.listCanaries() } }));
  add('GET', '/_miroir/canaries/status', async () => {
    const defs = await store.listCanaries();
    const lasts = await Promise.all(defs.map((d) => store.getCanaryRuns(d.name, 1)));
    return {
      status: 200,
      body: defs.map((d, i) => {
        const last = lasts[i]![0];
        return {
          name: d.name,
          index: d.index,
          state: stateOf(last),
          last_run: last?.at ?? null,
          latency_ms: last?.latency_ms ?? null,
          failures: last?.failures ?? [],
        };
      }),
    };
  });
  add('GET', '/_miroir/canaries/:name', async (ctx) => {
    const name = ctx.params.name!;
    const def = await store.getCanary(name);
    if (def === null) throw notFound(name);
    const history = await store.getCanaryRuns(name, cfg.run_history_per_canary);
    return {
      status: 200,
      body: { ...def, state: stateOf(history[0]), last_run: history[0]?.at ?? null, history },
    };
  });
  add('DELETE', '/_miroir/canaries/:name', async (ctx) => {
    const name = ctx.params.name!;
    if (!(await store.deleteCanary(name))) throw notFound(name);
    await store.publish('canaries', name);
    return { status: 204 };
  });
  // Turns the current top answers of this pod's most frequent recent searches of an index into canaries.
  add('POST', '/_miroir/canaries/capture', async (ctx) => {
    const b = (ctx.json ?? {}) as Record<string, unknown>;
    if (b === null || typeof b !== 'object' || Array.isArray(b))
      throw invalid('A capture request must be an object `{"index", "count", "name_prefix", "interval_s", "k"}`.');
    for (const k of Object.keys(b))
      if (!['index', 'count', 'name_prefix', 'interval_s', 'k'].includes(k))
        throw invalid(
          `Unknown field \`${k}\`: expected one of \`index\`, \`count\`, \`name_prefix\`, \`interval_s\`, \`k\`.`,
        );
    if (typeof b.index !== 'string') throw invalid('Invalid value at `index`: expected an index uid (a string).');
    const index = checkIndexUid(b.index);
    const count = intParam(b, 'count', 10, 1, MAX_CAPTURE);
    const interval = intParam(b, 'interval_s', 60, 1, 86_400);
    const k = intParam(b, 'k', 3, 1, 100);
    const prefix = b.name_prefix ?? `${index}-captured-`;
    if (typeof prefix !== 'string' || !/^[A-Za-z0-9_-]{0,90}$/.test(prefix))
      throw invalid('Invalid value at `name_prefix`: expected up to 90 letters, digits, `-` and `_`.');
    const created: CanaryDefinition[] = [];
    let skipped = 0;
    const now = new Date().toISOString();
    for (const query of recent.sample(index, count)) {
      const res = await scatterSearch(deps.read, index, parseSearchQuery(query, 'json'), { kind: 'master' });
      const assertions = captureAssertions(hitIdsOf(res.answer.hits, res.primaryKey ?? 'id'), k);
      if (assertions === null) {
        skipped++;
        continue;
      }
      const def = parseCanary(
        { name: `${prefix}${created.length + 1}`, index, interval_s: interval, query, assertions },
        now,
      );
      await save(def);
      created.push(def);
    }
    return { status: 201, body: { canaries: created, skipped } };
  });

  // Searches answered 200 are remembered for capture (tenant-token searches are not: their rules are not the
  // master key's, so their answers would not be the canary's).
  for (const spec of routes) {
    if (spec.path !== '/indexes/:uid/search' || (spec.method !== 'POST' && spec.method !== 'GET')) continue;
    const inner = spec.handler;
    const source = spec.method === 'POST' ? 'json' : 'query';
    spec.handler = async (ctx) => {
      const reply = await inner(ctx);
      if (reply.status === 200 && ctx.auth?.kind !== 'tenant') {
        const query =
          source === 'json'
            ? ((ctx.json ?? {}) as Record<string, unknown>)
            : parseSearchQuery(Object.fromEntries(ctx.query), 'query');
        recent.record(ctx.params.uid!, query);
      }
      return reply;
    };
  }

  return {
    async start(owns) {
      runner = new CanaryRunner({
        store,
        read: deps.read,
        metrics: canaryMetrics(deps.metrics.registry),
        logger: deps.logger,
        maxConcurrent: cfg.max_concurrent_canaries,
        historyPerCanary: cfg.run_history_per_canary,
        owns,
      });
      await runner.start();
    },
    async stop() {
      await runner?.stop();
    },
  };
}
