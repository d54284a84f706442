// Mode B leader election (SPEC H2; config `leader_election`): one LeaseKeeper per pod holds or contends for a
// store lease per scope (e.g. `rebalancer`, `reshard`), acquiring/renewing every renewMs with a ttlMs lease.
// Safety: a pod believes it leads only until a local monotonic deadline — the start of its last successful
// acquire/renew + ttl — which is never later than the lease's expiry in the store, so a pod whose renewals fail
// (store down, slow) stops believing before anyone else can take the lease; two pods never believe at once
// (assuming clocks advance at the same rate). A renewal answered "held by another" demotes at once. stop()
// demotes locally first, then releases, so a successor can take over within one renew interval.
import { performance } from 'node:perf_hooks';
import type { Lease, Store } from '../../store/store.js';
import { every, type Periodic } from '../util/periodic.js';

export interface LeaseKeeperOptions {
  store: Pick<Store, 'acquireLease' | 'releaseLease' | 'getLease'>;
  /** This pod's unique id (the lease owner). */
  owner: string;
  ttlMs: number;
  /** Must be below ttlMs (renewals need time to land before the lease expires). */
  renewMs: number;
  scopes: readonly string[];
  onChange?: (scope: string, isLeader: boolean) => void;
  /** `miroir_leader{scope}`: 1 while leading, 0 otherwise. */
  gauge?: { labels(scope: string): { set(value: number): void } };
  logger?: { info(obj: object, msg: string): void; warn(obj: object, msg: string): void };
}

interface ScopeState {
  leader: boolean;
  /** performance.now() after which leadership has lapsed without a renewal. */
  deadline: number;
  expiry: NodeJS.Timeout | null;
}

export class LeaseKeeper {
  private readonly opts: LeaseKeeperOptions;
  private readonly state = new Map<string, ScopeState>();
  private loop: Periodic | null = null;
  private ticking: Promise<void> | null = null;
  private started = false;
  private stopped = false;

  constructor(opts: LeaseKeeperOptions) {
    if (!(opts.ttlMs > 0) || !(opts.renewMs > 0) || opts.renewMs >= opts.ttlMs) {
      throw new Error(
        `leader election: renew interval (${opts.renewMs} ms) must be positive and below the lease ttl (${opts.ttlMs} ms)`,
      );
    }
    this.opts = opts;
    for (const scope of new Set(opts.scopes)) this.state.set(scope, { leader: false, deadline: 0, expiry: null });
  }

  get owner(): string {
    return this.opts.owner;
  }

  /** Tries every scope once before resolving, then renews/contends every renewMs. */
  async start(): Promise<void> {
    if (this.started) return;
    this.started = true;
    for (const scope of this.state.keys()) this.opts.gauge?.labels(scope).set(0);
    await this.runTick();
    this.loop = every(this.opts.renewMs, () => this.runTick());
  }

  /** Whether this pod leads `scope` right now (holds the lease and its local deadline has not passed). */
  isLeader(scope: string): boolean {
    const st = this.state.get(scope);
    return st !== undefined && st.leader && performance.now() < st.deadline;
  }

  /** Scopes this pod leads right now. */
  leading(): string[] {
    return [...this.state.keys()].filter((s) => this.isLeader(s));
  }

  /** The lease as the store sees it (any owner), for status output. */
  currentLease(scope: string): Promise<Lease | null> {
    return this.opts.store.getLease(scope);
  }

  /** Stops renewing, steps down everywhere, then releases this pod's leases so a successor need not wait for expiry. */
  async stop(): Promise<void> {
    if (this.stopped) return;
    this.stopped = true;
    await this.loop?.stop();
    await this.ticking?.catch(() => undefined);
    for (const scope of this.state.keys()) this.setLeader(scope, false);
    // Release every scope: releaseLease only deletes a lease this owner holds, and an acquire whose answer was
    // lost may have taken one we never learned about.
    await Promise.all(
      [...this.state.keys()].map(async (scope) => {
        try {
          await this.opts.store.releaseLease(scope, this.opts.owner);
        } catch (err) {
          this.opts.logger?.warn(
            { scope, err: String(err) },
            'could not release leader lease; it lapses after its ttl',
          );
        }
      }),
    );
  }

  private runTick(): Promise<void> {
    this.ticking = Promise.all([...this.state.keys()].map((scope) => this.tryScope(scope))).then(() => undefined);
    return this.ticking;
  }

  private async tryScope(scope: string): Promise<void> {
    if (this.stopped) return;
    const st = this.state.get(scope)!;
    const startedAt = performance.now();
    let acquired: boolean;
    try {
      acquired = await this.opts.store.acquireLease(scope, this.opts.owner, this.opts.ttlMs);
    } catch (err) {
      // Keep believing only until the local deadline; the expiry timer demotes then.
      if (st.leader) this.opts.logger?.warn({ scope, err: String(err) }, 'leader lease renewal failed');
      return;
    }
    if (this.stopped) return; // stop() steps down and releases after this tick
    if (acquired) {
      st.deadline = startedAt + this.opts.ttlMs;
      if (performance.now() >= st.deadline) return; // answered too late to rely on
      this.armExpiry(scope, st);
      this.setLeader(scope, true);
    } else {
      this.setLeader(scope, false);
    }
  }

