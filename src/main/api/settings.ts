// Settings routes through the proxy (SPEC Decisions "Logical vs physical settings", A5/C5): every GET answers the
// committed logical settings (what the client set) with `X-Miroir-Settings-Version`; updates and resets are
// registered as settings tasks by the index operations (physical deltas to every node, verified when they settle).
import { checkIndexUid } from '../../core/index-requests.js';
import {
  ALL_SETTINGS_ROUTES,
  settingsView,
  settingValue,
  touchesExperimentalSetting,
  type SettingsFeatures,
} from '../../core/settings.js';
import type { IndexOperations } from '../state/index-ops.js';
import { indexNotFound, type IndexStateService } from '../state/index-state.js';
import { acceptedReply } from '../tasks/registry.js';
import type { Reply, RequestContext } from '../../http/server.js';

export const SETTINGS_VERSION_HEADER = 'x-miroir-settings-version';

/** The nodes' experimental features (node-wide, the same on every node), asked only when a setting is gated. */
export type FeaturesSource = () => Promise<SettingsFeatures>;

export async function getSettings(
  state: IndexStateService,
  ctx: RequestContext<unknown>,
  features: FeaturesSource,
): Promise<Reply> {
  const uid = checkIndexUid(ctx.params.uid!);
  const route = ctx.params.setting;
  const spec = route === undefined ? undefined : ALL_SETTINGS_ROUTES[route];
  if (route !== undefined && spec === undefined) return { status: 404 };
  const index = await state.get(uid);
  if (index === null) throw indexNotFound(uid);
  ctx.replyHeaders[SETTINGS_VERSION_HEADER] = String(index.settingsVersion);
  if (spec === undefined) return { status: 200, body: settingsView(index.settings, await features()) };
  return { status: 200, body: settingValue(index.settings, spec.key) };
}

/** PATCH /settings (route null), PUT|PATCH /settings/{setting}, DELETE /settings[/{setting}] (reset). */
export async function updateSettings(
  ops: IndexOperations,
  ctx: RequestContext<unknown>,
  mode: { route: string | null; verb: 'PUT' | 'PATCH' | 'DELETE' },
  features: FeaturesSource,
): Promise<Reply> {
  const uid = checkIndexUid(ctx.params.uid!);
  if (mode.route !== null) {
    const spec = ALL_SETTINGS_ROUTES[mode.route];
    if (spec === undefined) return { status: 404 };
    if (mode.verb !== 'DELETE' && spec.updateVerb !== mode.verb)
      return { status: 405, headers: { allow: `GET, ${spec.updateVerb}, DELETE` } };
  }
  const gated = mode.verb !== 'DELETE' && touchesExperimentalSetting(ctx.json, mode.route);
  const enabled = gated ? await features() : {};
  return acceptedReply(await ops.updateSettings(uid, ctx.json, mode.route, mode.verb, enabled));
}
