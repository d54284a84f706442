// Continuous client load for topology tests: one writer (sequential batches through Miroir, every acknowledged
// document version remembered) and one searcher; each counts its failed requests. `stop` waits for both loops.
export interface LoadStats {
  writes: number;
  searches: number;
  failedWrites: string[];
  failedSearches: string[];
  /** document id → the `v` of its last acknowledged version. */
  lastVersion: Map<number, number>;
  taskUids: number[];
}

export interface Load {
  stats: LoadStats;
  stop(): Promise<LoadStats>;
}

const active = new Set<Load>();

/** Stops every load still running (for `after` hooks, so a failed assertion never leaves loops behind). */
export async function stopAllLoads(): Promise<void> {
  await Promise.all([...active].map((l) => l.stop()));
}

export function startLoad(opts: {
  url: string;
  key: string;
  index: string;
  ids: number;
  batch?: number;
  newIdsFrom?: number;
}): Load {
  const stats: LoadStats = {
    writes: 0,
    searches: 0,
    failedWrites: [],
    failedSearches: [],
    lastVersion: new Map(),
    taskUids: [],
  };
  let live = true;
  const headers = { authorization: `Bearer ${opts.key}`, 'content-type': 'application/json' };
  let v = 1_000_000;
  let nextNew = opts.newIdsFrom ?? opts.ids;
  const writer = (async () => {
    while (live) {
      v++;
      const docs = Array.from({ length: opts.batch ?? 20 }, (_, i) => ({
        id: i === 0 ? nextNew++ : Math.floor(Math.random() * opts.ids),
        title: `load ${v}`,
        v,
      }));
      try {
        const res = await fetch(`${opts.url}/indexes/${opts.index}/documents`, {
          method: 'POST',
          headers,
          body: JSON.stringify(docs),
        });
        if (res.status !== 202) stats.failedWrites.push(`${res.status} ${await res.text()}`);
        else {
          stats.taskUids.push(((await res.json()) as { taskUid: number }).taskUid);
          for (const d of docs) stats.lastVersion.set(d.id, v);
          stats.writes++;
        }
      } catch (err) {
        stats.failedWrites.push(String(err));
      }
    }
  })();
  const searcher = (async () => {
    while (live) {
      try {
        const res = await fetch(`${opts.url}/indexes/${opts.index}/search`, {
          method: 'POST',
          headers,
          body: JSON.stringify({ q: 'doc', limit: 5 }),
        });
        const body = await res.text();
        if (res.status !== 200 || res.headers.get('x-miroir-degraded') !== null)
          stats.failedSearches.push(
            `${res.status} ${res.headers.get('x-miroir-degraded') ?? ''} ${body.slice(0, 200)}`,
          );
        else stats.searches++;
      } catch (err) {
        stats.failedSearches.push(String(err));
      }
    }
  })();
  const load: Load = {
    stats,
    async stop() {
      live = false;
      active.delete(load);
      await Promise.all([writer, searcher]);
      return stats;
    },
  };
  active.add(load);
  return load;
}
