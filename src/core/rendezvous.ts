// HOT PATH. Rendezvous routing (SPEC C2): per replica group the RF owners of each shard are the top-RF nodes by
// score (ties by node id), writes go to every group's owners, reads to one covering set of one group. State- and
// health-aware: reads use healthy, readable active/draining nodes of active groups (falling back to another active
// group per shard). While a topology change runs, a shard's *read* owners (over active/draining nodes) and its
// *target* owners (over active/joining nodes) differ; writes go to both (the shard-move protocol's dual-write) and
// skip unhealthy nodes; draining groups get no writes. Pure; every pod computes the same answer from one topology.
import { rendezvousScore } from './hash.js';
import type { ReadPlacement } from './tenant-affinity.js';

export type NodeState = 'joining' | 'active' | 'draining' | 'removed';
export type GroupState = 'initializing' | 'active' | 'draining';
export type Health = 'healthy' | 'unhealthy';

export interface RouteNode {
  id: string;
  replica_group: number;
  state: NodeState;
  health: Health;
  /** false while the node catches up on writes it missed: it takes writes but serves no reads. */
  readable?: boolean;
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
  /**
   * Shards no readable replica could serve, answered by a healthy replica that is still catching up on missed
   * writes (it may lack some of them): served rather than not at all, and reported as degraded.
   */
  stale: number[];
}

/**
 * Picks one shard's replica among readable candidates (adaptive replica selection lives in the proxy); null when
 * `strict` and every candidate is to be avoided, so the caller may look in another group.
 */
export interface ReplicaChooser {
  /** Called once before a covering set's picks, and `end` after them. */
  begin(): void;
  end(): void;
  choose(candidates: readonly string[], seq: number, strict: boolean): string | null;
}

const READ_STATES: ReadonlySet<NodeState> = new Set(['active', 'draining']);
const TARGET_STATES: ReadonlySet<NodeState> = new Set(['active', 'joining']);

/**
 * Where one read may go; null for a plain read. Made from the read's consistency options (a session's pinned group,
 * nodes below a minimum settings version) and its tenant placement (`withPlacement`).
 */
export interface ReadPolicy {
  /** The group to read from (a session's or a tenant's pin), when it is active; null: the rotating group. */
  group: number | null;
  /**
   * The groups the read may use, the query's group chosen among them (a tenant placement); null: every active group.
   * A read confined to groups also hedges only inside the group it was given.
   */
  groups: readonly number[] | null;
  /** Nodes the read must not use. */
  exclude: ReadonlySet<string> | null;
}

/** A read policy with a tenant placement folded in: the session's pin wins over the tenant's group. */
export function withPlacement(policy: ReadPolicy | null, placement: ReadPlacement | undefined): ReadPolicy | null {
  if (placement === undefined) return policy;
  return { group: policy?.group ?? placement.group, groups: placement.groups, exclude: policy?.exclude ?? null };
}

/** Precomputed per-topology routing: owners per (group, shard) for reads, targets and writes. */
export class RoutingTable {
  readonly shards: number;
  readonly rf: number;
  readonly activeGroups: number[];
  private readonly readOwners = new Map<number, string[][]>();
  private readonly targetOwners = new Map<number, string[][]>();
  /** Read ∪ target owners per (group, shard), draining groups excluded. */
  private readonly writeOwners = new Map<number, string[][]>();
  /** What quorum counts against: read owners (target owners in a group that is still initializing). */
  private readonly quorumOwners = new Map<number, string[][]>();
  private readonly health = new Map<string, Health>();
  private readonly unreadable = new Set<string>();
  /** node id → healthy and not catching up (one lookup per read pick). */
  private readonly readable = new Map<string, boolean>();
  /** node id → shards it holds as a read owner in its group (ascending). */
  private readonly held = new Map<string, number[]>();
  /** Whether some node holds every shard as a read owner (only then can one node answer a whole read). */
  readonly hasFullHolder: boolean;
  /** Whether some shard has a second read owner (in any group): only then can a read be hedged. */
  readonly hasSecondCopy: boolean;

