// Index lifecycle through the proxy (SPEC C5, Decisions): `POST /indexes` is broadcast to every node and needs all
// of them (a partial create is rolled back); `DELETE /indexes/{uid}` is broadcast too. Each answers one Miroir task;
// when the node tasks succeed, the settle step pushes the physical settings (`_miroir_shard` filterable) and
// records Miroir's own index state, so `GET /indexes` answers from Miroir's view.
import { MeiliError } from '../../core/errors.js';
import { checkIndexUid, validateCreateIndex } from '../../core/index-requests.js';
import { defaultSettings } from '../../core/settings.js';
import { summarizedTask } from '../../core/tasks.js';
import type { Store, TaskRow } from '../../store/store.js';
import { NodeClient } from '../cluster/node-client.js';
import type { TopologyService } from '../cluster/topology.js';
import type { Reply } from '../server/http.js';
import type { TaskRegistry } from '../tasks/registry.js';
import { physicalSettings } from './settings.js';

export interface IndexDeps {
  store: Store;
  topology: TopologyService;
  tasks: TaskRegistry;
  /** Longest wait for node tasks of a settle step (settings_broadcast.verify_timeout_s). */
  verifyTimeoutMs: number;
  facetingOverfetch: number;
}

type Ack = { nodeId: string; taskUid: number };

async function sendToAll(clients: NodeClient[], method: 'POST' | 'PATCH' | 'DELETE', path: string, body: unknown, operation: string): Promise<{ acks: Ack[]; failures: Array<{ nodeId: string; reason: string }> }> {
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

function liveClients(topology: TopologyService): NodeClient[] {
  const ids = new Set(topology.current.nodes.filter((n) => n.state !== 'removed').map((n) => n.id));
  return topology.allClients().filter((c) => ids.has(c.nodeId));
}

async function recordTask(deps: IndexDeps, uid: number, type: string, indexUid: string, details: Record<string, unknown>, acks: readonly Ack[]): Promise<Reply> {
  const task: TaskRow = {
    uid,
    indexUid,
    type,
    status: 'enqueued',
    nodeTasks: Object.fromEntries(acks.map((a) => [a.nodeId, a.taskUid])),
    details,
    error: null,
    canceledBy: null,
    enqueuedAt: new Date().toISOString(),
    startedAt: null,
    finishedAt: null,
  };
  await deps.tasks.record(task);
  return { status: 202, body: summarizedTask({ ...task, batchUid: null }) };
}

export async function createIndex(deps: IndexDeps, body: unknown): Promise<Reply> {
  const { uid, primaryKey } = validateCreateIndex(body);
  const clients = liveClients(deps.topology);
  const { acks, failures } = await sendToAll(clients, 'POST', '/indexes', { uid, primaryKey }, 'index_create');
  if (failures.length > 0) {
    // Needs every node: let the accepted creations finish, undo them, then refuse.
    await waitForNodeTasks(deps.topology, acks, deps.verifyTimeoutMs).catch(() => undefined);
    const undo = await sendToAll(acks.map((a) => deps.topology.client(a.nodeId)!).filter(Boolean), 'DELETE', `/indexes/${encodeURIComponent(uid)}`, undefined, 'index_delete');
    await waitForNodeTasks(deps.topology, undo.acks, deps.verifyTimeoutMs).catch(() => undefined);
    throw new MeiliError('miroir_no_quorum', `Index creation needs every node; ${failures.map((f) => f.nodeId).join(', ')} did not accept it (${failures[0]!.reason}). Nothing was created.`);
  }
  return recordTask(deps, await deps.tasks.nextUid(), 'indexCreation', uid, { primaryKey }, acks);
}

export async function deleteIndex(deps: IndexDeps, uid: string): Promise<Reply> {
  checkIndexUid(uid);
  const { acks, failures } = await sendToAll(liveClients(deps.topology), 'DELETE', `/indexes/${encodeURIComponent(uid)}`, undefined, 'index_delete');
  if (acks.length === 0) throw new MeiliError('miroir_no_quorum', `No node accepted the deletion of \`${uid}\` (${failures[0]?.reason ?? 'no nodes'}).`);
  return recordTask(deps, await deps.tasks.nextUid(), 'indexDeletion', uid, { deletedDocuments: null }, acks);
}

/** Registers what happens once index tasks succeed on every node. */
export function registerIndexSettleSteps(deps: IndexDeps): void {
  deps.tasks.onSettle('indexCreation', async (task) => {
    const uid = task.indexUid!;
    const { acks, failures } = await sendToAll(liveClients(deps.topology), 'PATCH', `/indexes/${encodeURIComponent(uid)}/settings`, physicalSettings(defaultSettings(), [], deps.facetingOverfetch), 'settings_update');
    if (failures.length > 0) throw new MeiliError('internal', `pushing physical settings failed on ${failures.map((f) => f.nodeId).join(', ')}`);
    await waitForNodeTasks(deps.topology, acks, deps.verifyTimeoutMs);
    const now = new Date().toISOString();
    await deps.store.putIndex({ uid, primaryKey: (task.details?.primaryKey as string | null) ?? null, settings: defaultSettings(), settingsVersion: 1, fields: [], createdAt: task.enqueuedAt, updatedAt: now });
  });
  deps.tasks.onSettle('indexDeletion', async (task) => {
    await deps.store.deleteIndex(task.indexUid!);
  });
}
