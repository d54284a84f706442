// HOT PATH. The write path (SPEC C3, C6 writes, Decisions "Tasks" / "Writes and health"): request checks → content
// checks (ids, reserved fields, primary-key inference — failures become a failed task with nothing sent) → routing
// to every group's write owners → one request per node, all in parallel → two-rule quorum: a group passes a shard at
// floor(RF/2)+1 ACKs; 202 + one Miroir task when every shard has a passing group (X-Miroir-Degraded names groups and
// shards that missed), else 503 miroir_no_quorum. New fields reach the physical searchableAttributes first.
import { MeiliError } from '../../core/errors.js';
import { inferPrimaryKey } from '../../core/document-id.js';
import { shardForKey } from '../../core/hash.js';
import { checkIndexUid, parseDocumentIds, validateDeleteByFilter } from '../../core/index-requests.js';
import { csvDelimiter, payloadFormat } from '../../core/payload.js';
import { ingestBatch, type IngestBatchOutput } from '../../core/ingest-batch.js';
import { defaultSettings } from '../../core/settings.js';
import type { IndexState } from '../../store/store.js';
import { NodeClient, NodeRequestError } from '../cluster/node-client.js';
import type { Metrics } from '../observability/metrics.js';
import type { Reply, RequestContext } from '../server/http.js';
import { acceptedReply } from '../tasks/registry.js';
import type { WorkerPool } from '../../workers/pool.js';
import { createWithSettingsOnEveryNode, sendToAll, waitForNodeTasks, type Ack } from './indexes.js';
import { physicalSettings, type SettingsDeps } from './settings.js';

export interface WriteDeps extends SettingsDeps {
  metrics: Metrics;
  pool: WorkerPool | null;
  retryOnTimeout: boolean;
  /** Whether this request shares the event loop with others right now (absent: assume it does). */
  otherRequestsInFlight?: () => boolean;
}

const DOC_PARAMS = ['primaryKey', 'csvDelimiter', 'customMetadata', 'skipCreation'];

/** Serializes the read-modify-write of one index's state (creation, primary key, learned fields) in this process. */
const indexLocks = new Map<string, Promise<unknown>>();

function withIndexLock<T>(uid: string, fn: () => Promise<T>): Promise<T> {
  const prev = indexLocks.get(uid) ?? Promise.resolve();
  const run = prev.then(fn, fn);
  const tail = run.catch(() => undefined);
  indexLocks.set(uid, tail);
  void tail.then(() => {
    if (indexLocks.get(uid) === tail) indexLocks.delete(uid);
  });
  return run;
}

/**
 * Sends one node request tagged with the Miroir task uid (as `customMetadata`, which nodes echo on their tasks).
 * When the answer is lost — a 5xx after the node may have enqueued, or a timeout — the node's task list is checked
 * for the tag before resending once (`scatter.retry_on_timeout`), so a batch never becomes two node tasks.
 */
async function sendTagged(deps: WriteDeps, client: NodeClient | undefined, method: 'POST' | 'PUT' | 'DELETE', path: string, body: string | null, tag: string, uid: string, operation: string): Promise<Ack | null> {
  if (client === undefined) return null; // the node left the topology since routing: no ack from it
  const tagged = `${path}${path.includes('?') ? '&' : '?'}customMetadata=${encodeURIComponent(tag)}`;
  const sentAt = Date.now();
  for (let attempt = 0; ; attempt++) {
    let lost: boolean;
    try {
      const res = await client.request({ method, path: tagged, body, operation });
      if (res.status === 202) return { nodeId: client.nodeId, taskUid: NodeClient.json<{ taskUid: number }>(res).taskUid };
      lost = res.status >= 500;
    } catch (err) {
      if (!(err instanceof NodeRequestError)) throw err;
      lost = err.kind === 'timeout';
    }
    if (!lost) return null; // refused (4xx): every replica refuses alike, nothing was missed
    const found = await findTagged(client, uid, tag, sentAt);
    if (found !== null) return { nodeId: client.nodeId, taskUid: found };
    if (attempt > 0 || !deps.retryOnTimeout) {
      // The write is lost on this node: it serves no reads until the rebalancer caught it up.
      void deps.topology.markCatchingUp([client.nodeId]);
      return null;
    }
  }
}

