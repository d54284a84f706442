// Anti-entropy passes (SPEC A8, Mode A per shard): for each shard of each index, every healthy replica's shard is
// read page by page (`fingerprint_batch_size`, through the pod's ReadLimiter) into 256 bucket digests; when digests
// differ, the replicas are read again keeping only the fingerprints of the differing buckets, every document whose
// copies differ is read fresh by id from every replica (after each drained what it had queued) and decided by
// last-writer-wins (core/anti-entropy.ts), and — with `auto_repair` — the winner is written to the replicas that
// miss it or hold something else, or the document deleted everywhere (expired, or covered by a newer tombstone).
// Scheduled passes cover the shards this pod owns among its live peers, `shards_per_pass` at a time; a pass asked
// for through the admin API covers what it names. Each shard's result is kept in the store for the status route.
import {
  bucketOf,
  compileTombstones,
  copiesDiffer,
  decideRepair,
  fingerprint,
  mismatchedBuckets,
  ShardDigest,
  type Fingerprint,
  type RepairDecision,
} from '../../core/anti-entropy.js';
import { MeiliError } from '../../core/errors.js';
import { project } from '../../core/index-state.js';
import type { AntiEntropyShardStatus, Store } from '../../store/store.js';
import type { InternalChanges } from '../cdc/log.js';
import type { NodeApi } from '../cluster/node-api.js';
import type { TopologyService } from '../cluster/topology.js';
import type { MiroirConfig } from '../config/schema.js';
import type { Logger } from '../observability/logger.js';
import type { Metrics } from '../observability/metrics.js';
import type { IndexStateService } from '../state/index-state.js';
import { every, type Periodic } from '../util/periodic.js';
import { ReadLimiter } from './node-reads.js';

type Doc = Record<string, unknown>;

export interface AntiEntropyOptions {
  store: Store;
  state: IndexStateService;
  topology: TopologyService;
  metrics: Metrics;
  logger: Logger | null;
  config: MiroirConfig['anti_entropy'];
  /** `ttl.enabled`: expired copies are deleted everywhere. */
  ttl: boolean;
  /** Mode A: whether this pod owns a shard (or a named job such as `tombstone_pruner`). */
  owns: (item: string | number) => boolean;
  /** Longest wait for a node to apply repairs or drain its queue. */
  taskTimeoutMs: number;
  /** CDC on: told about each repair (logged with `cdc.emit_internal_writes`, else counted as suppressed). */
  changes?: InternalChanges | null;
}

export interface PassRequest {
  index?: string;
  shard?: number;
  /** Overrides `auto_repair` for this pass. */
  repair?: boolean;
}

export interface PassSummary {
  started_at: string;
  finished_at: string;
  duration_ms: number;
  repair: boolean;
  shards: number;
  documents: number;
  mismatches: number;
  repaired: number;
  by_kind: Record<string, number>;
  results: AntiEntropyShardStatus[];
}

const SAMPLES = 20;

/** `every 6h` → ms. */
export function scheduleMs(schedule: string): number {
  const m = /^every ([1-9][0-9]*)(s|m|h|d)$/.exec(schedule);
  if (m === null) throw new Error(`anti_entropy.schedule: cannot read \`${schedule}\``);
  const unit = m[2];
  return Number(m[1]) * (unit === 's' ? 1000 : unit === 'm' ? 60_000 : unit === 'h' ? 3_600_000 : 86_400_000);
}

interface Replica {
  id: string;
  api: NodeApi;
}

export class AntiEntropy {
  private readonly o: AntiEntropyOptions;
  private readonly limiter: ReadLimiter;
  private loop: Periodic | null = null;
  /** Where the next scheduled pass continues (position in the owned (index, shard) list). */
  private cursor = 0;
  /** One pass at a time per pod. */
  private chain: Promise<unknown> = Promise.resolve();

  constructor(opts: AntiEntropyOptions) {
    this.o = opts;
    this.limiter = new ReadLimiter(opts.config.max_read_concurrency, opts.config.max_pages_per_second);
  }

  start(): void {
    this.loop = every(scheduleMs(this.o.config.schedule), () => this.scheduled(), {
      onError: (err) => this.o.logger?.warn({ err }, 'anti-entropy pass failed'),
    });
  }

  async stop(): Promise<void> {
    await this.loop?.stop();
    await this.chain.catch(() => undefined);
  }

