// ILM rollover (SPEC A17, issue 26): policies kept in the store; a Mode B leader (lease `ilm`) checks each policy's
// triggers (`max_docs`, `max_age`, `max_size_gb`) every `ilm.check_interval_s`. A rollover creates the next index from
// the policy's template through the index operations (settings from the template), then moves the write alias
// (single target: the new index) and the read alias (multi-target: the kept indexes) in ONE alias-table
// compare-and-set, records the policy's new state, and deletes the indexes beyond `retention.keep_indexes` unless
// younger than `ilm.safety_lock_older_than_days`. A crash between steps is healed by the next run: an index the
// policy was creating is reused when it exists already.
import { Counter, Gauge, type Registry } from 'prom-client';
import { withAlias } from '../../core/aliases.js';
import { MeiliError } from '../../core/errors.js';
import { firedTrigger, generationUid, parsePolicy, retentionPlan, type IlmPolicyRecord } from '../../core/ilm.js';
import type { Store, TaskRow } from '../../store/store.js';
import { NOT_ACQUIRED, withLease } from '../cluster/leases.js';
import type { Logger } from '../observability/logger.js';
import type { AliasService } from '../state/aliases.js';
import type { IndexOperations } from '../state/index-ops.js';
import type { TaskRegistry } from '../tasks/registry.js';
import { every, type Periodic } from '../util/periodic.js';

export const ILM_LEASE_SCOPE = 'ilm';

export function ilmMetrics(registry: Registry) {
  const r = [registry];
  return {
    events: new Counter({
      name: 'miroir_rollover_events_total',
      help: 'Rollovers performed (a new write index), by policy',
      labelNames: ['policy'] as const,
      registers: r,
    }),
    active: new Gauge({
      name: 'miroir_rollover_active_indexes',
      help: "Indexes a policy's read alias spans, by read alias",
      labelNames: ['alias'] as const,
      registers: r,
    }),
    expired: new Counter({
      name: 'miroir_rollover_documents_expired_total',
      help: 'Documents of the indexes retention deleted, by policy',
      labelNames: ['policy'] as const,
      registers: r,
    }),
    lastAction: new Gauge({
      name: 'miroir_rollover_last_action_seconds',
      help: "Unix time (s) of a policy's last rollover or retention action, by policy",
      labelNames: ['policy'] as const,
      registers: r,
    }),
  };
}

export type IlmMetrics = ReturnType<typeof ilmMetrics>;

export interface IlmConfig {
  checkIntervalMs: number;
  safetyLockMs: number;
  maxRolloversPerCheck: number;
}

export interface IlmDeps {
  store: Store;
  aliases: AliasService;
  ops: IndexOperations;
  tasks: TaskRegistry;
  /** The logical document count and size of an index (stats over a covering set). */
  stats: (uid: string) => Promise<{ documents: number; sizeBytes: number }>;
  indexExists: (uid: string) => Promise<boolean>;
  metrics: IlmMetrics;
  config: IlmConfig;
  historyRetention: number;
  logger: Logger | null;
  /** Mode B: the lease (null = one pod, no lease). */
  lease: { owner: () => string; ttlMs: number } | null;
}

const TASK_WAIT_MS = 60_000;

function policyNotFound(name: string): MeiliError {
  return new MeiliError('miroir_ilm_policy_not_found', `ILM policy \`${name}\` not found.`);
}

export class IlmService {
  private loop: Periodic | null = null;
  private running: Promise<unknown> = Promise.resolve();

  constructor(private readonly d: IlmDeps) {}

  start(): void {
    this.loop = every(this.d.config.checkIntervalMs, () => this.checkAll(), {
      onError: (err) => this.d.logger?.warn({ err }, 'ILM check failed'),
    });
  }

  async stop(): Promise<void> {
    await this.loop?.stop();
  }

