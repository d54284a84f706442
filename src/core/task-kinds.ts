// Meilisearch's task statuses and task types, by name and in Meilisearch's order. No imports: the task model
// (tasks.ts) and the admin console's filters (src/ui/admin) share these lists.
export type TaskStatus = 'enqueued' | 'processing' | 'succeeded' | 'failed' | 'canceled';

/** Meilisearch's statuses, in its order (the order of `stats.status` and of error messages). */
export const TASK_STATUSES: readonly TaskStatus[] = Object.freeze([
  'enqueued',
  'processing',
  'succeeded',
  'failed',
  'canceled',
]);

/** Meilisearch's task types (`Kind`), in its order. */
export const TASK_TYPES: readonly string[] = Object.freeze([
  'documentAdditionOrUpdate',
  'documentEdition',
  'documentDeletion',
  'settingsUpdate',
  'indexCreation',
  'indexDeletion',
  'indexUpdate',
  'indexSwap',
  'taskCancelation',
  'taskDeletion',
  'dumpCreation',
  'snapshotCreation',
  'export',
  'upgradeDatabase',
  'indexCompaction',
  'networkTopologyChange',
  'dsrUpdate',
  'dsrClear',
]);
