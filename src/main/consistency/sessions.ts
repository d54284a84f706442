// Read-your-writes sessions (SPEC A6, Round 2 "Sessions"): a write sent with `X-Miroir-Session` is remembered in the
// session (in the store, `session_pinning.ttl_seconds`, so any pod honours it) with the replica group it pins — the
// first group to reach write quorum (ties → lowest id; broadcasts: the lowest-id group that took it). A read of the same index while such a write is still pending goes to
// that group: `block` first waits until the write's node tasks on that group are finished (polling from 25 ms,
// doubling, at most `max_wait_ms`; past it the read is answered from the group with `X-Miroir-Session-Stale: true`),
// `route_pin` does not wait. A finished write, or a pinned group that has no readable node left, clears the pin.
import { createHash } from 'node:crypto';
import { Counter, Gauge, Histogram } from 'prom-client';
import type { AuthResult } from '../../core/auth/authorize.js';
import { MeiliError } from '../../core/errors.js';
import { isFinished, type Store } from '../../store/store.js';
import type { TopologyService } from '../cluster/topology.js';
import type { Metrics } from '../observability/metrics.js';

export interface SessionsOptions {
  store: Store;
  topology: TopologyService;
  metrics: Metrics;
  /** `session_pinning.ttl_seconds` in ms. */
  ttlMs: number;
  /** `session_pinning.wait_strategy`. */
  strategy: 'block' | 'route_pin';
  /** `session_pinning.max_wait_ms`. */
  maxWaitMs: number;
}

interface SessionWrite {
  task: number;
  index: string | null;
  group: number | null;
}

interface SessionState {
  writes: SessionWrite[];
}

/** What a session asks of one index's read. */
export interface SessionPin {
  group: number | null;
  /** `block` gave up waiting (`X-Miroir-Session-Stale: true`). */
  stale: boolean;
}

const SESSION_RE = /^[\x21-\x7e]{1,128}$/;
/** Writes a session remembers (older ones are dropped; they are long finished in practice). */
const MAX_WRITES = 64;
const FIRST_POLL_MS = 25;

export class Sessions {
  private readonly pinned: Counter;
  private readonly waits: Histogram;
  private readonly timeouts: Counter;

