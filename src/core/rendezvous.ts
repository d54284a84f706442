// HOT PATH. Rendezvous routing (SPEC C2): per replica group the RF owners of each shard are the top-RF nodes by
// score (ties by node id), writes go to every group's owners, reads to one covering set of one group. State- and
// health-aware: reads use healthy active/draining nodes (falling back to another active group per shard), writes
// use active/joining nodes and skip unhealthy ones. Pure; every pod computes the same answer from the same topology.
import { rendezvousScore } from './hash.js';

export type NodeState = 'joining' | 'active' | 'draining' | 'removed';
export type GroupState = 'initializing' | 'active' | 'draining';
export type Health = 'healthy' | 'unhealthy';

export interface RouteNode {
  id: string;
  replica_group: number;
  state: NodeState;
  health: Health;
}

export interface RouteGroup {
  id: number;
  state: GroupState;
}

export interface RoutingTopology {
  shards: number;
  replication_factor: number;
  groups: readonly RouteGroup[];
  nodes: readonly RouteNode[];
}

/** Top-RF node ids for one shard among candidate ids: score descending, ties by id ascending. */
export function assignShard(shard: number, nodeIds: readonly string[], rf: number): string[] {
  const scored = nodeIds.map((id) => ({ id, score: rendezvousScore(shard, id) }));
  scored.sort((a, b) => (a.score === b.score ? (a.id < b.id ? -1 : a.id > b.id ? 1 : 0) : a.score > b.score ? -1 : 1));
  return scored.slice(0, rf).map((s) => s.id);
}

/** `query_group(seq) = seq % RG` over the active groups in ascending id order. */
export function queryGroup(seq: number, activeGroupIds: readonly number[]): number {
  return activeGroupIds[seq % activeGroupIds.length]!;
}

export interface CoveringSet {
  /** The group chosen for this query. */
  group: number;
  /** node id → shards that node must answer for (ascending). */
  assignments: Map<string, number[]>;
  /** Shards no healthy node of any active group could serve. */
  uncovered: number[];
  /** Shards served by a node of another group than `group`. */
  fallback: number[];
}

const READ_STATES: ReadonlySet<NodeState> = new Set(['active', 'draining']);
const WRITE_STATES: ReadonlySet<NodeState> = new Set(['active', 'joining']);

/** Precomputed per-topology routing: owners per (group, shard) for reads and writes. */
export class RoutingTable {
  readonly shards: number;
  readonly rf: number;
  readonly activeGroups: number[];
  private readonly readOwners = new Map<number, string[][]>();
  private readonly writeOwners = new Map<number, string[][]>();
  private readonly health = new Map<string, Health>();
  /** node id → shards it holds as a read owner in its group (ascending). */
  private readonly held = new Map<string, number[]>();

  constructor(topology: RoutingTopology) {
    this.shards = topology.shards;
    this.rf = topology.replication_factor;
    this.activeGroups = topology.groups.filter((g) => g.state === 'active').map((g) => g.id).sort((a, b) => a - b);
    for (const n of topology.nodes) this.health.set(n.id, n.health);
    for (const g of topology.groups) {
      const members = topology.nodes.filter((n) => n.replica_group === g.id);
      const readIds = members.filter((n) => READ_STATES.has(n.state)).map((n) => n.id);
      const writeIds = members.filter((n) => WRITE_STATES.has(n.state)).map((n) => n.id);
      const reads: string[][] = [];
      const writes: string[][] = [];
      for (let s = 0; s < this.shards; s++) {
        const owners = assignShard(s, readIds, this.rf);
        reads.push(owners);
        writes.push(assignShard(s, writeIds, this.rf));
        for (const id of owners) {
          let list = this.held.get(id);
          if (list === undefined) this.held.set(id, (list = []));
          list.push(s);
        }
      }
      this.readOwners.set(g.id, reads);
      this.writeOwners.set(g.id, writes);
    }
  }

  /** The RF owners (rank order) of a shard in a group, as reads see them. */
  owners(shard: number, group: number): readonly string[] {
    return this.readOwners.get(group)?.[shard] ?? [];
  }

  /** Every group's write owners of a shard that are healthy, by group id. */
  writeTargets(shard: number): Map<number, string[]> {
    const out = new Map<number, string[]>();
    for (const [g, owners] of this.writeOwners) out.set(g, owners[shard]!.filter((id) => this.health.get(id) === 'healthy'));
    return out;
  }

  /** All write owners of a shard per group, healthy or not (quorum is counted against these). */
  writeOwnersOf(shard: number): Map<number, readonly string[]> {
    const out = new Map<number, readonly string[]>();
    for (const [g, owners] of this.writeOwners) out.set(g, owners[shard]!);
    return out;
  }

  private pick(shard: number, group: number, seq: number): string | null {
    const owners = this.owners(shard, group);
    if (owners.length === 0) return null;
    for (let i = 0; i < owners.length; i++) {
      const id = owners[(seq + i) % owners.length]!;
      if (this.health.get(id) === 'healthy') return id;
    }
    return null;
  }

  /**
   * One replica per shard in the query's group (rotating by `seq`), each chosen node mapped to the shards it
   * answers for; shards the group cannot serve fall back to the other active groups in ascending id order.
   */
  coveringSet(seq: number): CoveringSet {
    const group = this.activeGroups.length === 0 ? -1 : queryGroup(seq, this.activeGroups);
    const assignments = new Map<string, number[]>();
    const uncovered: number[] = [];
    const fallback: number[] = [];
    for (let s = 0; s < this.shards; s++) {
      let node = group < 0 ? null : this.pick(s, group, seq);
      if (node === null) {
        for (const g of this.activeGroups) {
          if (g === group) continue;
          node = this.pick(s, g, seq);
          if (node !== null) {
            fallback.push(s);
            break;
          }
        }
      }
      if (node === null) {
        uncovered.push(s);
        continue;
      }
      let list = assignments.get(node);
      if (list === undefined) assignments.set(node, (list = []));
      list.push(s);
    }
    return { group, assignments, uncovered, fallback };
  }

  /** The shards a node holds as a read owner in its group (ascending). */
  heldShards(nodeId: string): readonly number[] {
    return this.held.get(nodeId) ?? [];
  }

  /** Shards each node holds as a read owner in its group (for `shard_count` and `miroir_shard_distribution`). */
  shardCounts(): Map<string, number> {
    const out = new Map<string, number>();
    for (const [id, shards] of this.held) out.set(id, shards.length);
    return out;
  }
}
