// Aliases on the request path and the admin API (SPEC A7 + Round 2 decisions "Aliases"). `registerAliases` adds
// `/_miroir/aliases` and wraps every client route that names an index (`/indexes/:uid…`) once: the name is resolved
// through this pod's alias table before the handler runs, and the request keeps what it resolved. A single-target
// alias serves every route from its target; a multi-target alias is read-only (writes → 409
// `miroir_multi_alias_not_writable`) and its searches answer like one index (hits merged by `_rankingScore`,
// `estimatedTotalHits` summed, facets summed). Rights (API-key `indexes`, tenant-token rules) were checked on the
// name the client used; they are carried over to the targets. Only registered when `aliases.enabled`.
import { randomUUID } from 'node:crypto';
import type { AuthResult } from '../../core/auth/authorize.js';
import { aliasConflict, aliasView, authForTargets, multiAliasNotWritable, parseAliasBody } from '../../core/aliases.js';
import { mergeFederated, type FederatedPart } from '../../core/federation.js';
import { parseSearchQuery } from '../../core/search-params.js';
import { isObject, membersOf, numberOf, stringOf } from '../../core/types.js';
import { mergeFacets } from '../../core/merge.js';
import { PUBLIC_ROUTE } from '../../core/auth/route-actions.js';
import type { Reply, RequestContext, RouteSpec } from '../../http/server.js';
import type { AliasService } from '../state/aliases.js';
import { mapLimit } from '../util/map-limit.js';
import type { RouteGuard } from './routes.js';
import { rememberAliasResolution } from './alias-resolution.js';
import { degradedHeader, overFetchHeader, readPolicyOf, scatterSearch, type ReadDeps } from './search.js';

type Handler = (ctx: RequestContext<AuthResult>) => Promise<Reply> | Reply;

const ADMIN: RouteGuard = { kind: 'admin', auth: PUBLIC_ROUTE, tenant: false };

/** Client routes that read although their method is POST. */
const READ_POSTS = new Set([
  '/indexes/:uid/search',
  '/indexes/:uid/facet-search',
  '/indexes/:uid/explain',
  '/indexes/:uid/documents/fetch',
]);

function isRead(method: string, path: string): boolean {
  return method === 'GET' || (method === 'POST' && READ_POSTS.has(path));
}

export interface AliasRouteDeps {
  aliases: AliasService;
  read: ReadDeps;
}

/** A search over several indexes answered like one index's search. */
export async function searchTargets(
  deps: ReadDeps,
  ctx: RequestContext<AuthResult>,
  name: string,
  targets: readonly string[],
  rawQuery: Record<string, unknown>,
  auth: AuthResult,
): Promise<Record<string, unknown>> {
  const started = performance.now();
  const query = { ...rawQuery };
  const window: Record<string, unknown> = {};
  for (const k of ['offset', 'limit', 'page', 'hitsPerPage']) if (query[k] !== undefined) window[k] = query[k];
  const facets = Array.isArray(query.facets) ? query.facets : null;
  const federation: Record<string, unknown> = {
    ...window,
    ...(facets !== null ? { facetsByIndex: Object.fromEntries(targets.map((t) => [t, facets])), mergeFacets: {} } : {}),
  };
  const need =
    query.page !== undefined || query.hitsPerPage !== undefined
      ? Number(query.page ?? 1) * Number(query.hitsPerPage ?? 20) + 1
      : Number(query.offset ?? 0) + Number(query.limit ?? 20);
  const missingAll = new Set<number>();
  const overFetch = overFetchHeader(ctx);
  const placement = deps.tenants?.place(ctx);
  const parts = await mapLimit([...targets], 4, async (uid, i): Promise<FederatedPart> => {
    const policy = await readPolicyOf(deps, ctx, uid, placement);
    const sub: Record<string, unknown> = { ...query, offset: 0, limit: need, showRankingScore: true };
    delete sub.page;
    delete sub.hitsPerPage;
    const { answer, missing, primaryKey } = await scatterSearch(deps, uid, sub, auth, policy, overFetch);
    for (const s of missing) missingAll.add(s);
    return {
      indexUid: uid,
      queryPosition: i,
      weight: 1,
      primaryKey,
      showRankingScore: query.showRankingScore === true,
      showRankingScoreDetails: query.showRankingScoreDetails === true,
      retrieveVectors: query.retrieveVectors === true,
      answer,
    };
  });
  const merged = mergeFederated(parts, federation);
  const hits = Array.isArray(merged.hits) ? merged.hits : [];
  for (const h of hits) if (isObject(h)) delete h._federation;
  degradedHeader(
    ctx,
    [...missingAll].sort((a, b) => a - b),
  );
  const out: Record<string, unknown> = { ...merged, hits, query: stringOf(query.q) ?? '' };
  out.processingTimeMs = Math.floor(performance.now() - started);
  out.requestUid = randomUUID();
  if (ctx.logging) ctx.logFields = { index: name, node_count: targets.length, degraded: missingAll.size > 0 };
  return out;
}