  private armExpiry(scope: string, st: ScopeState): void {
    if (st.expiry !== null) clearTimeout(st.expiry);
    st.expiry = setTimeout(
      () => {
        st.expiry = null;
        if (performance.now() >= st.deadline) this.setLeader(scope, false);
        else this.armExpiry(scope, st);
      },
      Math.max(1, Math.ceil(st.deadline - performance.now())),
    );
    st.expiry.unref();
  }

  private setLeader(scope: string, leader: boolean): void {
    const st = this.state.get(scope)!;
    if (!leader && st.expiry !== null) {
      clearTimeout(st.expiry);
      st.expiry = null;
    }
    if (st.leader === leader) return;
    st.leader = leader;
    if (!leader) st.deadline = 0;
    this.opts.gauge?.labels(scope).set(leader ? 1 : 0);
    this.opts.logger?.info({ scope, owner: this.opts.owner }, leader ? 'acquired leader lease' : 'lost leader lease');
    try {
      this.opts.onChange?.(scope, leader);
    } catch (err) {
      this.opts.logger?.warn({ scope, err: String(err) }, 'leader onChange handler threw');
    }
  }
}

/** What `withLease` answers when another owner held the scope for the whole wait. */
export const NOT_ACQUIRED: unique symbol = Symbol('miroir.lease.not_acquired');

export interface WithLeaseOptions {
  store: Pick<Store, 'acquireLease' | 'releaseLease'>;
  scope: string;
  owner: string;
  ttlMs: number;
  /** Renewal period (default ttl / 3). */
  renewMs?: number;
  /** How long to keep trying while another owner holds the lease (default 0: one try). */
  waitMs?: number;
  /** Stops waiting, and aborts the work, when it fires. */
  signal?: AbortSignal;
}

/**
 * The one lease primitive for work that must run on one pod at a time: acquires `scope` (waiting up to `waitMs`
 * while another owner holds it), runs `fn` with a signal, renews every `renewMs`, and releases at the end. The
 * signal aborts when the local deadline — the start of the last successful acquire/renew plus the ttl, never later
 * than the lease's expiry in the store — passes without a renewal, or when another owner took the lease, so the
 * work stops before anyone else can hold the scope. Answers NOT_ACQUIRED when the lease could not be had.
 */
export async function withLease<T>(
  opts: WithLeaseOptions,
  fn: (signal: AbortSignal) => Promise<T>,
): Promise<T | typeof NOT_ACQUIRED> {
  const { store, scope, owner, ttlMs } = opts;
  const renewMs = opts.renewMs ?? Math.max(50, Math.floor(ttlMs / 3));
  const waitUntil = performance.now() + (opts.waitMs ?? 0);
  let startedAt: number;
  for (;;) {
    if (opts.signal?.aborted === true) return NOT_ACQUIRED;
    startedAt = performance.now();
    if (await store.acquireLease(scope, owner, ttlMs)) break;
    if (performance.now() >= waitUntil) return NOT_ACQUIRED;
    await new Promise((r) => setTimeout(r, Math.min(100, Math.max(10, renewMs / 4))));
  }
  const lost = new AbortController();
  let deadline = startedAt + ttlMs;
  const onOuterAbort = () => lost.abort(opts.signal?.reason);
  opts.signal?.addEventListener('abort', onOuterAbort, { once: true });
  let expiry: NodeJS.Timeout | null = null;
  const arm = () => {
    if (expiry !== null) clearTimeout(expiry);
    expiry = setTimeout(
      () => {
        if (performance.now() >= deadline) lost.abort(new Error(`lease ${scope} lapsed before it could be renewed`));
        else arm();
      },
      Math.max(1, Math.ceil(deadline - performance.now())),
    );
    expiry.unref();
  };
  arm();
  const renewal = every(renewMs, async () => {
    if (lost.signal.aborted) return;
    const at = performance.now();
    try {
      if (await store.acquireLease(scope, owner, ttlMs)) deadline = at + ttlMs;
      else lost.abort(new Error(`lease ${scope} was taken by another owner`));
    } catch {
      // Keep working only until the local deadline; the expiry timer aborts then.
    }
  });
  try {
    return await fn(lost.signal);
  } finally {
    await renewal.stop();
    if (expiry !== null) clearTimeout(expiry);
    opts.signal?.removeEventListener('abort', onOuterAbort);
    await store.releaseLease(scope, owner).catch(() => undefined);
  }
}
