// HOT PATH. Search through the proxy (SPEC C4, Decisions "Reading from a covering set"): choose the group by query
// sequence, ask each covering-set node only for its shards (client filter AND `_miroir_shard IN [...]`) with
// offset 0, limit offset+limit, scores (and details when sorting) and the fields the merge needs; a node that fails
// is retried once on another replica; what stays missing follows `scatter.unavailable_shard_policy`. Merges into
// exactly one node's answer shape.
import { randomUUID } from 'node:crypto';
import { tenantFilter, type AuthResult } from '../../core/auth/authorize.js';
import { checkIndexUid } from '../../core/index-requests.js';
import { nativeAnswerScanner, scanAnswer, ScannedAnswer, type AnswerScanner } from '../../core/answer-spans.js';
import {
  keywordGoodEnough,
  mergeHybridResults,
  mergeSearchResults,
  type MergeQuery,
  type MergeSettings,
  type NodeAnswer,
} from '../../core/merge.js';
import { mergeScannedResults, scannedMergeBody, type ScannedMerge } from '../../core/merge-scanned.js';
import { pageWindow } from '../../core/pagination.js';
import { parseSearchQuery } from '../../core/search-params.js';
import { scrubReservedMembers } from '../../core/reserved.js';
import { hideReservedInRead } from '../../core/reserved-reads.js';
import { andFilters } from '../../core/shard-filter.js';
import { distinctAttributeOf, facetingOf, maxTotalHitsOf } from '../../core/settings.js';
import { isObject, membersOf, type SearchQuery } from '../../core/types.js';
import { MeiliError } from '../../core/errors.js';
import { withPlacement, type ReadPolicy, type RoutingTable } from '../../core/rendezvous.js';
import { searchKind } from '../../core/vectors.js';
import { NodeResponseError } from '../cluster/node-api.js';
import { hedgeTrigger, hideExpired, planRead, readOne, scatter, type ScatterDeps } from '../cluster/scatter.js';
import type { Coalescer } from '../consistency/coalescing.js';
import type { ReadConsistency } from '../consistency/read-policy.js';
import type { Reply, RequestContext } from '../../http/server.js';
import type { Logger } from '../observability/logger.js';
import type { IndexStateService } from '../state/index-state.js';
import type { TenantRouter } from '../tenancy/affinity.js';
import type { ReadPlacement } from '../../core/tenant-affinity.js';

export interface ReadDeps {
  state: IndexStateService;
  scatter: ScatterDeps;
  logger: Logger | null;
  /** `scatter.faceting_overfetch`: nodes keep this many times a facet's values. */
  facetingOverfetch: number;
  /** Session pins, minimum settings versions, the settings-inconsistent header. */
  consistency: ReadConsistency;
  /** Query coalescing (null when `query_coalescing.enabled` is false). */
  coalescer: Coalescer | null;
  /** The `vector_search` block (A12). */
  vectorSearch: VectorSearchConfig;
  /** Tenant affinity (A15); null when `tenant_affinity` is disabled. */
  tenants: TenantRouter | null;
}

export interface VectorSearchConfig {
  enabled: boolean;
  overFetchFactor: number;
  mergeStrategy: 'convex' | 'rrf';
  hybridAlphaDefault: number;
  rrfK: number;
}

/** `X-Miroir-Over-Fetch`: a positive integer ≤ 100 overriding `vector_search.over_fetch_factor` for one search. */
export function overFetchHeader(ctx: RequestContext<unknown>): number | null {
  const raw = ctx.req.headers['x-miroir-over-fetch'];
  if (raw === undefined) return null;
  const v = Array.isArray(raw) ? raw[0]! : raw;
  const n = Number(v);
  if (!/^\d+$/.test(v.trim()) || n < 1 || n > 100)
    throw new MeiliError(
      'bad_request',
      `Invalid value in header \`X-Miroir-Over-Fetch\`: expected an integer from 1 to 100, found \`${v}\`.`,
    );
  return n;
}

/** The search kind of a query as the merge needs it (a query nodes will refuse counts as keyword). */
function kindOf(query: Record<string, unknown>): 'keyword' | 'semantic' | 'hybrid' {
  if ((query.hybrid === undefined || query.hybrid === null) && (query.vector === undefined || query.vector === null))
    return 'keyword';
  try {
    return searchKind(query);
  } catch {
    return 'keyword';
  }
}

