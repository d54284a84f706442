// The proxy's one route table: every Meilisearch route a client may call (with the key actions it needs) and the
// admin API under /_miroir/*. Routes whose capability is not built yet answer 501 `miroir_not_supported` after
// authentication, so auth errors stay Meilisearch's.
import { authAllowsIndex, type AuthResult } from '../../core/auth/authorize.js';
import { PUBLIC_ROUTE, routeAuth, type RouteAuth } from '../../core/auth/route-actions.js';
import { MeiliError } from '../../core/errors.js';
import type { IndexState } from '../../store/store.js';
import type { KeyRegistry } from '../../core/auth/registry.js';
import { NodeClient } from '../cluster/node-client.js';
import type { Metrics } from '../observability/metrics.js';
import type { Rebalancer } from '../rebalance/rebalancer.js';
import { addNode, drainNode, removeGroup, startRebalance } from './admin.js';
import { addDocuments, deleteAll, deleteBatch, deleteByFilter, deleteOne } from './documents.js';
import { facetSearch, fetchDocuments, getDocument, multiSearch } from './reads.js';
import { search, type ReadDeps } from './search.js';
import { createIndex, deleteIndex, swapIndexes, updateIndex } from './indexes.js';
import { getSettings, updateSettings } from './settings.js';
import { globalStats, indexStats } from './stats.js';
import { cancelTasks, deleteTasks, getTask, listTasks } from './tasks.js';
import type { Reply, RequestContext, RouteSpec } from '../server/http.js';
import type { HttpMethod } from '../server/router.js';

/** What the auth hook reads from a route. */
export interface RouteGuard {
  kind: 'client' | 'admin' | 'public';
  auth: RouteAuth;
  tenant: boolean;
}

export interface ApiDeps extends ReadDeps {
  keys: KeyRegistry;
  rebalancer: Rebalancer;
}

type Handler = (ctx: RequestContext<AuthResult>) => Promise<Reply> | Reply;

const json = (status: number, body: unknown): Reply => ({ status, body });

function notSupported(what: string): Handler {
  return () => {
    throw new MeiliError('miroir_not_supported', `Miroir does not serve \`${what}\` yet.`);
  };
}

function indexView(s: IndexState): Record<string, unknown> {
  return { uid: s.uid, createdAt: s.createdAt, updatedAt: s.updatedAt, primaryKey: s.primaryKey };
}

function uint(q: URLSearchParams, name: string, dflt: number, code: 'invalid_index_offset' | 'invalid_index_limit'): number {
  const raw = q.get(name);
  if (raw === null) return dflt;
  if (!/^\d+$/.test(raw)) throw new MeiliError(code, `Invalid value in parameter \`${name}\`: could not parse \`${raw}\` as a positive integer`);
  return Number(raw);
}

/** Forwards a request to one healthy node and answers with its reply (status and body as the node gave them). */
async function forwardToOne(deps: ApiDeps, method: HttpMethod, path: string, body: Buffer | null, operation: string): Promise<Reply> {
  const clients = deps.topology.healthyClients();
  if (clients.length === 0) throw new MeiliError('miroir_shard_unavailable', 'No healthy node can answer this request.');
  const res = await clients[0]!.request({ method, path, body, operation });
  return { status: res.status, raw: res.body.length > 0 ? res.body : undefined };
}

/** Sends a write to every node (node-wide settings such as experimental features) and answers the first reply. */
async function broadcast(deps: ApiDeps, method: HttpMethod, path: string, body: Buffer | null, operation: string): Promise<Reply> {
  const clients = deps.topology.allClients();
  const results = await Promise.allSettled(clients.map((c) => c.request({ method, path, body, operation })));
  const ok = results.find((r): r is PromiseFulfilledResult<Awaited<ReturnType<NodeClient['request']>>> => r.status === 'fulfilled');
  if (ok === undefined) throw new MeiliError('miroir_shard_unavailable', 'No node answered this request.');
  return { status: ok.value.status, raw: ok.value.body.length > 0 ? ok.value.body : undefined };
}

