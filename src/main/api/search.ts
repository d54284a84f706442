// HOT PATH. Search through the proxy (SPEC C4, Decisions "Reading from a covering set"): choose the group by query
// sequence, ask each covering-set node only for its shards (client filter AND `_miroir_shard IN [...]`) with
// offset 0, limit offset+limit, scores (and details when sorting) and the fields the merge needs; a node that fails
// is retried once on another replica; what stays missing follows `scatter.unavailable_shard_policy`. Merges into
// exactly one node's answer shape.
import { randomUUID } from 'node:crypto';
import { tenantFilter, type AuthResult } from '../../core/auth/authorize.js';
import { MeiliError } from '../../core/errors.js';
import { checkIndexUid } from '../../core/index-requests.js';
import { mergeSearchResults, type NodeAnswer } from '../../core/merge.js';
import { pageWindow } from '../../core/pagination.js';
import { parseSearchQuery } from '../../core/search-params.js';
import { defaultSettings } from '../../core/settings.js';
import { andFilters, withShardFilter } from '../../core/shard-filter.js';
import { NodeClient, NodeRequestError } from '../cluster/node-client.js';
import type { Reply, RequestContext } from '../server/http.js';
import type { WriteDeps } from './documents.js';
import type { Logger } from '../observability/logger.js';

export interface ReadDeps extends WriteDeps {
  unavailablePolicy: 'partial' | 'error';
  logger: Logger | null;
}

let querySeq = 0;

interface NodePart {
  nodeId: string;
  shards: number[];
}

async function askNode(client: NodeClient | undefined, uid: string, route: string, body: Record<string, unknown>): Promise<NodeAnswer | MeiliError> {
  if (client === undefined) return new MeiliError('internal', 'the node left the topology');
  try {
    const res = await client.request({ method: 'POST', path: `/indexes/${encodeURIComponent(uid)}/${route}`, body: JSON.stringify(body), operation: route.replace('/', '_') });
    const json = NodeClient.json<NodeAnswer & { code?: string; message?: string }>(res);
    if (res.status === 200) return json;
    if (res.status < 500 && typeof json.code === 'string') return new MeiliError(json.code as 'internal', json.message ?? 'node error');
    return new MeiliError('internal', `node ${client.nodeId} answered ${res.status}`);
  } catch (err) {
    if (err instanceof NodeRequestError) return new MeiliError('internal', err.message);
    throw err;
  }
}

/** One index's search over a covering set, merged; `missing` lists shards no replica could answer. */
export async function scatterSearch(deps: ReadDeps, uid: string, query: Record<string, unknown>, auth: AuthResult): Promise<{ answer: NodeAnswer; missing: number[]; settingsVersion: number; nodeCount: number }> {
  const state = await deps.store.getIndexCached(uid);
  if (state === null) throw new MeiliError('index_not_found', `Index \`${uid}\` not found.`);
  const logical = { ...defaultSettings(), ...state.settings };
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
  const { answers, missing, nodeCount } = await scatter(deps, uid, filter, (body) => ({ ...nodeBase, ...body }), 'search');
  const answer = mergeSearchResults(
    answers,
    { ...query, sort, distinct: (query.distinct as string | undefined) ?? null },
    { primaryKey, maxTotalHits: pagination.maxTotalHits, maxValuesPerFacet: faceting.maxValuesPerFacet, sortFacetValuesBy: faceting.sortFacetValuesBy, distinctAttribute: logical.distinctAttribute as string | null },
    { addedFields: added },
  );
  return { answer, missing, settingsVersion: state.settingsVersion, nodeCount };
}

/**
 * Sends one request per covering-set node (its shards as a filter unless it answers for all it holds), retries a
 * failed node's shards once on other healthy replicas, and applies the unavailable-shard policy.
 */
export async function scatter(
  deps: ReadDeps,
  uid: string,
  filter: unknown,
  build: (body: Record<string, unknown>) => Record<string, unknown>,
  route: 'search' | 'facet-search' | 'documents/fetch',
): Promise<{ answers: NodeAnswer[]; missing: number[]; nodeCount: number }> {
  const table = deps.topology.routing;
  const cover = table.coveringSet(querySeq++);
  const parts: NodePart[] = [...cover.assignments].map(([nodeId, shards]) => ({ nodeId, shards }));
  deps.metrics.fanOut.observe(parts.length);
  const bodyFor = (p: NodePart): Record<string, unknown> => {
    const held = table.heldShards(p.nodeId);
    const exact = held.length === p.shards.length && held.every((s, i) => s === p.shards[i]);
    const f = withShardFilter(filter, exact ? null : p.shards);
    const body = build({});
    if (f === undefined || f === null) delete body.filter;
    else body.filter = f;
    return body;
  };
  const answers: NodeAnswer[] = [];
  const missing: number[] = [...cover.uncovered];
  await Promise.all(
    parts.map(async (p) => {
      const first = await askNode(deps.topology.client(p.nodeId), uid, route, bodyFor(p));
      if (!(first instanceof MeiliError)) {
        answers.push(first);
        return;
      }
      if (first.status < 500) throw first; // the node refused the query itself: the client's error
      // Retry the node's shards once, each on another healthy replica of any active group.
      deps.metrics.scatterRetries.inc();
      const alt = new Map<string, number[]>();
      for (const s of p.shards) {
        const other = table.activeGroups.flatMap((g) => [...table.owners(s, g)]).find((id) => id !== p.nodeId && table.canRead(id));
        if (other === undefined) missing.push(s);
        else alt.set(other, [...(alt.get(other) ?? []), s]);
      }
      await Promise.all(
        [...alt].map(async ([nodeId, shards]) => {
          const again = await askNode(deps.topology.client(nodeId), uid, route, bodyFor({ nodeId, shards }));
          if (again instanceof MeiliError) {
            if (again.status < 500) throw again;
            missing.push(...shards);
          } else answers.push(again);
        }),
      );
    }),
  );
  const lost = [...new Set(missing)].sort((a, b) => a - b);
  if (lost.length > 0) {
    deps.metrics.partialResponses.inc();
    if (deps.unavailablePolicy === 'error') throw new MeiliError('miroir_shard_unavailable', `Shards ${lost.join(', ')} have no healthy replica in any active group.`);
  }
  return { answers, missing: lost, nodeCount: parts.length };
}

export function degradedHeader(ctx: RequestContext<unknown>, missing: readonly number[]): void {
  if (missing.length > 0) ctx.replyHeaders['x-miroir-degraded'] = `shards=${missing.join(',')}`;
}

export async function search(deps: ReadDeps, ctx: RequestContext<AuthResult>, source: 'json' | 'query'): Promise<Reply> {
  const uid = checkIndexUid(ctx.params.uid!);
  const query = parseSearchQuery(source === 'json' ? (ctx.json ?? {}) : Object.fromEntries(ctx.query), source);
  const started = performance.now();
  const { answer, missing, settingsVersion, nodeCount } = await scatterSearch(deps, uid, query, ctx.auth!);
  answer.requestUid = randomUUID();
  degradedHeader(ctx, missing);
  ctx.replyHeaders['x-miroir-settings-version'] = String(settingsVersion);
  deps.logger?.info({ index: uid, duration_ms: Math.round((performance.now() - started) * 100) / 100, node_count: nodeCount, estimated_hits: answer.estimatedTotalHits ?? answer.totalHits, degraded: missing.length > 0, request_id: ctx.requestId }, 'search');
  return { status: 200, body: answer };
}
