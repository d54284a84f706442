// Online reshard (SPEC A1, Round 2 "Per-index shard count"; design: docs/design/reshard.md). One record per index in
// the store; the Mode B leader drives its phases (shadow copy → dual writes → backfill jobs → verify → flip → drop the
// old copy), every pod runs Mode C `reshard_backfill` jobs (one per old shard, cursor persisted by heartbeat) and
// mirrors writes while a reshard needs it. Backfill pages and verify chunks run in the live index's write lane after
// the nodes drained, so a dual write of the same document always lands on the copy after the backfilled one.
import { MeiliError } from '../../core/errors.js';
import { ingestBatch } from '../../core/ingest-batch.js';
import {
  chunkShards,
  clientContent,
  contentHash,
  differingIds,
  gcd,
  mirrorOf,
  PHASE_GAUGE,
  reshardRequestError,
  servedByShadow,
  shadowUid,
  throttleDelay,
  type ReshardRecord,
} from '../../core/reshard.js';
import { shardForKey } from '../../core/hash.js';
import { shardInClause } from '../../core/shard-filter.js';
import { isObject, numberOf, stringOf } from '../../core/types.js';
import type { Job, Store, TaskRow } from '../../store/store.js';
import type { NodeApi } from '../cluster/node-api.js';
import type { TopologyService } from '../cluster/topology.js';
import type { Logger } from '../observability/logger.js';
import type { IndexOperations } from '../state/index-ops.js';
import type { AliasService } from '../state/aliases.js';
import type { IndexStateService } from '../state/index-state.js';
import type { TaskRegistry } from '../tasks/registry.js';
import { every, type Periodic } from '../util/periodic.js';
import type { DocumentWrites, MirrorTarget } from '../writes/documents.js';
import type { ReshardMetrics } from './metrics.js';

export const RESHARD_BACKFILL = 'reshard_backfill';

/** The shortest time the old copy is kept after the flip, whatever `retain_old_index_hours` says. */
export const FLIP_GRACE_MS = 5_000;

export interface ReshardConfig {
  enabled: boolean;
  throttle_docs_per_sec: number;
  verify_before_swap: boolean;
  retain_old_index_hours: number;
  backfill_batch_size: number;
  backfill_concurrency: number;
}

/**
 * The switch the flip uses: a client-facing uid served by another physical index (an internal alias). `resolve` runs
 * on every index route (sync, in memory); `flip` is one compare-and-set every pod sees.
 */
export interface InternalAliases {
  /** The physical index a client-given uid is served by (the uid itself when it is no alias). */
  resolve(uid: string): string;
  /** The client-facing uid of a physical index an internal alias points at, else null. */
  clientName(physical: string): string | null;
  /** Points `name` at `target` (null: removes the alias, the index named `name` serves again). */
  flip(name: string, target: string | null): Promise<void>;
}

export interface ReshardServiceOptions {
  store: Store;
  state: IndexStateService;
  ops: IndexOperations;
  tasks: TaskRegistry;
  topology: TopologyService;
  writes: DocumentWrites;
  metrics: ReshardMetrics;
  logger: Logger | null;
  config: ReshardConfig;
  /** Mode C claim lease (heartbeat every third of it). */
  jobLeaseMs: number;
  /** Longest wait for node tasks. */
  taskTimeoutMs: number;
  /** How often pods reload the reshard records (dual writes start everywhere within it); default 500 ms. */
  refreshMs?: number;
  now?: () => number;
}

interface BackfillPayload {
  index: string;
  live: string;
  shadow: string;
  shard: number;
  primaryKey: string;
}

interface BackfillCursor {
  offset: number;
  copied: number;
}

function payloadOf(v: unknown): BackfillPayload | null {
  if (!isObject(v)) return null;
  const index = stringOf(v.index);
  const live = stringOf(v.live);
  const shadow = stringOf(v.shadow);
  const shard = numberOf(v.shard);
  const primaryKey = stringOf(v.primaryKey);
  if (index === undefined || live === undefined || shadow === undefined || shard === undefined) return null;
  if (primaryKey === undefined) return null;
  return { index, live, shadow, shard, primaryKey };
}

