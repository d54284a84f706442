// The one owner of the alias table (SPEC A7 + Round 2 decisions "Aliases"). The table lives whole in the store; every
// change (create, put, delete, flip — and an ILM rollover moving two aliases) is ONE compare-and-set on its version,
// retried on conflict, so a flip is atomic for every pod. Each pod keeps the table in memory: replaced on the
// store's `aliases` message and reread every `aliases.resync_interval_s` (a lost message heals), so resolving a
// name on the request path is a map lookup. A request resolves once and keeps what it got.
import { Counter, type Registry } from 'prom-client';
import {
  aliasConflict,
  aliasNotFound,
  checkTargets,
  EMPTY_ALIAS_TABLE,
  resolveName,
  withAlias,
  withoutAlias,
  type AliasRecord,
  type AliasResolution,
  type AliasTable,
} from '../../core/aliases.js';
import { MeiliError } from '../../core/errors.js';
import type { Store } from '../../store/store.js';
import type { Logger } from '../observability/logger.js';
import { every, type Periodic } from '../util/periodic.js';

export interface AliasConfig {
  historyRetention: number;
  requireTargetExists: boolean;
  resyncIntervalMs: number;
}

export function aliasMetrics(registry: Registry) {
  const r = [registry];
  return {
    resolutions: new Counter({
      name: 'miroir_alias_resolutions_total',
      help: 'Requests whose index name was an alias, resolved to its target(s), by alias',
      labelNames: ['alias'] as const,
      registers: r,
    }),
    flips: new Counter({
      name: 'miroir_alias_flips_total',
      help: 'Alias target changes made by this pod (create, put, flip, rollover), by alias',
      labelNames: ['alias'] as const,
      registers: r,
    }),
  };
}

export type AliasMetrics = ReturnType<typeof aliasMetrics>;

/** A change of the whole table: the next aliases, or null to leave the table as it is. */
export type AliasChange = (table: AliasTable) => Omit<AliasTable, 'version'> | null;

const MAX_CAS_ATTEMPTS = 50;

export class AliasService {
  private table: AliasTable = EMPTY_ALIAS_TABLE;
  private resync: Periodic | null = null;
  private unsubscribe: (() => Promise<void>) | null = null;

  constructor(
    private readonly deps: {
      store: Store;
      config: AliasConfig;
      metrics: AliasMetrics;
      /** Whether an index (committed, visible to clients) of this uid exists. */
      indexExists: (uid: string) => Promise<boolean>;
      logger?: Logger | null;
    },
  ) {}

  async start(): Promise<void> {
    this.unsubscribe = await this.deps.store.subscribe('aliases', () => void this.refresh());
    await this.refresh();
    this.resync = every(this.deps.config.resyncIntervalMs, () => this.refresh(), {
      onError: (err) => this.deps.logger?.warn({ err }, 'alias table resync failed'),
    });
  }

  async stop(): Promise<void> {
    await this.resync?.stop();
    await this.unsubscribe?.();
  }

  /** Rereads the table; an older answer arriving late never replaces a newer one. */
  async refresh(): Promise<AliasTable> {
    const t = await this.deps.store.getAliases();
    this.adopt(t);
    return this.table;
  }

  private adopt(t: AliasTable): void {
    if (t.version >= this.table.version) this.table = t;
  }

  /** The table as this pod knows it (no I/O). */
  current(): AliasTable {
    return this.table;
  }

  /** Whether `name` is an alias (user or internal) on this pod's table. */
  isAlias(name: string): boolean {
    return Object.hasOwn(this.table.aliases, name);
  }

  /**
   * What a client-given index name serves from. A user alias's target that is itself an internal alias (an index
   * resharded behind its uid) resolves through it, so user aliases keep working across a reshard.
   */
  resolve(name: string): AliasResolution {
    const r = resolveName(this.table, name);
    if (r.alias === null) return r;
    this.deps.metrics.resolutions.inc({ alias: name });
    if (r.internal) return r;
    const uids = r.uids.flatMap((u) => {
      const inner = Object.hasOwn(this.table.aliases, u) ? this.table.aliases[u] : undefined;
      return inner?.internal === true ? inner.targets : [u];
    });
    return { ...r, uids };
  }

  list(): AliasRecord[] {
    return Object.values(this.table.aliases).sort((a, b) => a.name.localeCompare(b.name));
  }

