// The topology half of the admin API (SPEC Decisions "Writes and health", C10): add, drain and remove nodes, remove
// replica groups, start a rebalance and read its status. Each request is checked against the latest stored
// topology inside the rebalancer's compare-and-set and answers 202 with the queued operation and the status.
import { MeiliError } from '../../core/errors.js';
import type { StoredTopology, TopologyOperation } from '../../store/store.js';
import { nodeSchema } from '../config/schema.js';
import type { Rebalancer } from '../rebalance/rebalancer.js';
import type { TopologyService } from '../cluster/topology.js';
import type { Reply } from '../../http/server.js';

export interface AdminDeps {
  topology: TopologyService;
  rebalancer: Rebalancer;
}

/** Node ids in use or used before, including nodes of queued additions (ids are never reused). */
function usedIds(t: StoredTopology): Set<string> {
  const ids = new Set([...t.nodes.map((n) => n.id), ...t.retiredIds]);
  for (const op of t.operations ?? []) if (op.node !== undefined) ids.add(op.node.id);
  return ids;
}

async function accepted(deps: AdminDeps, op: TopologyOperation): Promise<Reply> {
  const status = await deps.rebalancer.status();
  return {
    status: 202,
    body: {
      operation: {
        id: op.id,
        kind: op.kind,
        ...(op.node_id === undefined ? {} : { node_id: op.node_id }),
        ...(op.group_id === undefined ? {} : { group_id: op.group_id }),
        phase: op.phase,
      },
      rebalance: status,
    },
  };
}

export async function addNode(deps: AdminDeps, body: unknown): Promise<Reply> {
  const parsed = nodeSchema.safeParse(body);
  if (!parsed.success) {
    const issue = parsed.error.issues[0]!;
    throw new MeiliError(
      'bad_request',
      `Invalid node at \`${issue.path.join('.') || 'body'}\`: ${issue.message}. Expected {"id", "address", "replica_group"}.`,
    );
  }
  const node = parsed.data;
  // Fail fast on an address that does not answer: a node that never answers would stall the whole change. The probe
  // carries no credentials: the node key goes only to a node once it is accepted.
  const probe = deps.topology.newClient(node.id, node.address);
  try {
    const health = await probe.health(5000, true).catch(() => ({ ok: false }));
    if (!health.ok)
      throw new MeiliError(
        'bad_request',
        `The node at \`${node.address}\` did not answer \`GET /health\` with 200; start it before adding it.`,
      );
  } finally {
    await probe.close();
  }
  const op = await deps.rebalancer.submit((t) => {
    if (usedIds(t).has(node.id))
      throw new MeiliError(
        'miroir_node_exists',
        `Node \`${node.id}\` is or was part of the cluster; node ids are never reused.`,
      );
    // Two ids on one Meilisearch would move shards onto themselves and then delete them there.
    const address = node.address.replace(/\/+$/, '');
    const sameAddress = [
      ...t.nodes.filter((n) => n.state !== 'removed'),
      ...(t.operations ?? []).flatMap((o) => (o.node === undefined ? [] : [o.node])),
    ].find((n) => n.address.replace(/\/+$/, '') === address);
    if (sameAddress !== undefined)
      throw new MeiliError(
        'miroir_topology_conflict',
        `\`${node.address}\` is already node \`${sameAddress.id}\`; one Meilisearch node can only be one Miroir node.`,
      );
    const group = t.groups.find((g) => g.id === node.replica_group);
    if (group?.state === 'draining')
      throw new MeiliError(
        'miroir_topology_conflict',
        `Replica group ${node.replica_group} is being removed; it takes no new nodes.`,
      );
    const queuedGroup = (t.operations ?? []).some((o) => o.node?.replica_group === node.replica_group);
    // A new group id creates that group (initializing until synced); later nodes of it are ordinary additions.
    return {
      kind: group === undefined && !queuedGroup ? 'group_add' : 'node_add',
      node_id: node.id,
      group_id: node.replica_group,
      node,
    };
  });
  return accepted(deps, op);
}

