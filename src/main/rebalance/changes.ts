// What the rebalancer's parts share: the rebalancer options, the queued-change request shape, the rebalance record,
// the job ids of a change's shard moves, the state change that starts an operation, and the status view of one.
import type { InternalChanges } from '../cdc/log.js';
import type { Job, RebalanceRecord, StoredTopology, TopologyOperation } from '../../store/store.js';
import type { Store } from '../../store/store.js';
import type { TopologyService } from '../cluster/topology.js';
import type { Logger } from '../observability/logger.js';
import type { Metrics } from '../observability/metrics.js';
import type { IndexStateService } from '../state/index-state.js';
import type { MoveCursor, MoveJobPayload } from './shard-mover.js';

export const SHARD_MOVE = 'shard_move';
export const LEASE_SCOPE = 'rebalance';
export const RECENT_KEPT = 10;

/** A shard-move job's payload (jobs are stored untyped; the change driver writes this shape and nothing else). */
export function movePayload(j: Job): MoveJobPayload {
  return j.payload as MoveJobPayload;
}

/** Documents a shard-move job has copied so far (from its cursor; none before its first report). */
export function movedDocuments(j: Job): number {
  return (j.cursor as MoveCursor | null)?.copied ?? 0;
}

export interface RebalancerOptions {
  store: Store;
  state: IndexStateService;
  topology: TopologyService;
  logger: Logger | null;
  metrics: Metrics | null;
  maxConcurrentMigrations: number;
  autoRebalanceOnRecovery: boolean;
  migrationTimeoutMs: number;
  leaseTtlMs: number;
  facetingOverfetch: number;
  taskTimeoutMs: number;
  /** How often the leader advances the running change and the job runner looks for work. */
  tickMs?: number;
  /** Time between the cut-over and deleting obsolete copies (every pod adopts the cut-over meanwhile). */
  cleanupGraceMs?: number;
  jobLeaseMs?: number;
  heartbeatMs?: number;
  pageSize?: number;
  /** CDC on: told about shard copies (logged with `cdc.emit_internal_writes`, else counted as suppressed). */
  changes?: InternalChanges | null;
}

export type OperationRequest = Pick<TopologyOperation, 'kind' | 'node_id' | 'group_id' | 'node'>;

export function emptyRecord(): RebalanceRecord {
  return { started_at: null, finished_at: null, last_error: null, recent: [] };
}

export function jobPrefix(op: TopologyOperation): string {
  return `${op.id}:`;
}

/** The state change that starts an operation (the node or group enters its transitional state). */
export function startChange(t: StoredTopology, op: TopologyOperation): void {
  switch (op.kind) {
    case 'node_add':
    case 'group_add': {
      const n = op.node!;
      if (!t.groups.some((g) => g.id === n.replica_group))
        t.groups.push({ id: n.replica_group, state: 'initializing' });
      if (!t.nodes.some((x) => x.id === n.id))
        t.nodes.push({ id: n.id, address: n.address, replica_group: n.replica_group, state: 'joining' });
      if (!t.retiredIds.includes(n.id)) t.retiredIds.push(n.id);
      break;
    }
    case 'node_drain':
    case 'node_remove': {
      const n = t.nodes.find((x) => x.id === op.node_id);
      if (n !== undefined && n.state !== 'removed') n.state = 'draining';
      break;
    }
    case 'group_remove': {
      const g = t.groups.find((x) => x.id === op.group_id);
      if (g !== undefined) g.state = 'draining';
      break;
    }
    case 'recovery':
    case 'rebalance':
      break;
  }
}

/** The status view of one operation (`GET /_miroir/rebalance/status`), with its shard moves' progress. */
export function operationView(op: TopologyOperation, jobs: readonly Job[]): Record<string, unknown> {
  const mine = jobs.filter((j) => j.id.startsWith(jobPrefix(op)));
  const live = op.phase !== 'done' && op.phase !== 'cleanup';
  const view: Record<string, unknown> = { id: op.id, kind: op.kind };
  if (op.node_id !== undefined) view.node_id = op.node_id;
  if (op.group_id !== undefined) view.group_id = op.group_id;
  view.shards_total = op.plan?.length ?? op.shards_total ?? 0;
  view.shards_done = live ? mine.filter((j) => j.state === 'completed').length : (op.shards_done ?? 0);
  view.documents_copied = live ? mine.reduce((n, j) => n + movedDocuments(j), 0) : (op.documents_copied ?? 0);
  view.phase = op.phase;
  if (live) {
    // The moves not finished yet, for an operator looking at a slow or stuck change: who runs them, how far, why not.
    view.moves_pending = mine
      .filter((j) => j.state !== 'completed')
      .sort((a, b) => movePayload(a).shard - movePayload(b).shard)
      .map((j) => ({
        shard: movePayload(j).shard,
        state: j.state,
        owner: j.owner,
        attempts: j.attempts,
        documents_copied: movedDocuments(j),
        ...(j.error === null ? {} : { error: j.error }),
      }));
  }
  view.created_at = op.created_at;
  if (op.started_at !== undefined) view.started_at = op.started_at;
  if (op.finished_at !== undefined) view.finished_at = op.finished_at;
  if (op.error) view.error = op.error;
  return view;
}