function cursorOf(v: unknown): BackfillCursor {
  if (!isObject(v)) return { offset: 0, copied: 0 };
  return { offset: numberOf(v.offset) ?? 0, copied: numberOf(v.copied) ?? 0 };
}

function errorText(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}

type Doc = Record<string, unknown>;

class JobLost extends Error {}

/**
 * The alias hook used until the alias table exists: a reshard record is its own internal alias (the client uid is
 * served by the shadow from the flip until a reverse flip), so the flip is the one write of the record's phase.
 */
export class RecordAliases implements InternalAliases {
  constructor(private readonly records: () => Iterable<ReshardRecord>) {}

  resolve(uid: string): string {
    for (const r of this.records()) if (r.index === uid) return servedByShadow(r) ? r.shadow : r.live;
    return uid;
  }

  clientName(physical: string): string | null {
    for (const r of this.records()) if (r.index !== physical && this.resolve(r.index) === physical) return r.index;
    return null;
  }

  async flip(): Promise<void> {
    // the record's phase (written right after) is the alias
  }
}

/** The flip on the alias table (SPEC A7): one compare-and-set of an internal alias, seen by every pod at once. */
export class TableAliases implements InternalAliases {
  constructor(private readonly aliases: AliasService) {}

  resolve(uid: string): string {
    const table = this.aliases.current().aliases;
    const a = Object.hasOwn(table, uid) ? table[uid] : undefined;
    return a?.internal === true && a.targets.length === 1 ? a.targets[0]! : uid;
  }

  clientName(physical: string): string | null {
    for (const a of Object.values(this.aliases.current().aliases))
      if (a.internal === true && a.targets.length === 1 && a.targets[0] === physical) return a.name;
    return null;
  }

  async flip(name: string, target: string | null): Promise<void> {
    if (target !== null) await this.aliases.flip(name, [target], { internal: true });
    else if (this.aliases.current().aliases[name]?.internal === true)
      await this.aliases.delete(name, { internal: true });
  }
}

export class ReshardService {
  /** This pod's id (job claims); set before start. */
  podId = '';
  /** Mode B: whether this pod leads (drives phases). */
  leadership: () => boolean = () => true;
  aliases: InternalAliases;
  private records = new Map<string, ReshardRecord>();
  private loop: Periodic | null = null;
  private readonly running = new Map<string, Promise<void>>();
  private readonly verifying = new Set<string>();
  private readonly rates = new Map<string, { startedAt: number; done: number }>();
  private stopped = false;
  private adopted = false;
  private readonly now: () => number;
  private readonly refreshMs: number;

  constructor(private readonly o: ReshardServiceOptions) {
    this.now = o.now ?? Date.now;
    // off: records are still followed (a flipped reshard keeps resolving), just less often
    this.refreshMs = o.refreshMs ?? (o.config.enabled ? 500 : 5_000);
    this.aliases = new RecordAliases(() => this.records.values());
    o.writes.mirrorOf = (uid) => (this.records.size === 0 ? null : mirrorOf(this.records.values(), uid));
    o.writes.mirrorFailed = (uid, mirror, err) => this.mirrorFailed(uid, mirror, err);
  }

  // ---------------------------------------------------------------- lifecycle

  async start(): Promise<void> {
    await this.refresh();
    this.loop = every(this.refreshMs, () => this.tick(), {
      onError: (err) => this.o.logger?.warn({ err }, 'reshard tick failed'),
    });
  }

  async stop(): Promise<void> {
    this.stopped = true;
    await this.loop?.stop();
    await Promise.allSettled(this.running.values());
  }

  private async tick(): Promise<void> {
    await this.refresh();
    if (this.leadership()) for (const r of [...this.records.values()]) await this.drive(r);
    await this.claim();
  }

  /** Whether any reshard was ever recorded (the client routes skip the display rules otherwise). */
  get active(): boolean {
    return this.records.size > 0;
  }

  /** Whether an index is being copied (its settings, primary key and existence must not change until the flip). */
  copying(physical: string): ReshardRecord | null {
    for (const r of this.records.values())
      if (r.live === physical && (r.phase === 'preparing' || r.phase === 'backfilling' || r.phase === 'verifying'))
        return r;
    return null;
  }

