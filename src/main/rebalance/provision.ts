// Makes one index ready on a node before it receives shards (SPEC Decisions: indexes and physical settings on the
// new owner first): created with its primary key when missing, the primary key set when the node has none, and
// the physical settings pushed when their canonical hash differs. Idempotent; used by the rebalancer for every
// target of a change and by the shard mover before each index it copies (a target that restarted empty mid-copy).
import { settingsHash } from '../../core/canonical-json.js';
import { MeiliError } from '../../core/errors.js';
import { defaultSettings } from '../../core/settings.js';
import type { IndexState } from '../../store/store.js';
import { NodeClient } from '../cluster/node-client.js';
import type { TopologyService } from '../cluster/topology.js';
import { waitForNodeTasks } from '../api/indexes.js';
import { physicalSettings } from '../api/settings.js';

export interface ProvisionOptions {
  topology: TopologyService;
  facetingOverfetch: number;
  taskTimeoutMs: number;
}

async function enqueued(client: NodeClient, res: Awaited<ReturnType<NodeClient['request']>>, what: string, opts: ProvisionOptions, tolerateFailure: boolean): Promise<void> {
  if (res.status !== 202) throw new MeiliError('internal', `node ${client.nodeId} refused ${what} (${res.status})`);
  const wait = waitForNodeTasks(opts.topology, [{ nodeId: client.nodeId, taskUid: NodeClient.json<{ taskUid: number }>(res).taskUid }], opts.taskTimeoutMs);
  await (tolerateFailure ? wait.catch(() => undefined) : wait);
}

export async function provisionIndex(client: NodeClient, index: IndexState, opts: ProvisionOptions): Promise<void> {
  const path = `/indexes/${encodeURIComponent(index.uid)}`;
  const got = await client.request({ method: 'GET', path, operation: 'index_get' });
  if (got.status === 404) {
    // Created concurrently by a write (index_already_exists) is fine: the settings below still apply.
    const res = await client.request({ method: 'POST', path: '/indexes', body: JSON.stringify({ uid: index.uid, primaryKey: index.primaryKey }), operation: 'index_create' });
    await enqueued(client, res, `to create \`${index.uid}\``, opts, true);
  } else if (got.status === 200) {
    if (index.primaryKey !== null && NodeClient.json<{ primaryKey: string | null }>(got).primaryKey === null) {
      const res = await client.request({ method: 'PATCH', path, body: JSON.stringify({ primaryKey: index.primaryKey }), operation: 'index_update' });
      await enqueued(client, res, `the primary key of \`${index.uid}\``, opts, false);
    }
  } else throw new MeiliError('internal', `node ${client.nodeId} answered ${got.status} for \`${index.uid}\``);
  const physical = physicalSettings({ ...defaultSettings(), ...index.settings }, index.fields, opts.facetingOverfetch);
  const current = await client.request({ method: 'GET', path: `${path}/settings`, operation: 'settings_get' });
  if (current.status === 200 && settingsHash(NodeClient.json(current)) === settingsHash(physical)) return;
  const res = await client.request({ method: 'PATCH', path: `${path}/settings`, body: JSON.stringify(physical), operation: 'settings_update' });
  await enqueued(client, res, `the physical settings of \`${index.uid}\``, opts, false);
}
