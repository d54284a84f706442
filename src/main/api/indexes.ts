// Index lifecycle through the proxy (SPEC C5, Decisions): `POST /indexes` is broadcast to every node and needs all
// of them (a partial create is rolled back); `DELETE /indexes/{uid}` is broadcast too. Each answers one Miroir task;
// when the node tasks succeed, the settle step pushes the physical settings (`_miroir_shard` filterable) and
// records Miroir's own index state, so `GET /indexes` answers from Miroir's view.
import { MeiliError } from '../../core/errors.js';
import { checkIndexUid, validateCreateIndex, validateSwap } from '../../core/index-requests.js';
import { defaultSettings } from '../../core/settings.js';
import type { Store } from '../../store/store.js';
import { NodeClient } from '../cluster/node-client.js';
import type { TopologyService } from '../cluster/topology.js';
import type { Reply } from '../server/http.js';
import { acceptedReply, type TaskRegistry } from '../tasks/registry.js';
import { physicalSettings } from './settings.js';
import { indexStats } from './stats.js';

export interface IndexDeps {
  store: Store;
  topology: TopologyService;
  tasks: TaskRegistry;
  /** Longest wait for node tasks of a settle step (settings_broadcast.verify_timeout_s). */
  verifyTimeoutMs: number;
  facetingOverfetch: number;
}

export type Ack = { nodeId: string; taskUid: number };

/** Sends one request to each node; ACKs are 202 answers with a task, everything else is a failure with its reason. */
export async function sendToAll(clients: NodeClient[], method: 'POST' | 'PATCH' | 'DELETE', path: string, body: unknown, operation: string): Promise<{ acks: Ack[]; failures: Array<{ nodeId: string; reason: string }> }> {
  const payload = body === undefined ? null : JSON.stringify(body);
  const results = await Promise.allSettled(clients.map((c) => c.request({ method, path, body: payload, operation })));
  const acks: Ack[] = [];
  const failures: Array<{ nodeId: string; reason: string }> = [];
  results.forEach((r, i) => {
    const nodeId = clients[i]!.nodeId;
    if (r.status === 'fulfilled' && r.value.status === 202) acks.push({ nodeId, taskUid: NodeClient.json<{ taskUid: number }>(r.value).taskUid });
    else failures.push({ nodeId, reason: r.status === 'rejected' ? String((r.reason as Error).message) : `answered ${r.value.status}: ${r.value.body.toString('utf8').slice(0, 200)}` });
  });
  return { acks, failures };
}

/** Waits until every node task is terminal; throws the first node error or on timeout. */
export async function waitForNodeTasks(topology: TopologyService, acks: readonly Ack[], timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  let delay = 10;
  const pending = new Map(acks.map((a) => [`${a.nodeId}:${a.taskUid}`, a]));
  while (pending.size > 0) {
    for (const [key, a] of pending) {
      const client = topology.client(a.nodeId);
      if (client === undefined) throw new MeiliError('internal', `node ${a.nodeId} left the topology while its task ran`);
      const res = await client.request({ method: 'GET', path: `/tasks/${a.taskUid}`, operation: 'task_get' }).catch(() => null);
      if (res === null || res.status !== 200) continue;
      const t = NodeClient.json<{ status: string; error: { message: string; code: string } | null }>(res);
      if (t.status === 'failed') throw new MeiliError('internal', `node ${a.nodeId} failed task ${a.taskUid}: ${t.error?.message ?? 'unknown error'}`);
      if (t.status === 'succeeded' || t.status === 'canceled') pending.delete(key);
    }
    if (pending.size === 0) break;
    if (Date.now() > deadline) throw new MeiliError('internal', `node tasks did not finish within ${timeoutMs} ms`);
    await new Promise((r) => setTimeout(r, delay));
    delay = Math.min(delay * 2, 200);
  }
}

async function recordTask(deps: IndexDeps, type: string, indexUid: string | null, details: Record<string, unknown>, acks: readonly Ack[]): Promise<Reply> {
  return acceptedReply(await deps.tasks.create({ type, indexUid, details, acks }));
}

/** The physical settings a new index starts with on every node. */
export function initialPhysicalSettings(deps: IndexDeps): Record<string, unknown> {
  return physicalSettings(defaultSettings(), [], deps.facetingOverfetch);
}