  constructor(private readonly o: SessionsOptions) {
    const registers = [o.metrics.registry];
    const count = () => o.store.countExpiring('session');
    new Gauge({
      name: 'miroir_session_active_count',
      help: 'Read-your-writes sessions kept in the task store (every pod)',
      registers,
      async collect() {
        this.set(await count().catch(() => 0));
      },
    });
    this.pinned = new Counter({
      name: 'miroir_session_pin_enforced_total',
      help: "Reads routed to their session's pinned replica group",
      registers,
    });
    this.waits = new Histogram({
      name: 'miroir_session_wait_duration_seconds',
      help: "Time block-mode reads waited for their session's pending writes",
      buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10],
      registers,
    });
    this.timeouts = new Counter({
      name: 'miroir_session_wait_timeout_total',
      help: 'Block-mode reads answered stale after session_pinning.max_wait_ms',
      registers,
    });
  }

  /** The request's session id (null without the header); 400 miroir_invalid_session when malformed. */
  static id(raw: string | string[] | undefined): string | null {
    if (raw === undefined) return null;
    if (Array.isArray(raw) || !SESSION_RE.test(raw))
      throw new MeiliError('miroir_invalid_session', '`X-Miroir-Session` must be 1 to 128 printable ASCII characters.');
    return raw;
  }

  /** Sessions belong to the API key that uses them (another key's session of the same name is another session). */
  private key(auth: AuthResult | null, id: string): string {
    const scope = auth === null || auth.kind === 'open' ? 'open' : auth.kind === 'master' ? 'master' : auth.key.uid;
    return createHash('sha256').update(`${scope}\n${id}`).digest('hex');
  }

  /** Remembers a write (its Miroir task) in the session, with the group it pins. */
  async recordWrite(auth: AuthResult | null, id: string, task: number, index: string | null): Promise<void> {
    const key = this.key(auth, id);
    const group = await this.pinGroup(task);
    for (let attempt = 0; attempt < 10; attempt++) {
      const cur = await this.o.store.getExpiring('session', key);
      const state: SessionState = cur === null ? { writes: [] } : (JSON.parse(cur) as SessionState);
      if (!state.writes.some((w) => w.task === task)) state.writes.push({ task, index, group });
      if (state.writes.length > MAX_WRITES) state.writes.splice(0, state.writes.length - MAX_WRITES);
      if (await this.o.store.casExpiring('session', key, cur, JSON.stringify(state), this.o.ttlMs)) return;
    }
  }

  /** The group the write reached quorum in first; for other writes the lowest-id group whose nodes took it. */
  private async pinGroup(task: number): Promise<number | null> {
    const row = await this.o.store.getTask(task);
    if (row === null) return null;
    if (row.pinGroup !== undefined) return row.pinGroup;
    const groupOf = new Map(this.o.topology.current.nodes.map((n) => [n.id, n.replica_group]));
    const groups = [...new Set(Object.keys(row.nodeTasks).map((n) => groupOf.get(n)))].filter(
      (g): g is number => g !== undefined,
    );
    return groups.length === 0 ? null : Math.min(...groups);
  }

  /** What the session asks of a read of `index` (null: nothing pending, read as usual). */
  async forRead(auth: AuthResult | null, id: string, index: string): Promise<SessionPin | null> {
    const key = this.key(auth, id);
    const cur = await this.o.store.getExpiring('session', key);
    if (cur === null) return null;
    const state = JSON.parse(cur) as SessionState;
    const mine = state.writes.filter((w) => w.index === index);
    if (mine.length === 0) return null;
    const rows = await this.o.store.getTasks(mine.map((w) => w.task));
    const pending: Array<{ write: SessionWrite; nodeTasks: Record<string, number[]> }> = [];
    const finished = new Set<number>();
    mine.forEach((w, i) => {
      const row = rows[i] ?? null;
      if (row === null || isFinished(row)) finished.add(w.task);
      else pending.push({ write: w, nodeTasks: row.nodeTasks });
    });
    if (finished.size > 0) {
      // Forget what finished (best effort: a concurrent write to the session wins).
      const keep = state.writes.filter((w) => !finished.has(w.task));
      await this.o.store
        .casExpiring('session', key, cur, JSON.stringify({ writes: keep }), this.o.ttlMs)
        .catch(() => false);
    }
    if (pending.length === 0) return null;
    const group = pending[pending.length - 1]!.write.group;
    const table = this.o.topology.routing;
    const readable = this.o.topology.current.nodes.filter((n) => n.replica_group === group && table.canRead(n.id));
    if (group === null || readable.length === 0 || !table.activeGroups.includes(group)) return null; // the pin is cleared
    this.pinned.inc();
    if (this.o.strategy === 'route_pin') return { group, stale: false };
    const started = performance.now();
    const stale = !(await this.waitOnGroup(pending, new Set(readable.map((n) => n.id)), started));
    this.waits.observe((performance.now() - started) / 1000);
    if (stale) this.timeouts.inc();
    return { group, stale };
  }

  /** Waits until every pending task's node tasks on the group's nodes finished; false when max_wait_ms ran out. */
  private async waitOnGroup(
    rows: ReadonlyArray<{ nodeTasks: Record<string, number[]> }>,
    nodes: ReadonlySet<string>,
    started: number,
  ): Promise<boolean> {
    const perNode = new Map<string, number[]>();
    for (const row of rows)
      for (const [node, uids] of Object.entries(row.nodeTasks))
        if (nodes.has(node)) (perNode.get(node) ?? perNode.set(node, []).get(node)!).push(...uids);
    let delay = FIRST_POLL_MS;
    for (;;) {
      const open = await Promise.all(
        [...perNode].map(async ([node, uids]) => {
          const api = this.o.topology.client(node);
          if (api === undefined) return false;
          try {
            const seen = await api.tasks(uids);
            return uids.some((u) => {
              const t = seen.get(u);
              return t !== undefined && t.status !== 'succeeded' && t.status !== 'failed' && t.status !== 'canceled';
            });
          } catch {
            return true;
          }
        }),
      );
      if (!open.includes(true)) return true;
      const left = this.o.maxWaitMs - (performance.now() - started);
      if (left <= 0) return false;
      await new Promise((r) => setTimeout(r, Math.min(delay, left)));
      delay *= 2;
    }
  }
}