/** The scatter dependencies of one read under its policy. */
export function scatterWith(deps: ReadDeps, policy: ReadPolicy | null): ScatterDeps {
  return policy === null ? deps.scatter : { ...deps.scatter, policy };
}

/**
 * Where a search of `uid` may read: its consistency options (session pin, settings version) and the request's tenant
 * placement (`placement`: already decided for this request, as a multi-search does once for all its queries).
 */
export async function readPolicyOf(
  deps: ReadDeps,
  ctx: RequestContext<AuthResult>,
  uid: string,
  placement: ReadPlacement | undefined = deps.tenants?.place(ctx),
): Promise<ReadPolicy | null> {
  return withPlacement(await deps.consistency.forIndex(ctx, uid), placement);
}

/** What one index's search sends and how its answers merge, before any node is asked. */
interface PreparedSearch {
  state: Awaited<ReturnType<IndexStateService['readable']>>;
  query: SearchQuery;
  kind: 'keyword' | 'semantic' | 'hybrid';
  strategy: 'convex' | 'rrf';
  w: ReturnType<typeof pageWindow>;
  /** Fields the merge needs that the client did not ask for. */
  added: string[];
  filter: unknown;
  /** The node query but its filter. */
  nodeBase: Record<string, unknown>;
  scoped: ScatterDeps;
  plan: ReturnType<typeof planRead>;
  settings: MergeSettings;
  mergeQuery: MergeQuery & Omit<SearchQuery, keyof MergeQuery>;
}

async function prepareSearch(
  deps: ReadDeps,
  uid: string,
  clientQuery: SearchQuery,
  auth: AuthResult,
  policy: ReadPolicy | null,
  overFetch: number | null,
): Promise<PreparedSearch> {
  const state = await deps.state.readable(uid);
  const logical = state.settings;
  const query = hideReservedInRead('search', uid, clientQuery, logical);
  const vs = deps.vectorSearch;
  const hybrid = query.hybrid;
  if (vs.enabled && isObject(hybrid) && hybrid.semanticRatio === undefined)
    query.hybrid = { ...hybrid, semanticRatio: vs.hybridAlphaDefault };
  const kind = kindOf(query);
  const strategy = vs.enabled ? vs.mergeStrategy : 'convex';
  const maxTotalHits = maxTotalHitsOf(logical);
  const faceting = facetingOf(logical);
  const w = pageWindow(query, maxTotalHits);
  const primaryKey = state.primaryKey ?? 'id';
  const sort = query.sort ?? null;
  const distinct = query.distinct ?? distinctAttributeOf(logical);
  let added: string[] = [];
  const retrieve = query.attributesToRetrieve;
  if (retrieve !== undefined && retrieve !== null && !retrieve.includes('*')) {
    const needed = [primaryKey, ...(distinct ? [distinct] : [])];
    added = needed.filter((f) => !retrieve.includes(f));
  }
  const filter = andFilters(query.filter, tenantFilter(auth, uid));
  const nodeBase: Record<string, unknown> = { ...query, offset: 0, limit: w.offset + w.limit, showRankingScore: true };
  delete nodeBase.page;
  delete nodeBase.hitsPerPage;
  if (sort !== null && sort.length > 0) nodeBase.showRankingScoreDetails = true;
  if (kind !== 'keyword') {
    // A semantic hit is told from a keyword one by its details; over-fetching gives approximate nodes room.
    nodeBase.showRankingScoreDetails = true;
    const factor = overFetch ?? (vs.enabled ? vs.overFetchFactor : 1);
    if (factor > 1) {
      nodeBase.limit = Math.min((w.offset + w.limit) * factor, Math.max(maxTotalHits, w.offset + w.limit));
      deps.scatter.metrics.vectorOverFetched.inc();
    }
    if (kind === 'hybrid') deps.scatter.metrics.vectorMergeStrategy.inc({ strategy });
  }
  if (added.length > 0) nodeBase.attributesToRetrieve = [...retrieve!, ...added];
  const scoped = scatterWith(deps, policy);
  const plan = planRead(scoped, uid, filter, state.primaryKey, true);
  const settings: MergeSettings = {
    primaryKey,
    maxTotalHits,
    maxValuesPerFacet: faceting.maxValuesPerFacet,
    sortFacetValuesBy: faceting.sortFacetValuesBy,
    distinctAttribute: distinctAttributeOf(logical),
  };
  const mergeQuery = { ...query, sort, distinct: query.distinct ?? null };
  return { state, query, kind, strategy, w, added, filter, nodeBase, scoped, plan, settings, mergeQuery };
}

