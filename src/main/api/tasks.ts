// `GET /tasks`, `GET /tasks/{uid}`, `POST /tasks/cancel` and `DELETE /tasks` in Meilisearch's shapes, answered from
// the store (filtered and paged there) without waiting for settlement; tasks of indexes the caller may not see are
// left out. Cancelation and deletion are tasks of their own, settled once the tasks they matched are final.
import { authAllowsIndex, type AuthResult } from '../../core/auth/authorize.js';
import { MeiliError } from '../../core/errors.js';
import { CONTROL_QUEUE, isFinished, type Store, type TaskRow } from '../../store/store.js';
import { broadcastWrite } from '../cluster/replicated-write.js';
import type { TopologyService } from '../cluster/topology.js';
import { matchTasks, queryTasks, type TaskPage } from '../tasks/query.js';
import { acceptedReply, taskJson, type TaskRegistry } from '../tasks/registry.js';
import type { Reply } from '../server/http.js';

export interface TaskApiDeps {
  store: Store;
  tasks: TaskRegistry;
  topology: TopologyService;
}

function visibleTo(auth: AuthResult): (t: TaskRow) => boolean {
  return (t) => t.indexUid === null || authAllowsIndex(auth, t.indexUid);
}

export function listTasks(deps: TaskApiDeps, query: URLSearchParams, auth: AuthResult): Promise<TaskPage> {
  return queryTasks(deps.store, query, visibleTo(auth), auth.kind === 'open' || auth.kind === 'master');
}

export async function getTask(deps: TaskApiDeps, raw: string, auth: AuthResult): Promise<Record<string, unknown>> {
  if (!/^\d+$/.test(raw)) throw new MeiliError('invalid_task_uids', `Invalid value in parameter \`taskUid\`: could not parse \`${raw}\` as a positive integer`);
  const t = await deps.tasks.get(Number(raw));
  if (t === null || !visibleTo(auth)(t)) throw new MeiliError('task_not_found', `Task \`${raw}\` not found.`);
  return taskJson(t);
}

/** `POST /tasks/cancel`: the node tasks of every matching unfinished task are canceled; one Miroir task. */
export async function cancelTasks(deps: TaskApiDeps, query: URLSearchParams, auth: AuthResult): Promise<Reply> {
  const { filter, uids } = await matchTasks(deps.store, query, visibleTo(auth), 'cancel');
  const taskUid = await deps.tasks.allocate([CONTROL_QUEUE]);
  const perNode = new Map<string, number[]>();
  for (const row of await deps.store.getTasks(uids)) {
    if (row === null || isFinished(row)) continue;
    for (const [node, list] of Object.entries(row.nodeTasks)) (perNode.get(node) ?? perNode.set(node, []).get(node)!).push(...list);
  }
  const nodes = [...perNode.keys()].map((id) => deps.topology.client(id)).filter((n) => n !== undefined);
  const { acks } = await broadcastWrite(nodes, (n) => n.cancelTasks(perNode.get(n.nodeId)!));
  const details = { matchedTasks: uids.length, canceledTasks: null, originalFilter: `?${filter.original}` };
  return acceptedReply(await deps.tasks.create({ uid: taskUid, type: 'taskCancelation', indexUid: null, queues: [CONTROL_QUEUE], details, acks, matched: uids }));
}

/** `DELETE /tasks`: the matching tasks are deleted once they are finished; one Miroir task. */
export async function deleteTasks(deps: TaskApiDeps, query: URLSearchParams, auth: AuthResult): Promise<Reply> {
  const { filter, uids } = await matchTasks(deps.store, query, visibleTo(auth), 'delete');
  const taskUid = await deps.tasks.allocate([CONTROL_QUEUE]);
  const details = { matchedTasks: uids.length, deletedTasks: null, originalFilter: `?${filter.original}` };
  return acceptedReply(await deps.tasks.create({ uid: taskUid, type: 'taskDeletion', indexUid: null, queues: [CONTROL_QUEUE], details, matched: uids }));
}
