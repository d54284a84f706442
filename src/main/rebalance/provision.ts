// Makes one index ready on a node before it receives shards (SPEC Decisions: indexes and physical settings on the
// new owner first): created with its primary key when missing, the primary key set when the node has none, and
// the physical settings of the index's latest state pushed when their canonical hash differs. Idempotent; runs in
// the index's write lane (no write of this pod overtakes it); used by the rebalancer for every target of a change
// and by the shard mover before each index it copies (a target that restarted empty mid-copy).
import { settingsHash } from '../../core/canonical-json.js';
import { MeiliError } from '../../core/errors.js';
import { physicalSettings, project } from '../../core/index-state.js';
import type { NodeApi } from '../cluster/node-api.js';
import type { IndexStateService } from '../state/index-state.js';

export interface ProvisionOptions {
  state: IndexStateService;
  facetingOverfetch: number;
  taskTimeoutMs: number;
}

export async function provisionIndex(api: NodeApi, uid: string, opts: ProvisionOptions): Promise<void> {
  await opts.state.inLane(uid, async () => {
    const record = await opts.state.record(uid);
    const p = project(record);
    if (!p.exists) return; // deleted meanwhile
    const wait = async (taskUid: number, tolerateFailure: boolean) => {
      const [t] = await api.waitTasks([taskUid], { timeoutMs: opts.taskTimeoutMs });
      if (t!.status === 'failed' && !tolerateFailure)
        throw new MeiliError(
          'internal',
          `node ${api.nodeId} failed to provision \`${uid}\`: ${t!.error?.message ?? 'unknown error'}`,
        );
    };
    const onNode = await api.getIndex(uid);
    // Created concurrently by a write (index_already_exists) is fine: the settings below still apply.
    if (onNode === null) await wait(await api.createIndex(uid, p.primaryKey), true);
    else if (p.primaryKey !== null && onNode.primaryKey === null)
      await wait(await api.updateIndex(uid, { primaryKey: p.primaryKey }), false);
    const physical = physicalSettings(
      p.settings,
      record?.fields ?? [],
      opts.facetingOverfetch,
      opts.state.physicalFilterable,
    );
    const current = await api.settings(uid);
    if (current !== null && settingsHash(current) === settingsHash(physical)) return;
    await wait(await api.patchSettings(uid, physical, 'settings_provision'), false);
  });
}