  constructor(topology: RoutingTopology) {
    this.shards = topology.shards;
    this.rf = topology.replication_factor;
    this.activeGroups = topology.groups
      .filter((g) => g.state === 'active')
      .map((g) => g.id)
      .sort((a, b) => a - b);
    for (const n of topology.nodes) {
      this.health.set(n.id, n.health);
      if (n.readable === false) this.unreadable.add(n.id);
    }
    for (const n of topology.nodes) this.readable.set(n.id, n.health === 'healthy' && n.readable !== false);
    for (const g of topology.groups) {
      const members = topology.nodes.filter((n) => n.replica_group === g.id);
      const readIds = members.filter((n) => READ_STATES.has(n.state)).map((n) => n.id);
      const targetIds = members.filter((n) => TARGET_STATES.has(n.state)).map((n) => n.id);
      const reads: string[][] = [];
      const targets: string[][] = [];
      const writes: string[][] = [];
      for (let s = 0; s < this.shards; s++) {
        const owners = assignShard(s, readIds, this.rf);
        const target = assignShard(s, targetIds, this.rf);
        reads.push(owners);
        targets.push(target);
        writes.push(g.state === 'draining' ? [] : [...owners, ...target.filter((id) => !owners.includes(id))]);
        for (const id of owners) {
          let list = this.held.get(id);
          if (list === undefined) this.held.set(id, (list = []));
          list.push(s);
        }
      }
      this.readOwners.set(g.id, reads);
      this.targetOwners.set(g.id, targets);
      if (g.state !== 'draining') {
        this.writeOwners.set(g.id, writes);
        this.quorumOwners.set(g.id, g.state === 'initializing' ? targets : reads);
      }
    }
    this.hasFullHolder = [...this.held.values()].some((list) => list.length === this.shards);
    const copies = new Array<number>(this.shards).fill(0);
    for (const list of this.held.values()) for (const s of list) copies[s]!++;
    this.hasSecondCopy = copies.some((n) => n > 1);
  }

  /** The RF owners (rank order) a shard has in a group once the running change completes. */
  targets(shard: number, group: number): readonly string[] {
    return this.targetOwners.get(group)?.[shard] ?? [];
  }

  /** The RF owners (rank order) of a shard in a group, as reads see them. */
  owners(shard: number, group: number): readonly string[] {
    return this.readOwners.get(group)?.[shard] ?? [];
  }

  /** Every group's write owners of a shard that are healthy, by group id. */
  writeTargets(shard: number): Map<number, string[]> {
    const out = new Map<number, string[]>();
    for (const [g, owners] of this.writeOwners)
      out.set(
        g,
        owners[shard]!.filter((id) => this.health.get(id) === 'healthy'),
      );
    return out;
  }

  /** Per group, the owners of a shard that write quorum counts against, healthy or not. */
  quorumOwnersOf(shard: number): Map<number, readonly string[]> {
    const out = new Map<number, readonly string[]>();
    for (const [g, owners] of this.quorumOwners) out.set(g, owners[shard]!);
    return out;
  }

  /** Every node a write to this shard goes to, healthy or not (dual-writes included). */
  allWriteOwners(shard: number): string[] {
    const out: string[] = [];
    for (const owners of this.writeOwners.values()) out.push(...owners[shard]!);
    return out;
  }

  private pick(
    shard: number,
    group: number,
    seq: number,
    chooser: ReplicaChooser | null,
    strict = true,
    exclude: ReadonlySet<string> | null = null,
  ): string | null {
    const owners = this.owners(shard, group);
    if (owners.length === 0) return null;
    if (chooser !== null) {
      // Usually every owner is usable: the owners list itself goes to the chooser, no copy.
      let readable: readonly string[] = owners;
      for (let i = 0; i < owners.length; i++)
        if (!this.usable(owners[i]!, exclude)) {
          readable = owners.filter((id) => this.usable(id, exclude));
          break;
        }
      return readable.length === 0 ? null : chooser.choose(readable, seq, strict);
    }
    for (let i = 0; i < owners.length; i++) {
      const id = owners[(seq + i) % owners.length]!;
      if (this.usable(id, exclude)) return id;
    }
    return null;
  }

