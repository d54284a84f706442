// HOT PATH. Scattered reads over one covering set (SPEC C4, Decisions "Reading from a covering set"): one request per
// chosen node, asking it only for the shards it was chosen for (the client's filter AND `_miroir_shard IN [...]`,
// omitted when the node answers for everything it holds); a node that fails is retried once per shard on another
// readable replica of any active group; what stays missing follows `scatter.unavailable_shard_policy`, and when no
// node answered at all the read fails with 503 miroir_shard_unavailable (never an empty 200). A node's refusal of
// the query itself (4xx) is the client's error, passed through as the node gave it.
import { MeiliError } from '../../core/errors.js';
import type { NodeAnswer } from '../../core/merge.js';
import { withShardFilter } from '../../core/shard-filter.js';
import type { Metrics } from '../observability/metrics.js';
import { NodeRequestError, NodeResponseError, type NodeApi } from './node-api.js';
import type { TopologyService } from './topology.js';
import type { ReadPlacement } from '../../core/tenant-affinity.js';

export interface ScatterDeps {
  topology: TopologyService;
  metrics: Metrics;
  unavailablePolicy: 'partial' | 'error';
}

export type ScatterRoute = 'search' | 'facet-search' | 'documents/fetch';

export interface Scattered {
  answers: NodeAnswer[];
  /** Shards no replica could answer, or only a replica still catching up on missed writes (ascending). */
  missing: number[];
  nodeCount: number;
}

let querySeq = 0;

const OPERATION: Record<ScatterRoute, string> = {
  search: 'search',
  'facet-search': 'facet_search',
  'documents/fetch': 'documents_fetch',
};

/** One node's answer, or the error that decides what happens next (client error, or retry elsewhere). */
async function askNode(
  api: NodeApi | undefined,
  uid: string,
  route: ScatterRoute,
  body: Record<string, unknown>,
): Promise<NodeAnswer | MeiliError> {
  if (api === undefined)
    return new MeiliError('miroir_shard_unavailable', 'A node left the topology while the read was in flight.');
  try {
    return await api.call<NodeAnswer>({
      method: 'POST',
      path: `/indexes/${encodeURIComponent(uid)}/${route}`,
      body: JSON.stringify(body),
      operation: OPERATION[route],
    });
  } catch (err) {
    if (err instanceof NodeResponseError)
      return err.status < 500
        ? err.toMeiliError()
        : new MeiliError('miroir_shard_unavailable', `A node failed the read (${err.status}).`);
    if (err instanceof NodeRequestError)
      return new MeiliError('miroir_shard_unavailable', `A node did not answer the read (${err.kind}).`);
    throw err;
  }
}

export async function scatter(
  deps: ScatterDeps,
  uid: string,
  filter: unknown,
  build: () => Record<string, unknown>,
  route: ScatterRoute,
  placement?: ReadPlacement,
): Promise<Scattered> {
  const table = deps.topology.routing;
  const cover = table.coveringSet(querySeq++, placement);
  // Tenant affinity: retries stay in the read's group first, and never reach a group the read may not use.
  const retryGroups =
    placement === undefined ? table.activeGroups : [cover.group, ...placement.groups.filter((g) => g !== cover.group)];
  const parts = [...cover.assignments];
  deps.metrics.fanOut.observe(parts.length);
  const bodyFor = (nodeId: string, shards: readonly number[]): Record<string, unknown> => {
    const held = table.heldShards(nodeId);
    const exact = held.length === shards.length && held.every((s, i) => s === shards[i]);
    const f = withShardFilter(filter, exact ? null : shards);
    const body = build();
    if (f === undefined || f === null) delete body.filter;
    else body.filter = f;
    return body;
  };
  const answers: NodeAnswer[] = [];
  const missing: number[] = [...cover.uncovered];
  await Promise.all(
    parts.map(async ([nodeId, shards]) => {
      const first = await askNode(deps.topology.client(nodeId), uid, route, bodyFor(nodeId, shards));
      if (!(first instanceof MeiliError)) {
        answers.push(first);
        return;
      }
      if (first.status < 500) throw first; // the node refused the query itself: the client's error
      // Retry the node's shards once, each on another readable replica of any active group.
      deps.metrics.scatterRetries.inc();
      const alt = new Map<string, number[]>();
      for (const s of shards) {
        const other = retryGroups
          .flatMap((g) => [...table.owners(s, g)])
          .find((id) => id !== nodeId && table.canRead(id));
        if (other === undefined) missing.push(s);
        else (alt.get(other) ?? alt.set(other, []).get(other)!).push(s);
      }
      await Promise.all(
        [...alt].map(async ([otherId, list]) => {
          const again = await askNode(deps.topology.client(otherId), uid, route, bodyFor(otherId, list));
          if (again instanceof MeiliError) {
            if (again.status < 500) throw again;
            missing.push(...list);
          } else answers.push(again);
        }),
      );
    }),
  );
  const lost = [...new Set(missing)].sort((a, b) => a - b);
  if (lost.length > 0) {
    deps.metrics.partialResponses.inc();
    if (answers.length === 0)
      throw new MeiliError(
        'miroir_shard_unavailable',
        'No node could answer this read: every shard is unavailable right now.',
      );
    if (deps.unavailablePolicy === 'error')
      throw new MeiliError(
        'miroir_shard_unavailable',
        `Shards ${lost.join(', ')} have no healthy replica in any active group.`,
      );
  }
  // Shards answered by a replica still catching up are served, and reported as degraded like missing ones.
  const degraded = cover.stale.length === 0 ? lost : [...new Set([...lost, ...cover.stale])].sort((a, b) => a - b);
  return { answers, missing: degraded, nodeCount: parts.length };
}
