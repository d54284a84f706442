// The other read routes through the proxy: get one document from a replica of its shard (round-robin, fallback),
// documents lists over a covering set in one stable global order with the logical total, facet search with counts
// summed across shards, and multi-search — plain (each query scattered, results in order, the first failing query
// fails the request with an `Inside .queries[i]:` message) and federated (weighted merge, `_federation`).
import { randomUUID } from 'node:crypto';
import { authAllowsIndex, tenantFilter, type AuthResult } from '../../core/auth/authorize.js';
import { MeiliError, internalError } from '../../core/errors.js';
import { NodeRequestError, NodeResponseError } from '../cluster/node-api.js';
import { scatter } from '../cluster/scatter.js';
import { checkIndexUid } from '../../core/index-requests.js';
import { mergeFacets } from '../../core/merge.js';
import { hitsInfo, pageWindow, type PageRequest } from '../../core/pagination.js';
import { parseDocumentsQuery, parseFacetSearchQuery, parseMultiSearch } from '../../core/search-params.js';
import { shardForKey } from '../../core/hash.js';
import { andFilters } from '../../core/shard-filter.js';
import type { Reply, RequestContext } from '../../http/server.js';
import { degradedHeader, scatterSearch, type ReadDeps } from './search.js';

let docSeq = 0;

function strip(doc: Record<string, unknown>, added: readonly string[]): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(doc)) if (!k.startsWith('_miroir_') && !added.includes(k)) out[k] = v;
  return out;
}

function state(deps: ReadDeps, uid: string) {
  return deps.state.readable(uid);
}

export async function getDocument(deps: ReadDeps, ctx: RequestContext<AuthResult>): Promise<Reply> {
  const uid = checkIndexUid(ctx.params.uid!);
  await state(deps, uid);
  const id = ctx.params.id!;
  const table = deps.scatter.topology.routing;
  const shard = shardForKey(id, table.shards);
  let replicas = table.activeGroups.flatMap((g) => [...table.owners(shard, g)]).filter((n) => table.canRead(n));
  if (replicas.length === 0) {
    // Every replica is catching up on missed writes: the healthy ones still answer, reported as degraded.
    replicas = table.activeGroups.flatMap((g) => [...table.owners(shard, g)]).filter((n) => table.isHealthy(n));
    if (replicas.length > 0) degradedHeader(ctx, [shard]);
  }
  if (replicas.length === 0)
    throw new MeiliError('miroir_shard_unavailable', `Shard ${shard} has no healthy replica in any active group.`);
  const start = docSeq++;
  const fields = ctx.query.get('fields');
  const qs = new URLSearchParams();
  if (fields !== null) qs.set('fields', fields);
  if (ctx.query.get('retrieveVectors') !== null) qs.set('retrieveVectors', ctx.query.get('retrieveVectors')!);
  for (const k of ctx.query.keys())
    if (k !== 'fields' && k !== 'retrieveVectors')
      throw new MeiliError(
        'bad_request',
        `Unknown parameter \`${k}\`: expected one of \`fields\`, \`retrieveVectors\``,
      );
  for (let i = 0; i < replicas.length; i++) {
    const api = deps.scatter.topology.client(replicas[(start + i) % replicas.length]!);
    if (api === undefined) continue;
    try {
      return { status: 200, body: strip(await api.getDocument(uid, id, qs.toString()), []) };
    } catch (err) {
      // Any replica's 404 is the answer (every readable replica holds the same documents).
      if (err instanceof NodeResponseError && err.status < 500) throw err.toMeiliError();
      if (!(err instanceof NodeResponseError) && !(err instanceof NodeRequestError)) throw err;
    }
  }
  throw new MeiliError('miroir_shard_unavailable', `No replica of shard ${shard} answered.`);
}

function pkCompare(a: unknown, b: unknown): number {
  if (typeof a === 'number' && typeof b === 'number') return a - b;
  if (typeof a === 'number') return -1;
  if (typeof b === 'number') return 1;
  const x = String(a);
  const y = String(b);
  return x < y ? -1 : x > y ? 1 : 0;
}