  /** Reloads the records: mirrors, resolution and per-index shard counts follow them. */
  async refresh(): Promise<void> {
    const list = await this.o.store.listReshards();
    this.records = new Map(list.map((r) => [r.index, r]));
    const counts = new Map<string, number>();
    for (const r of list) {
      counts.set(r.live, r.old_shards);
      counts.set(r.shadow, r.new_shards);
    }
    this.o.topology.setIndexShards(counts);
    const m = this.o.metrics;
    m.inProgress.set(list.filter((r) => r.phase !== 'done' && r.phase !== 'failed').length);
    for (const r of list) m.phase.labels(r.index).set(PHASE_GAUGE[r.phase]);
  }

  // ---------------------------------------------------------------- API

  /** `POST /_miroir/indexes/{uid}/reshard`. */
  async begin(uid: string, body: unknown): Promise<ReshardRecord> {
    if (!this.o.config.enabled)
      throw new MeiliError('miroir_invalid_reshard', 'Online reshard is off: set `resharding.enabled: true`.');
    const b = isObject(body) ? body : {};
    await this.refresh();
    const prior = this.records.get(uid);
    if (prior !== undefined && prior.phase !== 'done' && prior.phase !== 'failed')
      throw new MeiliError(
        'miroir_reshard_conflict',
        `Index \`${uid}\` is being resharded (phase \`${prior.phase}\`); wait until it is done or revert it.`,
      );
    const live = this.aliases.resolve(uid);
    const view = await this.o.state.get(live);
    if (view === null) throw new MeiliError('index_not_found', `Index \`${uid}\` not found.`);
    const problem = reshardRequestError(view.shards, b.new_shards, b.throttle_docs_per_sec);
    if (problem !== null) throw new MeiliError('miroir_invalid_reshard', problem);
    const newShards = numberOf(b.new_shards)!;
    const shadow = shadowUid(uid, newShards);
    if (shadow === live || (await this.o.state.get(shadow)) !== null)
      throw new MeiliError('miroir_reshard_conflict', `Index \`${shadow}\` already exists; delete it first.`);
    const now = this.now();
    const record: ReshardRecord = {
      index: uid,
      live,
      shadow,
      old_shards: view.shards,
      new_shards: newShards,
      phase: 'preparing',
      throttle_docs_per_sec: numberOf(b.throttle_docs_per_sec) ?? this.o.config.throttle_docs_per_sec,
      documents_backfilled: 0,
      documents_repaired: 0,
      error: null,
      dual_writes: false,
      backfill_after: null,
      jobs: [],
      started_at: now,
      updated_at: now,
      flipped_at: null,
      drop_at: null,
      reverted: false,
    };
    await this.put(record);
    return record;
  }

  /** `GET /_miroir/indexes/{uid}/reshard/status`. */
  async status(uid: string): Promise<Record<string, unknown>> {
    await this.refresh();
    const r = this.records.get(uid);
    if (r === undefined)
      throw new MeiliError('miroir_reshard_not_found', `Index \`${uid}\` has no reshard (none was started).`);
    return {
      index: r.index,
      phase: r.phase,
      old_shards: r.old_shards,
      new_shards: r.new_shards,
      documents_backfilled: r.documents_backfilled,
      documents_total: r.documents_total ?? null,
      documents_repaired: r.documents_repaired,
      throttle_docs_per_sec: r.throttle_docs_per_sec,
      error: r.error,
      reverted: r.reverted,
      started_at: new Date(r.started_at).toISOString(),
      flipped_at: r.flipped_at === null ? null : new Date(r.flipped_at).toISOString(),
      drop_old_at: r.drop_at === null || r.phase !== 'flipped' ? null : new Date(r.drop_at).toISOString(),
    };
  }