async function findTagged(client: NodeClient, indexUid: string, tag: string, sentAt: number): Promise<number | null> {
  // Only tasks enqueued since shortly before the first send can carry the tag (clock skew margin: 60 s).
  const since = new Date(sentAt - 60_000).toISOString();
  try {
    const res = await client.request({ method: 'GET', path: `/tasks?indexUids=${encodeURIComponent(indexUid)}&afterEnqueuedAt=${encodeURIComponent(since)}&limit=1000`, operation: 'task_list' });
    if (res.status !== 200) return null;
    const list = NodeClient.json<{ results: Array<{ uid: number; customMetadata?: string }> }>(res);
    return list.results.find((t) => t.customMetadata === tag)?.uid ?? null;
  } catch {
    return null;
  }
}

/** Quorum per SPEC C3 over the shards present in a batch: which groups passed each shard. */
export function quorum(deps: WriteDeps, shards: Iterable<number>, acked: ReadonlySet<string>): { missing: number[]; degradedGroups: number[]; degradedShards: number[] } {
  const need = Math.floor(deps.topology.current.replication_factor / 2) + 1;
  const missing: number[] = [];
  const dGroups = new Set<number>();
  const dShards = new Set<number>();
  for (const s of shards) {
    let passed = 0;
    for (const [g, owners] of deps.topology.routing.quorumOwnersOf(s)) {
      const acks = owners.filter((id) => acked.has(id)).length;
      if (acks >= Math.min(need, Math.max(owners.length, 1))) passed++;
      else {
        dGroups.add(g);
        dShards.add(s);
      }
    }
    if (passed === 0) missing.push(s);
  }
  return { missing: missing.sort((a, b) => a - b), degradedGroups: [...dGroups].sort((a, b) => a - b), degradedShards: [...dShards].sort((a, b) => a - b) };
}

/** `X-Miroir-Degraded: groups=…;shards=…` when some group missed quorum for some shard, else no header. */
function degradedWriteHeaders(q: ReturnType<typeof quorum>): Record<string, string> {
  return q.degradedShards.length > 0 ? { 'x-miroir-degraded': `groups=${q.degradedGroups.join(',')};shards=${q.degradedShards.join(',')}` } : {};
}

/** Creates the index on every node (with its physical settings) when Miroir does not know it yet. */
async function ensureIndex(deps: WriteDeps, uid: string, primaryKey: string | null): Promise<IndexState> {
  const existing = await deps.store.getIndex(uid);
  if (existing !== null) return existing;
  // Like POST /indexes, an implicit creation needs every node: a node without the index (and its physical
  // settings) would later answer shard-filtered reads with errors.
  await createWithSettingsOnEveryNode(deps, uid, primaryKey);
  const now = new Date().toISOString();
  const state: IndexState = { uid, primaryKey, settings: defaultSettings(), settingsVersion: 1, fields: [], createdAt: now, updatedAt: now };
  await deps.store.putIndex(state);
  return state;
}

/** Sets the primary key on every node before any document is routed (Meilisearch infers it from the first batch). */
async function setPrimaryKey(deps: WriteDeps, state: IndexState, pk: string): Promise<IndexState> {
  const { acks } = await sendToAll(deps.topology.liveClients(), 'PATCH', `/indexes/${encodeURIComponent(state.uid)}`, { primaryKey: pk }, 'index_update');
  await waitForNodeTasks(deps.topology, acks, deps.verifyTimeoutMs);
  const next = { ...state, primaryKey: pk, updatedAt: new Date().toISOString() };
  await deps.store.putIndex(next);
  return next;
}

