// The other read routes through the proxy: get one document from a replica of its shard (round-robin, fallback),
// documents lists over a covering set in one stable global order with the logical total, facet search with counts
// summed across shards, and multi-search — plain (each query scattered, results in order, the first failing query
// fails the request with an `Inside .queries[i]:` message) and federated (weighted merge, `_federation`).
import { randomUUID } from 'node:crypto';
import { authAllowsIndex, tenantFilter, type AuthResult } from '../../core/auth/authorize.js';
import { MeiliError, internalError } from '../../core/errors.js';
import { fetchDocumentPage } from '../cluster/document-pages.js';
import { planRead, readOne, scatter } from '../cluster/scatter.js';
import { checkIndexUid } from '../../core/index-requests.js';
import { mergeFacets } from '../../core/merge.js';
import { federatedWindow, mergeFederated, type FederatedPart } from '../../core/federation.js';
import {
  parseDocumentsQuery,
  parseFacetSearchQuery,
  parseMultiSearch,
  type MultiSearchLimits,
} from '../../core/search-params.js';
import { shardForKey } from '../../core/hash.js';
import { andFilters } from '../../core/shard-filter.js';
import { EXPIRES_FIELD, isReservedField } from '../../core/reserved.js';
import { hideReservedInRead } from '../../core/reserved-reads.js';
import { facetingOf } from '../../core/settings.js';
import { membersOf, stringsOf } from '../../core/types.js';
import type { Reply, RequestContext } from '../../http/server.js';
import { degradedHeader, overFetchHeader, readPolicyOf, scatterSearch, scatterWith, type ReadDeps } from './search.js';
import { settingsVersionStale } from '../cluster/scatter.js';
import { mapLimit } from '../util/map-limit.js';

function strip(doc: Record<string, unknown>, added: readonly string[]): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(doc)) if (!isReservedField(k) && !added.includes(k)) out[k] = v;
  return out;
}

function state(deps: ReadDeps, uid: string) {
  return deps.state.readable(uid);
}

export async function getDocument(deps: ReadDeps, ctx: RequestContext<AuthResult>): Promise<Reply> {
  const uid = checkIndexUid(ctx.params.uid!);
  await state(deps, uid);
  const policy = await deps.consistency.forIndex(ctx, uid);
  const id = ctx.params.id!;
  const table = deps.scatter.topology.routingFor(uid);
  const shard = shardForKey(id, table.shards);
  // A session's pinned group first (only it, while its nodes can answer), then the other groups.
  const groups =
    policy?.group != null && table.activeGroups.includes(policy.group) ? [policy.group] : table.activeGroups;
  const allowed = (n: string) => policy?.exclude?.has(n) !== true;
  let replicas = groups.flatMap((g) => [...table.owners(shard, g)]).filter((n) => table.canRead(n) && allowed(n));
  if (replicas.length === 0 && policy !== null)
    replicas = table.activeGroups
      .flatMap((g) => [...table.owners(shard, g)])
      .filter((n) => table.canRead(n) && allowed(n));
  if (replicas.length === 0 && policy?.exclude != null && policy.exclude.size > 0) throw settingsVersionStale();
  if (replicas.length === 0) {
    // Every replica is catching up on missed writes: the healthy ones still answer, reported as degraded.
    replicas = table.activeGroups.flatMap((g) => [...table.owners(shard, g)]).filter((n) => table.isHealthy(n));
    if (replicas.length > 0) degradedHeader(ctx, [shard]);
  }
  if (replicas.length === 0)
    throw new MeiliError('miroir_shard_unavailable', `Shard ${shard} has no healthy replica in any active group.`);
  const fields = ctx.query.get('fields');
  const qs = new URLSearchParams();
  // TTL on: the expiry is read too (and cut out again when the client did not ask for it), so an expired document
  // answers 404 like a deleted one.
  const hiding = deps.scatter.expiryFilter !== undefined && (await deps.scatter.expiryFilter(uid)) !== null;
  const list = fields === null ? null : fields.split(',').map((f) => f.trim());
  const addExpiry = hiding && list !== null && !list.includes('*') && !list.includes(EXPIRES_FIELD);
  if (fields !== null) qs.set('fields', addExpiry ? `${fields},${EXPIRES_FIELD}` : fields);
  if (ctx.query.get('retrieveVectors') !== null) qs.set('retrieveVectors', ctx.query.get('retrieveVectors')!);
  for (const k of ctx.query.keys())
    if (k !== 'fields' && k !== 'retrieveVectors')
      throw new MeiliError(
        'bad_request',
        `Unknown parameter \`${k}\`: expected one of \`fields\`, \`retrieveVectors\``,
      );
  const query = qs.toString();
  // Any replica's 404 is the answer (every readable replica holds the same documents); hedged past the trigger.
  const doc = await readOne(deps.scatter, replicas, (api, signal) => api.getDocument(uid, id, query, signal));
  if (doc === null) throw new MeiliError('miroir_shard_unavailable', `No replica of shard ${shard} answered.`);
  if (hiding) {
    const exp = doc[EXPIRES_FIELD];
    if (typeof exp === 'number' && exp <= Date.now())
      throw new MeiliError('document_not_found', `Document \`${id}\` not found.`);
  }
  return { status: 200, body: strip(doc, addExpiry ? [EXPIRES_FIELD] : []) };
}

