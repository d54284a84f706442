// Shard map: for each replica group, which node holds each shard and at which rank (1 = first owner), from
// `GET /_miroir/shards`. Wide maps scroll sideways. Refreshed every 5 s.
import { api } from '../api.js';
import { Scroll } from '../components.js';
import { usePoll } from '../hooks.js';
import type { ShardsView as Shards } from './shapes.js';
import type { ViewProps } from './types.js';

export function ShardsView(_props: ViewProps) {
  const view = usePoll((signal) => api<Shards>('GET', '/_miroir/shards', undefined, { signal }), 5000);
  const v = view.data;
  if (view.error !== null) return <p class="notice notice-error">Cannot read the shard map: {view.error}</p>;
  if (v === null) return <p>Loading…</p>;
  const shards = Array.from({ length: v.shards }, (_, i) => i);
  return (
    <>
      <p>
        {v.shards} shards, {v.replication_factor} {v.replication_factor === 1 ? 'copy' : 'copies'} in every replica
        group. A number is the node's rank among the shard's owners (1 = first).
      </p>
      {v.groups.map((g) => {
        const nodes = [...new Set(Object.values(g.assignments).flat())].sort();
        return (
          <section key={g.id} aria-labelledby={`map-${g.id}`}>
            <h2 id={`map-${g.id}`}>Replica group {g.id}</h2>
            <Scroll label={`Shard map of replica group ${g.id}`}>
              <table class="map">
                <caption class="sr-only">Owners of each shard in replica group {g.id}</caption>
                <thead>
                  <tr>
                    <th scope="col">Node</th>
                    {shards.map((s) => (
                      <th scope="col" key={s} class="num">
                        {s}
                      </th>
                    ))}
                    <th scope="col" class="num">
                      Total
                    </th>
                  </tr>
                </thead>
                <tbody>
                  {nodes.map((node) => {
                    let total = 0;
                    return (
                      <tr key={node}>
                        <th scope="row">{node}</th>
                        {shards.map((s) => {
                          const rank = (g.assignments[String(s)] ?? []).indexOf(node);
                          if (rank >= 0) total++;
                          return (
                            <td key={s} class={rank === 0 ? 'num held first' : rank > 0 ? 'num held' : 'num'}>
                              {rank >= 0 ? rank + 1 : ''}
                            </td>
                          );
                        })}
                        <td class="num">{total}</td>
                      </tr>
                    );
                  })}
                </tbody>
              </table>
            </Scroll>
          </section>
        );
      })}
    </>
  );
}
