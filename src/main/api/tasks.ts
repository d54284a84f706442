// `GET /tasks`, `GET /tasks/{uid}`, `POST /tasks/cancel` and `DELETE /tasks` in Meilisearch's shapes, answered from
// the store (filtered and paged there) without waiting for settlement; tasks of indexes the caller may not see are
// left out. Cancelation and deletion are tasks of their own, settled once the tasks they matched are final.
import { authAllIndexes, authAllowsIndex, type AuthResult } from '../../core/auth/authorize.js';
import { batchNotFound, batchView, batchVisibility, parseBatchUid } from '../../core/batches.js';
import { parseTaskUid, rawQueryOf, taskNotFound, taskVisibility } from '../../core/tasks.js';
import { CONTROL_QUEUE, isFinished, type Store, type TaskRow } from '../../store/store.js';
import { broadcastWrite } from '../cluster/replicated-write.js';
import type { TopologyService } from '../cluster/topology.js';
import { matchTasks, queryBatches, queryTasks, type TaskPage } from '../tasks/query.js';
import { acceptedReply, meiliTask, taskBatch, taskJson, type TaskRegistry } from '../tasks/registry.js';
import type { Reply } from '../../http/server.js';

export interface TaskApiDeps {
  store: Store;
  tasks: TaskRegistry;
  topology: TopologyService;
}

/** Meilisearch's rule: every task when every index is authorized, else single-index tasks of authorized ones. */
function visibleTo(auth: AuthResult): (t: TaskRow) => boolean {
  const visible = taskVisibility(authAllIndexes(auth), (uid) => authAllowsIndex(auth, uid));
  return (t) => visible(meiliTask(t));
}

export function listTasks(deps: TaskApiDeps, query: URLSearchParams, auth: AuthResult): Promise<TaskPage> {
  return queryTasks(deps.store, query, visibleTo(auth));
}

export async function getTask(deps: TaskApiDeps, raw: string, auth: AuthResult): Promise<Record<string, unknown>> {
  const uid = parseTaskUid(raw);
  const t = await deps.tasks.get(uid);
  if (t === null || !visibleTo(auth)(t)) throw taskNotFound(uid);
  return taskJson(t);
}

function batchVisibleTo(auth: AuthResult): (t: TaskRow) => boolean {
  const visible = batchVisibility(authAllIndexes(auth), (uid) => authAllowsIndex(auth, uid));
  return (t) => visible(taskBatch(t), [meiliTask(t)]);
}

/** `GET /batches`: one batch per started task (see `meiliTask`). */
export function listBatches(deps: TaskApiDeps, query: URLSearchParams, auth: AuthResult): Promise<TaskPage> {
  const visible = batchVisibleTo(auth);
  return queryBatches(deps.store, query, (_b, t) => visible(t));
}

export async function getBatch(deps: TaskApiDeps, raw: string, auth: AuthResult): Promise<Record<string, unknown>> {
  const uid = parseBatchUid(raw);
  const t = await deps.tasks.get(uid);
  if (t === null || t.status === 'enqueued' || !batchVisibleTo(auth)(t)) throw batchNotFound(uid);
  return batchView(taskBatch(t));
}

/** Meilisearch answers its task cancelation and deletion with 200 (not 202), the summarized task as the body. */
function enqueuedWith200(reply: Reply): Reply {
  return { ...reply, status: 200 };
}

/** `POST /tasks/cancel`: the node tasks of every matching unfinished task are canceled; one Miroir task. */
export async function cancelTasks(
  deps: TaskApiDeps,
  query: URLSearchParams,
  rawUrl: string | undefined,
  auth: AuthResult,
): Promise<Reply> {
  const { filter, uids } = await matchTasks(deps.store, query, visibleTo(auth), 'cancel');
  const taskUid = await deps.tasks.allocate([CONTROL_QUEUE]);
  const perNode = new Map<string, number[]>();
  for (const row of await deps.store.getTasks(uids)) {
    if (row === null || isFinished(row)) continue;
    for (const [node, list] of Object.entries(row.nodeTasks))
      (perNode.get(node) ?? perNode.set(node, []).get(node)!).push(...list);
  }
  const nodes = [...perNode.keys()].map((id) => deps.topology.client(id)).filter((n) => n !== undefined);
  const { acks } = await broadcastWrite(nodes, (n) => n.cancelTasks(perNode.get(n.nodeId)!));
  void filter;
  const details = { matchedTasks: uids.length, canceledTasks: null, originalFilter: `?${rawQueryOf(rawUrl)}` };
  return enqueuedWith200(
    acceptedReply(
      await deps.tasks.create({
        uid: taskUid,
        type: 'taskCancelation',
        indexUid: null,
        queues: [CONTROL_QUEUE],
        details,
        acks,
        matched: uids,
      }),
    ),
  );
}

/** `DELETE /tasks`: the matching tasks are deleted once they are finished; one Miroir task. */
export async function deleteTasks(
  deps: TaskApiDeps,
  query: URLSearchParams,
  rawUrl: string | undefined,
  auth: AuthResult,
): Promise<Reply> {
  const { uids } = await matchTasks(deps.store, query, visibleTo(auth), 'delete');
  const taskUid = await deps.tasks.allocate([CONTROL_QUEUE]);
  const details = { matchedTasks: uids.length, deletedTasks: null, originalFilter: `?${rawQueryOf(rawUrl)}` };
  return enqueuedWith200(
    acceptedReply(
      await deps.tasks.create({
        uid: taskUid,
        type: 'taskDeletion',
        indexUid: null,
        queues: [CONTROL_QUEUE],
        details,
        matched: uids,
      }),
    ),
  );
}
