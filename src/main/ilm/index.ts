// ILM rollover's admin routes (SPEC A17, issue 26): `POST|GET /_miroir/ilm/policies`,
// `DELETE /_miroir/ilm/policies/{name}`, `POST /_miroir/ilm/policies/{name}/rollover`. Only registered when
// `ilm.enabled` (and `aliases.enabled`, which ILM needs).
import type { AuthResult } from '../../core/auth/authorize.js';
import { PUBLIC_ROUTE } from '../../core/auth/route-actions.js';
import type { IlmPolicyRecord } from '../../core/ilm.js';
import type { Reply, RequestContext, RouteSpec } from '../../http/server.js';
import type { RouteGuard } from '../api/routes.js';
import type { IlmService } from './rollover.js';

const ADMIN: RouteGuard = { kind: 'admin', auth: PUBLIC_ROUTE, tenant: false };

/** A policy as the admin API shows it: its definition and its state (indexes oldest first, the write index last). */
export function policyView(p: IlmPolicyRecord): Record<string, unknown> {
  return {
    name: p.name,
    write_alias: p.write_alias,
    read_alias: p.read_alias,
    index_template: p.index_template,
    triggers: p.triggers,
    retention: p.retention,
    indexes: p.indexes.map((e) => ({ uid: e.uid, created_at: new Date(e.createdAt).toISOString() })),
    write_index: p.indexes.at(-1)?.uid ?? null,
    next_generation: p.next_generation,
    last_action_at: p.last_action_at === null ? null : new Date(p.last_action_at).toISOString(),
  };
}

export function registerIlmRoutes(routes: Array<RouteSpec<AuthResult>>, ilm: IlmService): void {
  const add = (
    method: RouteSpec['method'],
    path: string,
    handler: (ctx: RequestContext<AuthResult>) => Promise<Reply>,
  ) =>
    routes.push({
      method,
      path,
      name: path,
      body: method === 'GET' || method === 'DELETE' || path.endsWith('/rollover') ? 'none' : 'json',
      auth: ADMIN,
      handler,
    });
  add('GET', '/_miroir/ilm/policies', async () => ({
    status: 200,
    body: { results: (await ilm.list()).map(policyView) },
  }));
  add('POST', '/_miroir/ilm/policies', async (ctx) => ({ status: 201, body: policyView(await ilm.create(ctx.json)) }));
  add('GET', '/_miroir/ilm/policies/:name', async (ctx) => ({
    status: 200,
    body: policyView(await ilm.get(ctx.params.name!)),
  }));
  add('DELETE', '/_miroir/ilm/policies/:name', async (ctx) => {
    await ilm.delete(ctx.params.name!);
    return { status: 204 };
  });
  add('POST', '/_miroir/ilm/policies/:name/rollover', async (ctx) => ({
    status: 200,
    body: policyView(await ilm.rolloverNow(ctx.params.name!)),
  }));
}