/** Learns new top-level fields; when the physical searchable list changes, enqueues it on every node first. */
async function learnFields(deps: WriteDeps, state: IndexState, fields: readonly string[]): Promise<IndexState> {
  const known = new Set(state.fields);
  const added = fields.filter((k) => !known.has(k));
  if (added.length === 0) return state;
  const next = { ...state, fields: [...state.fields, ...added] };
  const logical = { ...defaultSettings(), ...state.settings };
  const searchable = logical.searchableAttributes as string[];
  if (searchable.length === 1 && searchable[0] === '*') {
    const physical = physicalSettings(logical, next.fields, deps.facetingOverfetch);
    // Node queues run in order, so enqueuing the settings before the documents is enough.
    await sendToAll(deps.topology.liveClients(), 'PATCH', `/indexes/${encodeURIComponent(state.uid)}/settings`, { searchableAttributes: physical.searchableAttributes }, 'settings_update');
  }
  await deps.store.putIndex(next);
  return next;
}

export async function addDocuments(deps: WriteDeps, ctx: RequestContext<unknown>, merge: boolean): Promise<Reply> {
  const uid = checkIndexUid(ctx.params.uid!);
  for (const k of ctx.query.keys()) if (!DOC_PARAMS.includes(k)) throw new MeiliError('bad_request', `Unknown parameter \`${k}\`: expected one of ${DOC_PARAMS.map((p) => `\`${p}\``).join(', ')}`);
  const format = payloadFormat(ctx.req.headers['content-type']);
  const delimiterRaw = ctx.query.get('csvDelimiter');
  if (delimiterRaw !== null && format !== 'csv') throw new MeiliError('invalid_document_csv_delimiter', 'The `csvDelimiter` parameter is only allowed for `text/csv` payloads.');
  const delimiter = csvDelimiter(delimiterRaw);
  const body = ctx.rawBody ?? Buffer.alloc(0);
  const givenPk = ctx.query.get('primaryKey');
  let state = await deps.store.getIndex(uid);
  // Parse, settle the key and route in one job on the raw bytes (a worker thread for big payloads).
  let table = deps.topology.routing;
  const run = (primaryKey: string | null): Promise<IngestBatchOutput> => {
    const targets = Array.from({ length: table.shards }, (_, s) => [...table.writeTargets(s).values()].flat());
    const input = { body, format, csvDelimiter: delimiter, primaryKey, shards: table.shards, targets };
    // A big batch goes to a worker only while other requests share the event loop: then it keeps them from
    // stalling; alone, inline is faster (the worker hop adds ~1.4 ms per 64 KB and nothing else needs the loop).
    const contended = deps.otherRequestsInFlight?.() ?? true;
    return deps.pool !== null && contended ? deps.pool.run<IngestBatchOutput>('ingestBatch', input, body.length) : Promise.resolve(ingestBatch(input));
  };
  let batch = await run(state?.primaryKey ?? givenPk);
  if (batch.refused !== null) throw MeiliError.fromBody(batch.refused);
  const customMetadata = ctx.query.get('customMetadata');
  const details = { receivedDocuments: batch.count, indexedDocuments: null };
  const taskUid = await deps.tasks.nextUid();
  const failed = async (err: MeiliError) => acceptedReply(await deps.tasks.recordFailed(taskUid, { indexUid: uid, type: 'documentAdditionOrUpdate', details: { receivedDocuments: batch.count, indexedDocuments: 0 }, ...(customMetadata === null ? {} : { customMetadata }) }, err));

  if (state === null && ctx.query.get('skipCreation') === 'true') {
    return acceptedReply(await deps.tasks.create({ uid: taskUid, type: 'documentAdditionOrUpdate', indexUid: uid, details: { receivedDocuments: batch.count, indexedDocuments: 0 }, acks: [], customMetadata: customMetadata }));
  }
  // Content checks first: a content problem is a failed task even when every node is down.
  const statePk = state?.primaryKey ?? null;
  if (givenPk !== null && statePk !== null && givenPk !== statePk) return failed(new MeiliError('index_primary_key_already_exists', `Index \`${uid}\`: Index already has a primary key: \`${statePk}\`.`));
  if (batch.keyError !== null) return failed(MeiliError.fromBody(batch.keyError));
  const pk = batch.primaryKey;
  if (pk === null || batch.routed === null) return acceptedReply(await deps.tasks.create({ uid: taskUid, type: 'documentAdditionOrUpdate', indexUid: uid, details: { receivedDocuments: 0, indexedDocuments: 0 }, acks: [], customMetadata: customMetadata }));
  if (batch.routed.error !== null) return failed(MeiliError.fromBody(batch.routed.error));
  // Refuse before writing anything when some shard has no group that could reach quorum.
  const pre = quorum(deps, Object.keys(batch.routed.shardCounts).map(Number), new Set(Object.keys(batch.routed.bodies)));
  if (pre.missing.length > 0) {
    deps.metrics.noQuorumWrites.inc();
    throw new MeiliError('miroir_no_quorum', `No replica group can reach write quorum for shards ${pre.missing.join(', ')}; nothing was written.`);
  }
  const fields = batch.fields;
  state = await withIndexLock(uid, async () => {
    let s = (await deps.store.getIndex(uid)) ?? (await ensureIndex(deps, uid, pk));
    if (s.primaryKey === null) s = await setPrimaryKey(deps, s, pk);
    return learnFields(deps, s, fields);
  });
  // The topology may have changed while this request waited (a node added, drained or removed): route again
  // with the current table, so every document goes to its current owners and never to a node that left.
  while (deps.topology.routing !== table) {
    table = deps.topology.routing;
    batch = await run(pk);
  }
  const routed = batch.routed!;
  const shards = Object.keys(routed.shardCounts).map(Number);
  const tag = `miroir-task-${taskUid}`;
  const path = `/indexes/${encodeURIComponent(uid)}/documents`;
  const results = await Promise.all(Object.entries(routed.bodies).map(([nodeId, body]) => sendTagged(deps, deps.topology.client(nodeId), merge ? 'PUT' : 'POST', path, body, tag, uid, merge ? 'documents_update' : 'documents_add')));
  const acks = results.filter((a): a is Ack => a !== null);
  const q = quorum(deps, shards, new Set(acks.map((a) => a.nodeId)));
  if (q.missing.length > 0) {
    deps.metrics.noQuorumWrites.inc();
    throw new MeiliError('miroir_no_quorum', `No replica group reached write quorum for shards ${q.missing.join(', ')}.`);
  }
  deps.metrics.documentsRouted.inc(batch.count);
  const task = await deps.tasks.create({ uid: taskUid, type: 'documentAdditionOrUpdate', indexUid: uid, details, acks, customMetadata });
  if (q.degradedShards.length > 0) {
    deps.metrics.degradedWrites.inc();
    return acceptedReply(task, degradedWriteHeaders(q));
  }
  return acceptedReply(task);
}

