// Settling document tasks: the logical counts Meilisearch reports — `indexedDocuments` once per document, and
// `deletedDocuments` from the nodes' own counts, summed per replica group and divided by the replication factor
// (every group holds each document RF times), the largest group's count winning.
import type { TopologyService } from '../../cluster/topology.js';
import type { NodeTasks, SettleModule } from '../settler.js';

/** Logical count of a per-node detail (e.g. deletedDocuments) over the main node tasks: per group ÷ RF, max. */
export function logicalCount(topology: TopologyService, nodes: readonly NodeTasks[], detail: string): number {
  const rf = topology.current.replication_factor;
  const byGroup = new Map<number, number>();
  for (const n of nodes) {
    const main = n.tasks[n.tasks.length - 1];
    const g = topology.current.nodes.find((x) => x.id === n.nodeId)?.replica_group ?? 0;
    byGroup.set(
      g,
      (byGroup.get(g) ?? 0) + Number((main?.details as Record<string, unknown> | undefined)?.[detail] ?? 0),
    );
  }
  return Math.max(0, ...[...byGroup.values()].map((v) => Math.round(v / rf)));
}

export function documentModules(topology: TopologyService): Array<[string, SettleModule]> {
  return [
    [
      'documentAdditionOrUpdate',
      async (ctx) => {
        const d = ctx.task.details ?? {};
        return {
          status: ctx.status,
          error: ctx.error,
          details: { ...d, indexedDocuments: ctx.status === 'succeeded' ? d.receivedDocuments : 0 },
        };
      },
    ],
    [
      'documentDeletion',
      async (ctx) => ({
        status: ctx.status,
        error: ctx.error,
        details: {
          ...(ctx.task.details ?? {}),
          deletedDocuments: ctx.status === 'succeeded' ? logicalCount(topology, ctx.nodes, 'deletedDocuments') : 0,
        },
      }),
    ],
  ];
}