/** One index's search answer merged over its covering set. */
export interface MergedSearch {
  answer: NodeAnswer;
  /** Shards no replica could answer. */
  missing: number[];
  settingsVersion: number;
  nodeCount: number;
  primaryKey: string | null;
}

/** One index's search over a covering set, merged; `missing` lists shards no replica could answer. */
export async function scatterSearch(
  deps: ReadDeps,
  uid: string,
  clientQuery: SearchQuery,
  auth: AuthResult,
  policy: ReadPolicy | null = null,
  overFetch: number | null = null,
): Promise<MergedSearch> {
  return finishSearch(deps, uid, await prepareSearch(deps, uid, clientQuery, auth, policy, overFetch));
}

/** A prepared search asked of its covering set and merged as objects. */
async function finishSearch(deps: ReadDeps, uid: string, prepared: PreparedSearch): Promise<MergedSearch> {
  const { state, query, kind, strategy, w, added, filter, nodeBase, scoped, plan, settings, mergeQuery } = prepared;
  const vs = deps.vectorSearch;
  if (kind === 'hybrid') {
    // Both sides over the whole covering set, then Meilisearch's hybrid merge once over every shard's hits: the
    // same keyword and semantic lists one index holding every document would merge.
    const h = membersOf(query.hybrid);
    const side = (ratio: number): Record<string, unknown> => {
      const q: Record<string, unknown> = {
        ...mergeQuery,
        hybrid: { ...h, semanticRatio: ratio },
        offset: 0,
        limit: w.offset + w.limit,
        showRankingScore: true,
        showRankingScoreDetails: true,
      };
      delete q.page;
      delete q.hitsPerPage;
      return q;
    };
    const ask = (ratio: number) =>
      scatter(scoped, uid, filter, () => ({ ...nodeBase, hybrid: { ...h, semanticRatio: ratio } }), 'search', plan);
    // Like one node: the keyword side first; the semantic side only when the keyword hits are not good enough.
    const hasVector = query.vector !== undefined && query.vector !== null;
    const kw = await ask(0);
    const kwAnswer = mergeSearchResults(kw.answers, side(0), settings);
    const sem = hasVector && !keywordGoodEnough(kwAnswer, mergeQuery, settings.maxTotalHits) ? await ask(1) : null;
    const answer = mergeHybridResults(
      kwAnswer,
      sem === null ? null : mergeSearchResults(sem.answers, side(1), settings),
      mergeQuery,
      settings,
      { addedFields: added, hybridMerge: { strategy, rrfK: vs.rrfK } },
    );
    if (sem !== null) noteDrift(deps, sem.answers);
    const missing = [...new Set([...kw.missing, ...(sem?.missing ?? [])])].sort((a, b) => a - b);
    return {
      answer,
      missing,
      settingsVersion: state.settingsVersion,
      nodeCount: kw.nodeCount,
      primaryKey: state.primaryKey,
    };
  }
  const { answers, missing, nodeCount } = await scatter(scoped, uid, filter, () => ({ ...nodeBase }), 'search', plan);
  const answer = mergeSearchResults(answers, mergeQuery, settings, { addedFields: added });
  if (kind !== 'keyword') noteDrift(deps, answers);
  return { answer, missing, settingsVersion: state.settingsVersion, nodeCount, primaryKey: state.primaryKey };
}

/** Nodes that echoed different query vectors for one search: their embedder settings drifted. */
function noteDrift(deps: ReadDeps, answers: readonly NodeAnswer[]): void {
  const seen = new Set(answers.filter((a) => a.queryVector !== undefined).map((a) => JSON.stringify(a.queryVector)));
  if (seen.size > 1) deps.scatter.metrics.vectorEmbedderDrift.inc();
}

let directSeq = 0;

/**
 * HOT PATH. When one node answers for every shard (a one-node cluster, or a node holding every shard) and nothing
 * needs merging — no facets (their physical over-fetch would need cutting) — the client's query goes to that node as
 * it is (tenant rules ANDed in) and its answer comes back as it came, reserved members cut out of the bytes: no
 * parse, no merge, no serialization. Null when that does not apply or the node did not answer 200 (the merge path
 * then answers, with its retries and errors).
 */
