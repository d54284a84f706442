// Topology changes: the rebalance status with each change's phase and progress (followed live), and the actions —
// start a rebalance, add a node, drain or remove a node, remove a replica group; the destructive ones ask for the
// node's or group's name to be retyped. Hidden in read-only mode.
import { useState } from 'preact/hooks';
import { api, errorText } from '../api.js';
import { Field, Progress, StateBadge } from '../components.js';
import { count, dateTime } from '../format.js';
import { usePoll } from '../hooks.js';
import { operationTarget, type RebalanceStatus, type Topology } from './shapes.js';
import type { ViewProps } from './types.js';

function AddNode({ act }: { act(label: string, method: 'POST', path: string, body: unknown): Promise<boolean> }) {
  const [id, setId] = useState('');
  const [address, setAddress] = useState('');
  const [group, setGroup] = useState('0');
  return (
    <form
      class="panel"
      aria-labelledby="add-node-h"
      onSubmit={async (e) => {
        e.preventDefault();
        if (await act(`Addition of ${id}`, 'POST', '/_miroir/nodes', { id, address, replica_group: Number(group) })) {
          setId('');
          setAddress('');
        }
      }}
    >
      <h2 id="add-node-h">Add a node</h2>
      <p>The node must answer GET /health already. A new group id creates that replica group.</p>
      <div class="fields">
        <Field id="add-id" label="Node id (never used before)">
          <input
            id="add-id"
            name="id"
            required
            value={id}
            onInput={(e) => setId((e.target as HTMLInputElement).value)}
          />
        </Field>
        <Field id="add-address" label="Address">
          <input
            id="add-address"
            name="address"
            type="url"
            required
            placeholder="http://meili-3:7700"
            value={address}
            onInput={(e) => setAddress((e.target as HTMLInputElement).value)}
          />
        </Field>
        <Field id="add-group" label="Replica group">
          <input
            id="add-group"
            name="group"
            type="number"
            min={0}
            required
            value={group}
            onInput={(e) => setGroup((e.target as HTMLInputElement).value)}
          />
        </Field>
      </div>
      <button type="submit">Add node</button>
    </form>
  );
}

