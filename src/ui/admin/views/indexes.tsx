// Indexes: logical document counts, shard count, settings version and the nodes still behind it (drift), and
// settings or index changes still pending in task order. Refreshed every 5 s.
import { api } from '../api.js';
import { count, dateTime } from '../format.js';
import { usePoll } from '../hooks.js';
import type { IndexRow } from './shapes.js';
import type { ViewProps } from './types.js';

export function IndexesView(_props: ViewProps) {
  const page = usePoll(
    (signal) => api<{ results: IndexRow[]; total: number }>('GET', '/_miroir/indexes?limit=100', undefined, { signal }),
    5000,
  );
  if (page.error !== null) return <p class="notice notice-error">Cannot read the indexes: {page.error}</p>;
  if (page.data === null) return <p>Loading…</p>;
  if (page.data.total === 0)
    return <p>No index yet. Clients create one with their first write or with POST /indexes.</p>;
  return (
    <>
      <p>
        {page.data.total} {page.data.total === 1 ? 'index' : 'indexes'}
        {page.data.total > page.data.results.length ? `, the first ${page.data.results.length} shown` : ''}.
      </p>
      <table>
        <caption class="sr-only">Indexes</caption>
        <thead>
          <tr>
            <th scope="col">Index</th>
            <th scope="col">Primary key</th>
            <th scope="col" class="num">
              Documents
            </th>
            <th scope="col" class="num">
              Shards
            </th>
            <th scope="col" class="num">
              Settings version
            </th>
            <th scope="col">Drift</th>
            <th scope="col" class="num">
              Pending changes
            </th>
            <th scope="col">Updated</th>
          </tr>
        </thead>
        <tbody>
          {page.data.results.map((i) => (
            <tr key={i.uid} data-index={i.uid}>
              <th scope="row">{i.uid}</th>
              <td>{i.primaryKey ?? '—'}</td>
              <td class="num" title={i.documents_error ?? undefined}>
                {i.numberOfDocuments === null ? 'unavailable' : count(i.numberOfDocuments)}
              </td>
              <td class="num">{i.shards}</td>
              <td class="num">{i.settings_version}</td>
              <td>
                {i.nodes_behind.length === 0
                  ? 'in sync'
                  : i.nodes_behind.map((n) => `${n.node_id} at ${n.settings_version}`).join(', ')}
              </td>
              <td class="num">{i.pending_changes}</td>
              <td>{dateTime(i.updatedAt)}</td>
            </tr>
          ))}
        </tbody>
      </table>
    </>
  );
}
