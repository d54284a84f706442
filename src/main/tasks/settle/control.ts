// Settling task deletions and cancelations (Meilisearch runs them after the batch in progress): they settle once
// every task they matched is final. A deletion then removes the matched tasks that finished; a cancelation counts
// the matched tasks that ended canceled and marks them `canceledBy`.
import { isFinished, type Store } from '../../../store/store.js';
import type { SettleModule } from '../settler.js';

export function controlModules(store: Store): Array<[string, SettleModule]> {
  return [
    [
      'taskDeletion',
      async (ctx) => {
        const matched = (ctx.task.matched ?? []).filter((u) => u !== ctx.task.uid);
        const rows = await store.getTasks(matched);
        const doomed = rows.filter((r) => r !== null && isFinished(r)).map((r) => r!.uid);
        const deleted = await store.deleteTasks(doomed);
        return { status: 'succeeded', error: null, details: { ...(ctx.task.details ?? {}), deletedTasks: deleted } };
      },
    ],
    [
      'taskCancelation',
      async (ctx) => {
        const rows = await store.getTasks((ctx.task.matched ?? []).filter((u) => u !== ctx.task.uid));
        let canceled = 0;
        for (const r of rows) {
          if (r === null || r.status !== 'canceled') continue;
          canceled++;
          if (r.canceledBy === null) await store.putTask({ ...r, canceledBy: ctx.task.uid });
        }
        return { status: 'succeeded', error: null, details: { ...(ctx.task.details ?? {}), canceledTasks: canceled } };
      },
    ],
  ];
}
