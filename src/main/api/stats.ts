// Index and global stats with logical counts (SPEC Decisions "Reading from a covering set"): every document once —
// `numberOfDocuments` from per-shard counts (a facet on `_miroir_shard` over one covering set), `fieldDistribution`
// and sizes summed over one group's nodes ÷ RF, reserved fields left out.
import { MeiliError } from '../../core/errors.js';
import { checkIndexUid } from '../../core/index-requests.js';
import { SHARD_FIELD, withShardFilter } from '../../core/shard-filter.js';
import { authAllowsIndex, type AuthResult } from '../../core/auth/authorize.js';
import { NodeClient } from '../cluster/node-client.js';
import type { IndexDeps } from './indexes.js';

interface NodeStats {
  numberOfDocuments: number;
  rawDocumentDbSize: number;
  avgDocumentSize: number;
  isIndexing: boolean;
  fieldDistribution: Record<string, number>;
}

async function nodeJson<T>(client: NodeClient, method: 'GET' | 'POST', path: string, body: unknown, operation: string): Promise<T> {
  const res = await client.request({ method, path, body: body === undefined ? null : JSON.stringify(body), operation });
  if (res.status !== 200) {
    const err = NodeClient.json<{ message?: string; code?: string }>(res);
    if (err?.code === 'index_not_found') throw new MeiliError('index_not_found', err.message ?? 'Index not found.');
    throw new MeiliError('miroir_shard_unavailable', `node ${client.nodeId} answered ${res.status} for ${path}`);
  }
  return NodeClient.json<T>(res);
}

export async function indexStats(deps: IndexDeps, uid: string): Promise<NodeStats> {
  checkIndexUid(uid);
  if ((await deps.store.getIndex(uid)) === null) throw new MeiliError('index_not_found', `Index \`${uid}\` not found.`);
  const table = deps.topology.routing;
  const cover = table.coveringSet(0);
  if (cover.uncovered.length > 0) throw new MeiliError('miroir_shard_unavailable', `Shards ${cover.uncovered.join(', ')} have no healthy node; logical counts are unavailable.`);
  const path = `/indexes/${encodeURIComponent(uid)}`;
  const counts = await Promise.all(
    [...cover.assignments].map(async ([nodeId, shards]) => {
      const res = await nodeJson<{ facetDistribution?: Record<string, Record<string, number>> }>(deps.topology.client(nodeId)!, 'POST', `${path}/search`, { q: '', limit: 0, facets: [SHARD_FIELD], filter: withShardFilter(undefined, shards) }, 'stats_count');
      return Object.values(res.facetDistribution?.[SHARD_FIELD] ?? {}).reduce((a, b) => a + b, 0);
    }),
  );
  const group = cover.group;
  const groupNodes = deps.topology.current.nodes.filter((n) => n.replica_group === group && n.state !== 'removed' && deps.topology.health.isHealthy(n.id));
  const perNode = await Promise.all(groupNodes.map((n) => nodeJson<NodeStats>(deps.topology.client(n.id)!, 'GET', `${path}/stats`, undefined, 'stats')));
  const rf = deps.topology.current.replication_factor;
  const fieldDistribution: Record<string, number> = {};
  let raw = 0;
  for (const s of perNode) {
    raw += s.rawDocumentDbSize;
    for (const [f, n] of Object.entries(s.fieldDistribution)) if (!f.startsWith('_miroir_')) fieldDistribution[f] = (fieldDistribution[f] ?? 0) + n;
  }
  for (const f of Object.keys(fieldDistribution)) fieldDistribution[f] = Math.round(fieldDistribution[f]! / rf);
  const numberOfDocuments = counts.reduce((a, b) => a + b, 0);
  const rawDocumentDbSize = Math.round(raw / rf);
  return {
    numberOfDocuments,
    rawDocumentDbSize,
    avgDocumentSize: numberOfDocuments === 0 ? 0 : Math.round(rawDocumentDbSize / numberOfDocuments),
    isIndexing: perNode.some((s) => s.isIndexing),
    fieldDistribution,
  };
}

export async function globalStats(deps: IndexDeps, auth: AuthResult): Promise<Record<string, unknown>> {
  const states = (await deps.store.listIndexes()).filter((s) => authAllowsIndex(auth, s.uid)).sort((a, b) => (a.uid < b.uid ? -1 : 1));
  const indexes: Record<string, NodeStats> = {};
  let size = 0;
  for (const s of states) {
    indexes[s.uid] = await indexStats(deps, s.uid);
    size += indexes[s.uid]!.rawDocumentDbSize;
  }
  const lastUpdate = states.map((s) => s.updatedAt).sort().at(-1) ?? null;
  return { databaseSize: size, usedDatabaseSize: size, lastUpdate, indexes };
}
