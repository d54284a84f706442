// The proxy's one route table: every Meilisearch route a client may call (with the key actions it needs) and the
// admin API under /_miroir/*. Routes whose capability is not built yet answer 501 `miroir_not_supported` after
// authentication, so auth errors stay Meilisearch's.
import type { AuthResult } from '../../core/auth/authorize.js';
import { PUBLIC_ROUTE, routeAuth, type RouteAuth } from '../../core/auth/route-actions.js';
import { MeiliError } from '../../core/errors.js';
import type { SettingsFeatures } from '../../core/settings.js';
import { membersOf } from '../../core/types.js';
import type { KeyRegistry } from '../../core/auth/registry.js';
import type { Store } from '../../store/store.js';
import { NodeRequestError } from '../cluster/node-api.js';
import type { TopologyService } from '../cluster/topology.js';
import type { Metrics } from '../observability/metrics.js';
import type { Rebalancer } from '../rebalance/rebalancer.js';
import type { IndexOperations } from '../state/index-ops.js';
import type { WriteHooks } from '../consistency/write-hooks.js';
import type { DocumentWrites } from '../writes/documents.js';
import { addNode, drainNode, removeGroup, startRebalance } from './admin.js';
import { addDocuments, deleteAll, deleteBatch, deleteByFilter, deleteOne } from './documents.js';
import { facetSearch, fetchDocuments, getDocument, multiSearch, type MultiSearchConfig } from './reads.js';
import { search, type ReadDeps } from './search.js';
import { explain, type ExplainConfig } from './explain.js';
import { createIndex, deleteIndex, getIndex, listIndexes, swapIndexes, updateIndex } from './indexes.js';
import { getSettings, updateSettings } from './settings.js';
import { globalStats, indexStats } from './stats.js';
import { cancelTasks, deleteTasks, getBatch, getTask, listBatches, listTasks, type TaskApiDeps } from './tasks.js';
import type { Reply, RequestContext, RouteSpec } from '../../http/server.js';
import type { HttpMethod } from '../../http/router.js';

/** What the auth hook reads from a route. */
export interface RouteGuard {
  kind: 'client' | 'admin' | 'public';
  auth: RouteAuth;
  tenant: boolean;
  /** A client route the admin key opens too (`GET /_miroir/changes`). */
  adminKey?: boolean;
}

/** The services the routes call (each handler takes only the ones it needs). */
export interface ApiDeps extends ReadDeps, TaskApiDeps {
  store: Store;
  topology: TopologyService;
  ops: IndexOperations;
  writes: DocumentWrites;
  metrics: Metrics;
  keys: KeyRegistry;
  rebalancer: Rebalancer;
  multiSearch: MultiSearchConfig;
  explain: ExplainConfig;
  /** What every write route goes through (settings freeze, `Idempotency-Key`, `X-Miroir-Session`). */
  writeHooks: WriteHooks;
  /** `GET /_miroir/consistency`: idempotency keys, sessions and frozen indexes kept in the store. */
  consistencyStatus: () => Promise<Record<string, unknown>>;
}

type Handler = (ctx: RequestContext<AuthResult>) => Promise<Reply> | Reply;

const json = (status: number, body: unknown): Reply => ({ status, body });

function notSupported(what: string): Handler {
  return () => {
    throw new MeiliError('miroir_not_supported', `Miroir does not serve \`${what}\` yet.`);
  };
}

/**
 * Forwards a node-wide read to a healthy node and answers with its reply (status and body as the node gave them);
 * a node that does not answer is skipped for the next one. Client-facing errors never name a node or its address.
 */
async function forwardToOne(
  deps: ApiDeps,
  method: HttpMethod,
  path: string,
  body: Buffer | null,
  operation: string,
): Promise<Reply> {
  for (const api of deps.topology.healthyClients()) {
    try {
      const res = await api.forward(method, path, body, operation);
      if (res.status >= 500) continue;
      return { status: res.status, raw: res.body.length > 0 ? res.body : undefined };
    } catch (err) {
      if (!(err instanceof NodeRequestError)) throw err;
    }
  }
  throw new MeiliError('miroir_shard_unavailable', 'No healthy node can answer this request right now.');
}

