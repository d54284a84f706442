// What each aliased request resolved its index name to: set by the alias route guard, read by explain
// (`alias_resolution`). Kept per request context, forgotten with it.
import type { AliasResolution } from '../../core/aliases.js';

const resolutions = new WeakMap<object, AliasResolution>();

export function rememberAliasResolution(ctx: object, r: AliasResolution): void {
  resolutions.set(ctx, r);
}

export function aliasResolutionOf(ctx: object): AliasResolution | null {
  return resolutions.get(ctx) ?? null;
}