  /** A scheduled pass: prunes old tombstones, then the next `shards_per_pass` owned shards of every index. */
  private async scheduled(): Promise<void> {
    if (this.o.owns('tombstone_pruner'))
      await this.o.store.pruneTombstones(Date.now() - this.o.config.tombstone_retention_s * 1000);
    const all: Array<[string, number]> = [];
    for (const { uid } of await this.indexes())
      for (let s = 0; s < this.o.topology.routingFor(uid).shards; s++) if (this.o.owns(s)) all.push([uid, s]);
    if (all.length === 0) return;
    const n = this.o.config.shards_per_pass === 0 ? all.length : Math.min(this.o.config.shards_per_pass, all.length);
    const pick: Array<[string, number]> = [];
    for (let i = 0; i < n; i++) pick.push(all[(this.cursor + i) % all.length]!);
    this.cursor = (this.cursor + n) % all.length;
    await this.serial(() => this.pass(pick, this.o.config.auto_repair));
  }

  /** `POST /_miroir/antientropy/run`: a pass now over what the request names (every shard of every index by default). */
  async run(req: PassRequest): Promise<PassSummary> {
    const indexes = await this.indexes();
    // Each index has its own shard count (a resharded one differs from the cluster's): the request's bound is the
    // largest, and each index is scanned over its own.
    const shards = Math.max(
      this.o.topology.routing.shards,
      ...indexes.map((i) => this.o.topology.routingFor(i.uid).shards),
    );
    if (req.index !== undefined && !indexes.some((i) => i.uid === req.index))
      throw new MeiliError('index_not_found', `Index \`${req.index}\` not found.`);
    if (req.shard !== undefined && (!Number.isInteger(req.shard) || req.shard < 0 || req.shard >= shards))
      throw new MeiliError('bad_request', `\`shard\` must be an integer from 0 to ${shards - 1}.`);
    const pick: Array<[string, number]> = [];
    for (const { uid } of indexes) {
      if (req.index !== undefined && uid !== req.index) continue;
      const own = this.o.topology.routingFor(uid).shards;
      for (let s = 0; s < own; s++) if (req.shard === undefined || s === req.shard) pick.push([uid, s]);
    }
    return this.serial(() => this.pass(pick, req.repair ?? this.o.config.auto_repair));
  }

  async status(): Promise<Record<string, unknown>> {
    const shards = await this.o.store.listAntiEntropyStatus();
    const lastAt = shards.reduce((m, s) => Math.max(m, s.finished_at), 0);
    return {
      enabled: true,
      auto_repair: this.o.config.auto_repair,
      schedule: this.o.config.schedule,
      last_completed_at: lastAt === 0 ? null : new Date(lastAt).toISOString(),
      shards_with_mismatches: shards.filter((s) => s.mismatches > 0).length,
      max_consecutive_with_mismatches: shards.reduce((m, s) => Math.max(m, s.consecutive_with_mismatches), 0),
      shards: shards.map((s) => ({ ...s, finished_at: new Date(s.finished_at).toISOString() })),
    };
  }

  private serial<T>(fn: () => Promise<T>): Promise<T> {
    const next = this.chain.catch(() => undefined).then(fn);
    this.chain = next;
    return next;
  }

  private async indexes(): Promise<Array<{ uid: string; primaryKey: string }>> {
    const out: Array<{ uid: string; primaryKey: string }> = [];
    for (const r of await this.o.state.records()) {
      const p = project(r);
      if (p.exists && p.primaryKey !== null) out.push({ uid: r.uid, primaryKey: p.primaryKey });
    }
    return out.sort((a, b) => (a.uid < b.uid ? -1 : a.uid > b.uid ? 1 : 0));
  }

  private async pass(pick: ReadonlyArray<[string, number]>, repair: boolean): Promise<PassSummary> {
    const started = Date.now();
    const keys = new Map((await this.indexes()).map((i) => [i.uid, i.primaryKey]));
    const results: AntiEntropyShardStatus[] = [];
    const byKind: Record<string, number> = {};
    for (const [uid, shard] of pick) {
      const pk = keys.get(uid);
      if (pk === undefined) continue;
      const st = await this.shardPass(uid, pk, shard, repair, byKind);
      results.push(st);
    }
    const finished = Date.now();
    this.o.metrics.antiEntropyLastScan.set(finished / 1000);
    this.o.metrics.antiEntropyPassDuration.observe((finished - started) / 1000);
    const consecutive = (await this.o.store.listAntiEntropyStatus()).reduce(
      (m, s) => Math.max(m, s.consecutive_with_mismatches),
      0,
    );
    this.o.metrics.antiEntropyConsecutive.set(consecutive);
    const summary: PassSummary = {
      started_at: new Date(started).toISOString(),
      finished_at: new Date(finished).toISOString(),
      duration_ms: finished - started,
      repair,
      shards: results.length,
      documents: results.reduce((n, r) => n + r.documents, 0),
      mismatches: results.reduce((n, r) => n + r.mismatches, 0),
      repaired: results.reduce((n, r) => n + r.repaired, 0),
      by_kind: byKind,
      results: results.filter((r) => r.mismatches > 0 || r.error !== null || r.skipped_nodes.length > 0),
    };
    if (summary.mismatches > 0)
      this.o.logger?.warn(
        { mismatches: summary.mismatches, repaired: summary.repaired, by_kind: byKind },
        'anti-entropy found diverged replicas',
      );
    return summary;
  }