/** Deletes routed by id: each id goes to its shard's write owners in every group. */
async function deleteIds(deps: WriteDeps, ctx: RequestContext<unknown>, ids: string[], details: Record<string, unknown>): Promise<Reply> {
  const uid = checkIndexUid(ctx.params.uid!);
  const state = await deps.store.getIndex(uid);
  if (state === null) throw new MeiliError('index_not_found', `Index \`${uid}\` not found.`);
  const taskUid = await deps.tasks.nextUid();
  // Routed after the last wait, so the targets are the current table's.
  const table = deps.topology.routing;
  const perNode = new Map<string, string[]>();
  const shards = new Set<number>();
  for (const id of ids) {
    const s = shardForKey(id, table.shards);
    shards.add(s);
    for (const nodes of table.writeTargets(s).values()) for (const n of nodes) perNode.set(n, [...(perNode.get(n) ?? []), id]);
  }
  const tag = `miroir-task-${taskUid}`;
  const path = `/indexes/${encodeURIComponent(uid)}/documents/delete-batch`;
  const results = await Promise.all([...perNode].map(([nodeId, list]) => sendTagged(deps, deps.topology.client(nodeId), 'POST', path, JSON.stringify(list), tag, uid, 'documents_delete')));
  const acks = results.filter((a): a is Ack => a !== null);
  const q = quorum(deps, shards, new Set(acks.map((a) => a.nodeId)));
  if (q.missing.length > 0) throw new MeiliError('miroir_no_quorum', `No replica group reached write quorum for shards ${q.missing.join(', ')}.`);
  const task = await deps.tasks.create({ uid: taskUid, type: 'documentDeletion', indexUid: uid, details: details, acks: acks, customMetadata: ctx.query.get('customMetadata') });
  return acceptedReply(task, degradedWriteHeaders(q));
}

