// `GET /tasks` and `GET /tasks/{uid}` served from Miroir's task registry in Meilisearch's shapes: every filter,
// `from`/`next`/`reverse`, tasks of indexes the caller may not see left out; non-terminal tasks refreshed from
// their nodes first.
import { authAllowsIndex, type AuthResult } from '../../core/auth/authorize.js';
import { MeiliError } from '../../core/errors.js';
import { pageTasks, taskView, type TaskRecord } from '../../core/tasks.js';
import type { TaskRow } from '../../store/store.js';
import { isTerminal } from '../tasks/registry.js';
import type { IndexDeps } from './indexes.js';

function asMeiliTask(t: TaskRow): TaskRecord {
  const { nodeTasks: _nodeTasks, ...rest } = t;
  void _nodeTasks;
  return { ...rest, batchUid: null };
}

export async function listTasks(deps: IndexDeps, query: URLSearchParams, auth: AuthResult): Promise<Record<string, unknown>> {
  const rows = await deps.store.listTasks({ limit: Number.MAX_SAFE_INTEGER });
  const fresh = await Promise.all(rows.map((t) => (isTerminal(t.status) ? t : deps.tasks.refresh(t))));
  return pageTasks(fresh.map(asMeiliTask), query, (t) => t.indexUid === null || authAllowsIndex(auth, t.indexUid));
}

export async function getTask(deps: IndexDeps, raw: string, auth: AuthResult): Promise<Record<string, unknown>> {
  if (!/^\d+$/.test(raw)) throw new MeiliError('invalid_task_uids', `Invalid value in parameter \`taskUid\`: could not parse \`${raw}\` as a positive integer`);
  const t = await deps.tasks.get(Number(raw));
  if (t === null || (t.indexUid !== null && !authAllowsIndex(auth, t.indexUid))) throw new MeiliError('task_not_found', `Task \`${raw}\` not found.`);
  return taskView(asMeiliTask(t));
}