export function RebalanceView({ session, notify, confirm }: ViewProps) {
  const status = usePoll(
    (signal) => api<RebalanceStatus>('GET', '/_miroir/rebalance/status', undefined, { signal }),
    1000,
  );
  const topo = usePoll((signal) => api<Topology>('GET', '/_miroir/topology', undefined, { signal }), 2000);
  const [nodeId, setNodeId] = useState('');
  const [force, setForce] = useState(false);
  const [groupId, setGroupId] = useState('');
  const nodes = (topo.data?.nodes ?? []).filter((n) => n.state === 'active' || n.state === 'joining');
  const groups = topo.data?.groups ?? [];
  const chosenNode = nodeId !== '' && nodes.some((n) => n.id === nodeId) ? nodeId : (nodes[0]?.id ?? '');
  const chosenGroup =
    groupId !== '' && groups.some((g) => String(g.id) === groupId) ? groupId : String(groups[0]?.id ?? '');

  const act = async (label: string, method: 'POST' | 'DELETE', path: string, body?: unknown): Promise<boolean> => {
    try {
      await api(method, path, body);
      notify({ kind: 'ok', text: `${label} queued; follow it below.` });
      status.refresh();
      topo.refresh();
      return true;
    } catch (err) {
      notify({ kind: 'error', text: `${label} refused: ${errorText(err)}` });
      return false;
    }
  };
  const s = status.data;
  return (
    <>
      {status.error !== null && <p class="notice notice-error">Cannot read the rebalance status: {status.error}</p>}
      {s === null ? (
        <p>Loading…</p>
      ) : (
        <section aria-labelledby="status-h">
          <h2 id="status-h">Status</h2>
          <p data-in-progress={String(s.in_progress)}>
            {s.in_progress ? 'A change is running.' : 'Nothing is running.'} Started {dateTime(s.started_at)}, finished{' '}
            {dateTime(s.finished_at)}.
          </p>
          {s.last_error !== null && <p class="notice notice-error">Last error: {s.last_error}</p>}
          {s.operations.length === 0 ? (
            <p>No topology change yet.</p>
          ) : (
            <table>
              <caption class="sr-only">Topology changes, oldest first</caption>
              <thead>
                <tr>
                  <th scope="col">Change</th>
                  <th scope="col">Kind</th>
                  <th scope="col">Target</th>
                  <th scope="col">Phase</th>
                  <th scope="col">Shards moved</th>
                  <th scope="col" class="num">
                    Documents copied
                  </th>
                </tr>
              </thead>
              <tbody>
                {s.operations.map((op) => (
                  <tr key={op.id} data-operation={op.kind} data-target={operationTarget(op)} data-phase={op.phase}>
                    <th scope="row" class="mono">
                      {op.id}
                    </th>
                    <td>{op.kind}</td>
                    <td>{operationTarget(op)}</td>
                    <td>
                      <StateBadge state={op.phase} />
                      {op.error ? <span class="small"> {op.error}</span> : null}
                    </td>
                    <td>
                      <Progress
                        done={op.shards_done ?? 0}
                        total={op.shards_total ?? 0}
                        label={`Shards moved by ${op.kind} ${operationTarget(op)}`}
                      />
                    </td>
                    <td class="num">{count(op.documents_copied ?? 0)}</td>
                  </tr>
                ))}
              </tbody>
            </table>
          )}
        </section>
      )}
      {!session.read_only && (
        <>
          <section class="panel" aria-labelledby="rebalance-h">
            <h2 id="rebalance-h">Rebalance</h2>
            <p>Converges pending work: nodes catching up after an outage, or an interrupted change.</p>
            <button type="button" onClick={() => void act('Rebalance', 'POST', '/_miroir/rebalance')}>
              Start a rebalance
            </button>
          </section>
          <AddNode act={act} />
          <section class="panel" aria-labelledby="node-actions-h">
            <h2 id="node-actions-h">Drain or remove a node</h2>
            <p>
              Draining moves the node's shards to their new owners, then retires it. Removing drains first when needed.
            </p>
            <div class="fields">
              <Field id="target-node" label="Node">
                <select
                  id="target-node"
                  name="node"
                  value={chosenNode}
                  onChange={(e) => setNodeId((e.target as HTMLSelectElement).value)}
                >
                  {nodes.map((n) => (
                    <option key={n.id} value={n.id}>
                      {n.id} (group {n.replica_group}, {n.health})
                    </option>
                  ))}
                </select>
              </Field>
              <label class="check">
                <input
                  type="checkbox"
                  name="force"
                  checked={force}
                  onChange={(e) => setForce((e.target as HTMLInputElement).checked)}
                />
                Force removal: give up the node's data (shards without another copy lose their documents)
              </label>
            </div>
            <p class="buttons">
              <button
                type="button"
                class="danger"
                disabled={chosenNode === ''}
                onClick={() =>
                  confirm({
                    title: `Drain node ${chosenNode}?`,
                    body: `Its shards move to the other nodes of its replica group, then ${chosenNode} is retired for good (its id is never reused).`,
                    name: chosenNode,
                    action: 'Drain node',
                    run: async () =>
                      void (await act(
                        `Drain of ${chosenNode}`,
                        'POST',
                        `/_miroir/nodes/${encodeURIComponent(chosenNode)}/drain`,
                      )),
                  })
                }
              >
                Drain…
              </button>
              <button
                type="button"
                class="danger"
                disabled={chosenNode === ''}
                onClick={() =>
                  confirm({
                    title: `Remove node ${chosenNode}?`,
                    body: force
                      ? `${chosenNode}'s data is given up: its shards are refilled from replicas only.`
                      : `${chosenNode} is drained first, then removed from the cluster.`,
                    name: chosenNode,
                    action: 'Remove node',
                    run: async () =>
                      void (await act(
                        `Removal of ${chosenNode}`,
                        'DELETE',
                        `/_miroir/nodes/${encodeURIComponent(chosenNode)}${force ? '?force=true' : ''}`,
                      )),
                  })
                }
              >
                Remove…
              </button>
            </p>
          </section>
          <section class="panel" aria-labelledby="group-actions-h">
            <h2 id="group-actions-h">Remove a replica group</h2>
            <p>The group stops serving reads at once; nothing is copied (the other groups hold every shard).</p>
            <div class="fields">
              <Field id="target-group" label="Replica group">
                <select
                  id="target-group"
                  name="group"
                  value={chosenGroup}
                  onChange={(e) => setGroupId((e.target as HTMLSelectElement).value)}
                >
                  {groups.map((g) => (
                    <option key={g.id} value={String(g.id)}>
                      {g.id} ({g.state})
                    </option>
                  ))}
                </select>
              </Field>
            </div>
            <button
              type="button"
              class="danger"
              disabled={chosenGroup === ''}
              onClick={() =>
                confirm({
                  title: `Remove replica group ${chosenGroup}?`,
                  body: `Group ${chosenGroup} stops serving reads now and its nodes are retired.`,
                  name: chosenGroup,
                  action: 'Remove group',
                  run: async () =>
                    void (await act(
                      `Removal of group ${chosenGroup}`,
                      'DELETE',
                      `/_miroir/groups/${encodeURIComponent(chosenGroup)}`,
                    )),
                })
              }
            >
              Remove group…
            </button>
          </section>
        </>
      )}
    </>
  );
}