  /**
   * `POST /_miroir/indexes/{uid}/reshard/revert`: before the flip, stops the reshard (the shadow is deleted); after
   * it, while the old copy is kept, flips back — clients are served by the old copy, which got every write since.
   */
  async revert(uid: string): Promise<Record<string, unknown>> {
    await this.refresh();
    const r = this.records.get(uid);
    if (r === undefined)
      throw new MeiliError('miroir_reshard_not_found', `Index \`${uid}\` has no reshard (none was started).`);
    if (r.phase === 'done' || r.phase === 'failed')
      throw new MeiliError(
        'miroir_reshard_conflict',
        r.phase === 'done'
          ? `The reshard of \`${uid}\` is done and its old copy was dropped: nothing to revert to.`
          : `The reshard of \`${uid}\` already failed or was reverted.`,
      );
    if (r.phase === 'flipped' && !r.dual_writes)
      throw new MeiliError(
        'miroir_reshard_conflict',
        `The old copy of \`${uid}\` is being dropped (it no longer receives writes): nothing to revert to.`,
      );
    if (r.phase === 'flipped') {
      await this.aliases.flip(uid, r.live === uid ? null : r.live);
      await this.fail({ ...r, reverted: true }, 'reverted on request: clients are served by the old copy again');
    } else await this.fail(r, 'reverted on request before the flip');
    return this.status(uid);
  }

  // ---------------------------------------------------------------- the leader's phases

  private async put(r: ReshardRecord): Promise<void> {
    r.updated_at = this.now();
    await this.o.store.putReshard(r.index, r);
    this.records.set(r.index, r);
    await this.refresh();
  }

  private async drive(r: ReshardRecord): Promise<void> {
    try {
      switch (r.phase) {
        case 'preparing':
          return await this.prepare(r);
        case 'backfilling':
          return await this.followBackfill(r);
        case 'verifying':
          return this.startVerify(r);
        case 'flipped':
          if (r.drop_at !== null && this.now() >= r.drop_at) await this.dropOld(r);
          return;
        default:
          return;
      }
    } catch (err) {
      if (r.flipped_at === null) await this.fail(r, errorText(err));
      else this.o.logger?.warn({ err, index: r.index }, 'reshard step failed; retried on the next tick');
    }
  }

  private async prepare(r: ReshardRecord): Promise<void> {
    if (!r.dual_writes) {
      if ((await this.o.state.get(r.shadow)) === null) {
        const task = await this.o.ops.createCopy(r.live, r.shadow, r.new_shards);
        await this.waitTask(task);
      }
      // Every pod reloads the records within refreshMs: after a few of them, every write is mirrored, so whatever
      // the backfill reads later was either written before (it copies it) or is mirrored (it lands after the copy).
      await this.put({ ...r, dual_writes: true, backfill_after: this.now() + 3 * this.refreshMs + 500 });
      return;
    }
    if (r.backfill_after !== null && this.now() < r.backfill_after) return;
    const view = await this.o.state.get(r.live);
    if (view === null || view.primaryKey === null) {
      // nothing to copy without a primary key (an index that never received documents): straight to verify
      await this.put({ ...r, phase: 'verifying' });
      return;
    }
    const jobs: string[] = [];
    for (let s = 0; s < r.old_shards; s++) {
      const id = `reshard:${r.shadow}:${r.started_at}:${s}`;
      if ((await this.o.store.getJob(id)) === null) {
        const payload: BackfillPayload = {
          index: r.index,
          live: r.live,
          shadow: r.shadow,
          shard: s,
          primaryKey: view.primaryKey,
        };
        await this.o.store.enqueueJob({ id, type: RESHARD_BACKFILL, payload });
      }
      jobs.push(id);
    }
    await this.put({ ...r, phase: 'backfilling', jobs, documents_total: await this.countDocuments(r.live) });
  }

  /** The documents of an index (every node's count over the copies each document has). */
  private async countDocuments(uid: string): Promise<number> {
    const counts = await Promise.all(
      this.o.topology.liveClients().map((api) =>
        api.stats(uid).then(
          (st) => numberOf(st.numberOfDocuments) ?? 0,
          () => 0,
        ),
      ),
    );
    const table = this.o.topology.routingFor(uid);
    const copies = this.o.topology.current.replication_factor * Math.max(table.activeGroups.length, 1);
    return Math.round(counts.reduce((a, b) => a + b, 0) / copies);
  }