/** Wraps one index route: resolve the name, then serve from the target(s). */
function resolving(deps: AliasRouteDeps, spec: RouteSpec<AuthResult>, inner: Handler): Handler {
  const read = isRead(spec.method, spec.path);
  const isSearch = spec.path === '/indexes/:uid/search';
  return async (ctx) => {
    const name = ctx.params.uid;
    if (name === undefined) return inner(ctx);
    const r = deps.aliases.resolve(name);
    if (r.alias === null) return inner(ctx);
    rememberAliasResolution(ctx, r);
    const auth = ctx.auth === null ? null : authForTargets(ctx.auth, name, r.uids);
    if (r.uids.length > 1) {
      if (!read) throw multiAliasNotWritable(name);
      if (isSearch) {
        const query = parseSearchQuery(
          spec.method === 'GET' ? Object.fromEntries(ctx.query) : (ctx.json ?? {}),
          spec.method === 'GET' ? 'query' : 'json',
        );
        return {
          status: 200,
          body: await searchTargets(deps.read, ctx, name, r.uids, { ...query }, auth ?? { kind: 'open' }),
        };
      }
      // Facet search: each target's counts summed per value, then sorted and cut like one index.
      if (spec.path === '/indexes/:uid/facet-search') {
        const started = performance.now();
        const parts: Array<Record<string, Record<string, number>>> = [];
        let facetQuery: unknown = null;
        let numeric = false;
        for (const uid of r.uids) {
          ctx.params.uid = uid;
          ctx.auth = auth;
          const b = membersOf((await inner(ctx)).body);
          facetQuery = b.facetQuery ?? null;
          const counts: Record<string, number> = {};
          for (const h of Array.isArray(b.facetHits) ? b.facetHits : []) {
            const value = stringOf(membersOf(h).value);
            const count = numberOf(membersOf(h).count);
            if (value === undefined || count === undefined) continue;
            counts[value] = count;
            if (value.trim() !== '' && Number.isFinite(Number(value))) numeric = true;
          }
          parts.push({ f: counts });
        }
        // sorted and cut by the newest target's faceting settings
        const faceting = membersOf((await deps.read.state.readable(r.uids[r.uids.length - 1]!)).settings.faceting);
        const order = membersOf(faceting.sortFacetValuesBy);
        const merged =
          mergeFacets(parts, numeric ? new Set(['f']) : new Set(), {
            maxValuesPerFacet: numberOf(faceting.maxValuesPerFacet) ?? 100,
            sortFacetValuesBy: {
              '*': stringOf(order[stringOf(membersOf(ctx.json).facetName) ?? '*'] ?? order['*']) ?? 'alpha',
            },
          }).f ?? {};
        return {
          status: 200,
          body: {
            facetHits: Object.entries(merged).map(([value, count]) => ({ value, count })),
            facetQuery,
            processingTimeMs: Math.floor(performance.now() - started),
          },
        };
      }
      // Other reads of a multi-target alias: a document by id from whichever index holds it, the rest from the
      // newest target (the last one: an ILM read alias lists its indexes oldest first).
      if (spec.path === '/indexes/:uid/documents/:id') {
        let last: unknown = null;
        for (const uid of [...r.uids].reverse()) {
          ctx.params.uid = uid;
          ctx.auth = auth;
          try {
            return await inner(ctx);
          } catch (err) {
            last = err;
          }
        }
        throw last;
      }
    }
    ctx.params.uid = r.uids[r.uids.length - 1]!;
    ctx.auth = auth;
    return inner(ctx);
  };
}

