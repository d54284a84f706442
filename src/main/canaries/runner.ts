// The canary runner (SPEC A18, Mode A): every pod keeps the stored definitions (reloaded on the `canaries` channel
// and on a resync period) and runs the canaries it owns — rendezvous over the live pods on `canary:<name>`, so each
// runs on exactly one pod and moves when that pod dies. A due canary runs its search through the proxy's own read
// path (as the master key), its assertions are checked (core/canary.ts) and the run goes to the canary's bounded
// history in the store, which every pod's status reads.
import {
  evaluateCanary,
  hitIdsOf,
  p95,
  type CanaryDefinition,
  type CanaryFailure,
  type CanaryRun,
} from '../../core/canary.js';
import { internalError } from '../../core/errors.js';
import { parseSearchQuery } from '../../core/search-params.js';
import type { Store } from '../../store/store.js';
import type { ReadDeps } from '../api/search.js';
import { scatterSearch } from '../api/search.js';
import type { Logger } from '../observability/logger.js';
import { every, type Periodic } from '../util/periodic.js';
import { dropCanarySeries, type CanaryMetrics } from './metrics.js';
import { numberOf } from '../../core/types.js';

/** How often due canaries are looked for (an interval of 1 s is met within this much). */
const TICK_MS = 200;
/** Definitions are re-read this often besides the channel (messages lost while the store was down). */
const RESYNC_MS = 5_000;

export interface CanaryRunnerDeps {
  store: Store;
  read: ReadDeps;
  metrics: CanaryMetrics;
  logger: Logger | null;
  maxConcurrent: number;
  historyPerCanary: number;
  /** Whether this pod runs the item (Mode A ownership among the live pods). */
  owns: (item: string) => boolean;
  now?: () => number;
}

export class CanaryRunner {
  private readonly d: CanaryRunnerDeps;
  private readonly now: () => number;
  private defs = new Map<string, CanaryDefinition>();
  /** Wall-clock ms at which each canary is next due on this pod. */
  private readonly due = new Map<string, number>();
  private readonly running = new Map<string, Promise<void>>();
  private loops: Periodic[] = [];
  private unsubscribe: (() => Promise<void>) | null = null;
  private stopped = false;

  constructor(deps: CanaryRunnerDeps) {
    this.d = deps;
    this.now = deps.now ?? Date.now;
  }

  async start(): Promise<void> {
    await this.reload();
    this.unsubscribe = await this.d.store.subscribe('canaries', () => void this.reload().catch(() => undefined));
    const onError = (err: unknown) => this.d.logger?.warn({ err }, 'canary runner');
    this.loops = [
      every(TICK_MS, async () => this.tick(), { onError, firstAfterMs: 0 }),
      every(RESYNC_MS, () => this.reload(), { onError }),
    ];
  }

  async stop(): Promise<void> {
    this.stopped = true;
    await Promise.all(this.loops.map((l) => l.stop()));
    await this.unsubscribe?.();
    await Promise.all(this.running.values());
  }

  /** Re-reads the definitions; a new or changed canary is due at once. */
  async reload(): Promise<void> {
    const next = new Map((await this.d.store.listCanaries()).map((c) => [c.name, c]));
    for (const [name, old] of this.defs) {
      const cur = next.get(name);
      if (cur === undefined) {
        this.due.delete(name);
        dropCanarySeries(this.d.metrics, name);
      } else if (JSON.stringify(cur) !== JSON.stringify(old)) this.due.delete(name);
    }
    this.defs = next;
  }

  /** Starts every owned, due canary that fits in the concurrency limit. */
  tick(): void {
    if (this.stopped) return;
    const now = this.now();
    for (const def of this.defs.values()) {
      if (this.running.size >= this.d.maxConcurrent) return;
      if (this.running.has(def.name)) continue;
      if (!this.d.owns(`canary:${def.name}`)) {
        if (this.due.delete(def.name)) dropCanarySeries(this.d.metrics, def.name);
        continue;
      }
      const at = this.due.get(def.name) ?? now;
      if (at > now) continue;
      this.due.set(def.name, now + def.interval_s * 1000);
      const run = this.runOnce(def)
        .then(() => undefined)
        .catch((err: unknown) => this.d.logger?.warn({ err, canary: def.name }, 'canary run not recorded'))
        .finally(() => this.running.delete(def.name));
      this.running.set(def.name, run);
    }
  }

  /** Runs one canary now, records the run and its metrics, and answers it. */
  async runOnce(def: CanaryDefinition): Promise<CanaryRun> {
    // The p95 window is the canary's recent history, read only when an assertion needs it.
    const needsHistory = def.assertions.some((a) => a.type === 'max_p95_ms');
    const history = needsHistory ? await this.d.store.getCanaryRuns(def.name, this.d.historyPerCanary) : [];
    const started = performance.now();
    let failures: CanaryFailure[];
    let settingsVersion: number | null = null;
    let latency: number;
    let errored = false;
    try {
      const query = parseSearchQuery(def.query, 'json');
      const res = await scatterSearch(this.d.read, def.index, query, { kind: 'master' });
      latency = performance.now() - started;
      settingsVersion = res.settingsVersion;
      const a = res.answer;
      failures = evaluateCanary(def.assertions, {
        hitIds: hitIdsOf(a.hits, res.primaryKey ?? 'id'),
        totalHits: numberOf(a.totalHits) ?? numberOf(a.estimatedTotalHits) ?? 0,
        latencyMs: latency,
        p95Ms: p95([latency, ...history.map((r) => r.latency_ms)]),
        settingsVersion: res.settingsVersion,
      });
    } catch (err) {
      latency = performance.now() - started;
      errored = true;
      const e = internalError(err);
      failures = [{ type: 'query_error', expected: 'a search answer', observed: { code: e.code, message: e.message } }];
    }
    const run: CanaryRun = {
      at: new Date(this.now()).toISOString(),
      passed: failures.length === 0,
      latency_ms: Math.round(latency * 100) / 100,
      settings_version: settingsVersion,
      failures,
    };
    // A canary deleted while it ran leaves no history behind.
    if (this.defs.has(def.name) && !this.stopped) {
      await this.d.store.appendCanaryRun(def.name, run, this.d.historyPerCanary);
      const m = this.d.metrics;
      m.runs.inc({ canary: def.name, result: errored ? 'error' : run.passed ? 'pass' : 'fail' });
      m.latency.set({ canary: def.name }, run.latency_ms);
      m.failing.set({ canary: def.name }, run.passed ? 0 : 1);
      for (const f of failures) m.assertionFailures.inc({ canary: def.name, assertion_type: f.type });
    }
    return run;
  }
}