async function passThrough(
  deps: ReadDeps,
  table: RoutingTable,
  uid: string,
  query: SearchQuery,
  auth: AuthResult,
  policy: ReadPolicy | null,
): Promise<{ body: Buffer; settingsVersion: number } | null> {
  if (query.facets !== undefined && query.facets !== null) return null;
  const selector = deps.scatter.selector ?? null;
  const chooser = selector !== null && selector.active ? selector : null;
  const cover = table.coveringSet(directSeq++, null, chooser, policy);
  if (cover.assignments.size !== 1 || cover.uncovered.length > 0 || cover.stale.length > 0) return null;
  const [nodeId, shards] = [...cover.assignments][0]!;
  if (shards.length !== table.shards || table.heldShards(nodeId).length !== table.shards) return null;
  const api = deps.scatter.topology.client(nodeId);
  if (api === undefined) return null;
  const state = await deps.state.readable(uid);
  const body: Record<string, unknown> = { ...hideReservedInRead('search', uid, query, state.settings) };
  let filter = andFilters(body.filter, tenantFilter(auth, uid));
  if (deps.scatter.expiryFilter !== undefined) filter = await hideExpired(deps.scatter, uid, filter);
  if (filter !== undefined && filter !== null) body.filter = filter;
  const path = `/indexes/${encodeURIComponent(uid)}/search`;
  const json = JSON.stringify(body);
  // Another node holding every shard: the read may be hedged to it past the trigger (first answer wins).
  const holders = [nodeId];
  // (Never outside a session's or a tenant's pinned group or a tenant's groups, nor to a node below a requested
  // settings version.)
  if (hedgeTrigger(deps.scatter) !== null)
    for (const g of table.activeGroups) {
      if (policy?.group != null && g !== policy.group && table.activeGroups.includes(policy.group)) continue;
      if (policy?.groups != null && policy.groups.length > 0 && !policy.groups.includes(g)) continue;
      for (const id of table.owners(0, g))
        if (
          id !== nodeId &&
          table.canRead(id) &&
          policy?.exclude?.has(id) !== true &&
          table.heldShards(id).length === table.shards
        )
          holders.push(id);
    }
  if (holders.length > 1) {
    try {
      const res = await readOne(deps.scatter, holders, async (node, signal) => {
        const r = await node.request({ method: 'POST', path, body: json, operation: 'search', signal, read: true });
        if (r.status !== 200) throw new NodeResponseError(node.nodeId, r.status, {}, 'search');
        return r;
      });
      if (res === null) return null;
      return {
        body: Buffer.from(scrubReservedMembers(res.body.toString('utf8'))),
        settingsVersion: state.settingsVersion,
      };
    } catch {
      return null; // the merge path answers, with its own retries and errors
    }
  }
  selector?.started(nodeId);
  const started = performance.now();
  let failed = true;
  try {
    const res = await api.request({
      method: 'POST',
      path,
      body: json,
      operation: 'search',
      read: true,
    });
    failed = res.status >= 500;
    if (res.status !== 200) return null;
    return {
      body: Buffer.from(scrubReservedMembers(res.body.toString('utf8'))),
      settingsVersion: state.settingsVersion,
    };
  } catch {
    return null;
  } finally {
    selector?.finished(nodeId, performance.now() - started, failed);
  }
}

export function degradedHeader(ctx: RequestContext<unknown>, missing: readonly number[]): void {
  if (missing.length > 0) ctx.replyHeaders['x-miroir-degraded'] = `shards=${missing.join(',')}`;
}

type SearchOutcome =
  | { kind: 'direct'; body: Buffer; settingsVersion: number }
  | { kind: 'merged'; answer: NodeAnswer; missing: number[]; settingsVersion: number; nodeCount: number }
  | { kind: 'bytes'; merge: ScannedMerge; missing: number[]; settingsVersion: number; nodeCount: number };

/**
 * HOT PATH. A keyword search whose node answers are scanned (the addon's scan) and merged as bytes: no parse of the
 * hits, no serialization of the merged answer. An answer the scan refuses is parsed, and then all are merged as
 * objects (the same answer).
 */