/**
 * `GET /documents` and `POST /documents/fetch`: exact pages over the shards (cluster/document-pages.ts) — shard by
 * shard without `sort`, merged in Meilisearch's value order with it.
 */
export async function fetchDocuments(
  deps: ReadDeps,
  ctx: RequestContext<AuthResult>,
  source: 'json' | 'query',
): Promise<Reply> {
  const uid = checkIndexUid(ctx.params.uid!);
  const params = parseDocumentsQuery(source === 'json' ? ctx.json : Object.fromEntries(ctx.query), source);
  const s = await state(deps, uid);
  const policy = await deps.consistency.forIndex(ctx, uid);
  const query = hideReservedInRead('documents', uid, params, s.settings);
  const pk = s.primaryKey ?? 'id';
  const offset = query.offset ?? 0;
  const limit = query.limit ?? 20;
  const fields = query.fields ?? null;
  const sort = query.sort ?? null;
  // A merge needs the primary key and the sort fields even when the client did not ask for them.
  const added: string[] = [];
  if (fields !== null && !fields.includes('*')) {
    for (const f of [pk, ...(sort ?? []).map((x) => x.replace(/:(asc|desc)$/, ''))])
      if (!fields.includes(f) && !added.includes(f)) added.push(f);
  }
  const { offset: _o, limit: _l, ...rest } = query;
  if (added.length > 0) rest.fields = [...fields!, ...added];
  const faceting = facetingOf(s.settings);
  const page = await fetchDocumentPage(scatterWith(deps, policy), {
    uid,
    primaryKey: pk,
    query: rest,
    offset,
    limit,
    facetValues: faceting.maxValuesPerFacet * deps.facetingOverfetch,
    distinct: s.settings.distinctAttribute !== null,
  });
  degradedHeader(ctx, page.missing);
  return { status: 200, body: { results: page.results.map((d) => strip(d, added)), offset, limit, total: page.total } };
}

/** Facet search across shards: counts summed per value, then sorted and cut like one node. */
export async function facetSearch(deps: ReadDeps, ctx: RequestContext<AuthResult>): Promise<Reply> {
  const uid = checkIndexUid(ctx.params.uid!);
  const s = await state(deps, uid);
  const policy = await readPolicyOf(deps, ctx, uid);
  const query = hideReservedInRead('facetSearch', uid, parseFacetSearchQuery(ctx.json ?? {}), s.settings);
  const filter = query.filter;
  const extra = tenantFilter(ctx.auth!, uid);
  const combined = andFilters(filter, extra);
  const started = performance.now();
  const scoped = scatterWith(deps, policy);
  const plan = planRead(scoped, uid, combined, s.primaryKey, true);
  const { answers, missing } = await scatter(scoped, uid, combined, () => ({ ...query }), 'facet-search', plan);
  const faceting = facetingOf(s.settings);
  const facetName = query.facetName;
  const hitLists = answers.map(facetHitsOf);
  const dist = hitLists.map((hits) => ({ [facetName]: Object.fromEntries(hits.map((h) => [h.value, h.count])) }));
  const numeric = hitLists.some((hits) => hits.some((h) => h.value.trim() !== '' && Number.isFinite(Number(h.value))));
  const merged = mergeFacets(dist, numeric ? new Set([facetName]) : new Set(), faceting)[facetName] ?? {};
  degradedHeader(ctx, missing);
  return {
    status: 200,
    body: {
      facetHits: Object.entries(merged).map(([value, count]) => ({ value, count })),
      facetQuery: query.facetQuery ?? null,
      processingTimeMs: Math.floor(performance.now() - started),
    },
  };
}

