// `GET /documents` and `POST /documents/fetch` over shards, exactly: every document once across pages, however far
// the offset. Without `sort`, a list of at most SMALL_LIST documents is read whole from every node and ordered by
// primary key (one node's order when documents came in key order); a bigger one comes shard by shard (ascending
// shard id, then each node's own order within the shard): per-shard counts say which shards a page falls in, and
// only those are read, each from the offset inside its shard — a stable order an export can page through at any
// depth. Which of the two depends only on the list's size, so every page of one list uses the same order. With
// `sort`, every covering node returns its first offset + limit documents in that order and they are merged by
// Meilisearch's value order (core/sort-order.ts), ties by primary key.
import { MeiliError } from '../../core/errors.js';
import { comparePrimaryKeys, compareValues } from '../../core/sort-order.js';
import { SHARD_FIELD, withShardFilter } from '../../core/shard-filter.js';
import type { NodeAnswer } from '../../core/merge.js';
import { NodeRequestError, NodeResponseError, type NodeApi } from './node-api.js';
import { hideExpired, planRead, scatter, type ReadPlan, type ScatterDeps } from './scatter.js';
import { isObjectArray, numberOf, stringsOf } from '../../core/types.js';

type Doc = Record<string, unknown>;

export interface DocumentPageRequest {
  uid: string;
  primaryKey: string;
  /** The client's query as parsed (fields, filter, sort, ids, retrieveVectors…), without offset/limit. */
  query: Record<string, unknown>;
  offset: number;
  limit: number;
  /** Logical `faceting.maxValuesPerFacet` × over-fetch: how many shard counts one facet answer may hold. */
  facetValues: number;
  /** The index has a `distinctAttribute` (facet counts are then collapsed and cannot count documents). */
  distinct: boolean;
}

export interface DocumentPage {
  results: Doc[];
  total: number;
  /** Shards no replica could read (reported as degraded). */
  missing: number[];
}

/** Lists up to this many documents are read whole and ordered by primary key. */
export const SMALL_LIST = 1000;

/** A node read that falls back to another readable replica of the same shard. */
async function fromShard<T>(
  deps: ScatterDeps,
  uid: string,
  shard: number,
  first: string,
  read: (api: NodeApi) => Promise<T>,
): Promise<T | null> {
  const table = deps.topology.routingFor(uid);
  const candidates = [
    first,
    ...table.activeGroups
      .flatMap((g) => [...table.owners(shard, g)])
      .filter((id) => id !== first && table.canRead(id) && deps.policy?.exclude?.has(id) !== true),
  ];
  for (const id of candidates) {
    const api = deps.topology.client(id);
    if (api === undefined) continue;
    try {
      return await read(api);
    } catch (err) {
      if (err instanceof NodeResponseError && err.status < 500) throw err.toMeiliError();
      if (!(err instanceof NodeResponseError) && !(err instanceof NodeRequestError)) throw err;
    }
  }
  return null;
}

/** Per-shard document counts matching the filter: one facet answer per node, or one count per shard. */
async function shardCounts(
  deps: ScatterDeps,
  req: DocumentPageRequest,
  shardNode: ReadonlyMap<number, string>,
  filter: unknown,
): Promise<Map<number, number | null>> {
  const counts = new Map<number, number | null>();
  const byNode = new Map<string, number[]>();
  for (const [s, node] of shardNode) (byNode.get(node) ?? byNode.set(node, []).get(node)!).push(s);
  const perShard = req.distinct || [...byNode.values()].some((list) => list.length > req.facetValues);
  if (!perShard) {
    await Promise.all(
      [...byNode].map(async ([node, shards]) => {
        const got = await fromShard(deps, req.uid, shards[0]!, node, (api) =>
          api.shardCounts(req.uid, SHARD_FIELD, withShardFilter(filter, shards)),
        );
        for (const s of shards) counts.set(s, got === null ? null : (got.get(s) ?? 0));
      }),
    );
    return counts;
  }
  await Promise.all(
    [...shardNode].map(async ([s, node]) => {
      const page = await fromShard(deps, req.uid, s, node, (api) =>
        api.fetchDocuments(req.uid, { filter: withShardFilter(filter, [s]), limit: 1, fields: [req.primaryKey] }),
      );
      counts.set(s, page === null ? null : page.total);
    }),
  );
  return counts;
}

