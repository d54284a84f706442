// Settings routes through the proxy (SPEC Decisions "Logical vs physical settings", A5/C5): every GET answers the
// committed logical settings (what the client set) with `X-Miroir-Settings-Version`; updates and resets are
// registered as settings tasks by the index operations (physical deltas to every node, verified when they settle).
import { checkIndexUid } from '../../core/index-requests.js';
import { SETTINGS_ROUTES } from '../../core/settings.js';
import type { IndexOperations } from '../state/index-ops.js';
import { indexNotFound, type IndexStateService } from '../state/index-state.js';
import { acceptedReply } from '../tasks/registry.js';
import type { Reply, RequestContext } from '../../http/server.js';

export const SETTINGS_VERSION_HEADER = 'x-miroir-settings-version';

export async function getSettings(state: IndexStateService, ctx: RequestContext<unknown>): Promise<Reply> {
  const uid = checkIndexUid(ctx.params.uid!);
  const index = await state.get(uid);
  if (index === null) throw indexNotFound(uid);
  ctx.replyHeaders[SETTINGS_VERSION_HEADER] = String(index.settingsVersion);
  const route = ctx.params.setting;
  if (route === undefined) return { status: 200, body: index.settings };
  const spec = SETTINGS_ROUTES[route];
  if (spec === undefined) return { status: 404 };
  return { status: 200, body: index.settings[spec.key] };
}

/** PATCH /settings (route null), PUT|PATCH /settings/{setting}, DELETE /settings[/{setting}] (reset). */
export async function updateSettings(
  ops: IndexOperations,
  ctx: RequestContext<unknown>,
  mode: { route: string | null; verb: 'PUT' | 'PATCH' | 'DELETE' },
): Promise<Reply> {
  const uid = checkIndexUid(ctx.params.uid!);
  if (mode.route !== null) {
    const spec = SETTINGS_ROUTES[mode.route];
    if (spec === undefined) return { status: 404 };
    if (mode.verb !== 'DELETE' && spec.updateVerb !== mode.verb)
      return { status: 405, headers: { allow: `GET, ${spec.updateVerb}, DELETE` } };
  }
  return acceptedReply(await ops.updateSettings(uid, ctx.json, mode.route, mode.verb));
}