/** `GET /documents` and `POST /documents/fetch`: ordered by the sort given, then by primary key (stable across shards). */
export async function fetchDocuments(
  deps: ReadDeps,
  ctx: RequestContext<AuthResult>,
  source: 'json' | 'query',
): Promise<Reply> {
  const uid = checkIndexUid(ctx.params.uid!);
  const s = await state(deps, uid);
  const query = parseDocumentsQuery(source === 'json' ? (ctx.json ?? {}) : Object.fromEntries(ctx.query), source);
  const pk = s.primaryKey ?? 'id';
  const offset = (query.offset as number | undefined) ?? 0;
  const limit = (query.limit as number | undefined) ?? 20;
  const fields = (query.fields as string[] | undefined) ?? null;
  const sort = (query.sort as string[] | undefined) ?? null;
  const added: string[] = [];
  if (fields !== null && !fields.includes('*')) {
    for (const f of [pk, ...(sort ?? []).map((x) => x.replace(/:(asc|desc)$/, ''))])
      if (!fields.includes(f) && !added.includes(f)) added.push(f);
  }
  const { answers, missing } = await scatter(
    deps.scatter,
    uid,
    query.filter,
    () => ({
      ...query,
      offset: 0,
      limit: offset + limit,
      ...(added.length > 0 ? { fields: [...fields!, ...added] } : {}),
    }),
    'documents/fetch',
  );
  const all = answers.flatMap((a) => (a.results as Array<Record<string, unknown>>) ?? []);
  const criteria = (sort ?? []).map((x) => {
    const m = /^(.+):(asc|desc)$/.exec(x)!;
    return { field: m[1]!, dir: m[2] === 'asc' ? 1 : -1 };
  });
  all.sort((a, b) => {
    for (const c of criteria) {
      const x = a[c.field];
      const y = b[c.field];
      if (x === undefined || x === null || y === undefined || y === null) {
        if ((x ?? null) !== (y ?? null)) return x === undefined || x === null ? 1 : -1;
        continue;
      }
      const d = pkCompare(x, y) * c.dir;
      if (d !== 0) return d;
    }
    return pkCompare(a[pk], b[pk]);
  });
  const total = answers.reduce((n, a) => n + ((a.total as number) ?? 0), 0);
  degradedHeader(ctx, missing);
  return {
    status: 200,
    body: { results: all.slice(offset, offset + limit).map((d) => strip(d, added)), offset, limit, total },
  };
}

/** Facet search across shards: counts summed per value, then sorted and cut like one node. */
export async function facetSearch(deps: ReadDeps, ctx: RequestContext<AuthResult>): Promise<Reply> {
  const uid = checkIndexUid(ctx.params.uid!);
  const s = await state(deps, uid);
  const query = parseFacetSearchQuery(ctx.json ?? {});
  const filter = query.filter;
  const extra = tenantFilter(ctx.auth!, uid);
  const combined = andFilters(filter, extra);
  const started = performance.now();
  const { answers, missing } = await scatter(deps.scatter, uid, combined, () => ({ ...query }), 'facet-search');
  const faceting = s.settings.faceting as { maxValuesPerFacet: number; sortFacetValuesBy: Record<string, string> };
  const facetName = query.facetName as string;
  const dist = answers.map((a) => ({
    [facetName]: Object.fromEntries(
      ((a.facetHits as Array<{ value: string; count: number }>) ?? []).map((h) => [h.value, h.count]),
    ),
  }));
  const numeric = answers.some((a) =>
    ((a.facetHits as Array<{ value: string }>) ?? []).some(
      (h) => h.value.trim() !== '' && Number.isFinite(Number(h.value)),
    ),
  );
  const merged = mergeFacets(dist, numeric ? new Set([facetName]) : new Set(), faceting)[facetName] ?? {};
  degradedHeader(ctx, missing);
  return {
    status: 200,
    body: {
      facetHits: Object.entries(merged).map(([value, count]) => ({ value, count })),
      facetQuery: (query.facetQuery as string | undefined) ?? null,
      processingTimeMs: Math.floor(performance.now() - started),
    },
  };
}