/** Sends a write to every node (node-wide settings such as experimental features) and answers the first reply. */
async function broadcast(
  deps: ApiDeps,
  method: HttpMethod,
  path: string,
  body: Buffer | null,
  operation: string,
): Promise<Reply> {
  const clients = deps.topology.allClients();
  const results = await Promise.allSettled(clients.map((c) => c.forward(method, path, body, operation)));
  const ok = results.find(
    (r): r is PromiseFulfilledResult<Awaited<ReturnType<(typeof clients)[number]['forward']>>> =>
      r.status === 'fulfilled',
  );
  if (ok === undefined) throw new MeiliError('miroir_shard_unavailable', 'No node answered this request.');
  return { status: ok.value.status, raw: ok.value.body.length > 0 ? ok.value.body : undefined };
}

/** The nodes' experimental features, as one healthy node reports them (they are node-wide, broadcast to all). */
async function nodeFeatures(deps: ApiDeps): Promise<SettingsFeatures> {
  const reply = await forwardToOne(deps, 'GET', '/experimental-features', null, 'experimental_features');
  if (reply.status !== 200 || reply.raw === undefined) return {};
  const features: Record<string, boolean | null> = {};
  for (const [name, on] of Object.entries(membersOf(JSON.parse(reply.raw.toString()))))
    if (typeof on === 'boolean' || on === null) features[name] = on;
  return features;
}