async function scannedSearch(
  deps: ReadDeps,
  uid: string,
  p: PreparedSearch,
  scanner: AnswerScanner,
): Promise<SearchOutcome> {
  const read = (body: Buffer): ScannedAnswer | NodeAnswer =>
    scanAnswer(body, scanner) ?? membersOf(JSON.parse(body.toString('utf8')));
  const { answers, missing, nodeCount } = await scatter(
    p.scoped,
    uid,
    p.filter,
    () => ({ ...p.nodeBase }),
    'search',
    p.plan,
    read,
  );
  const settingsVersion = p.state.settingsVersion;
  if (answers.every((a): a is ScannedAnswer => a instanceof ScannedAnswer))
    return {
      kind: 'bytes',
      merge: mergeScannedResults(answers, p.mergeQuery, p.settings, { addedFields: p.added }),
      missing,
      settingsVersion,
      nodeCount,
    };
  const parsed = answers.map((a) => (a instanceof ScannedAnswer ? membersOf(JSON.parse(a.bytes.toString('utf8'))) : a));
  const answer = mergeSearchResults(parsed, p.mergeQuery, p.settings, { addedFields: p.added });
  return { kind: 'merged', answer, missing, settingsVersion, nodeCount };
}

/** How one search runs: vector over-fetch, and whether the one-node pass-through may answer. */
interface SearchPlan {
  overFetch: number | null;
  direct: boolean;
}

/** One search's node work and merge: what coalesced searches share. */
async function searchOnce(
  deps: ReadDeps,
  uid: string,
  query: SearchQuery,
  auth: AuthResult,
  policy: ReadPolicy | null,
  plan: SearchPlan,
): Promise<SearchOutcome> {
  // No node holds every shard (the usual multi-node cluster): no pass-through to try (nor a replica pick drawn),
  // decided before any await.
  const table = deps.scatter.topology.routingFor(uid);
  const direct = plan.direct && table.hasFullHolder ? await passThrough(deps, table, uid, query, auth, policy) : null;
  if (direct !== null) return { kind: 'direct', ...direct };
  const prepared = await prepareSearch(deps, uid, query, auth, policy, plan.overFetch);
  const scanner = nativeAnswerScanner();
  if (scanner !== null && prepared.kind === 'keyword') return scannedSearch(deps, uid, prepared, scanner);
  const { answer, missing, settingsVersion, nodeCount } = await finishSearch(deps, uid, prepared);
  return { kind: 'merged', answer, missing, settingsVersion, nodeCount };
}

export async function search(
  deps: ReadDeps,
  ctx: RequestContext<AuthResult>,
  source: 'json' | 'query',
): Promise<Reply> {
  const uid = checkIndexUid(ctx.params.uid!);
  const query = parseSearchQuery(source === 'json' ? (ctx.json ?? {}) : Object.fromEntries(ctx.query), source);
  const policy = await readPolicyOf(deps, ctx, uid);
  const auth = ctx.auth!;
  const overFetch = overFetchHeader(ctx);
  // Vector tuning (over-fetch, merge strategy) needs the merge path.
  const tuned = overFetch !== null || (deps.vectorSearch.enabled && kindOf(query) !== 'keyword');
  const plan: SearchPlan = { overFetch, direct: !tuned };
  let out: SearchOutcome;
  if (deps.coalescer !== null && policy === null && overFetch === null) {
    const version = (await deps.state.readable(uid)).settingsVersion;
    const key = deps.coalescer.key(uid, version, query, auth, ctx.req.headers.authorization);
    out = await deps.coalescer.run(key, () => searchOnce(deps, uid, query, auth, null, plan));
  } else out = await searchOnce(deps, uid, query, auth, policy, plan);
  ctx.replyHeaders['x-miroir-settings-version'] = String(out.settingsVersion);
  if (out.kind === 'direct') {
    if (ctx.logging) ctx.logFields = { index: uid, node_count: 1, degraded: false };
    return { status: 200, raw: out.body };
  }
  // The merged answer may be shared with coalesced searches: this request's own parts go on a copy (or in the tail).
  const totals = out.kind === 'bytes' ? out.merge.tail : out.answer;
  degradedHeader(ctx, out.missing);
  if (ctx.logging)
    ctx.logFields = {
      index: uid,
      node_count: out.nodeCount,
      estimated_hits: totals.estimatedTotalHits ?? totals.totalHits,
      degraded: out.missing.length > 0,
    };
  const requestUid = randomUUID();
  if (out.kind === 'bytes') return { status: 200, raw: scannedMergeBody(out.merge, { requestUid }) };
  return { status: 200, body: { ...out.answer, requestUid } };
}