/** Lets accepted creations finish, then deletes the index again on those nodes (a partial create is undone). */
async function undoCreation(deps: IndexDeps, uid: string, acks: readonly Ack[]): Promise<void> {
  await waitForNodeTasks(deps.topology, acks, deps.verifyTimeoutMs).catch(() => undefined);
  const undo = await sendToAll(acks.map((a) => deps.topology.client(a.nodeId)!).filter(Boolean), 'DELETE', `/indexes/${encodeURIComponent(uid)}`, undefined, 'index_delete');
  await waitForNodeTasks(deps.topology, undo.acks, deps.verifyTimeoutMs).catch(() => undefined);
}

function needsEveryNode(uid: string, failures: ReadonlyArray<{ nodeId: string; reason: string }>, what: string): MeiliError {
  return new MeiliError('miroir_no_quorum', `Creating index \`${uid}\` needs every node; ${failures.map((f) => f.nodeId).join(', ')} did not accept the ${what} (${failures[0]!.reason}). Nothing was created.`);
}

/** Creates an index on every live node; when any node refuses, the others are undone and 503 is thrown. */
export async function createOnEveryNode(deps: IndexDeps, uid: string, primaryKey: string | null): Promise<Ack[]> {
  const { acks, failures } = await sendToAll(deps.topology.liveClients(), 'POST', '/indexes', { uid, primaryKey }, 'index_create');
  if (failures.length > 0) {
    await undoCreation(deps, uid, acks);
    throw needsEveryNode(uid, failures, 'index creation');
  }
  return acks;
}

/**
 * Creates an index on every node and waits until it holds its physical settings (the write path's implicit
 * creation); undone and refused when any node does not take part.
 */
export async function createWithSettingsOnEveryNode(deps: IndexDeps, uid: string, primaryKey: string | null): Promise<void> {
  const created = await createOnEveryNode(deps, uid, primaryKey);
  await waitForNodeTasks(deps.topology, created, deps.verifyTimeoutMs).catch(() => undefined); // already existing on a node is fine
  const pushed = await sendToAll(deps.topology.liveClients(), 'PATCH', `/indexes/${encodeURIComponent(uid)}/settings`, initialPhysicalSettings(deps), 'settings_update');
  if (pushed.failures.length > 0) {
    await undoCreation(deps, uid, created);
    throw needsEveryNode(uid, pushed.failures, 'physical settings');
  }
  await waitForNodeTasks(deps.topology, pushed.acks, deps.verifyTimeoutMs);
}

export async function createIndex(deps: IndexDeps, body: unknown): Promise<Reply> {
  const { uid, primaryKey } = validateCreateIndex(body);
  const acks = await createOnEveryNode(deps, uid, primaryKey);
  return recordTask(deps, 'indexCreation', uid, { primaryKey }, acks);
}

export async function deleteIndex(deps: IndexDeps, uid: string): Promise<Reply> {
  checkIndexUid(uid);
  // The logical count before deletion is what the task reports as deleted (Meilisearch's `deletedDocuments`).
  const count = (await deps.store.getIndex(uid)) === null ? 0 : await indexStats(deps, uid).then((s) => s.numberOfDocuments, () => null);
  const { acks, failures } = await sendToAll(deps.topology.liveClients(), 'DELETE', `/indexes/${encodeURIComponent(uid)}`, undefined, 'index_delete');
  if (acks.length === 0) throw new MeiliError('miroir_no_quorum', `No node accepted the deletion of \`${uid}\` (${failures[0]?.reason ?? 'no nodes'}).`);
  return recordTask(deps, 'indexDeletion', uid, { deletedDocuments: count }, acks);
}

/** Registers what happens once index tasks succeed on every node. */
export function registerIndexSettleSteps(deps: IndexDeps): void {
  registerIndexUpdateSettleSteps(deps);
  deps.tasks.onSettle('indexCreation', async (task) => {
    const uid = task.indexUid!;
    const { acks, failures } = await sendToAll(deps.topology.liveClients(), 'PATCH', `/indexes/${encodeURIComponent(uid)}/settings`, initialPhysicalSettings(deps), 'settings_update');
    if (failures.length > 0) throw new MeiliError('internal', `pushing physical settings failed on ${failures.map((f) => f.nodeId).join(', ')}`);
    await waitForNodeTasks(deps.topology, acks, deps.verifyTimeoutMs);
    const now = new Date().toISOString();
    await deps.store.putIndex({ uid, primaryKey: (task.details?.primaryKey as string | null) ?? null, settings: defaultSettings(), settingsVersion: 1, fields: [], createdAt: task.enqueuedAt, updatedAt: now });
  });
  deps.tasks.onSettle('indexDeletion', async (task) => {
    await deps.store.deleteIndex(task.indexUid!);
  });
}