  private async followBackfill(r: ReshardRecord): Promise<void> {
    const jobs = await Promise.all(r.jobs.map((id) => this.o.store.getJob(id)));
    let copied = 0;
    let finished = 0;
    for (const j of jobs) {
      if (j === null) throw new Error('a backfill job disappeared');
      if (j.state === 'failed') throw new Error(`backfill of shard ${payloadOf(j.payload)?.shard}: ${j.error}`);
      copied += cursorOf(j.cursor).copied;
      if (j.state === 'completed') finished++;
    }
    if (finished === jobs.length) {
      for (const id of r.jobs) await this.o.store.deleteJob(id);
      await this.put({ ...r, documents_backfilled: copied, jobs: [], phase: 'verifying' });
    } else if (copied !== r.documents_backfilled) await this.put({ ...r, documents_backfilled: copied });
  }

  private startVerify(r: ReshardRecord): void {
    if (this.verifying.has(r.index)) return;
    this.verifying.add(r.index);
    void (async () => {
      try {
        const repaired = this.o.config.verify_before_swap ? await this.verify(r) : 0;
        const cur = this.records.get(r.index);
        if (cur?.phase !== 'verifying' || cur.started_at !== r.started_at) return; // reverted meanwhile
        await this.flip({ ...cur, documents_repaired: cur.documents_repaired + repaired });
      } catch (err) {
        const cur = this.records.get(r.index);
        if (cur?.phase === 'verifying') await this.fail(cur, `verify: ${errorText(err)}`);
      } finally {
        this.verifying.delete(r.index);
      }
    })();
  }

  /** The flip: one alias compare-and-set; from then on the uid is served by the shadow and the old copy mirrored. */
  private async flip(r: ReshardRecord): Promise<void> {
    await this.aliases.flip(r.index, r.shadow);
    const now = this.now();
    await this.put({
      ...r,
      phase: 'flipped',
      flipped_at: now,
      // a write that resolved the uid just before the flip may still be on its way to the old copy: never drop it
      // sooner than FLIP_GRACE_MS after the flip (it is mirrored to the shadow until then)
      drop_at: now + Math.max(FLIP_GRACE_MS, this.o.config.retain_old_index_hours * 3_600_000),
    });
    this.o.logger?.info({ index: r.index, shadow: r.shadow, shards: r.new_shards }, 'reshard flipped');
  }

  /**
   * The drop of the old copy, in two ticks. First the mirror stops (`dual_writes` off) and every pod is given the
   * record's refresh period to see it. Then this pod's writes already past their mirror decision drain (the shadow's
   * write lane) before the deletion is enqueued, so no mirrored write reaches the old copy after it: a late addition
   * would create it again on the nodes, a late deletion would fail the client's task.
   */
  private async dropOld(r: ReshardRecord): Promise<void> {
    this.o.metrics.phase.labels(r.index).set(PHASE_GAUGE.cleanup);
    if (r.dual_writes) {
      await this.put({ ...r, dual_writes: false, drop_at: this.now() + 3 * this.refreshMs + 500 });
      return;
    }
    await this.o.state.inLane(r.shadow, async () => undefined);
    if ((await this.o.state.get(r.live)) !== null) await this.waitTask(await this.o.ops.deleteIndex(r.live));
    await this.put({ ...r, phase: 'done', drop_at: null });
    this.o.logger?.info({ index: r.index, dropped: r.live }, 'reshard done: old copy dropped');
  }

  /** Before the flip: stops mirroring, drops the jobs and deletes the shadow. After a reverse flip: the same. */
  private async fail(r: ReshardRecord, error: string): Promise<void> {
    await this.put({ ...r, phase: 'failed', error, dual_writes: false, jobs: [] });
    for (const id of r.jobs) await this.o.store.deleteJob(id).catch(() => undefined);
    // This pod's backfill pages and mirrored writes go out in the live index's lane and look at the record there:
    // once the lane has drained past this point none of them follows the shadow's deletion (a late addition would
    // create the shadow again on its nodes).
    await this.o.state.inLane(r.live, async () => undefined);
    if ((await this.o.state.get(r.shadow)) !== null) await this.waitTask(await this.o.ops.deleteIndex(r.shadow));
    this.o.logger?.warn({ index: r.index, error }, 'reshard failed; the shadow copy was deleted');
  }

