// Traffic shadow (SPEC A16, issue 30): `registerShadow` wraps the read routes once — search (POST/GET),
// multi-search, GET one document; never a write — so that after a read answered 200, each target samples it
// (`sample_rate`) into its bounded queue (tenant-token reads are not teed: the target would not apply their rules);
// the target's answer is compared with the client's (core/shadow-diff.ts) and every difference goes to a ring
// buffer of `diff_buffer_size` served by `GET /_miroir/shadow/diff`; identical answers are only counted. Called
// only when `shadow.enabled`; otherwise the routes are not wrapped at all.
import type { AuthResult } from '../../core/auth/authorize.js';
import { PUBLIC_ROUTE } from '../../core/auth/route-actions.js';
import { canonicalJson } from '../../core/canonical-json.js';
import { hitIdsOf } from '../../core/canary.js';
import { MeiliError } from '../../core/errors.js';
import { SHADOW_DIFF_KINDS, compareShadow, type ShadowDiffKind, type ShadowSide } from '../../core/shadow-diff.js';
import { isObject, membersOf } from '../../core/types.js';
import type { Reply, RequestContext, RouteSpec } from '../../http/server.js';
import type { RouteGuard } from '../api/routes.js';
import type { MiroirConfig } from '../config/schema.js';
import type { Logger } from '../observability/logger.js';
import type { Metrics } from '../observability/metrics.js';
import type { IndexStateService } from '../state/index-state.js';
import { Ring } from '../util/ring.js';
import type { ShadowOperation } from './config.js';
import { shadowMetrics, type ShadowMetrics } from './metrics.js';
import { ShadowTarget, type ShadowAnswer, type TeedRead } from './target.js';

export interface ShadowDeps {
  config: Readonly<MiroirConfig>;
  state: IndexStateService;
  metrics: Metrics;
  logger: Logger | null;
  env?: NodeJS.ProcessEnv;
}

export interface ShadowDiff {
  id: number;
  at: string;
  target: string;
  index: string;
  query: unknown;
  kind: ShadowDiffKind;
  kendall_tau: number | null;
  missing_ids: Array<string | number>;
  extra_ids: Array<string | number>;
  latency_delta_ms: number;
  primary_status: number;
  shadow_status: number | null;
  error?: string;
}

export interface Shadow {
  close(): Promise<void>;
}

type Handler = (ctx: RequestContext<AuthResult>) => Promise<Reply> | Reply;

const ADMIN: RouteGuard = { kind: 'admin', auth: PUBLIC_ROUTE, tenant: false };
const MAX_LIMIT = 1000;

/** The read routes teed, and the operation each one is. */
const TEED: ReadonlyArray<['GET' | 'POST', string, ShadowOperation]> = [
  ['POST', '/indexes/:uid/search', 'search'],
  ['GET', '/indexes/:uid/search', 'search'],
  ['POST', '/multi-search', 'multi_search'],
  ['GET', '/indexes/:uid/documents/:id', 'documents'],
];

function badFilter(message: string): MeiliError {
  return new MeiliError('miroir_invalid_shadow_filter', message);
}

function intFilter(q: URLSearchParams, key: string, min: number, max: number): number | null {
  const raw = q.get(key);
  if (raw === null) return null;
  const v = Number(raw);
  if (!/^\d+$/.test(raw) || v < min || v > max)
    throw badFilter(
      `Invalid value in parameter \`${key}\`: expected an integer from ${min} to ${max}, got \`${raw}\`.`,
    );
  return v;
}

/** The `queries` of a multi-search body (none when absent). */
function queriesOf(body: unknown): unknown[] {
  const queries = membersOf(body).queries;
  return Array.isArray(queries) ? queries : [];
}

function parseBody(b: Buffer | string | undefined, body: unknown): unknown {
  if (b === undefined) return body;
  return JSON.parse(typeof b === 'string' ? b : b.toString('utf8'));
}

