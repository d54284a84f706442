// Online reshard routes (SPEC A1): `POST /_miroir/indexes/{uid}/reshard {"new_shards", "throttle_docs_per_sec"}`
// (202), `GET …/reshard/status`, `POST …/reshard/revert`; and the display rules of internal aliases on the client
// routes: a uid served by a reshard copy resolves to it on every `/indexes/{uid}/…` route, while answers (index
// objects, listings, task views) name the client's uid and never the copy.
import type { AuthResult } from '../../core/auth/authorize.js';
import { PUBLIC_ROUTE } from '../../core/auth/route-actions.js';
import { MeiliError } from '../../core/errors.js';
import { checkIndexUid } from '../../core/index-requests.js';
import { isShadowUid } from '../../core/reshard.js';
import { isObject } from '../../core/types.js';
import type { Reply, RequestContext, RouteSpec } from '../../http/server.js';
import type { RouteGuard } from '../api/routes.js';
import type { IndexStateService, IndexView } from '../state/index-state.js';
import type { ReshardService } from './service.js';

type Ctx = RequestContext<AuthResult>;

function isRouteGuard(v: unknown): v is RouteGuard {
  return isObject(v) && (v.kind === 'client' || v.kind === 'admin' || v.kind === 'public');
}

/** Rewrites `indexUid` of a task view (or of each task in a listing) from a copy's uid to the client's uid. */
function renameTasks(body: unknown, name: (physical: string) => string | null): void {
  if (!isObject(body)) return;
  if (typeof body.indexUid === 'string') {
    const n = name(body.indexUid);
    if (n !== null) body.indexUid = n;
  }
  if (Array.isArray(body.results)) for (const t of body.results) renameTasks(t, name);
}

export function registerReshard(
  routes: Array<RouteSpec<AuthResult>>,
  deps: { service: ReshardService; state: IndexStateService },
): void {
  const svc = deps.service;
  const name = (physical: string) => svc.aliases.clientName(physical);

  // Listings show clients' uids: a copy an internal alias points at under the alias's name, other copies and the
  // old copies hidden behind an alias not at all.
  deps.state.clientView = (views: IndexView[]): IndexView[] => {
    if (!svc.active) return views;
    const out: IndexView[] = [];
    for (const v of views) {
      const n = name(v.uid);
      if (n !== null) out.push({ ...v, uid: n, physical: v.uid });
      else if (!isShadowUid(v.uid) && svc.aliases.resolve(v.uid) === v.uid) out.push(v);
    }
    return out.sort((a, b) => (a.uid < b.uid ? -1 : a.uid > b.uid ? 1 : 0));
  };

  for (const spec of routes) {
    if (!isRouteGuard(spec.auth) || spec.auth.kind !== 'client') continue;
    const inner = spec.handler;
    // While an index is copied, changes the copy would not get (settings, primary key, rename, deletion) wait.
    const changesIndex =
      spec.method !== 'GET' && (spec.path.startsWith('/indexes/:uid/settings') || spec.path === '/indexes/:uid');
    if (spec.path.startsWith('/indexes/:uid')) {
      // Resolution runs here too (an internal alias only, idempotent with the alias wrapper's), so the uid keeps
      // serving whether or not user aliases are on; answers name the client's uid, never a copy's.
      spec.handler = async (ctx: Ctx) => {
        if (!svc.active) return inner(ctx);
        const given = ctx.params.uid!;
        const physical = svc.aliases.resolve(given);
        if (physical !== given) ctx.params.uid = physical;
        const busy = changesIndex ? svc.copying(physical) : null;
        if (busy !== null)
          throw new MeiliError(
            'miroir_reshard_conflict',
            `Index \`${given}\` is being resharded (phase \`${busy.phase}\`): settings, primary key and deletion wait until the flip.`,
          );
        const reply = await inner(ctx);
        if (isObject(reply.body)) {
          if (typeof reply.body.uid === 'string') reply.body.uid = name(reply.body.uid) ?? reply.body.uid;
          if (typeof reply.body.indexUid === 'string')
            reply.body.indexUid = name(reply.body.indexUid) ?? reply.body.indexUid;
        }
        return reply;
      };
    } else if (spec.path === '/tasks' || spec.path === '/tasks/:taskUid') {
      spec.handler = async (ctx: Ctx) => {
        if (!svc.active) return inner(ctx);
        const uids = ctx.query.get('indexUids');
        if (uids !== null && uids !== '*') {
          const names = uids.split(',').map((u) => u.trim());
          const extra = names.map((u) => svc.aliases.resolve(u)).filter((p) => !names.includes(p));
          if (extra.length > 0) ctx.query.set('indexUids', [...names, ...extra].join(','));
        }
        const reply = await inner(ctx);
        renameTasks(reply.body, name);
        return reply;
      };
    }
  }

  const admin = (method: 'GET' | 'POST', path: string, handler: (ctx: Ctx) => Promise<Reply>, body: 'none' | 'json') =>
    routes.push({
      method,
      path,
      name: path,
      body,
      auth: { kind: 'admin', auth: PUBLIC_ROUTE, tenant: false } satisfies RouteGuard,
      handler,
    });
  admin(
    'POST',
    '/_miroir/indexes/:uid/reshard',
    async (ctx) => {
      const uid = checkIndexUid(ctx.params.uid!);
      const r = await svc.begin(uid, ctx.json);
      return {
        status: 202,
        body: {
          index: r.index,
          phase: r.phase,
          old_shards: r.old_shards,
          new_shards: r.new_shards,
          throttle_docs_per_sec: r.throttle_docs_per_sec,
          status_url: `/_miroir/indexes/${encodeURIComponent(uid)}/reshard/status`,
        },
      };
    },
    'json',
  );
  admin(
    'GET',
    '/_miroir/indexes/:uid/reshard/status',
    async (ctx) => ({ status: 200, body: await svc.status(checkIndexUid(ctx.params.uid!)) }),
    'none',
  );
  admin(
    'POST',
    '/_miroir/indexes/:uid/reshard/revert',
    async (ctx) => ({ status: 200, body: await svc.revert(checkIndexUid(ctx.params.uid!)) }),
    'none',
  );
}