  private mirrorFailed(uid: string, mirror: MirrorTarget, err: unknown): void {
    this.o.logger?.warn({ err, index: uid, mirror: mirror.uid }, 'a mirrored write failed');
    const r = [...this.records.values()].find((x) => x.live === uid && x.shadow === mirror.uid);
    // Before the flip, the shadow missed an acknowledged write: it cannot become the served copy.
    if (r !== undefined && r.flipped_at === null && r.phase !== 'failed')
      void this.fail(r, `a write could not be mirrored to the new copy: ${errorText(err)}`).catch(() => undefined);
  }

  private async waitTask(task: TaskRow): Promise<void> {
    const t = await this.o.tasks.waitFinished(task.uid, this.o.taskTimeoutMs);
    if (t.status !== 'succeeded')
      throw new Error(`task ${task.uid} (${task.type} of ${task.indexUid}) ${t.status}: ${t.error?.message ?? ''}`);
  }

  // ---------------------------------------------------------------- node reads and writes

  /** A readable replica of `shard` of `uid` (first active group first). */
  private reader(uid: string, shard: number): NodeApi {
    const api = this.o.topology.readerOf(uid, shard);
    if (api !== null) return api;
    throw new MeiliError('miroir_shard_unavailable', `No readable replica of shard ${shard} of \`${uid}\`.`);
  }

  /** Waits until every node processed what it had enqueued (node queues run in order). */
  private async drainAll(): Promise<void> {
    await Promise.all(this.o.topology.liveClients().map((api) => api.drain({ timeoutMs: this.o.taskTimeoutMs })));
  }

  /** Every document of `shards` of `uid`, page by page (`fn` per page). */
  private async readShards(uid: string, shards: readonly number[], fn: (docs: Doc[]) => void): Promise<void> {
    const limit = this.o.config.backfill_batch_size;
    for (const s of shards) {
      const api = this.reader(uid, s);
      for (let offset = 0; ; offset += limit) {
        const page = await api.fetchDocuments(
          uid,
          { filter: shardInClause([s]), offset, limit },
          { operation: 'reshard_verify', timeoutMs: this.o.taskTimeoutMs },
        );
        if (page === null) throw new Error(`a node lacks index \`${uid}\``);
        if (page.results.length > 0) fn(page.results);
        if (page.results.length < limit) break;
      }
    }
  }

  /**
   * Writes documents read from the live copy to `target` (routed by its own shard count, `_miroir_shard` set anew),
   * deleting `gone` ids; answers the node tasks to wait for.
   */
  private async writeCopy(
    target: string,
    primaryKey: string,
    docs: readonly Doc[],
    gone: readonly string[] = [],
  ): Promise<Array<{ api: NodeApi; task: number }>> {
    const table = this.o.topology.routingFor(target);
    const sent: Array<{ api: NodeApi; task: number }> = [];
    const tag = 'customMetadata=miroir-reshard-backfill';
    if (docs.length > 0) {
      const body = Buffer.from(JSON.stringify(docs.map(clientContent)));
      const targets = Array.from({ length: table.shards }, (_, s) => [...table.writeTargets(s).values()].flat());
      const batch = ingestBatch({ body, format: 'json', csvDelimiter: ',', primaryKey, shards: table.shards, targets });
      if (batch.routed === null || batch.routed.error !== null)
        throw new Error(`documents of \`${target}\` could not be routed: ${batch.routed?.error?.message ?? 'no key'}`);
      for (const [nodeId, b] of Object.entries(batch.routed.bodies)) {
        const api = this.o.topology.client(nodeId);
        if (api === undefined) throw new Error(`node ${nodeId} left the topology`);
        const task = await api.enqueue({
          method: 'POST',
          path: `/indexes/${encodeURIComponent(target)}/documents?${tag}`,
          body: b,
          operation: RESHARD_BACKFILL,
          timeoutMs: this.o.taskTimeoutMs,
        });
        sent.push({ api, task });
      }
    }
    if (gone.length > 0) {
      const perNode = new Map<string, string[]>();
      for (const id of gone)
        for (const nodes of table.writeTargets(shardForKey(id, table.shards)).values())
          for (const n of nodes) (perNode.get(n) ?? perNode.set(n, []).get(n)!).push(id);
      for (const [nodeId, ids] of perNode) {
        const api = this.o.topology.client(nodeId);
        if (api === undefined) throw new Error(`node ${nodeId} left the topology`);
        sent.push({ api, task: await api.deleteDocuments(target, ids, RESHARD_BACKFILL) });
      }
    }
    return sent;
  }

