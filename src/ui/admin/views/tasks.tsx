// Tasks: Miroir's task list with Meilisearch's filters (status, type, index) and paging to older tasks, and one task
// followed live (refreshed every second until it is finished), its details and error.
import { useState } from 'preact/hooks';
import { TASK_STATUSES, TASK_TYPES } from '../../../core/task-kinds.js';
import { api } from '../api.js';
import { Field, StateBadge } from '../components.js';
import { dateTime, duration } from '../format.js';
import { usePoll } from '../hooks.js';
import type { Task, TaskPage } from './shapes.js';
import type { ViewProps } from './types.js';

const FINISHED = new Set(['succeeded', 'failed', 'canceled']);

function FollowedTask({ uid, onClose }: { uid: number; onClose(): void }) {
  const task = usePoll((signal) => api<Task>('GET', `/_miroir/tasks/${uid}`, undefined, { signal }), 1000, [uid]);
  const t = task.data;
  const done = t !== null && FINISHED.has(t.status);
  return (
    <section class="panel" aria-labelledby="followed-h">
      <h2 id="followed-h">Task {uid}</h2>
      {task.error !== null && <p class="notice notice-error">{task.error}</p>}
      {t !== null && (
        <>
          <p aria-live="polite" data-task-status={t.status}>
            Status: <StateBadge state={t.status} /> {done ? '' : '(following live)'}
          </p>
          <dl class="pairs">
            <dt>Type</dt>
            <dd>{t.type}</dd>
            <dt>Index</dt>
            <dd>{t.indexUid ?? '—'}</dd>
            <dt>Enqueued</dt>
            <dd>{dateTime(t.enqueuedAt)}</dd>
            <dt>Started</dt>
            <dd>{dateTime(t.startedAt)}</dd>
            <dt>Finished</dt>
            <dd>{dateTime(t.finishedAt)}</dd>
          </dl>
          {t.error != null && (
            <p class="notice notice-error">
              {t.error.code}: {t.error.message}
            </p>
          )}
          {t.details != null && <pre class="json">{JSON.stringify(t.details, null, 2)}</pre>}
        </>
      )}
      <button type="button" onClick={onClose}>
        Stop following
      </button>
    </section>
  );
}

export function TasksView(_props: ViewProps) {
  const [status, setStatus] = useState('');
  const [type, setType] = useState('');
  const [index, setIndex] = useState('');
  const [from, setFrom] = useState<number | null>(null);
  const [followed, setFollowed] = useState<number | null>(null);
  const query = new URLSearchParams({ limit: '20' });
  if (status !== '') query.set('statuses', status);
  if (type !== '') query.set('types', type);
  if (index.trim() !== '') query.set('indexUids', index.trim());
  if (from !== null) query.set('from', String(from));
  const qs = query.toString();
  const page = usePoll((signal) => api<TaskPage>('GET', `/_miroir/tasks?${qs}`, undefined, { signal }), 2000, [qs]);
  const filter = (set: (v: string) => void) => (e: Event) => {
    set((e.target as HTMLInputElement | HTMLSelectElement).value);
    setFrom(null);
  };
  return (
    <>
      <form class="filters" onSubmit={(e) => e.preventDefault()} aria-label="Filter tasks">
        <Field id="filter-status" label="Status">
          <select id="filter-status" value={status} onChange={filter(setStatus)}>
            <option value="">any</option>
            {TASK_STATUSES.map((s) => (
              <option key={s} value={s}>
                {s}
              </option>
            ))}
          </select>
        </Field>
        <Field id="filter-type" label="Type">
          <select id="filter-type" value={type} onChange={filter(setType)}>
            <option value="">any</option>
            {TASK_TYPES.map((s) => (
              <option key={s} value={s}>
                {s}
              </option>
            ))}
          </select>
        </Field>
        <Field id="filter-index" label="Index">
          <input id="filter-index" value={index} onChange={filter(setIndex)} placeholder="any" />
        </Field>
      </form>
      {followed !== null && <FollowedTask uid={followed} onClose={() => setFollowed(null)} />}
      {page.error !== null && <p class="notice notice-error">Cannot read the tasks: {page.error}</p>}
      {page.data === null ? (
        <p>Loading…</p>
      ) : page.data.results.length === 0 ? (
        <p>No task matches.</p>
      ) : (
        <>
          <table data-query={qs}>
            <caption class="sr-only">Tasks, newest first</caption>
            <thead>
              <tr>
                <th scope="col" class="num">
                  Uid
                </th>
                <th scope="col">Index</th>
                <th scope="col">Type</th>
                <th scope="col">Status</th>
                <th scope="col">Enqueued</th>
                <th scope="col">Duration</th>
                <th scope="col">
                  <span class="sr-only">Actions</span>
                </th>
              </tr>
            </thead>
            <tbody>
              {page.data.results.map((t) => (
                <tr key={t.uid} data-task={t.uid}>
                  <th scope="row" class="num">
                    {t.uid}
                  </th>
                  <td>{t.indexUid ?? '—'}</td>
                  <td>{t.type}</td>
                  <td>
                    <StateBadge state={t.status} />
                  </td>
                  <td>{dateTime(t.enqueuedAt)}</td>
                  <td>{duration(t.startedAt, t.finishedAt)}</td>
                  <td>
                    <button type="button" onClick={() => setFollowed(t.uid)} aria-label={`Follow task ${t.uid}`}>
                      Follow
                    </button>
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
          <p class="buttons">
            {from !== null && (
              <button type="button" onClick={() => setFrom(null)}>
                Newest tasks
              </button>
            )}
            {page.data.next !== null && (
              <button type="button" onClick={() => setFrom(page.data!.next)}>
                Older tasks
              </button>
            )}
            <span>{page.data.total} tasks match.</span>
          </p>
        </>
      )}
    </>
  );
}
