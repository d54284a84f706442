// HOT PATH. Search through the proxy (SPEC C4, Decisions "Reading from a covering set"): choose the group by query
// sequence, ask each covering-set node only for its shards (client filter AND `_miroir_shard IN [...]`) with
// offset 0, limit offset+limit, scores (and details when sorting) and the fields the merge needs; a node that fails
// is retried once on another replica; what stays missing follows `scatter.unavailable_shard_policy`. Merges into
// exactly one node's answer shape.
import { randomUUID } from 'node:crypto';
import { tenantFilter, type AuthResult } from '../../core/auth/authorize.js';
import { checkIndexUid } from '../../core/index-requests.js';
import { mergeSearchResults, type NodeAnswer } from '../../core/merge.js';
import { pageWindow } from '../../core/pagination.js';
import { parseSearchQuery } from '../../core/search-params.js';
import { scrubReservedMembers } from '../../core/reserved.js';
import { hideReservedInRead } from '../../core/reserved-reads.js';
import { andFilters } from '../../core/shard-filter.js';
import { NodeResponseError } from '../cluster/node-api.js';
import { hedgeTrigger, planRead, readOne, scatter, type ScatterDeps } from '../cluster/scatter.js';
import type { Reply, RequestContext } from '../../http/server.js';
import type { Logger } from '../observability/logger.js';
import type { IndexStateService } from '../state/index-state.js';

export interface ReadDeps {
  state: IndexStateService;
  scatter: ScatterDeps;
  logger: Logger | null;
  /** `scatter.faceting_overfetch`: nodes keep this many times a facet's values. */
  facetingOverfetch: number;
}

/** One index's search over a covering set, merged; `missing` lists shards no replica could answer. */
export async function scatterSearch(
  deps: ReadDeps,
  uid: string,
  clientQuery: Record<string, unknown>,
  auth: AuthResult,
): Promise<{
  answer: NodeAnswer;
  missing: number[];
  settingsVersion: number;
  nodeCount: number;
  primaryKey: string | null;
}> {
  const state = await deps.state.readable(uid);
  const logical = state.settings;
  const query = hideReservedInRead('search', uid, clientQuery, logical);
  const pagination = logical.pagination as { maxTotalHits: number };
  const faceting = logical.faceting as { maxValuesPerFacet: number; sortFacetValuesBy: Record<string, string> };
  const w = pageWindow(query, pagination.maxTotalHits);
  const primaryKey = state.primaryKey ?? 'id';
  const sort = (query.sort as string[] | undefined) ?? null;
  const distinct = (query.distinct as string | undefined) ?? (logical.distinctAttribute as string | null);
  // Fields the merge needs that the client may not have asked for.
  let added: string[] = [];
  const retrieve = query.attributesToRetrieve as string[] | undefined;
  if (retrieve !== undefined && retrieve !== null && !retrieve.includes('*')) {
    const needed = [primaryKey, ...(distinct ? [distinct] : [])];
    added = needed.filter((f) => !retrieve.includes(f));
  }
  const filter = andFilters(query.filter, tenantFilter(auth, uid));
  const nodeBase: Record<string, unknown> = { ...query, offset: 0, limit: w.offset + w.limit, showRankingScore: true };
  delete nodeBase.page;
  delete nodeBase.hitsPerPage;
  if (sort !== null && sort.length > 0) nodeBase.showRankingScoreDetails = true;
  if (added.length > 0) nodeBase.attributesToRetrieve = [...retrieve!, ...added];
  const plan = planRead(deps.scatter, uid, filter, state.primaryKey);
  const { answers, missing, nodeCount } = await scatter(
    deps.scatter,
    uid,
    filter,
    () => ({ ...nodeBase }),
    'search',
    plan,
  );
  const answer = mergeSearchResults(
    answers,
    { ...query, sort, distinct: (query.distinct as string | undefined) ?? null },
    {
      primaryKey,
      maxTotalHits: pagination.maxTotalHits,
      maxValuesPerFacet: faceting.maxValuesPerFacet,
      sortFacetValuesBy: faceting.sortFacetValuesBy,
      distinctAttribute: logical.distinctAttribute as string | null,
    },
    { addedFields: added },
  );
  return { answer, missing, settingsVersion: state.settingsVersion, nodeCount, primaryKey: state.primaryKey };
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
  uid: string,
  query: Record<string, unknown>,
  auth: AuthResult,
): Promise<{ body: Buffer; settingsVersion: number } | null> {
  if (query.facets !== undefined && query.facets !== null) return null;
  const table = deps.scatter.topology.routing;
  const selector = deps.scatter.selector ?? null;
  const cover = table.coveringSet(directSeq++, null, selector !== null && selector.active ? selector : null);
  if (cover.assignments.size !== 1 || cover.uncovered.length > 0 || cover.stale.length > 0) return null;
  const [nodeId, shards] = [...cover.assignments][0]!;
  if (shards.length !== table.shards || table.heldShards(nodeId).length !== table.shards) return null;
  const api = deps.scatter.topology.client(nodeId);
  if (api === undefined) return null;
  const state = await deps.state.readable(uid);
  const body: Record<string, unknown> = { ...hideReservedInRead('search', uid, query, state.settings) };
  const filter = andFilters(body.filter, tenantFilter(auth, uid));
  if (filter !== undefined && filter !== null) body.filter = filter;
  const path = `/indexes/${encodeURIComponent(uid)}/search`;
  const json = JSON.stringify(body);
  // Another node holding every shard: the read may be hedged to it past the trigger (first answer wins).
  const holders = [nodeId];
  if (hedgeTrigger(deps.scatter) !== null)
    for (const g of table.activeGroups)
      for (const id of table.owners(0, g))
        if (id !== nodeId && table.canRead(id) && table.heldShards(id).length === table.shards) holders.push(id);
  if (holders.length > 1) {
    try {
      const res = await readOne(deps.scatter, holders, async (node, signal) => {
        const r = await node.request({ method: 'POST', path, body: json, operation: 'search', signal });
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

export async function search(
  deps: ReadDeps,
  ctx: RequestContext<AuthResult>,
  source: 'json' | 'query',
): Promise<Reply> {
  const uid = checkIndexUid(ctx.params.uid!);
  const query = parseSearchQuery(source === 'json' ? (ctx.json ?? {}) : Object.fromEntries(ctx.query), source);
  const direct = await passThrough(deps, uid, query, ctx.auth!);
  if (direct !== null) {
    ctx.replyHeaders['x-miroir-settings-version'] = String(direct.settingsVersion);
    if (ctx.logging) ctx.logFields = { index: uid, node_count: 1, degraded: false };
    return { status: 200, raw: direct.body };
  }
  const { answer, missing, settingsVersion, nodeCount } = await scatterSearch(deps, uid, query, ctx.auth!);
  answer.requestUid = randomUUID();
  degradedHeader(ctx, missing);
  ctx.replyHeaders['x-miroir-settings-version'] = String(settingsVersion);
  if (ctx.logging)
    ctx.logFields = {
      index: uid,
      node_count: nodeCount,
      estimated_hits: answer.estimatedTotalHits ?? answer.totalHits,
      degraded: missing.length > 0,
    };
  return { status: 200, body: answer };
}
