// Index and global stats with logical counts (SPEC Decisions "Reading from a covering set"): every document once —
// `numberOfDocuments` from one covering set, each node counting only the shards it was chosen for (a documents
// fetch filtered on `_miroir_shard`, whose total no `distinctAttribute` collapses), `fieldDistribution` and sizes
// summed over one group's nodes ÷ RF, reserved fields left out.
import { MeiliError } from '../../core/errors.js';
import { checkIndexUid } from '../../core/index-requests.js';
import { isReservedField } from '../../core/reserved.js';
import { andFilters, withShardFilter } from '../../core/shard-filter.js';
import type { ScatterDeps } from '../cluster/scatter.js';
import { authAllowsIndex, type AuthResult } from '../../core/auth/authorize.js';
import { NodeRequestError, NodeResponseError, type NodeApi } from '../cluster/node-api.js';
import type { TopologyService } from '../cluster/topology.js';
import { indexNotFound, type IndexStateService } from '../state/index-state.js';

export interface StatsDeps {
  state: IndexStateService;
  topology: TopologyService;
  /** TTL on: expired documents are not counted (the read path's expiry filter). */
  scatter?: Pick<ScatterDeps, 'expiryFilter'>;
}

export interface IndexStats {
  numberOfDocuments: number;
  rawDocumentDbSize: number;
  avgDocumentSize: number;
  isIndexing: boolean;
  numberOfEmbeddedDocuments: number;
  numberOfEmbeddings: number;
  fieldDistribution: Record<string, number>;
}

/** A node read for stats; a node that fails makes the logical count unavailable (never a wrong number). */
async function nodeRead<T>(api: NodeApi, read: () => Promise<T>): Promise<T> {
  try {
    return await read();
  } catch (err) {
    if (err instanceof NodeResponseError && err.code === 'index_not_found') throw err.toMeiliError();
    if (err instanceof NodeResponseError || err instanceof NodeRequestError)
      throw new MeiliError(
        'miroir_shard_unavailable',
        `A node (${api.nodeId}) could not answer; logical counts are unavailable right now.`,
      );
    throw err;
  }
}

export async function indexStats(deps: StatsDeps, uid: string): Promise<IndexStats> {
  checkIndexUid(uid);
  if ((await deps.state.get(uid)) === null) throw indexNotFound(uid);
  const table = deps.topology.routingFor(uid);
  const cover = table.coveringSet(0);
  if (cover.uncovered.length > 0)
    throw new MeiliError(
      'miroir_shard_unavailable',
      `Shards ${cover.uncovered.join(', ')} have no healthy node; logical counts are unavailable.`,
    );
  const hidden = deps.scatter?.expiryFilter === undefined ? null : await deps.scatter.expiryFilter(uid);
  const counts = await Promise.all(
    [...cover.assignments].map(async ([nodeId, shards]) => {
      const api = deps.topology.client(nodeId)!;
      const page = await nodeRead(api, () =>
        api.fetchDocuments(
          uid,
          { filter: andFilters(withShardFilter(undefined, shards), hidden), limit: 1, fields: [] },
          { operation: 'stats_count' },
        ),
      );
      return page?.total ?? 0;
    }),
  );
  const groupNodes = deps.topology.current.nodes.filter(
    (n) => n.replica_group === cover.group && n.state !== 'removed' && deps.topology.health.isHealthy(n.id),
  );
  const perNode = await Promise.all(
    groupNodes.map((n) => {
      const api = deps.topology.client(n.id)!;
      return nodeRead(api, () => api.stats(uid)) as Promise<Partial<IndexStats>>;
    }),
  );
  const rf = deps.topology.current.replication_factor;
  const fieldDistribution: Record<string, number> = {};
  let raw = 0;
  let embedded = 0;
  let embeddings = 0;
  for (const s of perNode) {
    raw += s.rawDocumentDbSize ?? 0;
    embedded += s.numberOfEmbeddedDocuments ?? 0;
    embeddings += s.numberOfEmbeddings ?? 0;
    for (const [f, n] of Object.entries(s.fieldDistribution ?? {}))
      if (!isReservedField(f)) fieldDistribution[f] = (fieldDistribution[f] ?? 0) + n;
  }
  for (const f of Object.keys(fieldDistribution)) fieldDistribution[f] = Math.round(fieldDistribution[f]! / rf);
  const numberOfDocuments = counts.reduce((a, b) => a + b, 0);
  const rawDocumentDbSize = Math.round(raw / rf);
  return {
    numberOfDocuments,
    rawDocumentDbSize,
    avgDocumentSize: numberOfDocuments === 0 ? 0 : Math.round(rawDocumentDbSize / numberOfDocuments),
    isIndexing: perNode.some((s) => s.isIndexing === true),
    numberOfEmbeddedDocuments: Math.round(embedded / rf),
    numberOfEmbeddings: Math.round(embeddings / rf),
    fieldDistribution,
  };
}

export async function globalStats(deps: StatsDeps, auth: AuthResult): Promise<Record<string, unknown>> {
  const states = (await deps.state.listForClients()).filter((s) => authAllowsIndex(auth, s.uid));
  const indexes: Record<string, IndexStats> = {};
  let size = 0;
  for (const s of states) {
    indexes[s.uid] = await indexStats(deps, s.physical ?? s.uid);
    size += indexes[s.uid]!.rawDocumentDbSize;
  }
  const lastUpdate =
    states
      .map((s) => s.updatedAt)
      .sort()
      .at(-1) ?? null;
  return { databaseSize: size, usedDatabaseSize: size, lastUpdate, indexes };
}