  /** Whether a read may use the node: readable, and not one the read's policy excludes. */
  private usable(id: string, exclude: ReadonlySet<string> | null): boolean {
    return this.canRead(id) && (exclude === null || !exclude.has(id));
  }

  /**
   * One replica per shard in the query's group (rotating by `seq`, or as `chooser` decides), each chosen node mapped
   * to the shards it answers for; shards the group cannot serve (or whose replicas the chooser avoids) fall back to
   * the other usable groups in ascending id order. `only`: the shards to cover (ascending; default every shard).
   * `policy`: `group` replaces the rotating group when it is active (a session's or a tenant's pin), `groups` are
   * the groups rotation and fallback may use (a tenant placement), `exclude` names nodes the read must not use (below
   * a requested settings version).
   */
  coveringSet(
    seq: number,
    only: readonly number[] | null = null,
    chooser: ReplicaChooser | null = null,
    policy: ReadPolicy | null = null,
  ): CoveringSet {
    const allowed = policy?.groups ?? null;
    const groups = allowed === null || allowed.length === 0 ? this.activeGroups : allowed;
    const pinned = policy?.group ?? null;
    const exclude = policy?.exclude ?? null;
    const group =
      this.activeGroups.length === 0
        ? -1
        : pinned !== null && this.activeGroups.includes(pinned)
          ? pinned
          : groups.length === 0
            ? -1
            : queryGroup(seq, groups);
    const assignments = new Map<string, number[]>();
    const uncovered: number[] = [];
    const fallback: number[] = [];
    const stale: number[] = [];
    chooser?.begin();
    const count = only === null ? this.shards : only.length;
    for (let i = 0; i < count; i++) {
      const s = only === null ? i : only[i]!;
      let node = group < 0 ? null : this.pick(s, group, seq, chooser, true, exclude);
      // A pinned read (a session's or a tenant's group) keeps to its group while the group has a readable replica:
      // one the chooser avoids as slow still serves it; only an unreadable group sends it elsewhere.
      if (node === null && chooser !== null && group >= 0 && group === pinned)
        node = this.pick(s, group, seq, chooser, false, exclude);
      if (node === null) {
        for (const g of groups) {
          if (g === group) continue;
          node = this.pick(s, g, seq, chooser, true, exclude);
          if (node !== null) {
            fallback.push(s);
            break;
          }
        }
      }
      // Every readable replica is avoided by the chooser: the best of the query's group after all.
      if (node === null && chooser !== null && group >= 0) node = this.pick(s, group, seq, chooser, false, exclude);
      if (node === null) {
        node = this.stalePick(s, group, exclude);
        if (node !== null) stale.push(s);
      }
      if (node === null) {
        uncovered.push(s);
        continue;
      }
      let list = assignments.get(node);
      if (list === undefined) assignments.set(node, (list = []));
      list.push(s);
    }
    chooser?.end();
    return { group, assignments, uncovered, fallback, stale };
  }

  /** A healthy replica that is catching up (the query's group first), for a shard no readable replica serves. */
  stalePick(shard: number, group: number, exclude: ReadonlySet<string> | null = null): string | null {
    const groups = [group, ...this.activeGroups.filter((g) => g !== group)];
    for (const g of groups)
      for (const id of this.owners(shard, g))
        if (this.health.get(id) === 'healthy' && this.unreadable.has(id) && (exclude === null || !exclude.has(id)))
          return id;
    return null;
  }

  /** Whether a group has a readable replica of every shard (a pinned read stays in it while this holds). */
  canServe(group: number): boolean {
    for (let s = 0; s < this.shards; s++) if (!this.owners(s, group).some((id) => this.canRead(id))) return false;
    return true;
  }

  /** Whether a node answers `/health` (readable or still catching up). */
  isHealthy(nodeId: string): boolean {
    return this.health.get(nodeId) === 'healthy';
  }

  /** Whether reads may go to this node: healthy and not catching up on missed writes. */
  canRead(nodeId: string): boolean {
    return this.readable.get(nodeId) === true;
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