  private async waitSent(sent: ReadonlyArray<{ api: NodeApi; task: number }>): Promise<void> {
    for (const { api, task } of sent) {
      const [t] = await api.waitTasks([task], { timeoutMs: this.o.taskTimeoutMs });
      if (t !== undefined && t.status !== 'succeeded')
        throw new Error(`node ${api.nodeId} task ${task} ${t.status}: ${t.error?.message ?? ''}`);
    }
  }

  // ---------------------------------------------------------------- verify

  /**
   * Primary-key sets and per-document content hashes of both copies, chunk by chunk: with g = gcd(old, new), old
   * shard s and new shard t hold the same ids exactly when s ≡ t (mod g), so each chunk compares a closed set. A
   * chunk is read in the live index's lane after the nodes drained (no write of this pod in flight). A difference
   * is repaired from the live copy once and the chunk compared again; a second difference fails the reshard.
   */
  private async verify(r: ReshardRecord): Promise<number> {
    const view = await this.o.state.get(r.live);
    const pk = view?.primaryKey ?? null;
    if (pk === null) return 0;
    const chunks = gcd(r.old_shards, r.new_shards);
    let repaired = 0;
    for (let c = 0; c < chunks; c++) {
      for (let attempt = 0; ; attempt++) {
        const diff = await this.o.state.inLane(r.live, async () => {
          await this.drainAll();
          const live = new Map<string, bigint>();
          const liveDocs = new Map<string, Doc>();
          await this.readShards(r.live, chunkShards(r.old_shards, chunks, c), (docs) => {
            for (const d of docs) {
              const id = String(d[pk]);
              live.set(id, contentHash(id, d));
              liveDocs.set(id, d);
            }
          });
          const copy = new Map<string, bigint>();
          const misplaced: string[] = [];
          await this.readShards(r.shadow, chunkShards(r.new_shards, chunks, c), (docs) => {
            for (const d of docs) {
              const id = String(d[pk]);
              copy.set(id, contentHash(id, d));
              if (d._miroir_shard !== shardForKey(id, r.new_shards)) misplaced.push(id);
            }
          });
          const ids = [...new Set([...differingIds(live, copy), ...misplaced])];
          if (ids.length === 0 || attempt > 0) return ids;
          // repair from the live copy, still inside the lane: a later write lands after it
          const present = ids.filter((id) => liveDocs.has(id)).map((id) => liveDocs.get(id)!);
          const gone = ids.filter((id) => !liveDocs.has(id));
          await this.waitSent(await this.writeCopy(r.shadow, pk, present, [...gone, ...misplaced]));
          if (misplaced.length > 0) await this.waitSent(await this.writeCopy(r.shadow, pk, present));
          return ids;
        });
        if (diff.length === 0) break;
        if (attempt > 0)
          throw new Error(
            `${diff.length} documents differ between \`${r.live}\` and \`${r.shadow}\` (e.g. ${diff.slice(0, 5).join(', ')})`,
          );
        repaired += diff.length;
        this.o.logger?.warn({ index: r.index, chunk: c, documents: diff.length }, 'reshard verify repaired documents');
      }
    }
    return repaired;
  }

  // ---------------------------------------------------------------- Mode C backfill jobs

  private async claim(): Promise<void> {
    if (!this.adopted) {
      // Jobs this pod id held before a restart resume at once from their cursors (only a previous process under the
      // same id can have left them) instead of waiting for their claims to lapse.
      this.adopted = true;
      for (const j of await this.o.store.listJobs())
        if (j.type === RESHARD_BACKFILL && j.state === 'in_progress' && j.owner === this.podId)
          if (await this.o.store.heartbeatJob(j.id, this.podId, this.o.jobLeaseMs, j.cursor)) this.launch(j);
    }
    while (!this.stopped && this.running.size < this.o.config.backfill_concurrency) {
      const job = await this.o.store.claimJob(this.podId, this.o.jobLeaseMs, [RESHARD_BACKFILL]);
      if (job === null) return;
      this.launch(job);
    }
  }

