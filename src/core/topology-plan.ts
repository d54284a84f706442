// Pure planning of topology changes (SPEC Decisions "Writes and health", C11): which shard copies a change needs
// (target ← sources), the state changes of its cut-over, and which copies become obsolete afterwards. Every change
// is one "converge" of the topology it leaves behind once started: joining nodes and initializing groups receive the
// shards their rendezvous rank gives them, draining nodes hand theirs over, catching-up nodes are re-verified against
// a readable replica. No I/O; the rebalancer runs the plan as Mode C jobs.
import { RoutingTable, type GroupState, type NodeState } from './rendezvous.js';

export interface PlanNode {
  id: string;
  replica_group: number;
  state: NodeState;
  catching_up?: boolean;
}

export interface PlanTopology {
  shards: number;
  replication_factor: number;
  groups: Array<{ id: number; state: GroupState }>;
  nodes: PlanNode[];
}

/** One copy of a shard to make: onto `target`, from the first readable, healthy node of `sources`. */
export interface ShardCopy {
  target: string;
  group: number;
  sources: string[];
}

export interface ShardMove {
  shard: number;
  copies: ShardCopy[];
}

/** Routing of a topology as if every node were healthy (plans do not depend on momentary health). */
export function planningTable(t: PlanTopology): RoutingTable {
  return new RoutingTable({
    shards: t.shards,
    replication_factor: t.replication_factor,
    groups: t.groups,
    nodes: t.nodes.map((n) => ({
      id: n.id,
      replica_group: n.replica_group,
      state: n.state,
      health: 'healthy' as const,
      readable: n.catching_up !== true,
    })),
  });
}

/**
 * The copies that bring every target owner up to date: a target that does not hold the shard yet (joining node,
 * initializing group, new owner after a drain) or that is catching up. Sources are the shard's readable owners in
 * the same group first, then in the other active groups; a copy with no possible source is left out (RF=1 with a
 * single group: nothing else holds the data).
 */
export function planMoves(t: PlanTopology, catchUp: readonly string[]): ShardMove[] {
  const table = planningTable(t);
  const catching = new Set(t.nodes.filter((n) => n.catching_up === true).map((n) => n.id));
  const activeGroups = t.groups
    .filter((g) => g.state === 'active')
    .map((g) => g.id)
    .sort((a, b) => a - b);
  const moves: ShardMove[] = [];
  for (let s = 0; s < t.shards; s++) {
    const copies: ShardCopy[] = [];
    for (const g of [...t.groups].sort((a, b) => a.id - b.id)) {
      if (g.state === 'draining') continue;
      const have = g.state === 'initializing' ? [] : table.owners(s, g.id);
      const sameGroup = have.filter((id) => !catching.has(id));
      const otherGroups = activeGroups
        .filter((id) => id !== g.id)
        .flatMap((id) => table.owners(s, id).filter((n) => !catching.has(n)));
      for (const target of table.targets(s, g.id)) {
        if (have.includes(target) && !catchUp.includes(target)) continue;
        const sources = [...sameGroup, ...otherGroups].filter((id) => id !== target);
        if (sources.length > 0) copies.push({ target, group: g.id, sources });
      }
    }
    if (copies.length > 0) moves.push({ shard: s, copies });
  }
  return moves;
}

/** The topology after a change's cut-over: joining → active, draining → removed, groups likewise; flags cleared. */
export function cutover<T extends PlanTopology>(t: T, catchUp: readonly string[]): T {
  const removedGroups = new Set(t.groups.filter((g) => g.state === 'draining').map((g) => g.id));
  const next = structuredClone(t);
  next.groups = next.groups.filter((g) => !removedGroups.has(g.id)).map((g) => ({ ...g, state: 'active' as const }));
  for (const n of next.nodes) {
    if (n.state === 'joining') n.state = 'active';
    if (n.state === 'draining' || (removedGroups.has(n.replica_group) && n.state !== 'removed')) n.state = 'removed';
    if (catchUp.includes(n.id)) delete n.catching_up;
  }
  return next;
}

/** Shards each node holds before the cut-over (read owners and targets being filled) but no longer after. */
export function obsoleteCopies(before: PlanTopology, after: PlanTopology): Record<string, number[]> {
  const held = (t: PlanTopology, withTargets: boolean): Map<string, Set<number>> => {
    const table = planningTable(t);
    const out = new Map<string, Set<number>>();
    for (const g of t.groups) {
      for (let s = 0; s < t.shards; s++) {
        const ids = withTargets ? [...table.owners(s, g.id), ...table.targets(s, g.id)] : table.owners(s, g.id);
        for (const id of ids) {
          let set = out.get(id);
          if (set === undefined) out.set(id, (set = new Set()));
          set.add(s);
        }
      }
    }
    return out;
  };
  const pre = held(before, true);
  const post = held(after, false);
  const out: Record<string, number[]> = {};
  for (const [id, shards] of pre) {
    const keep = post.get(id) ?? new Set<number>();
    const drop = [...shards].filter((s) => !keep.has(s)).sort((a, b) => a - b);
    if (drop.length > 0) out[id] = drop;
  }
  return out;
}
