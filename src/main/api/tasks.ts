// `GET /tasks` and `GET /tasks/{uid}` served from Miroir's task registry in Meilisearch's shapes: every filter,
// `from`/`next`/`reverse`, tasks of indexes the caller may not see left out; non-terminal tasks refreshed from
// their nodes first.
import { authAllowsIndex, type AuthResult } from '../../core/auth/authorize.js';
import { MeiliError } from '../../core/errors.js';
import { hasFilter, matches, pageTasks, parseTaskFilter, taskView, type TaskRecord } from '../../core/tasks.js';
import type { TaskRow } from '../../store/store.js';
import { acceptedReply, isTerminal } from '../tasks/registry.js';
import type { IndexDeps } from './indexes.js';

function asMeiliTask(t: TaskRow): TaskRecord {
  const { nodeTasks: _nodeTasks, ...rest } = t;
  void _nodeTasks;
  return { ...rest, batchUid: null };
}

export async function listTasks(deps: IndexDeps, query: URLSearchParams, auth: AuthResult): Promise<Record<string, unknown>> {
  const visible = (t: TaskRecord) => t.indexUid === null || authAllowsIndex(auth, t.indexUid);
  pageTasks([], query, visible); // validates every parameter with Meilisearch's errors
  if (!hasFilter(parseTaskFilter(query, ['limit', 'from', 'reverse'])) && (auth.kind === 'open' || auth.kind === 'master')) {
    // Unfiltered listing: one page from the store's uid index, no full scan.
    const limit = Number(query.get('limit') ?? 20);
    const from = query.get('from') === null ? null : Number(query.get('from'));
    const rows = await deps.store.listTasks({ from, limit: limit + 1, reverse: query.get('reverse') === 'true' });
    const page = await Promise.all(rows.slice(0, limit).map((t) => (isTerminal(t.status) ? t : deps.tasks.refresh(t))));
    return { results: page.map((t) => taskView(asMeiliTask(t))), total: await deps.store.countTasks(), limit, from: page[0]?.uid ?? null, next: rows[limit]?.uid ?? null };
  }
  const rows = await deps.store.listTasks({ limit: Number.MAX_SAFE_INTEGER });
  const fresh = await Promise.all(rows.map((t) => (isTerminal(t.status) ? t : deps.tasks.refresh(t))));
  return pageTasks(fresh.map(asMeiliTask), query, visible);
}

export async function getTask(deps: IndexDeps, raw: string, auth: AuthResult): Promise<Record<string, unknown>> {
  if (!/^\d+$/.test(raw)) throw new MeiliError('invalid_task_uids', `Invalid value in parameter \`taskUid\`: could not parse \`${raw}\` as a positive integer`);
  const t = await deps.tasks.get(Number(raw));
  if (t === null || (t.indexUid !== null && !authAllowsIndex(auth, t.indexUid))) throw new MeiliError('task_not_found', `Task \`${raw}\` not found.`);
  return taskView(asMeiliTask(t));
}

function missingFilters(what: 'cancel' | 'delete'): MeiliError {
  return new MeiliError(
    'missing_task_filters',
    `Query parameters to filter the tasks to ${what} are missing. Available query parameters are: \`uids\`, \`indexUids\`, \`statuses\`, \`types\`, \`canceledBy\`, \`beforeEnqueuedAt\`, \`afterEnqueuedAt\`, \`beforeStartedAt\`, \`afterStartedAt\`, \`beforeFinishedAt\`, \`afterFinishedAt\`.`,
  );
}

async function matching(deps: IndexDeps, query: URLSearchParams, auth: AuthResult): Promise<TaskRow[]> {
  const filter = parseTaskFilter(query);
  const rows = await deps.store.listTasks({ limit: Number.MAX_SAFE_INTEGER });
  return rows.filter((t) => (t.indexUid === null || authAllowsIndex(auth, t.indexUid)) && matches(asMeiliTask(t), filter));
}

async function recordLocalTask(deps: IndexDeps, type: string, details: Record<string, unknown>, nodeTasks: Record<string, number>): Promise<Record<string, unknown>> {
  const acks = Object.entries(nodeTasks).map(([nodeId, taskUid]) => ({ nodeId, taskUid }));
  return acceptedReply(await deps.tasks.create({ type, indexUid: null, details, acks })).body;
}

/** `POST /tasks/cancel`: cancels the node tasks of every matching unfinished Miroir task, as one Miroir task. */
export async function cancelTasks(deps: IndexDeps, query: URLSearchParams, auth: AuthResult): Promise<Record<string, unknown>> {
  if (!hasFilter(parseTaskFilter(query))) throw missingFilters('cancel');
  const matched = await matching(deps, query, auth);
  const perNode = new Map<string, number[]>();
  for (const t of matched) {
    if (isTerminal(t.status)) continue;
    for (const [node, uid] of Object.entries(t.nodeTasks)) perNode.set(node, [...(perNode.get(node) ?? []), uid]);
  }
  const nodeTasks: Record<string, number> = {};
  await Promise.all(
    [...perNode].map(async ([node, uids]) => {
      const res = await deps.topology.client(node)?.request({ method: 'POST', path: `/tasks/cancel?uids=${uids.join(',')}`, operation: 'task_cancel' }).catch(() => null);
      if (res && res.status === 202) nodeTasks[node] = JSON.parse(res.body.toString('utf8')).taskUid as number;
    }),
  );
  return recordLocalTask(deps, 'taskCancelation', { matchedTasks: matched.length, canceledTasks: null, originalFilter: `?${query.toString()}`, miroirCanceled: matched.filter((t) => !isTerminal(t.status)).map((t) => t.uid) }, nodeTasks);
}

/** `DELETE /tasks`: forgets matching finished Miroir tasks, as one Miroir task. */
export async function deleteTasks(deps: IndexDeps, query: URLSearchParams, auth: AuthResult): Promise<Record<string, unknown>> {
  if (!hasFilter(parseTaskFilter(query))) throw missingFilters('delete');
  const matched = await matching(deps, query, auth);
  const doomed = matched.filter((t) => isTerminal(t.status)).map((t) => t.uid);
  const deleted = await deps.store.deleteTasks(doomed);
  return recordLocalTask(deps, 'taskDeletion', { matchedTasks: matched.length, deletedTasks: deleted, originalFilter: `?${query.toString()}` }, {});
}

/** Once the node cancelations ran, the canceled Miroir tasks learn who canceled them and the count is final. */
export function registerTaskSettleSteps(deps: IndexDeps): void {
  deps.tasks.onSettle('taskCancelation', async (task) => {
    const uids = ((task.details?.miroirCanceled ?? []) as number[]);
    let canceled = 0;
    for (const uid of uids) {
      const t = await deps.tasks.get(uid);
      if (t !== null && t.status === 'canceled') {
        canceled++;
        await deps.store.putTask({ ...t, canceledBy: task.uid });
      }
    }
    const { miroirCanceled: _ignored, ...details } = task.details ?? {};
    void _ignored;
    task.details = { ...details, canceledTasks: canceled };
  });
}
