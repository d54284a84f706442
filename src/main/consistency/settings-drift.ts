// The settings drift check (SPEC A5/A10 Mode A, issue 24): every `settings_drift_check.interval_s` each index this pod
// owns (partitioned over the live pods) that has no task in flight has every live healthy node's physical settings
// compared with the committed ones. A node that matches is stamped with the committed settings version; one that
// differs (an operator's direct PATCH, a node restored from an old snapshot) is stamped 0 — reads asking
// `X-Miroir-Min-Settings-Version` skip it — and, with `auto_repair`, gets the committed physical settings again (in
// the index's write lane, with backoff, `settings_broadcast.max_repair_retries`). A node that cannot be repaired
// freezes the index's writes (503 miroir_settings_frozen) when `settings_broadcast.freeze_writes_on_unrepairable`,
// until a later check finds every node right.
import { Counter } from 'prom-client';
import { canonicalJson } from '../../core/canonical-json.js';
import { MeiliError } from '../../core/errors.js';
import { physicalSettings } from '../../core/index-state.js';
import type { Settings } from '../../core/settings.js';
import type { Store } from '../../store/store.js';
import type { NodeApi } from '../cluster/node-api.js';
import type { TopologyService } from '../cluster/topology.js';
import type { Logger } from '../observability/logger.js';
import type { Metrics } from '../observability/metrics.js';
import type { IndexStateService } from '../state/index-state.js';
import { every, type Periodic } from '../util/periodic.js';

export interface SettingsDriftOptions {
  store: Store;
  state: IndexStateService;
  topology: TopologyService;
  metrics: Metrics;
  logger: Logger | null;
  facetingOverfetch: number;
  /** `settings_drift_check.interval_s` in ms (0: no periodic check). */
  intervalMs: number;
  /** `settings_drift_check.auto_repair`. */
  autoRepair: boolean;
  /** `settings_broadcast.max_repair_retries`. */
  maxRepairRetries: number;
  /** `settings_broadcast.freeze_writes_on_unrepairable`. */
  freezeWrites: boolean;
  /** The longest wait for a repair's node task. */
  taskTimeoutMs: number;
  /** Whether this pod checks the index (Mode A partition); every index when absent. */
  owns?: (uid: string) => boolean;
}

export interface DriftReport {
  checked: number;
  drifted: string[];
  repaired: string[];
  failed: string[];
}

/** How long a freeze lasts unless a later check renews it (a pod that froze an index may die). */
const MIN_FREEZE_MS = 60_000;
/** How long a write trusts what it last read about an index's freeze. */
const FROZEN_CACHE_MS = 1_000;

const frozenKey = (uid: string) => `index:${uid}`;

const same = (a: Settings | null, b: Settings) => a !== null && canonicalJson(a) === canonicalJson(b);

export class SettingsDriftCheck {
  private periodic: Periodic | null = null;
  private readonly repairs: Counter<'outcome'>;
  private readonly frozenCache = new Map<string, { frozen: boolean; at: number }>();

  constructor(private readonly o: SettingsDriftOptions) {
    this.repairs = new Counter({
      name: 'miroir_settings_drift_repair_total',
      help: 'Nodes whose physical settings had drifted from the committed ones, by outcome (repaired, failed, found = not repaired because auto_repair is off)',
      labelNames: ['outcome'] as const,
      registers: [o.metrics.registry],
    });
  }

  start(): void {
    if (this.o.intervalMs <= 0) return;
    this.periodic = every(this.o.intervalMs, () => this.runOnce(), {
      onError: (err) => this.o.logger?.warn({ err }, 'settings drift check failed'),
    });
  }

  async stop(): Promise<void> {
    await this.periodic?.stop();
  }

  private get freezeMs(): number {
    return Math.max(MIN_FREEZE_MS, this.o.intervalMs * 3);
  }

  /** One pass over every index this pod owns. */
  async runOnce(): Promise<DriftReport> {
    const report: DriftReport = { checked: 0, drifted: [], repaired: [], failed: [] };
    for (const index of await this.o.state.list()) {
      if (this.o.owns !== undefined && !this.o.owns(`settings_drift:${index.uid}`)) continue;
      const r = await this.checkIndex(index.uid);
      if (r === null) continue;
      report.checked++;
      for (const k of ['drifted', 'repaired', 'failed'] as const)
        report[k].push(...r[k].map((n) => `${index.uid}/${n}`));
    }
    return report;
  }

