// The queue of topology changes (admin API side of SPEC C11): a change is queued, cancelled or re-planned with a
// compare-and-set on the stored topology, so conflicting requests through different pods cannot both pass; the
// change driver runs the queue. Also the status every pod answers.
import { randomUUID } from 'node:crypto';
import type { Store, StoredTopology, TopologyOperation } from '../../store/store.js';
import type { TopologyService } from '../cluster/topology.js';
import type { Logger } from '../observability/logger.js';
import { emptyRecord, jobPrefix, operationView, RECENT_KEPT, type OperationRequest } from './changes.js';

export class ChangeQueue {
  constructor(
    private readonly o: { store: Store; topology: TopologyService; logger: Logger | null },
    /** Asks the driver to advance soon (instead of at its next tick). */
    private readonly kick: () => void,
  ) {}

  /**
   * Queues a change. `make` runs on the latest stored topology inside the compare-and-set, so conflicting requests
   * made through different pods cannot both pass; it throws to refuse, or returns an already queued operation to
   * answer with instead of a new request.
   */
  async submit(make: (t: StoredTopology) => OperationRequest | TopologyOperation): Promise<TopologyOperation> {
    let result: TopologyOperation | null = null;
    await this.o.topology.update((t) => {
      const req = make(t);
      if ('id' in req) {
        result = req;
        return null;
      }
      const op: TopologyOperation = {
        id: `op-${Date.now().toString(36)}-${randomUUID().slice(0, 8)}`,
        ...req,
        phase: 'queued',
        created_at: new Date().toISOString(),
        error: null,
      };
      t.operations = [...(t.operations ?? []), op];
      result = op;
      return t;
    });
    const op = result! as TopologyOperation;
    this.o.logger?.info(
      { op: op.id, kind: op.kind, node_id: op.node_id, group_id: op.group_id },
      'topology change queued',
    );
    this.kick();
    return op;
  }

  /**
   * Cancels the addition of a node that is queued or still joining (e.g. it never became healthy): the node is
   * removed (its id stays used), an initializing group left without nodes disappears, and the shard moves of the
   * change are dropped. Returns the cancelled operation, or null when no addition of that node is pending.
   */
  async cancelAddition(nodeId: string): Promise<TopologyOperation | null> {
    let cancelled: TopologyOperation | null = null;
    await this.o.topology.update((t) => {
      const ops = t.operations ?? [];
      const i = ops.findIndex((o) => (o.kind === 'node_add' || o.kind === 'group_add') && o.node?.id === nodeId);
      if (i < 0) return null;
      const op = ops[i]!;
      const node = t.nodes.find((n) => n.id === nodeId);
      if (node !== undefined) {
        if (node.state !== 'joining') return null; // already cut over: an ordinary removal
        node.state = 'removed';
        const group = t.groups.find((g) => g.id === node.replica_group);
        if (
          group?.state === 'initializing' &&
          !t.nodes.some((n) => n.replica_group === group.id && n.state !== 'removed')
        )
          t.groups = t.groups.filter((g) => g !== group);
      }
      if (!t.retiredIds.includes(nodeId)) t.retiredIds.push(nodeId);
      const now = new Date().toISOString();
      cancelled = { ...op, phase: 'failed', finished_at: now, error: `cancelled by DELETE /_miroir/nodes/${nodeId}` };
      delete cancelled.plan;
      t.operations = ops.filter((_, j) => j !== i);
      const rec = t.rebalance ?? emptyRecord();
      t.rebalance = {
        ...rec,
        recent: [...rec.recent, cancelled].slice(-RECENT_KEPT),
        finished_at: t.operations.length === 0 ? now : rec.finished_at,
      };
      return t;
    });
    if (cancelled !== null) {
      this.o.logger?.warn({ node_id: nodeId }, 'node addition cancelled');
      this.kick();
    }
    return cancelled;
  }

  /**
   * `DELETE /_miroir/nodes/{id}?force=true`: the node's data is given up (it is dead for good). It is flagged catching
   * up, so it is never a copy source; a drain of it that is already copying is planned again without it (shards
   * with no other copy are dropped — their documents are lost — instead of waiting for the node forever).
   */
  async forgetNodeData(nodeId: string): Promise<void> {
    let replanned: TopologyOperation | null = null;
    await this.o.topology.update((t) => {
      const node = t.nodes.find((n) => n.id === nodeId && n.state !== 'removed');
      if (node === undefined) return null;
      node.catching_up = true;
      const cur = t.operations?.[0];
      if (
        cur !== undefined &&
        (cur.kind === 'node_drain' || cur.kind === 'node_remove') &&
        cur.node_id === nodeId &&
        cur.phase === 'copying'
      ) {
        cur.phase = 'provisioning';
        delete cur.plan;
        replanned = cur;
      }
      return t;
    });
    if (replanned !== null) {
      for (const j of await this.o.store.listJobs())
        if (j.id.startsWith(jobPrefix(replanned))) await this.o.store.deleteJob(j.id);
    }
    this.o.logger?.warn({ node_id: nodeId }, 'node data given up (forced removal)');
    this.kick();
  }

  async status(): Promise<Record<string, unknown>> {
    const t = await this.o.topology.refresh();
    const jobs = await this.o.store.listJobs();
    const rec = t.rebalance ?? emptyRecord();
    const ops = t.operations ?? [];
    return {
      in_progress: ops.length > 0,
      started_at: rec.started_at,
      finished_at: ops.length > 0 ? null : rec.finished_at,
      operations: [...rec.recent, ...ops].map((op) => operationView(op, jobs)),
      last_error: rec.last_error,
    };
  }
}