/** Multi-search: each query's `indexUid` resolved; the answer names the index as the client did. */
function resolvingMultiSearch(deps: AliasRouteDeps, inner: Handler): Handler {
  return async (ctx) => {
    const body = membersOf(ctx.json);
    const queries = Array.isArray(body.queries) ? body.queries : null;
    if (queries === null) return inner(ctx);
    const federated = body.federation !== undefined && body.federation !== null;
    // Each query resolved once; the request keeps these answers.
    const resolved = queries.map((q) => {
      const name = stringOf(membersOf(q).indexUid);
      const r = name === undefined ? null : deps.aliases.resolve(name);
      return r === null || r.alias === null || name === undefined ? null : { name, uids: r.uids };
    });
    if (resolved.every((r) => r === null)) return inner(ctx);
    let auth = ctx.auth;
    for (const r of resolved)
      if (r !== null && auth !== null && auth.kind !== 'open' && auth.kind !== 'master')
        auth = mergeAuth(auth, authForTargets(auth, r.name, r.uids), r.uids);
    ctx.auth = auth;
    if (federated) {
      // A federated query over an alias becomes one query per target (a multi-target alias spans them all).
      ctx.json = {
        ...body,
        queries: queries.flatMap((q, i) => {
          const r = resolved[i];
          return r === null || r === undefined ? [q] : r.uids.map((uid) => ({ ...membersOf(q), indexUid: uid }));
        }),
      };
      return inner(ctx);
    }
    // Not federated: single-target aliases are rewritten in place; a multi-target one keeps its position with a
    // cheap placeholder (limit 0 on its first target) and is answered by the merge below.
    ctx.json = {
      ...body,
      queries: queries.map((q, i) => {
        const r = resolved[i];
        if (r === null || r === undefined) return q;
        return r.uids.length === 1
          ? { ...membersOf(q), indexUid: r.uids[0] }
          : { indexUid: r.uids[0], q: '', limit: 0 };
      }),
    };
    const reply = await inner(ctx);
    const given = membersOf(reply.body).results;
    const results: unknown[] = Array.isArray(given) ? given : [];
    const out = await Promise.all(
      results.map(async (res, i) => {
        const r = resolved[i];
        if (r === null || r === undefined) return res;
        if (r.uids.length === 1) return { ...membersOf(res), indexUid: r.name };
        const query = { ...membersOf(queries[i]) };
        delete query.indexUid;
        delete query.federationOptions;
        const merged = await searchTargets(
          deps.read,
          ctx,
          r.name,
          r.uids,
          parseSearchQuery(query, 'json'),
          auth ?? { kind: 'open' },
        );
        return { indexUid: r.name, ...merged };
      }),
    );
    return { ...reply, body: { ...membersOf(reply.body), results: out } };
  };
}

/** The caller's rights over every query of a multi-search: its own plus those carried to each alias's targets. */
function mergeAuth(base: AuthResult, carried: AuthResult, targets: readonly string[]): AuthResult {
  if (base.kind === 'key' && carried.kind === 'key' && carried !== base)
    return { kind: 'key', key: { ...base.key, indexes: [...new Set([...base.key.indexes, ...targets])] } };
  if (base.kind === 'tenant' && carried.kind === 'tenant' && carried !== base)
    return {
      kind: 'tenant',
      key: { ...base.key, indexes: [...new Set([...base.key.indexes, ...targets])] },
      searchRules: { ...base.searchRules, ...carried.searchRules },
    };
  return base;
}

export function registerAliases(routes: Array<RouteSpec<AuthResult>>, deps: AliasRouteDeps): void {
  for (const spec of routes) {
    if (!isObject(spec.auth) || spec.auth.kind !== 'client') continue;
    if (spec.path.startsWith('/indexes/:uid')) spec.handler = resolving(deps, spec, spec.handler);
    else if (spec.path === '/multi-search') spec.handler = resolvingMultiSearch(deps, spec.handler);
    else if (spec.method === 'POST' && spec.path === '/indexes') {
      const inner = spec.handler;
      spec.handler = async (ctx) => {
        const uid = stringOf(membersOf(ctx.json).uid);
        // The table is read from the store, not this pod's cache: an alias another pod created a moment ago (its
        // message not yet here) is seen. An internal alias (a resharded index) keeps its uid's index: creating it
        // again is Meilisearch's index_already_exists, which the index operations answer.
        if (uid !== undefined) await deps.aliases.refresh();
        if (uid !== undefined && deps.aliases.isAlias(uid) && !deps.aliases.isInternal(uid))
          throw aliasConflict(uid, 'alias');
        return inner(ctx);
      };
    }
  }
  const admin = (method: RouteSpec['method'], path: string, handler: Handler) =>
    routes.push({
      method,
      path,
      name: path,
      body: method === 'GET' || method === 'DELETE' ? 'none' : 'json',
      auth: ADMIN,
      handler,
    });
  const a = deps.aliases;
  admin('GET', '/_miroir/aliases', async () => {
    await a.refresh();
    return {
      status: 200,
      body: {
        results: a
          .list()
          .filter((x) => x.internal !== true)
          .map(aliasView),
      },
    };
  });
  admin('POST', '/_miroir/aliases', async (ctx) => {
    const { name, targets } = parseAliasBody(ctx.json, true);
    return { status: 201, body: aliasView(await a.create(name!, targets)) };
  });
  admin('GET', '/_miroir/aliases/:name', async (ctx) => ({
    status: 200,
    body: aliasView(await a.get(ctx.params.name!)),
  }));
  admin('PUT', '/_miroir/aliases/:name', async (ctx) => {
    const { targets } = parseAliasBody(ctx.json, false);
    return { status: 200, body: aliasView(await a.put(ctx.params.name!, targets)) };
  });
  admin('DELETE', '/_miroir/aliases/:name', async (ctx) => {
    await a.delete(ctx.params.name!);
    return { status: 204 };
  });
}
