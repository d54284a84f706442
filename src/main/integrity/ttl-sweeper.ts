// The TTL sweeper (SPEC A14, Mode A per shard): every index whose policy is enabled is swept every
// `sweep_interval_s`; for each shard this pod owns, the expired documents are counted on a readable replica and
// deleted on every replica by the node filter `_miroir_shard = s AND _miroir_expires_at <= cutoff` — evaluated when
// the node applies it, so a document whose expiry a client pushed back meanwhile stays. A sweep deletes at most
// `max_deletes_per_sweep` per index: a shard with more expired documents than the budget left is swept up to the
// expiry that fits. Reads hide expired documents before any sweep (cluster/scatter.ts hideExpired).
import { EXPIRES_FIELD } from '../../core/reserved.js';
import { project } from '../../core/index-state.js';
import type { Store, TtlPolicy } from '../../store/store.js';
import type { InternalChanges } from '../cdc/log.js';
import type { NodeApi } from '../cluster/node-api.js';
import type { TopologyService } from '../cluster/topology.js';
import type { MiroirConfig } from '../config/schema.js';
import type { Logger } from '../observability/logger.js';
import type { Metrics } from '../observability/metrics.js';
import type { IndexStateService } from '../state/index-state.js';
import { every, type Periodic } from '../util/periodic.js';

export interface TtlSweeperOptions {
  store: Store;
  state: IndexStateService;
  topology: TopologyService;
  metrics: Metrics;
  logger: Logger | null;
  config: MiroirConfig['ttl'];
  owns: (shard: number) => boolean;
  taskTimeoutMs: number;
  /** CDC on: told about each sweep delete (logged with `cdc.emit_ttl_deletes`, else counted as suppressed). */
  changes?: InternalChanges | null;
}

export interface ResolvedTtlPolicy {
  enabled: boolean;
  sweep_interval_s: number;
  max_deletes_per_sweep: number;
}

export interface SweepResult {
  index: string;
  deleted: number;
  pending: number;
  shards: number;
}

/** Pages read when a shard is swept partially (expiry values only). */
const PAGE = 1000;

export class TtlSweeper {
  private readonly o: TtlSweeperOptions;
  private loop: Periodic | null = null;
  private readonly lastSweep = new Map<string, number>();
  /** An index is first swept one interval after start (reads hide expired documents meanwhile). */
  private readonly startedAt = Date.now();

  constructor(opts: TtlSweeperOptions) {
    this.o = opts;
  }

  /** An index's policy: the stored one over the config's override over the `ttl` defaults. */
  async policy(uid: string, stored?: Record<string, TtlPolicy>): Promise<ResolvedTtlPolicy> {
    const policies = stored ?? (await this.o.store.listTtlPolicies());
    return {
      enabled: true,
      sweep_interval_s: this.o.config.sweep_interval_s,
      max_deletes_per_sweep: this.o.config.max_deletes_per_sweep,
      ...this.o.config.per_index_overrides[uid],
      ...policies[uid],
    };
  }

  start(): void {
    // Ticks often enough for the shortest interval any index may have; each index is swept on its own interval.
    const tickMs = Math.min(this.o.config.sweep_interval_s * 1000, 5000);
    this.loop = every(tickMs, () => this.tick(), {
      onError: (err) => this.o.logger?.warn({ err }, 'TTL sweep failed'),
    });
  }

  async stop(): Promise<void> {
    await this.loop?.stop();
  }

  private async tick(): Promise<void> {
    const stored = await this.o.store.listTtlPolicies();
    const now = Date.now();
    for (const uid of await this.indexesWithExpiry()) {
      const p = await this.policy(uid, stored);
      if (!p.enabled) continue;
      if (now - (this.lastSweep.get(uid) ?? this.startedAt) < p.sweep_interval_s * 1000) continue;
      this.lastSweep.set(uid, now);
      await this.sweep(uid, p, false);
    }
  }