  private launch(job: Job): void {
    const run = this.runJob(job)
      .catch((err: unknown) => this.o.logger?.warn({ err, job: job.id }, 'reshard backfill job stopped'))
      .finally(() => this.running.delete(job.id));
    this.running.set(job.id, run);
  }

  private async runJob(job: Job): Promise<void> {
    const p = payloadOf(job.payload);
    if (p === null) {
      await this.o.store.failJob(job.id, this.podId, 'unreadable reshard_backfill payload');
      return;
    }
    const cursor = cursorOf(job.cursor);
    let failures = 0;
    while (!this.stopped) {
      const r = this.backfilling(p);
      if (r === null) return; // stopped or reverted
      let copied: number;
      try {
        copied = await this.copyPage(p, cursor.offset);
        failures = 0;
      } catch (err) {
        if (err instanceof JobLost) return;
        if (++failures >= 5) {
          await this.o.store.failJob(job.id, this.podId, errorText(err));
          return;
        }
        await new Promise((res) => setTimeout(res, 200 * failures));
        continue;
      }
      if (copied === 0) {
        await this.o.store.completeJob(job.id, this.podId);
        return;
      }
      cursor.offset += copied;
      cursor.copied += copied;
      this.o.metrics.backfilled.labels(p.index).inc(copied);
      if (!(await this.o.store.heartbeatJob(job.id, this.podId, this.o.jobLeaseMs, { ...cursor }))) return;
      await this.throttle(r, copied);
    }
  }

  /** The reshard a backfill job copies for, while it is still backfilling into that job's shadow; else null. */
  private backfilling(p: BackfillPayload): ReshardRecord | null {
    const r = this.records.get(p.index);
    return r !== undefined && r.shadow === p.shadow && r.phase === 'backfilling' ? r : null;
  }

  /** Per pod and reshard: waits so that this pod's backfill stays at `throttle_docs_per_sec`. */
  private async throttle(r: ReshardRecord, copied: number): Promise<void> {
    if (r.throttle_docs_per_sec <= 0) return;
    const key = `${r.index}\u0000${r.started_at}`;
    let rate = this.rates.get(key);
    if (rate === undefined) this.rates.set(key, (rate = { startedAt: this.now(), done: 0 }));
    rate.done += copied;
    const wait = throttleDelay(r.throttle_docs_per_sec, rate.done, rate.startedAt, this.now());
    if (wait > 0) await new Promise((res) => setTimeout(res, wait));
  }

  /**
   * One backfill page: in the live index's lane (every write of this pod to it is enqueued on both copies before),
   * after the shard's node applied its queue, read the page and enqueue it on the shadow — a mirrored write of the
   * same documents can only be enqueued after it. Then wait for the shadow's tasks outside the lane.
   */
  private async copyPage(p: BackfillPayload, offset: number): Promise<number> {
    const limit = this.o.config.backfill_batch_size;
    const { count, sent } = await this.o.state.inLane(p.live, async () => {
      // Reverted or failed while this page waited for the lane: the shadow is being deleted, nothing more goes to it.
      if (this.backfilling(p) === null) throw new JobLost();
      const api = this.reader(p.live, p.shard);
      await api.drain({ timeoutMs: this.o.taskTimeoutMs });
      const page = await api.fetchDocuments(
        p.live,
        { filter: shardInClause([p.shard]), offset, limit },
        { operation: RESHARD_BACKFILL, timeoutMs: this.o.taskTimeoutMs },
      );
      if (page === null) throw new Error(`a node lacks index \`${p.live}\``);
      if (page.results.length === 0) return { count: 0, sent: [] };
      return { count: page.results.length, sent: await this.writeCopy(p.shadow, p.primaryKey, page.results) };
    });
    await this.waitSent(sent);
    return count;
  }
}