/** A node's facet-search hits: `{value, count}` pairs. */
function facetHitsOf(answer: Record<string, unknown>): Array<{ value: string; count: number }> {
  const out: Array<{ value: string; count: number }> = [];
  const hits = answer.facetHits;
  if (Array.isArray(hits))
    for (const h of hits) {
      const m = membersOf(h);
      if (typeof m.value === 'string' && typeof m.count === 'number') out.push({ value: m.value, count: m.count });
    }
  return out;
}

/**
 * Queries of one multi-search scattered at once (Meilisearch answers them one after the other): enough for the
 * usual handful to run side by side, few enough that a 100-query request cannot flood the nodes.
 */
const PARALLEL_QUERIES = 8;

/** The `multi_search` config block. */
export interface MultiSearchConfig extends MultiSearchLimits {
  enabled: boolean;
}

/** `POST /multi-search`, plain and federated, within the configured query count and federated depth. */
export async function multiSearch(
  deps: ReadDeps & { multiSearch: MultiSearchConfig },
  ctx: RequestContext<AuthResult>,
): Promise<Reply> {
  if (!deps.multiSearch.enabled)
    throw new MeiliError('miroir_not_supported', 'Multi-search is turned off on this server (multi_search.enabled).');
  const parsed = parseMultiSearch(ctx.json, deps.multiSearch);
  const prefixed = (i: number, err: unknown) => {
    const m = internalError(err);
    // Inside a multi-search a missing index is the request's fault: Meilisearch answers it with 400, not 404.
    const status = m.code === 'index_not_found' ? 400 : m.status;
    return new MeiliError(m.code, `Inside \`.queries[${i}]\`: ${m.message}`, { status, type: m.type, link: m.link });
  };
  parsed.queries.forEach((q, i) => {
    if (!authAllowsIndex(ctx.auth!, q.indexUid))
      throw prefixed(i, new MeiliError('invalid_api_key', 'The provided API key is invalid.'));
  });
  const missingAll = new Set<number>();
  const overFetch = overFetchHeader(ctx);
  const placement = deps.tenants?.place(ctx);
  if (parsed.federation === null) {
    const results = await mapLimit(parsed.queries, PARALLEL_QUERIES, async (q, i) => {
      try {
        const policy = await readPolicyOf(deps, ctx, q.indexUid, placement);
        const { answer, missing } = await scatterSearch(deps, q.indexUid, q.query, ctx.auth!, policy, overFetch);
        for (const s of missing) missingAll.add(s);
        return { indexUid: q.indexUid, ...answer, requestUid: randomUUID() };
      } catch (err) {
        throw prefixed(i, err);
      }
    });
    degradedHeader(
      ctx,
      [...missingAll].sort((a, b) => a - b),
    );
    return { status: 200, body: { results } };
  }
  const fed = parsed.federation;
  const { need } = federatedWindow(fed);
  const facetsByIndex = membersOf(fed.facetsByIndex);
  const started = performance.now();
  const parts = await mapLimit(parsed.queries, PARALLEL_QUERIES, async (q, i): Promise<FederatedPart> => {
    const facets = stringsOf(facetsByIndex[q.indexUid]);
    try {
      const policy = await readPolicyOf(deps, ctx, q.indexUid, placement);
      const { answer, missing, primaryKey } = await scatterSearch(
        deps,
        q.indexUid,
        {
          ...q.query,
          offset: 0,
          limit: need,
          showRankingScore: true,
          // a semantic hit is told from its details (`vectorSort`)
          ...(q.query.hybrid !== undefined && q.query.hybrid !== null ? { showRankingScoreDetails: true } : {}),
          ...(facets ? { facets } : {}),
        },
        ctx.auth!,
        policy,
        overFetch,
      );
      for (const s of missing) missingAll.add(s);
      return {
        indexUid: q.indexUid,
        queryPosition: i,
        weight: q.federationOptions?.weight ?? 1,
        primaryKey,
        showRankingScore: q.query.showRankingScore === true,
        showRankingScoreDetails: q.query.showRankingScoreDetails === true,
        retrieveVectors: q.query.retrieveVectors === true,
        answer,
      };
    } catch (err) {
      throw prefixed(i, err);
    }
  });
  const res = mergeFederated(parts, fed);
  res.processingTimeMs = Math.floor(performance.now() - started);
  res.requestUid = randomUUID();
  degradedHeader(
    ctx,
    [...missingAll].sort((a, b) => a - b),
  );
  return { status: 200, body: res };
}