  /** Indexes that ever received a document with an expiry (the only ones that can hold expired documents). */
  private async indexesWithExpiry(): Promise<string[]> {
    return (await this.o.state.records())
      .filter((r) => project(r).exists && r.fields.includes(EXPIRES_FIELD))
      .map((r) => r.uid)
      .sort();
  }

  /** One sweep of one index over the shards this pod owns (`all`: every shard, for a sweep asked by an operator). */
  async sweep(uid: string, policy?: ResolvedTtlPolicy, all = false): Promise<SweepResult> {
    const p = policy ?? (await this.policy(uid));
    const started = Date.now();
    const cutoffNow = started;
    const table = this.o.topology.routingFor(uid);
    const shards = Array.from({ length: table.shards }, (_, s) => s).filter((s) => all || this.o.owns(s));
    let budget = p.max_deletes_per_sweep;
    let deleted = 0;
    let pending = 0;
    for (const s of shards) {
      const reader = this.o.topology.readerOf(uid, s);
      if (reader === null) continue;
      const expired = `_miroir_shard = ${s} AND ${EXPIRES_FIELD} <= ${cutoffNow}`;
      const page = await reader.fetchDocuments(uid, { filter: expired, limit: 1, fields: [EXPIRES_FIELD] });
      const count = page?.total ?? 0;
      if (count === 0) continue;
      if (budget <= 0) {
        pending += count;
        continue;
      }
      let cutoff = cutoffNow;
      let take = count;
      if (count > budget) {
        cutoff = await this.cutoffFor(reader, uid, expired, budget);
        take = budget;
        pending += count - budget;
      }
      await this.deleteEverywhere(uid, s, cutoff);
      budget -= take;
      deleted += take;
    }
    this.o.metrics.ttlExpired.inc({ index: uid }, deleted);
    this.o.metrics.ttlPending.set({ index: uid }, pending);
    this.o.metrics.ttlSweepDuration.observe({ index: uid }, (Date.now() - started) / 1000);
    if (deleted > 0) this.o.logger?.info({ index: uid, deleted, pending }, 'TTL sweep deleted expired documents');
    return { index: uid, deleted, pending, shards: shards.length };
  }

  /** The greatest expiry such that at most `budget` of the shard's expired documents are at or below it. */
  private async cutoffFor(reader: NodeApi, uid: string, filter: string, budget: number): Promise<number> {
    const values: number[] = [];
    for (let offset = 0; ; offset += PAGE) {
      const page = await reader.fetchDocuments(uid, { filter, offset, limit: PAGE, fields: [EXPIRES_FIELD] });
      const docs = page?.results ?? [];
      for (const d of docs) if (typeof d[EXPIRES_FIELD] === 'number') values.push(d[EXPIRES_FIELD]);
      if (docs.length < PAGE) break;
    }
    values.sort((a, b) => a - b);
    // Stop below the first value past the budget (ties at the boundary are left for the next sweep).
    const over = values[budget];
    if (over === undefined) return values[values.length - 1] ?? 0;
    const below = values.filter((v) => v < over);
    return below.length === 0 ? over - 1 : below[below.length - 1]!;
  }

  private async deleteEverywhere(uid: string, shard: number, cutoff: number): Promise<void> {
    const filter = `_miroir_shard = ${shard} AND ${EXPIRES_FIELD} <= ${cutoff}`;
    const nodes = [...this.o.topology.routingFor(uid).writeTargets(shard).values()].flat();
    await Promise.all(
      nodes.map(async (id) => {
        const api = this.o.topology.client(id);
        if (api === undefined) return;
        try {
          const task = await api.deleteByFilter(uid, filter, 'ttl_sweep');
          await api.waitTasks([task], { timeoutMs: this.o.taskTimeoutMs });
        } catch (err) {
          // A replica that missed the sweep still hides its expired copies; the next sweep (or anti-entropy) gets them.
          this.o.logger?.warn({ err, index: uid, shard, node_id: id }, 'TTL sweep of a replica failed');
        }
      }),
    );
    await this.o.changes?.internal('ttl_expire', {
      index: uid,
      operation: 'document_delete_by_filter',
      shard_ids: [shard],
      primary_keys: null,
      filter,
    });
  }
}