  /**
   * Runs `fn` under the `ilm` lease (Mode B) and, within this pod, after any ILM work already running (the check loop
   * and the rollover route never interleave); null when another pod holds the lease for the whole wait.
   */
  private leader<T>(fn: () => Promise<T>, waitMs: number): Promise<T | null> {
    const lease = this.d.lease;
    const run = async (): Promise<T | null> => {
      if (lease === null) return fn();
      const out = await withLease(
        { store: this.d.store, scope: ILM_LEASE_SCOPE, owner: lease.owner(), ttlMs: lease.ttlMs, waitMs },
        () => fn(),
      );
      return out === NOT_ACQUIRED ? null : out;
    };
    const next = this.running.then(run, run);
    this.running = next.then(
      () => undefined,
      () => undefined,
    );
    return next;
  }

  list(): Promise<IlmPolicyRecord[]> {
    return this.d.store.listIlmPolicies();
  }

  async get(name: string): Promise<IlmPolicyRecord> {
    const p = await this.d.store.getIlmPolicy(name);
    if (p === null) throw policyNotFound(name);
    return p;
  }

  /** `POST /_miroir/ilm/policies`: stores the policy and creates its first index and both aliases at once. */
  async create(body: unknown): Promise<IlmPolicyRecord> {
    const policy = parsePolicy(body, Date.now());
    if ((await this.d.store.getIlmPolicy(policy.name)) !== null)
      throw new MeiliError('miroir_invalid_ilm_policy', `ILM policy \`${policy.name}\` exists already.`);
    for (const a of [policy.write_alias, policy.read_alias])
      if ((await this.d.indexExists(a)) || this.d.aliases.isAlias(a))
        throw new MeiliError('miroir_alias_conflict', `\`${a}\` is already an index uid or an alias.`);
    for (const other of await this.d.store.listIlmPolicies())
      if ([other.write_alias, other.read_alias].some((a) => a === policy.write_alias || a === policy.read_alias))
        throw new MeiliError(
          'miroir_alias_conflict',
          `ILM policy \`${other.name}\` already owns one of these aliases.`,
        );
    await this.d.store.putIlmPolicy(policy);
    const done = await this.leader(() => this.rollover(policy.name, 'bootstrap'), this.d.config.checkIntervalMs);
    if (done === null) throw new MeiliError('miroir_shard_unavailable', 'Another pod is running ILM; retry shortly.');
    return this.get(policy.name);
  }

  async delete(name: string): Promise<void> {
    if (!(await this.d.store.deleteIlmPolicy(name))) throw policyNotFound(name);
  }

  /** `POST /_miroir/ilm/policies/{name}/rollover`: roll over now, whatever the triggers. */
  async rolloverNow(name: string): Promise<IlmPolicyRecord> {
    await this.get(name);
    const done = await this.leader(() => this.rollover(name, 'manual'), this.d.lease?.ttlMs ?? 0);
    if (done === null) throw new MeiliError('miroir_shard_unavailable', 'Another pod is running ILM; retry shortly.');
    return this.get(name);
  }

  /** One check of every policy (the leader's periodic run). */
  async checkAll(): Promise<number> {
    return (
      (await this.leader(async () => {
        let rolled = 0;
        for (const p of await this.d.store.listIlmPolicies()) {
          if (rolled >= this.d.config.maxRolloversPerCheck) break;
          if (p.indexes.length === 0) {
            await this.rollover(p.name, 'bootstrap');
            rolled++;
            continue;
          }
          const current = p.indexes[p.indexes.length - 1]!;
          let s: { documents: number; sizeBytes: number };
          try {
            s = await this.d.stats(current.uid);
          } catch (err) {
            this.d.logger?.warn({ err, policy: p.name, index: current.uid }, 'ILM: write index stats unavailable');
            continue;
          }
          const fired = firedTrigger(p, { ...s, createdAt: current.createdAt }, Date.now());
          if (fired === null) {
            await this.retain(p);
            continue;
          }
          this.d.logger?.info({ policy: p.name, trigger: fired, index: current.uid }, 'ILM rollover');
          await this.rollover(p.name, fired);
          rolled++;
        }
        return rolled;
      }, 0)) ?? 0
    );
  }

  private waitTask(row: TaskRow): Promise<TaskRow> {
    return this.d.tasks.waitFinished(row.uid, TASK_WAIT_MS);
  }

