// HOT PATH. Query coalescing per pod (SPEC A10, Round 2 "Coalescing"): identical searches — same index, settings
// version, canonical body and the same effective search rules — arriving within `query_coalescing.window_ms` of the
// first one's scatter share its answer instead of asking the nodes again. Tenant tokens never share (each token is
// its own key); API keys without search rules share with each other (they see the same documents). What is shared
// is the merged answer before the per-request parts (`requestUid`), so a coalesced answer is the one an uncoalesced
// search would give.
import { createHash } from 'node:crypto';
import { Counter } from 'prom-client';
import { tenantFilter, type AuthResult } from '../../core/auth/authorize.js';
import { canonicalJson } from '../../core/canonical-json.js';
import type { Metrics } from '../observability/metrics.js';

export interface CoalescerOptions {
  metrics: Metrics;
  /** `query_coalescing.window_ms`. */
  windowMs: number;
}

interface Flight {
  result: Promise<unknown>;
  startedAt: number;
}

export class Coalescer {
  private readonly flights = new Map<string, Flight>();
  private readonly subscribers: Counter;
  private readonly hits: Counter;

  constructor(private readonly o: CoalescerOptions) {
    const registers = [o.metrics.registry];
    this.subscribers = new Counter({
      name: 'miroir_query_coalesce_subscribers_total',
      help: 'Searches that went through query coalescing (the first of a window and those that joined it)',
      registers,
    });
    this.hits = new Counter({
      name: 'miroir_query_coalesce_hits_total',
      help: "Searches answered from another identical search's scatter",
      registers,
    });
  }

  /** The coalescing key of a search (null: the search is not coalesced). */
  key(
    uid: string,
    settingsVersion: number,
    query: unknown,
    auth: AuthResult,
    authorization: string | undefined,
  ): string {
    const h = createHash('sha256').update(`${uid}\n${settingsVersion}\n${canonicalJson(query)}\n`);
    if (auth.kind === 'tenant') h.update(`tenant\n${canonicalJson(tenantFilter(auth, uid))}\n${authorization ?? ''}`);
    return h.digest('base64');
  }

  /** Runs `compute` once for every caller with the same key within the window. */
  run<T>(key: string, compute: () => Promise<T>): Promise<T> {
    this.subscribers.inc();
    const now = performance.now();
    const flight = this.flights.get(key);
    if (flight !== undefined && now - flight.startedAt <= this.o.windowMs) {
      this.hits.inc();
      return flight.result as Promise<T>;
    }
    const result = compute();
    const mine: Flight = { result, startedAt: now };
    this.flights.set(key, mine);
    // The entry goes once the window has passed and the scatter is done (a later search scatters again).
    const forget = () => {
      if (this.flights.get(key) === mine) this.flights.delete(key);
    };
    const timer = setTimeout(() => void result.then(forget, forget), this.o.windowMs);
    timer.unref();
    return result;
  }
}
