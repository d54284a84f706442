// Which API-key actions each Meilisearch route needs (shared/meili-route-actions.tsv, generalized to path
// templates) and whether the route is index-scoped. Both the dev node and the proxy declare routes with these.

export type IndexScope = 'index' | 'global';

export interface RouteAuth {
  /** Every action listed must be covered by the key (see actionsAllow). Empty = public route. */
  actions: readonly string[];
  /** 'index': the `:uid` path param (or the indexes named in the body) must be allowed by the key's `indexes`. */
  scope: IndexScope;
}

const A = (actions: string[], scope: IndexScope = 'index'): RouteAuth =>
  Object.freeze({ actions: Object.freeze(actions), scope });

export const PUBLIC_ROUTE: RouteAuth = A([], 'global');

/** `METHOD template` → auth requirement. Settings sub-routes use the `:setting` template. */
export const ROUTE_AUTH: Readonly<Record<string, RouteAuth>> = Object.freeze({
  'GET /health': PUBLIC_ROUTE,
  'GET /version': A(['version'], 'global'),
  'GET /stats': A(['stats.get']),
  'GET /indexes/:uid/stats': A(['stats.get']),
  'GET /indexes': A(['indexes.get']),
  'POST /indexes': A(['indexes.create']),
  'GET /indexes/:uid': A(['indexes.get']),
  'PATCH /indexes/:uid': A(['indexes.update']),
  'DELETE /indexes/:uid': A(['indexes.delete']),
  'POST /swap-indexes': A(['indexes.swap']),
  'POST /indexes/:uid/search': A(['search']),
  'GET /indexes/:uid/search': A(['search']),
  'POST /indexes/:uid/facet-search': A(['search']),
  'POST /multi-search': A(['search']),
  // Miroir's own (SPEC A20): explain needs what search needs.
  'POST /indexes/:uid/explain': A(['search']),
  'POST /indexes/:uid/documents': A(['documents.add']),
  'PUT /indexes/:uid/documents': A(['documents.add']),
  'GET /indexes/:uid/documents': A(['documents.get']),
  'POST /indexes/:uid/documents/fetch': A(['documents.get']),
  'GET /indexes/:uid/documents/:id': A(['documents.get']),
  'DELETE /indexes/:uid/documents/:id': A(['documents.delete']),
  'POST /indexes/:uid/documents/delete-batch': A(['documents.delete']),
  'POST /indexes/:uid/documents/delete': A(['documents.delete']),
  'DELETE /indexes/:uid/documents': A(['documents.delete']),
  'POST /indexes/:uid/documents/edit': A(['documents.*']),
  'GET /indexes/:uid/settings': A(['settings.get']),
  'PATCH /indexes/:uid/settings': A(['settings.update']),
  'DELETE /indexes/:uid/settings': A(['settings.update']),
  'GET /indexes/:uid/settings/:setting': A(['settings.get']),
  'PUT /indexes/:uid/settings/:setting': A(['settings.update']),
  'PATCH /indexes/:uid/settings/:setting': A(['settings.update']),
  'DELETE /indexes/:uid/settings/:setting': A(['settings.update']),
  'GET /tasks': A(['tasks.get']),
  'GET /tasks/:taskUid': A(['tasks.get']),
  'POST /tasks/cancel': A(['tasks.cancel']),
  'DELETE /tasks': A(['tasks.delete']),
  'GET /batches': A(['tasks.get']),
  'GET /batches/:batchUid': A(['tasks.get']),
  'GET /keys': A(['keys.get'], 'global'),
  'POST /keys': A(['keys.create'], 'global'),
  'GET /keys/:key': A(['keys.get'], 'global'),
  'PATCH /keys/:key': A(['keys.update'], 'global'),
  'DELETE /keys/:key': A(['keys.delete'], 'global'),
  'GET /experimental-features': A(['experimental.get'], 'global'),
  'PATCH /experimental-features': A(['experimental.update'], 'global'),
  'GET /network': A(['network.get'], 'global'),
  'PATCH /network': A(['network.update'], 'global'),
  'POST /dumps': A(['dumps.create'], 'global'),
  'POST /snapshots': A(['snapshots.create'], 'global'),
  'GET /metrics': A(['metrics.get'], 'global'),
  // Meilisearch routes Miroir answers with 501 miroir_not_supported (after the same auth as Meilisearch).
  'GET /indexes/:uid/similar': A(['search']),
  'POST /indexes/:uid/similar': A(['search']),
  'POST /indexes/:uid/compact': A(['indexes.compact']),
  'POST /indexes/:uid/fields': A(['fields.post']),
  'POST /tasks/compact': A(['tasks.compact'], 'global'),
  'GET /tasks/:taskUid/documents': A(['tasks.get'], 'global'),
  'GET /chats': A(['chats.get'], 'global'),
  'GET /chats/:workspace': A(['chats.get'], 'global'),
  'DELETE /chats/:workspace': A(['chats.delete'], 'global'),
  'GET /chats/:workspace/settings': A(['chatsSettings.get'], 'global'),
  'PATCH /chats/:workspace/settings': A(['chatsSettings.update'], 'global'),
  'DELETE /chats/:workspace/settings': A(['chatsSettings.update'], 'global'),
  'POST /chats/:workspace/chat/completions': A(['chatCompletions'], 'global'),
  'POST /export': A(['export'], 'global'),
  'POST /logs/stream': A(['metrics.get'], 'global'),
  'DELETE /logs/stream': A(['metrics.get'], 'global'),
  'POST /logs/stderr': A(['metrics.get'], 'global'),
  'POST /network/control': A(['network.update'], 'global'),
  'POST /render-template': A(['settings.get', 'documents.get'], 'global'),
  'GET /webhooks': A(['webhooks.get'], 'global'),
  'POST /webhooks': A(['webhooks.create'], 'global'),
  'GET /webhooks/:uuid': A(['webhooks.get'], 'global'),
  'PATCH /webhooks/:uuid': A(['webhooks.update'], 'global'),
  'DELETE /webhooks/:uuid': A(['webhooks.delete'], 'global'),
  'POST /dynamic-search-rules': A(['dynamicSearchRules.get'], 'global'),
  'DELETE /dynamic-search-rules': A(['dynamicSearchRules.delete'], 'global'),
  'GET /dynamic-search-rules/:ruleUid': A(['dynamicSearchRules.get'], 'global'),
  'PATCH /dynamic-search-rules/:ruleUid': A(['dynamicSearchRules.update'], 'global'),
  'DELETE /dynamic-search-rules/:ruleUid': A(['dynamicSearchRules.delete'], 'global'),
});

export function routeAuth(method: string, template: string): RouteAuth {
  const found = ROUTE_AUTH[`${method} ${template}`];
  if (found === undefined) throw new Error(`no auth requirement declared for ${method} ${template}`);
  return found;
}
