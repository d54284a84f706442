// Settling a settings task (SPEC A5 two-phase, Round 2 "Task order"): once the node tasks succeeded, every live,
// healthy node's physical settings are checked — the keys the task changed must hold what this task set, or what
// a later settings task already set. A node that differs (it missed the update, or was changed behind Miroir's
// back) is drained (it may still be running later tasks) and compared with the index's latest state; one still
// different is repaired by re-applying that latest state (in the index's write lane, so no newer task of this pod
// overtakes it) with backoff, and the task names it in `details.miroirRepairedNodes`. A node that cannot be
// repaired fails the task, and the index's latest state without this task is re-applied to every node (the
// rollback). Reads never wait for this; the committed settings_version is stamped per node.
import { canonicalJson } from '../../../core/canonical-json.js';
import { MeiliError } from '../../../core/errors.js';
import { physicalSettings, project } from '../../../core/index-state.js';
import { applySettingsPatch, validateSettings, type Settings } from '../../../core/settings.js';
import type { Store } from '../../../store/store.js';
import type { NodeApi } from '../../cluster/node-api.js';
import type { TopologyService } from '../../cluster/topology.js';
import type { Logger } from '../../observability/logger.js';
import type { IndexStateService } from '../../state/index-state.js';
import type { SettleModule } from '../settler.js';

export interface SettingsSettleOptions {
  store: Store;
  topology: TopologyService;
  state: IndexStateService;
  facetingOverfetch: number;
  maxRepairRetries: number;
  verifyTimeoutMs: number;
  logger?: Logger | null;
}

function sameOnKeys(node: Settings | null, expected: Settings, keys: readonly string[]): boolean {
  if (node === null) return false;
  return keys.every((k) => canonicalJson(node[k]) === canonicalJson(expected[k]));
}

export function settingsModule(o: SettingsSettleOptions): SettleModule {
  return async (ctx) => {
    if (ctx.status !== 'succeeded') return ctx;
    const uid = ctx.task.indexUid!;
    const record = await o.state.record(uid);
    if (record === null) return ctx;
    const patch =
      (
        record.pending.find((c) => c.taskUid === ctx.task.uid && c.kind === 'settings') as
          { patch: Settings } | undefined
      )?.patch ?? validateSettings(ctx.task.details ?? {}, null);
    const keys = Object.keys(patch);
    const base = record.committed?.settings ?? project(null).settings;
    const mine = physicalSettings(
      applySettingsPatch(base, patch),
      record.fields,
      o.facetingOverfetch,
      o.state.physicalFilterable,
    );
    const latest = async () => {
      const r = await o.state.record(uid);
      return physicalSettings(project(r).settings, r?.fields ?? [], o.facetingOverfetch, o.state.physicalFilterable);
    };
    const failedNodes: string[] = [];
    const repaired: string[] = [];
    const nodes = o.topology.liveClients().filter((n) => o.topology.health.isHealthy(n.nodeId));
    await Promise.all(
      nodes.map(async (api) => {
        const current = await api.settings(uid).catch(() => null);
        if (sameOnKeys(current, mine, keys) || sameOnKeys(current, await latest(), keys)) return;
        const fixed = await verifyAfterDrain(api, uid, latest, o, ctx.signal);
        if (fixed === false) failedNodes.push(api.nodeId);
        else if (fixed === 'repaired') repaired.push(api.nodeId);
      }),
    );
    if (failedNodes.length > 0) {
      // Roll back: every node gets the index's latest state without this task (the repair of the latest state).
      const without = project({ ...record, pending: record.pending.filter((c) => c.taskUid !== ctx.task.uid) });
      const back = physicalSettings(without.settings, record.fields, o.facetingOverfetch, o.state.physicalFilterable);
      await o.state.inLane(uid, async () => {
        await Promise.allSettled(
          o.topology.liveClients().map((api) => api.patchSettings(uid, back, 'settings_rollback')),
        );
      });
      const version = record.committed?.settingsVersion ?? 0;
      const error = new MeiliError(
        'internal',
        `Settings of \`${uid}\` could not be applied on ${failedNodes.sort().join(', ')} after ${o.maxRepairRetries} repairs; every node was rolled back to settings version ${version}.`,
      );
      return { status: 'failed', error: error.toJSON() };
    }
    const version = (record.committed?.settingsVersion ?? 0) + 1;
    await Promise.all(nodes.map((n) => o.store.setNodeSettingsVersion(uid, n.nodeId, version)));
    await o.store.publish('settings', `${uid}:${version}`);
    if (repaired.length === 0) return ctx;
    return { ...ctx, details: { ...(ctx.task.details ?? {}), miroirRepairedNodes: repaired.sort() } };
  };
}

/** Drains the node, compares with the latest state, and repairs with backoff: how it ended. */
async function verifyAfterDrain(
  api: NodeApi,
  uid: string,
  latest: () => Promise<Settings>,
  o: SettingsSettleOptions,
  signal: AbortSignal,
): Promise<'matched' | 'repaired' | false> {
  const wait = { timeoutMs: o.verifyTimeoutMs, signal };
  await api.drain(wait).catch(() => undefined);
  for (let attempt = 0; ; attempt++) {
    const expected = await latest();
    const got = await api.settings(uid).catch(() => null);
    if (got !== null && canonicalJson(got) === canonicalJson(expected)) {
      if (attempt === 0) return 'matched';
      o.logger?.warn({ index: uid, node_id: api.nodeId, repairs: attempt }, 'repaired physical settings on a node');
      return 'repaired';
    }
    if (attempt >= o.maxRepairRetries) return false;
    signal.throwIfAborted();
    await new Promise((r) => setTimeout(r, 50 * 2 ** attempt));
    // The repair re-applies the index's latest state, in its write lane: no newer task of this pod overtakes it.
    const repairUid = await o.state
      .inLane(uid, async () => api.patchSettings(uid, await latest(), 'settings_repair'))
      .catch(() => null);
    if (repairUid !== null) await api.waitTasks([repairUid], wait).catch(() => undefined);
  }
}