  /** The shard's healthy replicas in owner order (groups ascending, rank order), readable ones first. */
  private replicas(uid: string, shard: number): { replicas: Replica[]; skipped: string[] } {
    const table = this.o.topology.routingFor(uid);
    const readable: Replica[] = [];
    const catching: Replica[] = [];
    const skipped: string[] = [];
    for (const g of table.activeGroups)
      for (const id of table.owners(shard, g)) {
        const api = this.o.topology.client(id);
        if (api === undefined || !table.isHealthy(id)) skipped.push(id);
        else (table.canRead(id) ? readable : catching).push({ id, api });
      }
    return { replicas: [...readable, ...catching], skipped };
  }

  /** Reads every page of a shard on one replica; null when the node lacks the index. */
  private async eachPage(api: NodeApi, uid: string, shard: number, each: (docs: Doc[]) => void): Promise<boolean> {
    const size = this.o.config.fingerprint_batch_size;
    for (let offset = 0; ; offset += size) {
      const page = await this.limiter.run(() =>
        api.fetchDocuments(
          uid,
          { filter: `_miroir_shard = ${shard}`, offset, limit: size },
          { operation: 'antientropy_read', timeoutMs: 30_000 },
        ),
      );
      this.o.metrics.antiEntropyPagesRead.inc();
      if (page === null) return false;
      each(page.results);
      if (page.results.length < size) return true;
    }
  }

  private async shardPass(
    uid: string,
    pk: string,
    shard: number,
    repair: boolean,
    byKind: Record<string, number>,
  ): Promise<AntiEntropyShardStatus> {
    const started = Date.now();
    const updatedAt = this.o.config.updated_at_field;
    const { replicas: all, skipped } = this.replicas(uid, shard);
    const status: AntiEntropyShardStatus = {
      index: uid,
      shard,
      finished_at: 0,
      duration_ms: 0,
      documents: 0,
      mismatched_buckets: 0,
      mismatches: 0,
      repaired: 0,
      repair,
      consecutive_with_mismatches: 0,
      skipped_nodes: skipped,
      samples: [],
      error: null,
    };
    try {
      // 1. Bucket digests of every replica.
      const digests = new Map<string, ShardDigest>();
      await Promise.all(
        all.map(async (r) => {
          const d = new ShardDigest();
          const has = await this.eachPage(r.api, uid, shard, (docs) => {
            for (const doc of docs) d.add(fingerprint(doc, pk, updatedAt));
          });
          if (has) digests.set(r.id, d);
        }),
      );
      const replicas = all.filter((r) => digests.has(r.id));
      for (const r of all) if (!digests.has(r.id)) status.skipped_nodes.push(r.id);
      status.documents = Math.max(0, ...[...digests.values()].map((d) => d.documents));
      const buckets = mismatchedBuckets(replicas.map((r) => digests.get(r.id)!));
      status.mismatched_buckets = buckets.length;
      if (buckets.length > 0) await this.compare(uid, pk, shard, replicas, new Set(buckets), repair, status, byKind);
    } catch (err) {
      status.error = err instanceof Error ? err.message : String(err);
      this.o.logger?.warn({ err, index: uid, shard }, 'anti-entropy pass of a shard failed');
    }
    this.o.metrics.antiEntropyShardsScanned.inc();
    const previous = await this.o.store.getAntiEntropyStatus(uid, shard).catch(() => null);
    status.consecutive_with_mismatches = status.mismatches > 0 ? (previous?.consecutive_with_mismatches ?? 0) + 1 : 0;
    status.finished_at = Date.now();
    status.duration_ms = status.finished_at - started;
    await this.o.store.putAntiEntropyStatus(status);
    return status;
  }