export function buildRoutes(deps: ApiDeps): Array<RouteSpec<AuthResult>> {
  const out: Array<RouteSpec<AuthResult>> = [];
  const features = () => nodeFeatures(deps);
  const client = (
    method: HttpMethod,
    path: string,
    handler: Handler,
    opts: {
      body?: 'none' | 'json' | 'raw';
      tenant?: boolean;
      auth?: RouteAuth;
      probe?: boolean;
      /** A write (every non-GET route unless it says false): `Idempotency-Key` applies. */
      write?: boolean;
    } = {},
  ) => {
    const guard: RouteGuard = {
      kind: 'client',
      auth: opts.auth ?? routeAuth(method, path),
      tenant: opts.tenant === true,
    };
    out.push({
      method,
      path,
      body: opts.body ?? (method === 'GET' || method === 'DELETE' ? 'none' : 'json'),
      auth: guard,
      probe: opts.probe === true,
      handler: (opts.write ?? method !== 'GET') ? deps.writeHooks.wrap(handler) : handler,
    });
  };
  const admin = (
    method: HttpMethod,
    path: string,
    handler: Handler,
    kind: 'admin' | 'public' | 'probe' = 'admin',
    body: 'none' | 'json' = method === 'GET' || method === 'DELETE' ? 'none' : 'json',
  ) => {
    out.push({
      method,
      path,
      name: path,
      body,
      probe: kind === 'probe',
      auth: { kind: kind === 'probe' ? 'public' : kind, auth: PUBLIC_ROUTE, tenant: false } satisfies RouteGuard,
      handler,
    });
  };

  // ---- served by Miroir itself
  client('GET', '/health', () => json(200, { status: 'available' }), { auth: PUBLIC_ROUTE, probe: true });
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
  client('GET', '/indexes', (ctx) => listIndexes(deps.state, ctx.query, ctx.auth!));
  client('GET', '/indexes/:uid', (ctx) => getIndex(deps.state, ctx.params.uid!));
  client('POST', '/indexes', (ctx) => createIndex(deps.ops, ctx.json, ctx.auth!));
  client('DELETE', '/indexes/:uid', (ctx) => deleteIndex(deps.ops, ctx.params.uid!));
  client('PATCH', '/indexes/:uid', (ctx) => updateIndex(deps.ops, ctx.params.uid!, ctx.json, ctx.auth!));
  client('POST', '/swap-indexes', (ctx) => swapIndexes(deps.ops, ctx.json, ctx.auth!));
  client('GET', '/tasks', async (ctx) => json(200, await listTasks(deps, ctx.query, ctx.auth!)));
  client('GET', '/tasks/:taskUid', async (ctx) => json(200, await getTask(deps, ctx.params.taskUid!, ctx.auth!)));
  client('POST', '/tasks/cancel', (ctx) => cancelTasks(deps, ctx.query, ctx.req.url, ctx.auth!), { body: 'none' });
  client('DELETE', '/tasks', (ctx) => deleteTasks(deps, ctx.query, ctx.req.url, ctx.auth!));
  client('GET', '/indexes/:uid/settings', (ctx) => getSettings(deps.state, ctx, features));
  client('GET', '/indexes/:uid/settings/:setting', (ctx) => getSettings(deps.state, ctx, features));
  client('PATCH', '/indexes/:uid/settings', (ctx) =>
    updateSettings(deps.ops, ctx, { route: null, verb: 'PATCH' }, features),
  );
  client('DELETE', '/indexes/:uid/settings', (ctx) =>
    updateSettings(deps.ops, ctx, { route: null, verb: 'DELETE' }, features),
  );
  client('PUT', '/indexes/:uid/settings/:setting', (ctx) =>
    updateSettings(deps.ops, ctx, { route: ctx.params.setting!, verb: 'PUT' }, features),
  );
  client('PATCH', '/indexes/:uid/settings/:setting', (ctx) =>
    updateSettings(deps.ops, ctx, { route: ctx.params.setting!, verb: 'PATCH' }, features),
  );
  client('DELETE', '/indexes/:uid/settings/:setting', (ctx) =>
    updateSettings(deps.ops, ctx, { route: ctx.params.setting!, verb: 'DELETE' }, features),
  );
  client('GET', '/indexes/:uid/stats', async (ctx) => json(200, await indexStats(deps, ctx.params.uid!)));
  client('GET', '/stats', async (ctx) => json(200, await globalStats(deps, ctx.auth!)));
  client('POST', '/indexes/:uid/documents', (ctx) => addDocuments(deps.writes, ctx, false), { body: 'raw' });
  client('PUT', '/indexes/:uid/documents', (ctx) => addDocuments(deps.writes, ctx, true), { body: 'raw' });
  client('DELETE', '/indexes/:uid/documents/:id', (ctx) => deleteOne(deps.writes, ctx));
  client('POST', '/indexes/:uid/documents/delete-batch', (ctx) => deleteBatch(deps.writes, ctx));
  client('POST', '/indexes/:uid/documents/delete', (ctx) => deleteByFilter(deps.writes, ctx));
  client('DELETE', '/indexes/:uid/documents', (ctx) => deleteAll(deps.writes, ctx));
  client('POST', '/indexes/:uid/search', (ctx) => search(deps, ctx, 'json'), { tenant: true, write: false });
  client('GET', '/indexes/:uid/search', (ctx) => search(deps, ctx, 'query'), { tenant: true });
  client('POST', '/indexes/:uid/facet-search', (ctx) => facetSearch(deps, ctx), { tenant: true, write: false });
  client('POST', '/multi-search', (ctx) => multiSearch(deps, ctx), { tenant: true, write: false });
  client('POST', '/indexes/:uid/explain', (ctx) => explain(deps, ctx), { tenant: true, write: false });
  client('GET', '/indexes/:uid/documents', (ctx) => fetchDocuments(deps, ctx, 'query'));
  client('POST', '/indexes/:uid/documents/fetch', (ctx) => fetchDocuments(deps, ctx, 'json'), { write: false });
  client('GET', '/indexes/:uid/documents/:id', (ctx) => getDocument(deps, ctx));
  client('GET', '/batches', async (ctx) => json(200, await listBatches(deps, ctx.query, ctx.auth!)));
  client('GET', '/batches/:batchUid', async (ctx) => json(200, await getBatch(deps, ctx.params.batchUid!, ctx.auth!)));
  client('GET', '/experimental-features', () =>
    forwardToOne(deps, 'GET', '/experimental-features', null, 'experimental_features'),
  );
  client('PATCH', '/experimental-features', (ctx) =>
    broadcast(deps, 'PATCH', '/experimental-features', ctx.rawBody, 'experimental_features'),
  );
  client('GET', '/network', () => forwardToOne(deps, 'GET', '/network', null, 'network'));
  client('PATCH', '/network', (ctx) => broadcast(deps, 'PATCH', '/network', ctx.rawBody, 'network'));

  // ---- Meilisearch routes Miroir does not serve: after Meilisearch's own auth, 501 miroir_not_supported (never a
  // bare 404 that would read as "no such index"). Bodies are not read: the answer is the same whatever they hold.
  const unserved: Array<[HttpMethod, string]> = [
    ['POST', '/snapshots'],
    ['GET', '/metrics'],
    ['POST', '/indexes/:uid/documents/edit'],
    ['GET', '/indexes/:uid/similar'],
    ['POST', '/indexes/:uid/similar'],
    ['POST', '/indexes/:uid/compact'],
    ['POST', '/indexes/:uid/fields'],
    ['POST', '/tasks/compact'],
    ['GET', '/tasks/:taskUid/documents'],
    ['GET', '/chats'],
    ['GET', '/chats/:workspace'],
    ['DELETE', '/chats/:workspace'],
    ['GET', '/chats/:workspace/settings'],
    ['PATCH', '/chats/:workspace/settings'],
    ['DELETE', '/chats/:workspace/settings'],
    ['POST', '/chats/:workspace/chat/completions'],
    ['POST', '/export'],
    ['POST', '/logs/stream'],
    ['DELETE', '/logs/stream'],
    ['POST', '/logs/stderr'],
    ['POST', '/network/control'],
    ['POST', '/render-template'],
    ['GET', '/webhooks'],
    ['POST', '/webhooks'],
    ['GET', '/webhooks/:uuid'],
    ['PATCH', '/webhooks/:uuid'],
    ['DELETE', '/webhooks/:uuid'],
    ['POST', '/dynamic-search-rules'],
    ['DELETE', '/dynamic-search-rules'],
    ['GET', '/dynamic-search-rules/:ruleUid'],
    ['PATCH', '/dynamic-search-rules/:ruleUid'],
    ['DELETE', '/dynamic-search-rules/:ruleUid'],
  ];
  for (const [method, path] of unserved)
    client(method, path, notSupported(`${method} ${path}`), { body: 'none', write: false });

  // ---- admin API
  admin(
    'GET',
    '/_miroir/ready',
    () => {
      const { uncovered } = deps.topology.coverage();
      return uncovered.length === 0
        ? json(200, { status: 'ready' })
        : { status: 503, body: { status: 'not_ready', uncovered_shards: uncovered }, headers: { 'retry-after': '10' } };
    },
    'probe',
  );
  admin('GET', '/_miroir/topology', () => json(200, deps.topology.topologyView()));
  admin('GET', '/_miroir/shards', () => json(200, deps.topology.shardsView()));
  admin('POST', '/_miroir/nodes', (ctx) => addNode(deps, ctx.json));
  admin('POST', '/_miroir/nodes/:id/drain', (ctx) => drainNode(deps, ctx.params.id!, 'node_drain'), 'admin', 'none');
  admin('DELETE', '/_miroir/nodes/:id', (ctx) => drainNode(deps, ctx.params.id!, 'node_remove', ctx.query));
  admin('DELETE', '/_miroir/groups/:id', (ctx) => removeGroup(deps, ctx.params.id!));
  admin('POST', '/_miroir/rebalance', () => startRebalance(deps), 'admin', 'none');
  admin('GET', '/_miroir/rebalance/status', async () => json(200, await deps.rebalancer.status()));
  admin('GET', '/_miroir/consistency', async () => json(200, await deps.consistencyStatus()));
  admin('GET', '/_miroir/metrics', async () => ({
    status: 200,
    raw: await deps.metrics.registry.metrics(),
    headers: { 'content-type': deps.metrics.registry.contentType },
  }));
  return out;
}
