// `POST /indexes/{uid}/explain` (SPEC A20, Round 2 "Explain"): what a search with this body would do — the primary-
// key narrowing and why, the shards and the nodes adaptive selection would ask, the group, whether and when it would
// hedge, the expected p95, the settings version — with warnings (not narrowable and why, hedging off, a settings
// broadcast in flight, shards without a replica, slow nodes left out). No node is asked unless `?execute=true`,
// which runs the search exactly as `POST /search` and adds its answer as `result`.
import { tenantFilter, type AuthResult } from '../../core/auth/authorize.js';
import { MeiliError } from '../../core/errors.js';
import { checkIndexUid } from '../../core/index-requests.js';
import { PLAN_REASON_TEXT } from '../../core/query-plan.js';
import { hideReservedInRead } from '../../core/reserved-reads.js';
import { parseSearchQuery } from '../../core/search-params.js';
import { andFilters } from '../../core/shard-filter.js';
import type { Reply, RequestContext } from '../../http/server.js';
import { hedgeTrigger, planRead } from '../cluster/scatter.js';
import type { RoutingTable } from '../../core/rendezvous.js';
import { search, type ReadDeps } from './search.js';
import { aliasResolutionOf } from './alias-resolution.js';

export interface ExplainConfig {
  enabled: boolean;
  max_warnings: number;
  allow_execute_parameter: boolean;
}

export interface ExplainWarning {
  type: string;
  message: string;
}

/** Warnings only an operator (the master key) sees: they name nodes. */
const OPERATOR_ONLY = new Set(['slow_node_excluded']);

export async function explain(
  deps: ReadDeps & { explain: ExplainConfig },
  ctx: RequestContext<AuthResult>,
): Promise<Reply> {
  if (!deps.explain.enabled)
    throw new MeiliError('miroir_not_supported', 'Explain is turned off on this server (explain.enabled).');
  const uid = checkIndexUid(ctx.params.uid!);
  const executeParam = ctx.query.get('execute');
  const execute = executeParam === 'true';
  if (executeParam !== null && executeParam !== 'true' && executeParam !== 'false')
    throw new MeiliError(
      'bad_request',
      `Invalid value \`${executeParam}\` for \`execute\`: expected \`true\` or \`false\`.`,
    );
  if (execute && !deps.explain.allow_execute_parameter)
    throw new MeiliError(
      'miroir_not_supported',
      'Running the search from explain is turned off on this server (explain.allow_execute_parameter).',
    );
  const query = parseSearchQuery(ctx.json ?? {}, 'json');
  const state = await deps.state.readable(uid);
  const record = await deps.state.record(uid);
  const broadcastPending = record?.pending.some((c) => c.kind === 'settings') === true;
  const visible = hideReservedInRead('search', uid, query, state.settings);
  const filter = andFilters(visible.filter, tenantFilter(ctx.auth!, uid));
  const sd = deps.scatter;
  const plan = planRead(sd, uid, filter, state.primaryKey, false);
  const trigger = hedgeTrigger(sd);
  const hedging = sd.hedging;
  const nodes = [...plan.cover.assignments.keys()];
  const selector = sd.selector ?? null;
  const views = selector === null ? [] : selector.view(nodes);
  const fleet = selector?.fleetP95() ?? null;
  const estimate =
    views.length === 0 || views.every((v) => v.latency_p95_ms === 0)
      ? fleet
      : Math.max(...views.map((v) => v.latency_p95_ms));
  const shards = plan.pk.shards ?? Array.from({ length: plan.table.shards }, (_, s) => s);
  const warnings: ExplainWarning[] = [];
  if (!plan.pk.narrowed && plan.pk.reason !== 'no_filter')
    warnings.push({
      type: 'not_narrowable',
      message: `The read asks every shard: ${PLAN_REASON_TEXT[plan.pk.reason]}.`,
    });
  if (hedging === undefined || !hedging.enabled || hedging.max_hedges_per_query === 0)
    warnings.push({ type: 'hedging_disabled', message: 'Slow node reads are not hedged (hedging.enabled is false).' });
  else if (trigger === null)
    warnings.push({
      type: 'hedging_not_armed',
      message: 'Too few node reads were seen yet to know when to hedge; this read would not be hedged.',
    });
  if (broadcastPending)
    warnings.push({
      type: 'settings_broadcast_in_flight',
      message: 'A settings update of this index is still being applied on its nodes; results may change once it is.',
    });
  if (plan.cover.uncovered.length > 0)
    warnings.push({
      type: 'shards_unavailable',
      message: `Shards ${plan.cover.uncovered.join(', ')} have no healthy replica in any active group.`,
    });
  if (ctx.auth?.kind === 'master')
    for (const v of selector?.view(allReplicas(plan.table, shards)) ?? [])
      if (v.excluded)
        warnings.push({
          type: 'slow_node_excluded',
          message: `Node ${v.node_id} is more than 5× slower than the fleet median; it only gets exploration reads.`,
        });
  const shown = (ctx.auth?.kind === 'master' ? warnings : warnings.filter((w) => !OPERATOR_ONLY.has(w.type))).slice(
    0,
    deps.explain.max_warnings,
  );
  const m = sd.metrics;
  m.explainRequests.inc();
  for (const w of shown) m.explainWarnings.labels(w.type).inc();
  const body: Record<string, unknown> = {
    resolved_uid: uid,
    plan: {
      alias_resolution: aliasView(aliasResolutionOf(ctx)),
      narrowed: plan.pk.narrowed,
      narrowing_reason: plan.pk.reason,
      target_shards: shards,
      chosen_group: plan.cover.group,
      target_nodes: nodes,
      hedging_armed: trigger !== null,
      hedge_trigger_ms: trigger === null ? null : Math.round(trigger * 100) / 100,
      coalescing_eligible: false,
      cache_candidate: false,
      tenant_affinity_pinned: false,
      estimated_p95_ms: estimate === null ? null : Math.round(estimate * 100) / 100,
      settings_version: state.settingsVersion,
      broadcast_pending: broadcastPending,
      node_scores: views,
    },
    warnings: shown,
  };
  if (execute) {
    m.explainExecute.inc();
    if (broadcastPending) ctx.replyHeaders['x-miroir-settings-pending'] = 'true';
    const ran = await search(deps, ctx, 'json');
    body.result = ran.raw !== undefined ? JSON.parse(ran.raw.toString('utf8')) : ran.body;
  }
  return { status: 200, body };
}

/** `alias_resolution`: the alias the client named and what it resolved to, or null when it named an index. */
function aliasView(r: ReturnType<typeof aliasResolutionOf>): Record<string, unknown> | null {
  return r === null || r.alias === null
    ? null
    : {
        alias: r.alias,
        kind: r.uids.length === 1 ? 'single' : 'multi',
        targets: r.uids,
        ...(r.internal ? { internal: true } : {}),
      };
}

/** Every active group's owners of the read's shards, on the index's own routing table (its shard count). */
function allReplicas(table: RoutingTable, shards: readonly number[]): Set<string> {
  const out = new Set<string>();
  for (const s of shards) for (const g of table.activeGroups) for (const id of table.owners(s, g)) out.add(id);
  return out;
}