/** Unsorted: shard by shard, each document once, only the shards the page falls in read. */
async function shardMajor(deps: ScatterDeps, req: DocumentPageRequest, plan: ReadPlan): Promise<DocumentPage> {
  const cover = plan.cover;
  const shardNode = new Map<number, string>();
  for (const [node, shards] of cover.assignments) for (const s of shards) shardNode.set(s, node);
  const filter = req.query.filter;
  const counts = await shardCounts(deps, req, shardNode, filter).catch(async (err: unknown) => {
    // Counted with a search: a filter it refuses is asked once more on the documents route, as the client sent it,
    // so the client gets exactly the error that route gives.
    if (!(err instanceof MeiliError) || err.code !== 'invalid_search_filter') throw err;
    const [node, shards] = [...cover.assignments][0] ?? [];
    if (node !== undefined)
      await fromShard(deps, req.uid, shards![0]!, node, (api) => api.fetchDocuments(req.uid, { filter, limit: 1 }));
    throw new MeiliError('invalid_document_filter', err.message);
  });
  const size = [...counts.values()].reduce<number>((n, c) => n + (c ?? 0), 0);
  if (size <= SMALL_LIST) return sortedMerge(deps, { ...req }, [], plan, size);
  const missing = [...cover.uncovered, ...[...counts].filter(([, c]) => c === null).map(([s]) => s)];
  const results: Doc[] = [];
  let before = 0;
  for (const s of [...shardNode.keys()].sort((a, b) => a - b)) {
    const count = counts.get(s) ?? null;
    if (count === null || count === 0) continue;
    if (results.length >= req.limit) {
      before += count;
      continue;
    }
    if (before + count <= req.offset) {
      before += count;
      continue;
    }
    const offset = Math.max(0, req.offset - before);
    const limit = Math.min(count - offset, req.limit - results.length);
    before += count;
    const body = { ...req.query, filter: withShardFilter(filter, [s]), offset, limit };
    const page = await fromShard(deps, req.uid, s, shardNode.get(s)!, (api) => api.fetchDocuments(req.uid, body));
    if (page === null) missing.push(s);
    else results.push(...page.results);
  }
  const total = [...counts.values()].reduce<number>((n, c) => n + (c ?? 0), 0);
  return { results, total, missing: [...new Set(missing)].sort((a, b) => a - b) };
}

/** Sorted: each covering node's first offset + limit in the sort order, merged with Meilisearch's value order. */
async function sortedMerge(
  deps: ScatterDeps,
  req: DocumentPageRequest,
  sort: readonly string[],
  plan: ReadPlan,
  whole?: number,
): Promise<DocumentPage> {
  // `whole`: the list is small, every node returns all of it (so the primary-key order is exact).
  const limit = whole ?? req.offset + req.limit;
  const { answers, missing } = await scatter(
    deps,
    req.uid,
    req.query.filter,
    () => ({ ...req.query, offset: 0, limit }),
    'documents/fetch',
    plan,
  );
  const criteria = sort.map((x) => {
    const m = /^(.+):(asc|desc)$/.exec(x);
    if (m === null)
      throw new MeiliError(
        'invalid_document_sort',
        `Invalid syntax for the sort parameter: expected expression ending by \`:asc\` or \`:desc\`, found \`${x}\`.`,
      );
    return { field: m[1]!, dir: m[2] === 'desc' ? ('desc' as const) : ('asc' as const) };
  });
  const all = answers.flatMap((a: NodeAnswer) => (isObjectArray(a.results) ? a.results : []));
  all.sort((a, b) => {
    for (const c of criteria) {
      const d = compareValues(a[c.field], b[c.field], c.dir);
      if (d !== 0) return d;
    }
    return comparePrimaryKeys(a[req.primaryKey], b[req.primaryKey]);
  });
  const total = answers.reduce((n, a) => n + (numberOf(a.total) ?? 0), 0);
  return { results: all.slice(req.offset, req.offset + req.limit), total, missing };
}

export async function fetchDocumentPage(deps: ScatterDeps, req: DocumentPageRequest): Promise<DocumentPage> {
  if (deps.expiryFilter !== undefined)
    req = { ...req, query: { ...req.query, filter: await hideExpired(deps, req.uid, req.query.filter) } };
  const sort = stringsOf(req.query.sort);
  // A filter pinning the primary key reads only the shards that can hold its documents (SPEC A4).
  const plan = planRead(deps, req.uid, req.query.filter, req.primaryKey);
  // An `ids` list names few documents: every covering node answers for its own, merged in primary-key order.
  if ((sort !== undefined && sort.length > 0) || req.query.ids !== undefined)
    return sortedMerge(deps, req, sort ?? [], plan);
  return shardMajor(deps, req, plan);
}
