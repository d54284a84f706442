// Cluster overview: shape and coverage, the running topology change with its progress, and every node by replica
// group with lifecycle state, health, shard count and last contact. Refreshed every 2 s.
import { api } from '../api.js';
import { Progress, StateBadge } from '../components.js';
import { age, count } from '../format.js';
import { usePoll } from '../hooks.js';
import { operationTarget, type RebalanceStatus, type Topology } from './shapes.js';
import type { ViewProps } from './types.js';

export function OverviewView(_props: ViewProps) {
  const topo = usePoll((signal) => api<Topology>('GET', '/_miroir/topology', undefined, { signal }), 2000);
  const status = usePoll(
    (signal) => api<RebalanceStatus>('GET', '/_miroir/rebalance/status', undefined, { signal }),
    2000,
  );
  const t = topo.data;
  const running = (status.data?.operations ?? []).filter((o) => o.phase !== 'done' && o.phase !== 'failed');
  return (
    <>
      {topo.error !== null && <p class="notice notice-error">Cannot read the topology: {topo.error}</p>}
      {t === null ? (
        <p>Loading…</p>
      ) : (
        <>
          <dl class="stats">
            <div>
              <dt>Shards</dt>
              <dd>{count(t.shards)}</dd>
            </div>
            <div>
              <dt>Replication factor</dt>
              <dd>{t.replication_factor}</dd>
            </div>
            <div>
              <dt>Replica groups</dt>
              <dd>{t.groups.length}</dd>
            </div>
            <div>
              <dt>Coverage</dt>
              <dd>{t.fully_covered ? <StateBadge state="ready" /> : <StateBadge state="degraded" />}</dd>
            </div>
            <div>
              <dt>Unhealthy nodes</dt>
              <dd>{t.degraded_node_count}</dd>
            </div>
            <div>
              <dt>Topology change</dt>
              <dd>{t.rebalance_in_progress ? 'running' : 'none'}</dd>
            </div>
          </dl>
          {!t.fully_covered && (
            <p class="notice notice-error">
              Some shards have no healthy copy: reads miss their documents and writes to them are refused.
            </p>
          )}
          {running.length > 0 && (
            <section aria-labelledby="running-h">
              <h2 id="running-h">Running change</h2>
              <ul class="plain">
                {running.map((op) => (
                  <li key={op.id}>
                    <strong>{op.kind}</strong> {operationTarget(op)} — {op.phase}{' '}
                    <Progress
                      done={op.shards_done ?? 0}
                      total={op.shards_total ?? 0}
                      label={`Shards moved by ${op.kind} ${operationTarget(op)}`}
                    />
                  </li>
                ))}
              </ul>
            </section>
          )}
          {t.groups.map((g) => {
            const nodes = t.nodes.filter((n) => n.replica_group === g.id);
            return (
              <section key={g.id} aria-labelledby={`group-${g.id}`}>
                <h2 id={`group-${g.id}`}>
                  Replica group {g.id} <StateBadge state={g.state} />
                </h2>
                <table>
                  <caption class="sr-only">Nodes of replica group {g.id}</caption>
                  <thead>
                    <tr>
                      <th scope="col">Node</th>
                      <th scope="col">Address</th>
                      <th scope="col">State</th>
                      <th scope="col">Health</th>
                      <th scope="col" class="num">
                        Shards
                      </th>
                      <th scope="col">Last seen</th>
                      <th scope="col">Note</th>
                    </tr>
                  </thead>
                  <tbody>
                    {nodes.map((n) => (
                      <tr key={n.id} data-node={n.id} data-health={n.health}>
                        <th scope="row">{n.id}</th>
                        <td class="mono">{n.address}</td>
                        <td>
                          <StateBadge state={n.state} />
                        </td>
                        <td>
                          <StateBadge state={n.health} />
                        </td>
                        <td class="num">{n.shard_count}</td>
                        <td>{age(n.last_seen_ms)}</td>
                        <td>{n.catching_up === true ? 'catching up (no reads until caught up)' : (n.error ?? '')}</td>
                      </tr>
                    ))}
                  </tbody>
                </table>
              </section>
            );
          })}
        </>
      )}
    </>
  );
}
