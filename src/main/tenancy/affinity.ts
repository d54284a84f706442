// HOT PATH. Tenant affinity on the read path (SPEC A15, the `tenant_affinity` block): finds a read's tenant (the
// configured header, or the API key's uid in `api_key` mode), places the read with core/tenant-affinity.ts over the
// current topology, and counts it. Absent (null) when the block is disabled, so reads pay nothing.
import { placeRead, type ReadPlacement, type TenantAffinity } from '../../core/tenant-affinity.js';
import type { AuthResult } from '../../core/auth/authorize.js';
import type { TopologyService } from '../cluster/topology.js';
import type { Metrics } from '../observability/metrics.js';
import type { RequestContext } from '../../http/server.js';

export interface TenantAffinityConfig extends TenantAffinity {
  headerName: string;
}

export class TenantRouter {
  private readonly header: string;

  constructor(
    private readonly cfg: TenantAffinityConfig,
    private readonly topology: TopologyService,
    private readonly metrics: Metrics,
  ) {
    this.header = cfg.headerName.toLowerCase();
  }

  /** The read's tenant: the header (header and explicit modes) or the API key's uid (api_key mode). */
  tenantOf(ctx: RequestContext<AuthResult>): string | null {
    if (this.cfg.mode === 'api_key') {
      const a = ctx.auth;
      return a !== undefined && a !== null && (a.kind === 'key' || a.kind === 'tenant') ? a.key.uid : null;
    }
    const raw = ctx.req.headers[this.header];
    const v = Array.isArray(raw) ? raw[0] : raw;
    return v === undefined || v.trim() === '' ? null : v.trim();
  }

  /** Where this read goes; counts the tenant's query, its pinned group and any fallback. */
  place(ctx: RequestContext<AuthResult>): ReadPlacement {
    const table = this.topology.routing;
    const tenant = this.tenantOf(ctx);
    const d = placeRead(this.cfg, tenant, table.activeGroups, (g) => table.canServe(g));
    if (d.fallback !== null) this.metrics.tenantFallback.inc({ reason: d.fallback });
    if (tenant !== null) {
      const group = d.pinned === null ? 'rotate' : String(d.pinned);
      this.metrics.tenantQueries.inc({ tenant, group });
      if (d.pinned !== null) this.metrics.tenantPinnedGroups.set({ tenant }, d.pinned);
    }
    return d.placement;
  }
}