  /** Checks one index; null when it was skipped (gone, or a task of it is still in flight). */
  async checkIndex(uid: string): Promise<{ drifted: string[]; repaired: string[]; failed: string[] } | null> {
    const { store, topology } = this.o;
    const record = await this.o.state.record(uid);
    if (record === null || record.committed === null || record.pending.length > 0) return null;
    if ((await store.queuedTasks(uid)).length > 0) return null;
    const version = record.committed.settingsVersion;
    const expected = physicalSettings(record.committed.settings, record.fields, this.o.facetingOverfetch);
    // Active, healthy nodes that are not being caught up: a node joining or catching up gets its settings from the
    // rebalancer's provisioning, which this check must not race.
    const settled = new Set(
      topology.current.nodes.filter((n) => n.state === 'active' && n.catching_up !== true).map((n) => n.id),
    );
    const nodes = topology.liveClients().filter((n) => settled.has(n.nodeId) && topology.health.isHealthy(n.nodeId));
    const stamped = await store.getNodeSettingsVersions(uid);
    const drifted: string[] = [];
    const repaired: string[] = [];
    const failed: string[] = [];
    await Promise.all(
      nodes.map(async (api) => {
        let got: Settings | null;
        try {
          got = await api.settings(uid);
        } catch {
          return; // an unreachable node is the health checker's business
        }
        if (got === null) return; // the index is missing there: recovery's business (its documents are missing too)
        if (same(got, expected)) {
          if (stamped[api.nodeId] !== version) await store.setNodeSettingsVersion(uid, api.nodeId, version);
          return;
        }
        // Still the same committed state? (a task registered since would explain the difference)
        const now = await this.o.state.record(uid);
        if (now === null || now.version !== record.version) return;
        drifted.push(api.nodeId);
        this.o.metrics.settingsHashMismatch.inc();
        await store.setNodeSettingsVersion(uid, api.nodeId, 0);
        this.o.logger?.warn({ index: uid, node_id: api.nodeId }, 'physical settings drifted from the committed ones');
        if (!this.o.autoRepair) {
          this.repairs.inc({ outcome: 'found' });
          return;
        }
        if (await this.repair(api, uid, expected)) {
          this.repairs.inc({ outcome: 'repaired' });
          repaired.push(api.nodeId);
          await store.setNodeSettingsVersion(uid, api.nodeId, version);
        } else {
          this.repairs.inc({ outcome: 'failed' });
          failed.push(api.nodeId);
        }
      }),
    );
    if (failed.length > 0 && this.o.freezeWrites) {
      const text = JSON.stringify({ nodes: failed.sort(), at: Date.now() });
      const cur = await store.getExpiring('settings_frozen', frozenKey(uid));
      await store.casExpiring('settings_frozen', frozenKey(uid), cur, text, this.freezeMs);
      this.frozenCache.set(uid, { frozen: true, at: Date.now() });
      this.o.logger?.error({ index: uid, nodes: failed }, 'settings could not be repaired: writes to the index frozen');
    } else if (failed.length === 0 && drifted.length === repaired.length) {
      // Every node holds the committed settings now: a freeze (by any pod) ends.
      const cur = await store.getExpiring('settings_frozen', frozenKey(uid));
      if (cur !== null) await store.casExpiring('settings_frozen', frozenKey(uid), cur, null, 0);
      this.frozenCache.set(uid, { frozen: false, at: Date.now() });
    }
    return { drifted, repaired, failed };
  }

  /** Re-applies the committed physical settings with backoff; whether the node holds them afterwards. */
  private async repair(api: NodeApi, uid: string, expected: Settings): Promise<boolean> {
    const wait = { timeoutMs: this.o.taskTimeoutMs };
    for (let attempt = 0; attempt <= this.o.maxRepairRetries; attempt++) {
      if (attempt > 0) await new Promise((r) => setTimeout(r, 50 * 2 ** attempt));
      try {
        const taskUid = await this.o.state.inLane(uid, () => api.patchSettings(uid, expected, 'settings_drift_repair'));
        await api.waitTasks([taskUid], wait);
        if (same(await api.settings(uid), expected)) return true;
      } catch {
        // the next attempt, or failed
      }
    }
    return false;
  }

  /** Refuses a write to an index whose settings could not be repaired (503 miroir_settings_frozen). */
  async checkWritable(uid: string): Promise<void> {
    if (!this.o.freezeWrites) return;
    const now = Date.now();
    let c = this.frozenCache.get(uid);
    if (c === undefined || now - c.at > FROZEN_CACHE_MS) {
      c = { frozen: (await this.o.store.getExpiring('settings_frozen', frozenKey(uid))) !== null, at: now };
      this.frozenCache.set(uid, c);
      if (this.frozenCache.size > 10_000) this.frozenCache.clear();
    }
    if (c.frozen)
      throw new MeiliError(
        'miroir_settings_frozen',
        `Writes to \`${uid}\` are refused: a node's settings differ from the committed settings and could not be repaired. They resume once a settings drift check repairs it.`,
      );
  }

  /** Indexes whose writes are frozen now (for status). */
  frozenCount(): Promise<number> {
    return this.o.store.countExpiring('settings_frozen');
  }
}
