// HOT PATH. The one replicated write (SPEC C3, C6, Decisions "Writes and health"): additions/updates, deletes by id,
// by filter and of everything all go through `replicatedWrite` — the quorum pre-check (refuse before sending when
// some shard has no group that could reach quorum), one tagged request per node in parallel, a lost answer looked up
// by its tag on the node before one resend (never two node tasks for one write), ACK accounting, the two-rule
// quorum (a group passes a shard at floor(RF/2)+1 ACKs; 503 miroir_no_quorum when no group passes), the
// `X-Miroir-Degraded` header and the write metrics. Nodes that missed the write are flagged catching up.
import { MeiliError } from '../../core/errors.js';
import type { RoutingTable } from '../../core/rendezvous.js';
import type { Metrics } from '../observability/metrics.js';
import { NodeRequestError, NodeResponseError, type NodeApi } from './node-api.js';
import type { TopologyService } from './topology.js';

export interface Ack {
  nodeId: string;
  taskUid: number;
}

export interface ReplicatedWriteDeps {
  topology: TopologyService;
  metrics: Metrics;
  /** `scatter.retry_on_timeout`: resend once when a node's answer was lost and its task list lacks the tag. */
  retryOnTimeout: boolean;
}

export interface QuorumResult {
  missing: number[];
  degradedGroups: number[];
  degradedShards: number[];
}

/** Quorum per SPEC C3 over the shards a write touches: which shards no group passed, which groups missed some. */
export function quorum(
  table: RoutingTable,
  replicationFactor: number,
  shards: Iterable<number>,
  acked: ReadonlySet<string>,
): QuorumResult {
  const need = Math.floor(replicationFactor / 2) + 1;
  const missing: number[] = [];
  const dGroups = new Set<number>();
  const dShards = new Set<number>();
  for (const s of shards) {
    let passed = 0;
    for (const [g, owners] of table.quorumOwnersOf(s)) {
      let acks = 0;
      for (const id of owners) if (acked.has(id)) acks++;
      if (acks >= Math.min(need, Math.max(owners.length, 1))) passed++;
      else {
        dGroups.add(g);
        dShards.add(s);
      }
    }
    if (passed === 0) missing.push(s);
  }
  const asc = (a: number, b: number) => a - b;
  return { missing: missing.sort(asc), degradedGroups: [...dGroups].sort(asc), degradedShards: [...dShards].sort(asc) };
}

/** `X-Miroir-Degraded: groups=…;shards=…` when some group missed quorum for some shard, else no header. */
export function degradedWriteHeaders(q: QuorumResult): Record<string, string> {
  return q.degradedShards.length > 0
    ? { 'x-miroir-degraded': `groups=${q.degradedGroups.join(',')};shards=${q.degradedShards.join(',')}` }
    : {};
}

function noQuorum(deps: ReplicatedWriteDeps, shards: readonly number[], before: boolean): MeiliError {
  deps.metrics.noQuorumWrites.inc();
  return new MeiliError(
    'miroir_no_quorum',
    before
      ? `No replica group can reach write quorum for shards ${shards.join(', ')}; nothing was written.`
      : `No replica group reached write quorum for shards ${shards.join(', ')}. Replicas that took the write keep it; retrying the same request converges them.`,
  );
}

/** Refuses a write before anything is sent when some shard has no group whose healthy targets could reach quorum. */
export function precheckQuorum(
  deps: ReplicatedWriteDeps,
  shards: Iterable<number>,
  targets: ReadonlySet<string>,
  table: RoutingTable = deps.topology.routing,
): void {
  const q = quorum(table, deps.topology.current.replication_factor, shards, targets);
  if (q.missing.length > 0) throw noQuorum(deps, q.missing, true);
}

export interface ReplicatedWrite {
  indexUid: string;
  /** The Miroir task uid (the tag nodes echo as `customMetadata`). */
  taskUid: number;
  /** Node id → what that node receives (its share of a routed batch, or the same body for a broadcast). */
  bodies: ReadonlyMap<string, string | Buffer>;
  /** The shards the write touches. */
  shards: readonly number[];
  /** Enqueues the write on one node with the tag in its query string (`customMetadata=…`). */
  send(api: NodeApi, body: string | Buffer, tagQuery: string): Promise<number>;
  /** Routing table the bodies were built from (quorum is counted against it). */
  table: RoutingTable;
}

export interface ReplicatedWriteResult {
  acks: Ack[];
  headers: Record<string, string>;
  /** The replica group that reached write quorum on every shard first (ties → lowest id); read-your-writes
   * sessions pin it. Null when no group passed every shard. */
  firstGroup: number | null;
}

/**
 * The group whose nodes reached quorum on every shard of the write first, from the order the ACKs arrived: a group
 * passes a shard at the need-th ACK among its owners and passes the write at the latest of its shards.
 */