  async get(name: string): Promise<AliasRecord> {
    const t = await this.refresh();
    const a = Object.hasOwn(t.aliases, name) ? t.aliases[name] : undefined;
    if (a === undefined) throw aliasNotFound(name);
    return a;
  }

  /**
   * Runs `change` on the stored table and writes its answer with one compare-and-set, rereading and running it again
   * when another writer got there first. Returns the written table (or the current one when `change` answered null).
   */
  async mutate(change: AliasChange): Promise<AliasTable> {
    for (let attempt = 0; attempt < MAX_CAS_ATTEMPTS; attempt++) {
      const cur = await this.deps.store.getAliases();
      this.adopt(cur);
      const next = change(cur);
      if (next === null) return cur;
      const written = await this.deps.store.casAliases(cur.version, next);
      if (written !== null) {
        this.adopt(written);
        for (const [name, a] of Object.entries(next.aliases)) {
          const before = Object.hasOwn(cur.aliases, name) ? cur.aliases[name] : undefined;
          if (before === undefined || before.targets.join('\n') !== a.targets.join('\n'))
            this.deps.metrics.flips.inc({ alias: name });
        }
        return written;
      }
    }
    throw new MeiliError('miroir_alias_conflict', 'The alias table kept changing under this request; retry it.');
  }

  private async checkTargetsExist(targets: readonly string[]): Promise<void> {
    if (!this.deps.config.requireTargetExists) return;
    for (const t of targets)
      if (!(await this.deps.indexExists(t)) && !this.isInternal(t))
        throw new MeiliError('miroir_alias_not_found', `Alias target \`${t}\` is not an existing index.`);
  }

  /** Whether `name` is an internal alias (an index resharded behind its uid). */
  isInternal(name: string): boolean {
    const a = Object.hasOwn(this.table.aliases, name) ? this.table.aliases[name] : undefined;
    return a?.internal === true;
  }

  /** `POST /_miroir/aliases`: a new user alias; 409 when the name is an alias or an index already. */
  async create(name: string, targets: readonly string[]): Promise<AliasRecord> {
    checkTargets(name, targets);
    if (await this.deps.indexExists(name)) throw aliasConflict(name, 'index');
    await this.checkTargetsExist(targets);
    const t = await this.mutate((table) => {
      if (Object.hasOwn(table.aliases, name)) throw aliasConflict(name, 'alias');
      return withAlias(table, name, targets, new Date(), this.deps.config.historyRetention);
    });
    // An index of this name created meanwhile (its check ran before this CAS) wins: the alias is taken back.
    if (await this.deps.indexExists(name)) {
      await this.mutate((table) => (Object.hasOwn(table.aliases, name) ? withoutAlias(table, name) : null));
      throw aliasConflict(name, 'index');
    }
    return t.aliases[name]!;
  }

  /** `PUT /_miroir/aliases/{name}`: new targets for an existing user alias (404 when there is none). */
  async put(name: string, targets: readonly string[]): Promise<AliasRecord> {
    checkTargets(name, targets);
    await this.checkTargetsExist(targets);
    const t = await this.mutate((table) => {
      const a = Object.hasOwn(table.aliases, name) ? table.aliases[name] : undefined;
      if (a === undefined) throw aliasNotFound(name);
      if (a.internal === true) throw aliasConflict(name, 'alias');
      return withAlias(table, name, targets, new Date(), this.deps.config.historyRetention);
    });
    return t.aliases[name]!;
  }

  /** `DELETE /_miroir/aliases/{name}` (404 when there is none; internal aliases belong to their reshard). */
  async delete(name: string, opts: { internal?: boolean } = {}): Promise<void> {
    await this.mutate((table) => {
      const a = Object.hasOwn(table.aliases, name) ? table.aliases[name] : undefined;
      if (a === undefined) throw aliasNotFound(name);
      if ((a.internal === true) !== (opts.internal === true)) throw aliasConflict(name, 'alias');
      return withoutAlias(table, name);
    });
  }

  /**
   * Points `name` at `targets` whether or not it exists yet, in one compare-and-set — what Miroir's own flips use.
   * `internal: true` (the reshard flip) may take the name of an existing index: that uid keeps serving its clients
   * from the new target, and listings keep showing the uid.
   */
  async flip(name: string, targets: readonly string[], opts: { internal?: boolean } = {}): Promise<AliasRecord> {
    checkTargets(name, targets);
    const t = await this.mutate((table) =>
      withAlias(table, name, targets, new Date(), this.deps.config.historyRetention, opts.internal === true),
    );
    return t.aliases[name]!;
  }
}