/** `PATCH /indexes/{uid}` ({primaryKey} and/or {uid} rename), broadcast to every node as one task. */
export async function updateIndex(deps: IndexDeps, uid: string, body: unknown): Promise<Reply> {
  checkIndexUid(uid);
  if (body === null || typeof body !== 'object' || Array.isArray(body)) throw new MeiliError('bad_request', `Invalid value type: expected an object, but found ${JSON.stringify(body)}`);
  const b = body as Record<string, unknown>;
  for (const k of Object.keys(b)) if (k !== 'uid' && k !== 'primaryKey') throw new MeiliError('bad_request', `Unknown field \`${k}\`: expected one of \`primaryKey\`, \`uid\``);
  if (b.primaryKey !== undefined && b.primaryKey !== null && typeof b.primaryKey !== 'string') {
    throw new MeiliError('invalid_index_primary_key', `Invalid value type at \`.primaryKey\`: expected a string, but found ${JSON.stringify(b.primaryKey)}`);
  }
  if (b.uid !== undefined) checkIndexUid(String(b.uid));
  const details: Record<string, unknown> = { primaryKey: (b.primaryKey as string | undefined) ?? null };
  if (typeof b.uid === 'string') {
    details.oldIndexUid = uid;
    details.newIndexUid = b.uid;
  }
  const { acks, failures } = await sendToAll(deps.topology.liveClients(), 'PATCH', `/indexes/${encodeURIComponent(uid)}`, b, 'index_update');
  if (failures.length > 0 && acks.length === 0) throw new MeiliError('miroir_no_quorum', `No node accepted the update of \`${uid}\` (${failures[0]!.reason}).`);
  return recordTask(deps, 'indexUpdate', uid, details, acks);
}

/** `POST /swap-indexes`, broadcast to every node as one task (indexUid null, like Meilisearch). */
export async function swapIndexes(deps: IndexDeps, body: unknown): Promise<Reply> {
  const swaps = validateSwap(body);
  const { acks, failures } = await sendToAll(deps.topology.liveClients(), 'POST', '/swap-indexes', swaps, 'index_swap');
  if (failures.length > 0) throw new MeiliError('miroir_no_quorum', `Swapping indexes needs every node; ${failures.map((f) => f.nodeId).join(', ')} did not accept it.`);
  return recordTask(deps, 'indexSwap', null, { swaps }, acks);
}

/** Keeps Miroir's index view in step once index updates and swaps succeeded on every node. */
export function registerIndexUpdateSettleSteps(deps: IndexDeps): void {
  deps.tasks.onSettle('indexUpdate', async (task) => {
    const d = task.details ?? {};
    const state = await deps.store.getIndex(task.indexUid!);
    if (state === null) return;
    const now = new Date().toISOString();
    const next = { ...state, primaryKey: typeof d.primaryKey === 'string' ? d.primaryKey : state.primaryKey, updatedAt: now };
    if (typeof d.newIndexUid === 'string') {
      await deps.store.deleteIndex(state.uid);
      next.uid = d.newIndexUid;
    }
    await deps.store.putIndex(next);
  });
  deps.tasks.onSettle('indexSwap', async (task) => {
    for (const s of (task.details?.swaps ?? []) as Array<{ indexes: [string, string]; rename: boolean }>) {
      const [a, b] = s.indexes;
      const sa = await deps.store.getIndex(a);
      const sb = await deps.store.getIndex(b);
      if (sa !== null) await deps.store.deleteIndex(a);
      if (sb !== null) await deps.store.deleteIndex(b);
      if (sa !== null) await deps.store.putIndex({ ...sa, uid: b });
      if (sb !== null && !s.rename) await deps.store.putIndex({ ...sb, uid: a });
    }
  });
}