/** Drain (and then remove) a node: its shards move to their new owners first. Removing a joining node cancels its addition. */
export async function drainNode(
  deps: AdminDeps,
  nodeId: string,
  kind: 'node_drain' | 'node_remove',
  query?: URLSearchParams,
): Promise<Reply> {
  const force = query?.get('force');
  if (force !== undefined && force !== null && force !== 'true' && force !== 'false')
    throw new MeiliError(
      'bad_request',
      `Invalid value in parameter \`force\`: expected \`true\` or \`false\`, found \`${force}\`.`,
    );
  if (kind === 'node_remove') {
    const cancelled = await deps.rebalancer.cancelAddition(nodeId);
    if (cancelled !== null) return accepted(deps, cancelled);
    // A node that is gone for good: its shards are refilled from replicas only, without waiting for it.
    if (force === 'true') await deps.rebalancer.forgetNodeData(nodeId);
  }
  const op = await deps.rebalancer.submit((t) => {
    const node = t.nodes.find((n) => n.id === nodeId && n.state !== 'removed');
    const queued = (t.operations ?? []).find(
      (o) => (o.kind === 'node_drain' || o.kind === 'node_remove') && o.node_id === nodeId,
    );
    if (queued !== undefined) return queued;
    if (node === undefined) throw new MeiliError('miroir_node_not_found', `Node \`${nodeId}\` is not in the topology.`);
    if (node.state === 'joining')
      throw new MeiliError(
        'miroir_topology_conflict',
        `Node \`${nodeId}\` is still joining; wait until its addition finished, or cancel it with \`DELETE /_miroir/nodes/${nodeId}\`.`,
      );
    const stays = t.nodes.filter(
      (n) =>
        n.replica_group === node.replica_group && n.id !== nodeId && (n.state === 'active' || n.state === 'joining'),
    );
    const queuedDrains = new Set(
      (t.operations ?? []).filter((o) => o.kind === 'node_drain' || o.kind === 'node_remove').map((o) => o.node_id),
    );
    if (stays.filter((n) => !queuedDrains.has(n.id)).length === 0) {
      throw new MeiliError(
        'miroir_topology_conflict',
        `Node \`${nodeId}\` is the last node of replica group ${node.replica_group}; remove the group instead (\`DELETE /_miroir/groups/${node.replica_group}\`).`,
      );
    }
    return { kind, node_id: nodeId };
  });
  return accepted(deps, op);
}

export async function removeGroup(deps: AdminDeps, rawId: string): Promise<Reply> {
  const groupId = /^\d+$/.test(rawId) ? Number(rawId) : NaN;
  const op = await deps.rebalancer.submit((t) => {
    const queued = (t.operations ?? []).find((o) => o.kind === 'group_remove' && o.group_id === groupId);
    if (queued !== undefined) return queued;
    const group = t.groups.find((g) => g.id === groupId);
    if (group === undefined)
      throw new MeiliError('miroir_group_not_found', `Replica group \`${rawId}\` is not in the topology.`);
    const removing = new Set((t.operations ?? []).filter((o) => o.kind === 'group_remove').map((o) => o.group_id));
    if (!t.groups.some((g) => g.id !== groupId && g.state === 'active' && !removing.has(g.id))) {
      throw new MeiliError(
        'miroir_topology_conflict',
        `Replica group ${groupId} is the last active group; removing it would leave no copy of any shard.`,
      );
    }
    return { kind: 'group_remove', group_id: groupId };
  });
  return accepted(deps, op);
}

/** `POST /_miroir/rebalance`: converge whatever is pending (catching-up nodes, an interrupted change). */
export async function startRebalance(deps: AdminDeps): Promise<Reply> {
  const op = await deps.rebalancer.submit(
    (t) => (t.operations ?? []).find((o) => o.kind === 'rebalance' && o.phase === 'queued') ?? { kind: 'rebalance' },
  );
  return accepted(deps, op);
}