export function deleteOne(deps: WriteDeps, ctx: RequestContext<unknown>): Promise<Reply> {
  return deleteIds(deps, ctx, [ctx.params.id!], { providedIds: 1, deletedDocuments: null, originalFilter: null });
}

export function deleteBatch(deps: WriteDeps, ctx: RequestContext<unknown>): Promise<Reply> {
  const ids = parseDocumentIds(ctx.json);
  return deleteIds(deps, ctx, ids, { providedIds: ids.length, deletedDocuments: null, originalFilter: null });
}

/** Filter deletes and delete-all go to every node (each node holds whole shards). */
async function broadcastDelete(deps: WriteDeps, ctx: RequestContext<unknown>, method: 'POST' | 'DELETE', path: string, body: string | null, details: Record<string, unknown>): Promise<Reply> {
  const uid = checkIndexUid(ctx.params.uid!);
  if ((await deps.store.getIndex(uid)) === null) throw new MeiliError('index_not_found', `Index \`${uid}\` not found.`);
  const taskUid = await deps.tasks.nextUid();
  const tag = `miroir-task-${taskUid}`;
  const clients = deps.topology.liveClients().filter((c) => deps.topology.health.isHealthy(c.nodeId));
  const results = await Promise.all(clients.map((c) => sendTagged(deps, c, method, path, body, tag, uid, 'documents_delete')));
  const acks = results.filter((a): a is Ack => a !== null);
  const q = quorum(deps, Array.from({ length: deps.topology.current.shards }, (_, s) => s), new Set(acks.map((a) => a.nodeId)));
  if (q.missing.length > 0) throw new MeiliError('miroir_no_quorum', `No replica group reached write quorum for shards ${q.missing.join(', ')}.`);
  const task = await deps.tasks.create({ uid: taskUid, type: 'documentDeletion', indexUid: uid, details: details, acks: acks, customMetadata: ctx.query.get('customMetadata') });
  return acceptedReply(task, degradedWriteHeaders(q));
}

export function deleteByFilter(deps: WriteDeps, ctx: RequestContext<unknown>): Promise<Reply> {
  const filter = validateDeleteByFilter(ctx.json);
  const uid = encodeURIComponent(ctx.params.uid!);
  return broadcastDelete(deps, ctx, 'POST', `/indexes/${uid}/documents/delete`, JSON.stringify({ filter }), { providedIds: 0, deletedDocuments: null, originalFilter: JSON.stringify(filter) });
}

export function deleteAll(deps: WriteDeps, ctx: RequestContext<unknown>): Promise<Reply> {
  return broadcastDelete(deps, ctx, 'DELETE', `/indexes/${encodeURIComponent(ctx.params.uid!)}/documents`, null, { deletedDocuments: null });
}

/** Logical counts for finished write tasks: documents indexed once each; deletions counted per group ÷ RF. */
export function registerWriteSettleSteps(deps: WriteDeps): void {
  deps.tasks.onSettle('documentAdditionOrUpdate', async (task) => {
    if (task.details !== null && task.details.indexedDocuments === null) task.details = { ...task.details, indexedDocuments: task.details.receivedDocuments };
  });
  deps.tasks.onSettle('documentDeletion', async (task, nodeTasks) => {
    const rf = deps.topology.current.replication_factor;
    const byGroup = new Map<number, number>();
    for (const [nodeId, t] of Object.entries(nodeTasks)) {
      const g = deps.topology.current.nodes.find((n) => n.id === nodeId)?.replica_group ?? 0;
      byGroup.set(g, (byGroup.get(g) ?? 0) + Number((t.details as { deletedDocuments?: number } | undefined)?.deletedDocuments ?? 0));
    }
    const deleted = Math.max(0, ...[...byGroup.values()].map((n) => Math.round(n / rf)));
    task.details = { ...(task.details ?? {}), deletedDocuments: deleted };
  });
}
