// The admin API answers the views read (the subset of fields they show).
export interface TopologyNode {
  id: string;
  address: string;
  replica_group: number;
  state: string;
  health: string;
  shard_count: number;
  last_seen_ms: number | null;
  error?: string;
  catching_up?: boolean;
}

export interface Topology {
  shards: number;
  replication_factor: number;
  replica_groups: number;
  groups: Array<{ id: number; state: string }>;
  nodes: TopologyNode[];
  degraded_node_count: number;
  rebalance_in_progress: boolean;
  fully_covered: boolean;
}

export interface Operation {
  id: string;
  kind: string;
  node_id?: string;
  group_id?: number;
  phase: string;
  shards_total?: number;
  shards_done?: number;
  documents_copied?: number;
  error?: string | null;
}

export interface RebalanceStatus {
  in_progress: boolean;
  started_at: string | null;
  finished_at: string | null;
  operations: Operation[];
  last_error: string | null;
}

export interface ShardsView {
  shards: number;
  replication_factor: number;
  groups: Array<{ id: number; assignments: Record<string, string[]> }>;
}

export interface IndexRow {
  uid: string;
  primaryKey: string | null;
  updatedAt: string;
  shards: number;
  numberOfDocuments: number | null;
  documents_error: string | null;
  settings_version: number;
  nodes_behind: Array<{ node_id: string; settings_version: number }>;
  pending_changes: number;
}

export interface Task {
  uid: number;
  indexUid: string | null;
  status: string;
  type: string;
  details?: Record<string, unknown> | null;
  error?: { message: string; code: string } | null;
  enqueuedAt: string;
  startedAt: string | null;
  finishedAt: string | null;
  duration?: string | null;
}

export interface TaskPage {
  results: Task[];
  total: number;
  limit: number;
  from: number | null;
  next: number | null;
}

export interface ApiKey {
  uid: string;
  name: string | null;
  description: string | null;
  actions: string[];
  indexes: string[];
  expiresAt: string | null;
  createdAt: string;
  key?: string;
}

export function operationTarget(op: Operation): string {
  return op.node_id ?? (op.group_id !== undefined ? `group ${op.group_id}` : '—');
}