export function buildRoutes(deps: ApiDeps): Array<RouteSpec<AuthResult>> {
  const out: Array<RouteSpec<AuthResult>> = [];
  const client = (method: HttpMethod, path: string, handler: Handler, opts: { body?: 'none' | 'json' | 'raw'; tenant?: boolean; auth?: RouteAuth } = {}) => {
    const guard: RouteGuard = { kind: 'client', auth: opts.auth ?? routeAuth(method, path), tenant: opts.tenant === true };
    out.push({ method, path, body: opts.body ?? (method === 'GET' || method === 'DELETE' ? 'none' : 'json'), auth: guard, handler });
  };
  const admin = (method: HttpMethod, path: string, handler: Handler, kind: 'admin' | 'public' = 'admin', body: 'none' | 'json' = method === 'GET' || method === 'DELETE' ? 'none' : 'json') => {
    out.push({ method, path, name: path, body, auth: { kind, auth: PUBLIC_ROUTE, tenant: false } satisfies RouteGuard, handler });
  };

  // ---- served by Miroir itself
  client('GET', '/health', () => json(200, { status: 'available' }), { auth: PUBLIC_ROUTE });
  client('GET', '/version', () => forwardToOne(deps, 'GET', '/version', null, 'version'));
  client('GET', '/keys', (ctx) => json(200, deps.keys.list(ctx.query)));
  client('POST', '/keys', async (ctx) => {
    const created = await deps.keys.create(ctx.json, new Date());
    await deps.store.publish('keys', created.uid);
    return json(201, created);
  });
  client('GET', '/keys/:key', (ctx) => json(200, deps.keys.get(ctx.params.key!)));
  client('PATCH', '/keys/:key', async (ctx) => {
    const updated = await deps.keys.update(ctx.params.key!, ctx.json, new Date());
    await deps.store.publish('keys', updated.uid);
    return json(200, updated);
  });
  client('DELETE', '/keys/:key', async (ctx) => {
    await deps.keys.delete(ctx.params.key!);
    await deps.store.publish('keys', ctx.params.key!);
    return { status: 204 };
  });
  client('GET', '/indexes', async (ctx) => {
    for (const k of ctx.query.keys()) if (k !== 'offset' && k !== 'limit') throw new MeiliError('bad_request', `Unknown parameter \`${k}\`: expected one of \`offset\`, \`limit\``);
    const offset = uint(ctx.query, 'offset', 0, 'invalid_index_offset');
    const limit = uint(ctx.query, 'limit', 20, 'invalid_index_limit');
    const all = (await deps.store.listIndexes()).filter((i) => authAllowsIndex(ctx.auth!, i.uid)).sort((a, b) => (a.uid < b.uid ? -1 : 1));
    return json(200, { results: all.slice(offset, offset + limit).map(indexView), offset, limit, total: all.length });
  });
  client('GET', '/indexes/:uid', async (ctx) => {
    const state = await deps.store.getIndex(ctx.params.uid!);
    if (state === null) throw new MeiliError('index_not_found', `Index \`${ctx.params.uid}\` not found.`);
    return json(200, indexView(state));
  });
  client('POST', '/indexes', (ctx) => createIndex(deps, ctx.json));
  client('DELETE', '/indexes/:uid', (ctx) => deleteIndex(deps, ctx.params.uid!));
  client('PATCH', '/indexes/:uid', (ctx) => updateIndex(deps, ctx.params.uid!, ctx.json));
  client('POST', '/swap-indexes', (ctx) => swapIndexes(deps, ctx.json));
  client('GET', '/tasks', async (ctx) => json(200, await listTasks(deps, ctx.query, ctx.auth!)));
  client('GET', '/tasks/:taskUid', async (ctx) => json(200, await getTask(deps, ctx.params.taskUid!, ctx.auth!)));
  client('POST', '/tasks/cancel', async (ctx) => json(202, await cancelTasks(deps, ctx.query, ctx.auth!)), { body: 'none' });
  client('DELETE', '/tasks', async (ctx) => json(202, await deleteTasks(deps, ctx.query, ctx.auth!)));
  client('GET', '/indexes/:uid/settings', (ctx) => getSettings(deps, ctx));
  client('GET', '/indexes/:uid/settings/:setting', (ctx) => getSettings(deps, ctx));
  client('PATCH', '/indexes/:uid/settings', (ctx) => updateSettings(deps, ctx, { route: null, verb: 'PATCH' }));
  client('DELETE', '/indexes/:uid/settings', (ctx) => updateSettings(deps, ctx, { route: null, verb: 'DELETE' }));
  client('PUT', '/indexes/:uid/settings/:setting', (ctx) => updateSettings(deps, ctx, { route: ctx.params.setting!, verb: 'PUT' }));
  client('PATCH', '/indexes/:uid/settings/:setting', (ctx) => updateSettings(deps, ctx, { route: ctx.params.setting!, verb: 'PATCH' }));
  client('DELETE', '/indexes/:uid/settings/:setting', (ctx) => updateSettings(deps, ctx, { route: ctx.params.setting!, verb: 'DELETE' }));
  client('GET', '/indexes/:uid/stats', async (ctx) => json(200, await indexStats(deps, ctx.params.uid!)));
  client('GET', '/stats', async (ctx) => json(200, await globalStats(deps, ctx.auth!)));
  client('POST', '/indexes/:uid/documents', (ctx) => addDocuments(deps, ctx, false), { body: 'raw' });
  client('PUT', '/indexes/:uid/documents', (ctx) => addDocuments(deps, ctx, true), { body: 'raw' });
  client('DELETE', '/indexes/:uid/documents/:id', (ctx) => deleteOne(deps, ctx));
  client('POST', '/indexes/:uid/documents/delete-batch', (ctx) => deleteBatch(deps, ctx));
  client('POST', '/indexes/:uid/documents/delete', (ctx) => deleteByFilter(deps, ctx));
  client('DELETE', '/indexes/:uid/documents', (ctx) => deleteAll(deps, ctx));
  client('POST', '/indexes/:uid/search', (ctx) => search(deps, ctx, 'json'), { tenant: true });
  client('GET', '/indexes/:uid/search', (ctx) => search(deps, ctx, 'query'), { tenant: true });
  client('POST', '/indexes/:uid/facet-search', (ctx) => facetSearch(deps, ctx), { tenant: true });
  client('POST', '/multi-search', (ctx) => multiSearch(deps, ctx), { tenant: true });
  client('GET', '/indexes/:uid/documents', (ctx) => fetchDocuments(deps, ctx, 'query'));
  client('POST', '/indexes/:uid/documents/fetch', (ctx) => fetchDocuments(deps, ctx, 'json'));
  client('GET', '/indexes/:uid/documents/:id', (ctx) => getDocument(deps, ctx));
  client('GET', '/batches', () => json(200, { results: [], total: 0, limit: 20, from: null, next: null }));
  client('GET', '/batches/:batchUid', (ctx) => {
    throw new MeiliError('batch_not_found', `Batch \`${ctx.params.batchUid}\` not found.`);
  });
  client('GET', '/experimental-features', () => forwardToOne(deps, 'GET', '/experimental-features', null, 'experimental_features'));
  client('PATCH', '/experimental-features', (ctx) => broadcast(deps, 'PATCH', '/experimental-features', ctx.rawBody, 'experimental_features'));
  client('GET', '/network', () => forwardToOne(deps, 'GET', '/network', null, 'network'));
  client('PATCH', '/network', (ctx) => broadcast(deps, 'PATCH', '/network', ctx.rawBody, 'network'));

  // ---- Meilisearch routes whose capability comes later (cluster operations, write path, read path)
  // Bodies are not read: the answer is 501 whatever they hold.
  const later: Array<[HttpMethod, string, boolean]> = [
    ['POST', '/dumps', false],
    ['POST', '/snapshots', false],
  ];
  for (const [method, path, tenant] of later) client(method, path, notSupported(`${method} ${path}`), { body: 'none', tenant });

  // ---- admin API
  admin('GET', '/_miroir/ready', () => {
    const { uncovered } = deps.topology.coverage();
    return uncovered.length === 0 ? json(200, { status: 'ready' }) : { status: 503, body: { status: 'not_ready', uncovered_shards: uncovered }, headers: { 'retry-after': '10' } };
  }, 'public');
  admin('GET', '/_miroir/topology', () => json(200, deps.topology.topologyView()));
  admin('GET', '/_miroir/shards', () => json(200, deps.topology.shardsView()));
  admin('POST', '/_miroir/nodes', (ctx) => addNode(deps, ctx.json));
  admin('POST', '/_miroir/nodes/:id/drain', (ctx) => drainNode(deps, ctx.params.id!, 'node_drain'), 'admin', 'none');
  admin('DELETE', '/_miroir/nodes/:id', (ctx) => drainNode(deps, ctx.params.id!, 'node_remove', ctx.query));
  admin('DELETE', '/_miroir/groups/:id', (ctx) => removeGroup(deps, ctx.params.id!));
  admin('POST', '/_miroir/rebalance', () => startRebalance(deps), 'admin', 'none');
  admin('GET', '/_miroir/rebalance/status', async () => json(200, await deps.rebalancer.status()));
  admin('GET', '/_miroir/metrics', async () => ({ status: 200, raw: await deps.metrics.registry.metrics(), headers: { 'content-type': deps.metrics.registry.contentType } }));
  return out;
}
