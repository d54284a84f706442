// Tenant affinity (SPEC A15): which replica group serves a read. A tenant (from a header, the API key, or an explicit
// map) is pinned to one group — a dedicated group when it is mapped to one, else `static_map` (explicit mode) or the
// hash of its id over the shared groups; reads without a tenant rotate over the shared groups (dedicated groups serve
// only their tenants). A pinned group that cannot answer every shard falls back per the policy: `hash` re-hashes over
// the shared groups that can, `rotate` reads like a read without a tenant. Reads only: writes reach every group. Pure.
import { xxh64 } from './hash.js';

export interface TenantAffinity {
  mode: 'header' | 'api_key' | 'explicit';
  fallback: 'hash' | 'rotate';
  /** tenant → group id (explicit mode; any mode may name tenants here). */
  staticMap: Readonly<Record<string, number>>;
  /** group id → the tenants it serves alone. */
  dedicatedGroups: Readonly<Record<string, readonly string[]>>;
}

/** Where one read goes: the group pinned (null: rotate) and the groups rotation and fallback may use. */
export interface ReadPlacement {
  group: number | null;
  groups: readonly number[];
}

export interface TenantDecision {
  placement: ReadPlacement;
  /** The group the tenant's reads stay in (null: not pinned). */
  pinned: number | null;
  /** Why the tenant's own group was not used, when it was not. */
  fallback: 'unknown_tenant' | 'group_unavailable' | 'no_shared_group' | null;
}

const encoder = new TextEncoder();

/** The group of a tenant among `groups` by the hash of its id (XxHash64, like shard routing). */
export function tenantHashGroup(tenant: string, groups: readonly number[]): number {
  return groups[Number(xxh64(encoder.encode(tenant)) % BigInt(groups.length))]!;
}

function dedicatedGroupOf(cfg: TenantAffinity, tenant: string): number | null {
  for (const [g, tenants] of Object.entries(cfg.dedicatedGroups)) if (tenants.includes(tenant)) return Number(g);
  return null;
}

/**
 * The placement of a read. `active`: the active groups (ascending); `canServe(g)`: whether group g has a readable
 * replica of every shard.
 */
export function placeRead(
  cfg: TenantAffinity,
  tenant: string | null,
  active: readonly number[],
  canServe: (group: number) => boolean,
): TenantDecision {
  const dedicated = new Set(Object.keys(cfg.dedicatedGroups).map(Number));
  const sharedAll = active.filter((g) => !dedicated.has(g));
  const shared = sharedAll.length > 0 ? sharedAll : [...active];
  const rotate = (fallback: TenantDecision['fallback']): TenantDecision => ({
    placement: { group: null, groups: shared },
    pinned: null,
    fallback,
  });
  if (tenant === null || tenant === '') return rotate(null);
  let target = dedicatedGroupOf(cfg, tenant);
  let reason: TenantDecision['fallback'] = null;
  if (target === null) {
    const mapped = cfg.staticMap[tenant];
    if (mapped !== undefined) target = mapped;
    else if (cfg.mode === 'explicit') reason = 'unknown_tenant';
    else if (sharedAll.length === 0) reason = 'no_shared_group';
    else target = tenantHashGroup(tenant, sharedAll);
  }
  if (target !== null && active.includes(target) && canServe(target)) {
    // A dedicated group's tenants may also fall back to it: it stays in the groups the read may use.
    const groups = dedicated.has(target) ? [target, ...shared] : shared;
    return { placement: { group: target, groups }, pinned: target, fallback: null };
  }
  if (target !== null) reason = 'group_unavailable';
  if (cfg.fallback === 'rotate') return rotate(reason);
  const usable = shared.filter((g) => canServe(g));
  if (usable.length === 0) return rotate(reason);
  const group = tenantHashGroup(tenant, usable);
  return { placement: { group, groups: shared }, pinned: group, fallback: reason };
}