export function registerShadow(routes: Array<RouteSpec<AuthResult>>, deps: ShadowDeps): Shadow {
  const cfg = deps.config.shadow;
  const diffs = new Ring<ShadowDiff>(cfg.diff_buffer_size);
  let nextId = 1;
  const pkOf = async (uid: string) => (await deps.state.readable(uid)).primaryKey ?? 'id';

  const record = (
    target: ShadowTarget,

    index: string,
    query: unknown,
    d: Omit<ShadowDiff, 'id' | 'at' | 'target' | 'index' | 'query'>,
  ) => {
    m.diffs.inc({ target: target.name, kind: d.kind });
    diffs.pushEvicting({ id: nextId++, at: new Date().toISOString(), target: target.name, index, query, ...d });
  };

  /** Compares one pair of sides and records a diff or an identical answer. */
  const compare = (
    target: ShadowTarget,
    index: string,
    query: unknown,
    primary: ShadowSide,
    shadow: ShadowSide,
    deltaMs: number,
  ) => {
    const c = compareShadow(primary, shadow, deltaMs, cfg.latency_threshold_ms);
    if (c.kendall_tau !== null) m.kendallTau.observe({ target: target.name }, c.kendall_tau);
    if (c.kind === null) {
      m.diffs.inc({ target: target.name, kind: 'identical' });
      return;
    }
    if (c.kind === 'error') m.errors.inc({ target: target.name, side: 'shadow' });
    record(target, index, query, {
      kind: c.kind,
      kendall_tau: c.kendall_tau,
      missing_ids: c.missing_ids,
      extra_ids: c.extra_ids,
      latency_delta_ms: c.latency_delta_ms,
      primary_status: primary.status,
      shadow_status: shadow.status,
    });
  };

  const onAnswer = async (target: ShadowTarget, read: TeedRead, answer: ShadowAnswer): Promise<void> => {
    const deltaMs = answer.ms - read.primary.ms;
    if ('error' in answer) {
      m.errors.inc({ target: target.name, side: 'shadow' });
      record(target, read.index, read.query, {
        kind: 'error',
        kendall_tau: null,
        missing_ids: [],
        extra_ids: [],
        latency_delta_ms: Math.round(deltaMs * 100) / 100,
        primary_status: read.primary.status,
        shadow_status: null,
        error: answer.error,
      });
      return;
    }
    m.latencyDelta.observe({ target: target.name }, deltaMs / 1000);
    let primaryBody: Record<string, unknown>;
    try {
      primaryBody = membersOf(parseBody(read.primary.raw, read.primary.body));
    } catch {
      m.errors.inc({ target: target.name, side: 'primary' });
      return;
    }
    let shadowBody: Record<string, unknown> | null;
    try {
      const parsed: unknown = JSON.parse(answer.body.toString('utf8'));
      shadowBody = isObject(parsed) ? parsed : null;
    } catch {
      shadowBody = null;
    }
    const ok = answer.status === 200 && shadowBody !== null;
    if (read.operation === 'search') {
      const pk = await pkOf(read.index);
      compare(
        target,
        read.index,
        read.query,
        { status: 200, ids: hitIdsOf(primaryBody.hits, pk) },
        { status: answer.status, ids: ok ? hitIdsOf(shadowBody!.hits, pk) : null },
        deltaMs,
      );
    } else if (read.operation === 'documents') {
      // A document the target does not have is a missing hit, not an error.
      const id = String(membersOf(read.query).id);
      const missing = answer.status === 404 && shadowBody?.code === 'document_not_found';
      compare(
        target,
        read.index,
        read.query,
        { status: 200, ids: [id], content: canonicalJson(primaryBody) },
        missing
          ? { status: 200, ids: [] }
          : { status: answer.status, ids: ok ? [id] : null, content: ok ? canonicalJson(shadowBody) : undefined },
        deltaMs,
      );
    } else {
      const asked = membersOf(read.query).queries;
      const queries: unknown[] = Array.isArray(asked) ? asked : [];
      const results = primaryBody.results;
      if (Array.isArray(results)) {
        const shadowResults = shadowBody?.results;
        const theirs: unknown[] | null = ok && Array.isArray(shadowResults) ? shadowResults : null;
        const mine = results.map(membersOf);
        for (let i = 0; i < mine.length; i++) {
          const uid = String(mine[i]!.indexUid);
          const pk = await pkOf(uid);
          const theirsAt = theirs?.[i];
          const other = theirsAt === undefined ? undefined : membersOf(theirsAt);
          compare(
            target,
            uid,
            queries[i] ?? null,
            { status: 200, ids: hitIdsOf(mine[i]!.hits, pk) },
            {
              status: other === undefined ? answer.status : 200,
              ids: other === undefined ? null : hitIdsOf(other.hits, pk),
            },
            deltaMs,
          );
        }
      } else {
        // Federated: one merged list; hits are told apart by their index and primary key.
        const ids = async (hits: unknown): Promise<string[]> => {
          const out: string[] = [];
          for (const h of Array.isArray(hits) ? hits.map(membersOf) : []) {
            const uid = String(membersOf(h._federation).indexUid ?? '');
            out.push(`${uid}/${String(h[await pkOf(uid).catch(() => 'id')])}`);
          }
          return out;
        };
        compare(
          target,
          read.index,
          read.query,
          { status: 200, ids: await ids(primaryBody.hits) },
          { status: answer.status, ids: ok ? await ids(shadowBody!.hits) : null },
          deltaMs,
        );
      }
    }
  };

  const env = deps.env ?? process.env;
  const targets = cfg.targets.map(
    (t) =>
      new ShadowTarget(
        t,
        env,
        (target, read, answer) =>
          onAnswer(target, read, answer).catch((err: unknown) =>
            deps.logger?.warn({ err, target: target.name }, 'shadow comparison failed'),
          ),
        (target) => m.shed.inc({ target: target.name }),
      ),
  );
  const m: ShadowMetrics = shadowMetrics(deps.metrics.registry, () =>
    targets.map((t) => ({ target: t.name, depth: t.depth })),
  );

  // ---- the read routes, wrapped once
  for (const [method, path, op] of TEED) {
    const spec = routes.find((r) => r.method === method && r.path === path);
    if (spec === undefined) continue;
    const wanted = targets.filter((t) => t.wants(op));
    if (wanted.length === 0) continue;
    const inner = spec.handler;
    spec.handler = async (ctx) => {
      const started = performance.now();
      const reply = await inner(ctx);
      // Tenant-token reads carry search rules the target's own key would not apply: their diffs would be noise.
      if (reply.status !== 200 || ctx.auth?.kind === 'tenant') return reply;
      let read: TeedRead | null = null;
      for (const t of wanted) {
        if (Math.random() >= t.cfg.sample_rate) continue;
        read ??= teed(ctx, op, method, reply, performance.now() - started);
        t.offer(read);
      }
      return reply;
    };
  }

  // ---- admin routes
  const add = (path: string, handler: Handler) =>
    routes.push({ method: 'GET', path, name: path, body: 'none', auth: ADMIN, handler });
  add('/_miroir/shadow/diff', (ctx) => {
    const q = ctx.query;
    for (const k of q.keys())
      if (!['target', 'index', 'kind', 'limit', 'since_id'].includes(k))
        throw badFilter(
          `Unknown parameter \`${k}\`: expected one of \`target\`, \`index\`, \`kind\`, \`limit\`, \`since_id\`.`,
        );
    const kind = q.get('kind');
    if (kind !== null && !SHADOW_DIFF_KINDS.some((k) => k === kind))
      throw badFilter(
        `Invalid value in parameter \`kind\`: expected one of ${SHADOW_DIFF_KINDS.map((k) => `\`${k}\``).join(', ')}, got \`${kind}\`.`,
      );
    const target = q.get('target');
    const index = q.get('index');
    const limit = intFilter(q, 'limit', 1, MAX_LIMIT) ?? 100;
    const sinceId = intFilter(q, 'since_id', 0, Number.MAX_SAFE_INTEGER);
    const matched: ShadowDiff[] = [];
    for (const d of diffs) {
      if (sinceId !== null && d.id <= sinceId) continue;
      if (target !== null && d.target !== target) continue;
      if (index !== null && d.index !== index) continue;
      if (kind !== null && d.kind !== kind) continue;
      matched.push(d);
    }
    // Oldest first: after `since_id` the next `limit` diffs (polling), otherwise the newest `limit`.
    return {
      status: 200,
      body: { diffs: sinceId !== null ? matched.slice(0, limit) : matched.slice(-limit) },
    };
  });
  add('/_miroir/shadow/targets', () => ({
    status: 200,
    body: {
      targets: targets.map((t) => ({
        name: t.name,
        url: t.cfg.url,
        sample_rate: t.cfg.sample_rate,
        operations: t.cfg.operations,
        queued: t.queued,
        in_flight: t.inFlight,
        max_queue: t.cfg.max_queue,
        sent: t.sent,
        shed: t.shed,
      })),
    },
  }));
  return {
    async close() {
      await Promise.all(targets.map((t) => t.close()));
    },
  };

  function teed(
    ctx: RequestContext<AuthResult>,
    op: ShadowOperation,
    method: 'GET' | 'POST',
    reply: Reply,
    ms: number,
  ): TeedRead {
    const uid = ctx.params.uid;
    const query =
      op === 'documents'
        ? { id: ctx.params.id!, ...Object.fromEntries(ctx.query) }
        : method === 'GET'
          ? Object.fromEntries(ctx.query)
          : ctx.json;
    const index = uid ?? [...new Set(queriesOf(ctx.json).map((q) => String(membersOf(q).indexUid)))].join(',');
    return {
      operation: op,
      method,
      url: ctx.req.url ?? ctx.path,
      body: method === 'POST' ? ctx.rawBody : null,
      index,
      query,
      primary: { status: reply.status, body: reply.body, raw: reply.raw, ms },
    };
  }
}