/** `POST /multi-search`, plain and federated. */
export async function multiSearch(deps: ReadDeps, ctx: RequestContext<AuthResult>): Promise<Reply> {
  const parsed = parseMultiSearch(ctx.json);
  const prefixed = (i: number, err: unknown) => {
    const m = internalError(err);
    return new MeiliError(m.code, `Inside \`.queries[${i}]\`: ${m.message}`);
  };
  parsed.queries.forEach((q, i) => {
    if (!authAllowsIndex(ctx.auth!, q.indexUid))
      throw prefixed(i, new MeiliError('invalid_api_key', 'The provided API key is invalid.'));
  });
  const missingAll = new Set<number>();
  if (parsed.federation === null) {
    const results = await Promise.all(
      parsed.queries.map(async (q, i) => {
        try {
          const { answer, missing } = await scatterSearch(deps, q.indexUid, q.query, ctx.auth!);
          for (const s of missing) missingAll.add(s);
          return { indexUid: q.indexUid, ...answer, requestUid: randomUUID() };
        } catch (err) {
          throw prefixed(i, err);
        }
      }),
    );
    degradedHeader(
      ctx,
      [...missingAll].sort((a, b) => a - b),
    );
    return { status: 200, body: { results } };
  }
  const fed = parsed.federation as PageRequest & {
    facetsByIndex?: Record<string, string[]>;
    mergeFacets?: { maxValuesPerFacet?: number } | null;
  };
  const w = pageWindow(fed, Number.MAX_SAFE_INTEGER);
  const started = performance.now();
  const merged: Array<{ hit: Record<string, unknown>; score: number; pos: number; rank: number }> = [];
  const byIndex: Record<
    string,
    { distribution: Record<string, Record<string, number>>; stats: Record<string, { min: number; max: number }> }
  > = {};
  let total = 0;
  await Promise.all(
    parsed.queries.map(async (q, i) => {
      const facets = fed.facetsByIndex?.[q.indexUid];
      try {
        const { answer, missing } = await scatterSearch(
          deps,
          q.indexUid,
          { ...q.query, offset: 0, limit: w.offset + w.limit, showRankingScore: true, ...(facets ? { facets } : {}) },
          ctx.auth!,
        );
        for (const s of missing) missingAll.add(s);
        total += answer.estimatedTotalHits as number;
        if (facets && byIndex[q.indexUid] === undefined)
          byIndex[q.indexUid] = {
            distribution: answer.facetDistribution as Record<string, Record<string, number>>,
            stats: (answer.facetStats as Record<string, { min: number; max: number }>) ?? {},
          };
        const weight = q.federationOptions?.weight ?? 1;
        (answer.hits as Array<Record<string, unknown>>).forEach((hit, rank) => {
          const score = (hit._rankingScore as number) * weight;
          if (q.query.showRankingScore !== true) delete hit._rankingScore;
          hit._federation = { indexUid: q.indexUid, queriesPosition: i, weightedRankingScore: score };
          merged.push({ hit, score, pos: i, rank });
        });
      } catch (err) {
        throw prefixed(i, err);
      }
    }),
  );
  merged.sort((a, b) => b.score - a.score || a.pos - b.pos || a.rank - b.rank);
  const res: Record<string, unknown> = {
    hits: merged.slice(w.offset, w.offset + w.limit).map((m) => m.hit),
    processingTimeMs: 0,
    ...hitsInfo(fed, w, total, Number.MAX_SAFE_INTEGER),
  };
  if (fed.facetsByIndex !== undefined) {
    if (fed.mergeFacets) {
      const stats: Record<string, { min: number; max: number }> = {};
      for (const f of Object.values(byIndex)) {
        for (const [attr, st] of Object.entries(f.stats))
          stats[attr] = stats[attr]
            ? { min: Math.min(stats[attr]!.min, st.min), max: Math.max(stats[attr]!.max, st.max) }
            : { ...st };
      }
      res.facetDistribution = mergeFacets(
        Object.values(byIndex).map((f) => f.distribution),
        new Set(Object.keys(stats)),
        { maxValuesPerFacet: fed.mergeFacets.maxValuesPerFacet ?? 100, sortFacetValuesBy: { '*': 'alpha' } },
      );
      res.facetStats = stats;
    } else res.facetsByIndex = byIndex;
  }
  res.processingTimeMs = Math.floor(performance.now() - started);
  res.requestUid = randomUUID();
  degradedHeader(
    ctx,
    [...missingAll].sort((a, b) => a - b),
  );
  return { status: 200, body: res };
}