  /** Creates the policy's next index, flips both aliases in one CAS, then applies retention. */
  private async rollover(name: string, why: string): Promise<IlmPolicyRecord> {
    const p = await this.get(name);
    // A policy is bootstrapped once: by its POST, or by a check that listed it before the POST's own rollover ran
    // (both run one after the other under the ilm lease, so the second sees the first's index).
    if (why === 'bootstrap' && p.indexes.length > 0) return p;
    const uid = generationUid(p.index_template.uid_prefix, p.next_generation);
    if (!(await this.d.indexExists(uid))) {
      const created = await this.waitTask(await this.d.ops.createIndex(uid, p.index_template.primaryKey));
      if (created.status !== 'succeeded')
        throw new Error(`ILM: creating ${uid} failed: ${created.error?.message ?? created.status}`);
    }
    if (p.index_template.settings !== null) {
      const set = await this.waitTask(await this.d.ops.updateSettings(uid, p.index_template.settings, null, 'PATCH'));
      if (set.status !== 'succeeded')
        throw new Error(`ILM: settings of ${uid} failed: ${set.error?.message ?? set.status}`);
    }
    const now = Date.now();
    const indexes = [...p.indexes.filter((e) => e.uid !== uid), { uid, createdAt: now }];
    const { kept, deleted } = retentionPlan(indexes, p.retention.keep_indexes, this.d.config.safetyLockMs, now);
    // The write alias and the read alias move together: one compare-and-set of the alias table.
    await this.d.aliases.mutate((table) => {
      const at = new Date(now);
      const r = this.d.historyRetention;
      const withWrite = withAlias(table, p.write_alias, [uid], at, r);
      return withAlias(
        { version: table.version, aliases: withWrite.aliases },
        p.read_alias,
        kept.map((e) => e.uid),
        at,
        r,
      );
    });
    const next: IlmPolicyRecord = {
      ...p,
      indexes: kept,
      next_generation: p.next_generation + 1,
      last_action_at: now,
    };
    await this.d.store.putIlmPolicy(next);
    this.d.metrics.events.inc({ policy: name });
    this.d.metrics.active.set({ alias: p.read_alias }, kept.length);
    this.d.metrics.lastAction.set({ policy: name }, Math.floor(now / 1000));
    this.d.logger?.info({ policy: name, why, index: uid, deleted: deleted.map((e) => e.uid) }, 'ILM rolled over');
    await this.drop(
      name,
      deleted.map((e) => e.uid),
    );
    return next;
  }

  /** Retention without a rollover: indexes whose safety lock has lapsed since the last rollover. */
  private async retain(p: IlmPolicyRecord): Promise<void> {
    const { kept, deleted } = retentionPlan(
      p.indexes,
      p.retention.keep_indexes,
      this.d.config.safetyLockMs,
      Date.now(),
    );
    if (deleted.length === 0) return;
    await this.d.aliases.mutate((table) =>
      withAlias(
        table,
        p.read_alias,
        kept.map((e) => e.uid),
        new Date(),
        this.d.historyRetention,
      ),
    );
    await this.d.store.putIlmPolicy({ ...p, indexes: kept, last_action_at: Date.now() });
    this.d.metrics.active.set({ alias: p.read_alias }, kept.length);
    this.d.metrics.lastAction.set({ policy: p.name }, Math.floor(Date.now() / 1000));
    await this.drop(
      p.name,
      deleted.map((e) => e.uid),
    );
  }

  /** Deletes indexes no alias points at any more, counting their documents as expired. */
  private async drop(policy: string, uids: readonly string[]): Promise<void> {
    for (const uid of uids) {
      if (!(await this.d.indexExists(uid))) continue;
      const docs = await this.d.stats(uid).then(
        (s) => s.documents,
        () => 0,
      );
      const t = await this.waitTask(await this.d.ops.deleteIndex(uid));
      if (t.status === 'succeeded') this.d.metrics.expired.inc({ policy }, docs);
      else this.d.logger?.warn({ policy, index: uid, error: t.error }, 'ILM: deleting an expired index failed');
    }
  }
}