  /** Document-by-document comparison of the differing buckets, then the repairs. */
  private async compare(
    uid: string,
    pk: string,
    shard: number,
    replicas: readonly Replica[],
    buckets: ReadonlySet<number>,
    repair: boolean,
    status: AntiEntropyShardStatus,
    byKind: Record<string, number>,
  ): Promise<void> {
    const updatedAt = this.o.config.updated_at_field;
    // 2. Fingerprints of the differing buckets on every replica.
    const seen = replicas.map(() => new Map<string, Fingerprint>());
    await Promise.all(
      replicas.map((r, i) =>
        this.eachPage(r.api, uid, shard, (docs) => {
          for (const doc of docs) {
            const fp = fingerprint(doc, pk, updatedAt);
            if (buckets.has(bucketOf(fp.id))) seen[i]!.set(fp.id, fp);
          }
        }),
      ),
    );
    const ids = new Set<string>();
    for (const m of seen) for (const id of m.keys()) ids.add(id);
    const candidates = [...ids].filter((id) => copiesDiffer(seen.map((m) => m.get(id) ?? null)));
    if (candidates.length === 0) return;
    // 3. Fresh copies of the candidates, once every replica applied what it had queued (writes in flight land first).
    await Promise.all(replicas.map((r) => r.api.drain({ timeoutMs: this.o.taskTimeoutMs })));
    const size = this.o.config.fingerprint_batch_size;
    const fresh = replicas.map(() => new Map<string, Doc>());
    for (let i = 0; i < candidates.length; i += size) {
      const chunk = candidates.slice(i, i + size);
      await Promise.all(
        replicas.map(async (r, j) => {
          const page = await this.limiter.run(() =>
            r.api.fetchDocuments(
              uid,
              { ids: chunk, limit: chunk.length },
              { operation: 'antientropy_read', timeoutMs: 30_000 },
            ),
          );
          this.o.metrics.antiEntropyPagesRead.inc();
          for (const doc of page?.results ?? []) fresh[j]!.set(String(doc[pk]), doc);
        }),
      );
    }
    const tombstones = compileTombstones(await this.o.store.listTombstones(uid));
    const now = this.o.ttl ? Date.now() : null;
    const decisions: RepairDecision[] = [];
    for (const id of candidates) {
      const copies = fresh.map((m) => {
        const doc = m.get(id);
        return doc === undefined ? null : { doc, fp: fingerprint(doc, pk, updatedAt) };
      });
      const d = decideRepair(copies, tombstones, now);
      if (d === null) continue;
      decisions.push(d);
      byKind[d.kind] = (byKind[d.kind] ?? 0) + 1;
      this.o.metrics.antiEntropyMismatches.inc({ kind: d.kind });
    }
    status.mismatches = decisions.length;
    if (!repair || decisions.length === 0) {
      status.samples = decisions.slice(0, SAMPLES).map((d) => ({ id: d.id, kind: d.kind, action: 'reported' }));
      return;
    }
    // 4. Repairs: per replica, the winners it should hold and the documents it should not.
    const writes = replicas.map((): Doc[] => []);
    const deletes = replicas.map((): string[] => []);
    for (const d of decisions) {
      for (const i of d.deleteOn) deletes[i]!.push(d.id);
      if (d.winner >= 0) for (const i of d.copyTo) writes[i]!.push(fresh[d.winner]!.get(d.id)!);
    }
    await Promise.all(
      replicas.map(async (r, i) => {
        const acks: number[] = [];
        for (let k = 0; k < writes[i]!.length; k += size)
          acks.push(
            await r.api.addDocuments(uid, JSON.stringify(writes[i]!.slice(k, k + size)), {
              operation: 'antientropy_repair',
              timeoutMs: 30_000,
            }),
          );
        for (let k = 0; k < deletes[i]!.length; k += size)
          acks.push(await r.api.deleteDocuments(uid, deletes[i]!.slice(k, k + size), 'antientropy_repair'));
        if (acks.length > 0) await r.api.waitTasks(acks, { timeoutMs: this.o.taskTimeoutMs });
      }),
    );
    const copied = decisions.filter((d) => d.winner >= 0);
    const removed = decisions.filter((d) => d.winner < 0).map((d) => d.id);
    if (copied.length > 0)
      await this.o.changes?.internal('antientropy', {
        index: uid,
        operation: 'document_update',
        shard_ids: [shard],
        primary_keys: copied.map((d) => d.id),
        documents: copied.map((d) => fresh[d.winner]!.get(d.id)!),
      });
    if (removed.length > 0)
      await this.o.changes?.internal('antientropy', {
        index: uid,
        operation: 'document_delete',
        shard_ids: [shard],
        primary_keys: removed,
      });
    status.repaired = decisions.length;
    this.o.metrics.antiEntropyRepaired.inc(decisions.length);
    status.samples = decisions.slice(0, SAMPLES).map((d) => ({ id: d.id, kind: d.kind, action: actionOf(d) }));
  }
}

function actionOf(d: RepairDecision): string {
  return d.winner < 0 ? 'deleted' : 'copied';
}