export function firstQuorumGroup(
  table: RoutingTable,
  replicationFactor: number,
  shards: Iterable<number>,
  arrival: readonly string[],
): number | null {
  const need = Math.floor(replicationFactor / 2) + 1;
  const at = new Map<string, number>();
  arrival.forEach((id, i) => at.set(id, i));
  const reached = new Map<number, number>();
  for (const s of shards) {
    for (const [g, owners] of table.quorumOwnersOf(s)) {
      const times = owners
        .map((id) => at.get(id))
        .filter((t): t is number => t !== undefined)
        .sort((a, b) => a - b);
      const k = Math.min(need, Math.max(owners.length, 1));
      const t = times.length >= k ? times[k - 1]! : Infinity;
      reached.set(g, Math.max(reached.get(g) ?? -1, t));
    }
  }
  let best: number | null = null;
  let bestAt = Infinity;
  for (const [g, t] of [...reached].sort((a, b) => a[0] - b[0]))
    if (t < bestAt) {
      best = g;
      bestAt = t;
    }
  return best;
}

/**
 * Sends one tagged write to every node of `w.bodies` in parallel and applies quorum. Throws 503 miroir_no_quorum
 * when no group passed some shard (replicas that took it keep it; the same request retried converges them).
 */
export async function replicatedWrite(deps: ReplicatedWriteDeps, w: ReplicatedWrite): Promise<ReplicatedWriteResult> {
  precheckQuorum(deps, w.shards, new Set(w.bodies.keys()), w.table);
  const tag = `miroir-task-${w.taskUid}`;
  const sends: Array<Promise<Ack | null>> = [];
  const arrival: string[] = [];
  for (const [nodeId, body] of w.bodies)
    sends.push(
      sendTagged(deps, deps.topology.client(nodeId), body, tag, w).then((a) => {
        if (a !== null) arrival.push(a.nodeId);
        return a;
      }),
    );
  const acks = (await Promise.all(sends)).filter((a): a is Ack => a !== null);
  const rf = deps.topology.current.replication_factor;
  const q = quorum(w.table, rf, w.shards, new Set(acks.map((a) => a.nodeId)));
  if (q.missing.length > 0) throw noQuorum(deps, q.missing, false);
  if (q.degradedShards.length > 0) deps.metrics.degradedWrites.inc();
  const firstGroup = w.table.activeGroups.length > 1 ? firstQuorumGroup(w.table, rf, w.shards, arrival) : null;
  return { acks, headers: degradedWriteHeaders(q), firstGroup };
}

/**
 * One node's share, tagged with the Miroir task uid. When the answer is lost — a 5xx after the node may have
 * enqueued, or a timeout — the node's recent tasks are searched for the tag before one resend
 * (`scatter.retry_on_timeout`). A write lost for good flags the node catching up (it serves no reads until the
 * rebalancer caught it up). A 4xx refusal is the same on every replica and is not a miss.
 */
async function sendTagged(
  deps: ReplicatedWriteDeps,
  api: NodeApi | undefined,
  body: string | Buffer,
  tag: string,
  w: ReplicatedWrite,
): Promise<Ack | null> {
  if (api === undefined) return null; // the node left the topology since routing
  const tagQuery = `customMetadata=${encodeURIComponent(tag)}`;
  const sentAt = Date.now();
  for (let attempt = 0; ; attempt++) {
    let lost: boolean;
    try {
      return { nodeId: api.nodeId, taskUid: await w.send(api, body, tagQuery) };
    } catch (err) {
      if (err instanceof NodeResponseError) lost = err.status >= 500;
      else if (err instanceof NodeRequestError) lost = err.kind === 'timeout';
      else throw err;
    }
    if (!lost) return null;
    const found = await findTagged(api, w.indexUid, tag, sentAt);
    if (found !== null) return { nodeId: api.nodeId, taskUid: found };
    if (attempt > 0 || !deps.retryOnTimeout) {
      void deps.topology.markCatchingUp([api.nodeId]);
      return null;
    }
  }
}

async function findTagged(api: NodeApi, indexUid: string, tag: string, sentAt: number): Promise<number | null> {
  // Only tasks enqueued since shortly before the first send can carry the tag (clock skew margin: 60 s).
  try {
    const recent = await api.recentTasks(indexUid, new Date(sentAt - 60_000).toISOString());
    return recent.find((t) => t.customMetadata === tag)?.uid ?? null;
  } catch {
    return null;
  }
}

/** Sends the same write to every given node (index-level writes: creation, settings, deletion) and collects ACKs. */
export async function broadcastWrite(
  nodes: readonly NodeApi[],
  send: (api: NodeApi) => Promise<number>,
): Promise<{ acks: Ack[]; failures: Array<{ nodeId: string; error: unknown }> }> {
  const results = await Promise.allSettled(nodes.map((n) => send(n)));
  const acks: Ack[] = [];
  const failures: Array<{ nodeId: string; error: unknown }> = [];
  results.forEach((r, i) => {
    if (r.status === 'fulfilled') acks.push({ nodeId: nodes[i]!.nodeId, taskUid: r.value });
    else failures.push({ nodeId: nodes[i]!.nodeId, error: r.reason });
  });
  return { acks, failures };
}
