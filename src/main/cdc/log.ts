// The change log's writer and reader (SPEC A13, Round 2 decisions "CDC"). Writer: every client task that changes an
// index is appended to the store's ordered log from TaskRegistry.create — next to the task record, before the 202 —
// so an acknowledged write has its event whatever crashes after; internal writers (shard moves, anti-entropy, the TTL
// sweeper, reshard backfill, rollover) are logged only when the config asks, else counted as suppressed. Reader: the
// long-poll of `GET /_miroir/changes`, woken by this pod's appends and by other pods' (store channel `changes`).
import {
  changesPage,
  forSink,
  operationOf,
  projectedSettingsVersion,
  type CdcEvent,
  type CdcEventDraft,
  type CdcOperation,
  type CdcOrigin,
  type ChangeFacts,
  type ChangesQuery,
} from '../../core/cdc.js';
import { CONTROL_QUEUE, type Store, type TaskRow } from '../../store/store.js';
import type { Logger } from '../observability/logger.js';
import { every, type Periodic } from '../util/periodic.js';
import type { CdcConfig } from './config.js';
import type { CdcMetrics } from './metrics.js';

/** What an internal writer tells about one write. */
export interface InternalChange {
  index: string;
  operation: CdcOperation;
  shard_ids: number[];
  primary_keys?: string[] | null;
  filter?: unknown;
  /** The documents written (keys are read from them with the index's primary key; bodies kept when a sink wants). */
  documents?: ReadonlyArray<Record<string, unknown>>;
}

/** The internal writers' side of the log (shard mover, anti-entropy, TTL sweeper, reshard backfill, rollover). */
export interface InternalChanges {
  internal(origin: CdcOrigin, change: InternalChange): Promise<void>;
}

/** The task registry's side of the log. */
export interface ChangeRecorder {
  /** Whether document writes pass their documents (some sink asked `include_body`). */
  readonly withBodies: boolean;
  record(task: TaskRow, facts?: ChangeFacts): Promise<void>;
}

export interface ChangeLogOptions {
  store: Store;
  config: CdcConfig;
  metrics: CdcMetrics;
  logger: Logger | null;
  now?: () => number;
}

export class ChangeLog implements ChangeRecorder, InternalChanges {
  readonly withBodies: boolean;
  private readonly now: () => number;
  private waiters = new Set<() => void>();
  private unsubscribe: (() => Promise<void>) | null = null;
  private trimmer: Periodic | null = null;

  constructor(private readonly o: ChangeLogOptions) {
    this.now = o.now ?? Date.now;
    const s = o.config.sinks;
    this.withBodies = s.webhook?.include_body === true || s.nats?.include_body === true;
  }

  /** Subscribes to other pods' appends and starts retention (on the pod `owns('cdc_retention')` names). */
  async start(owns: (item: string) => boolean): Promise<void> {
    this.unsubscribe = await this.o.store.subscribe('changes', () => this.wake());
    const r = this.o.config.retention;
    this.trimmer = every(
      r.trim_interval_s * 1000,
      async () => {
        if (!owns('cdc_retention')) return;
        const n = await this.o.store.trimChanges(r.max_events, this.now() - r.max_age_s * 1000);
        if (n > 0) this.o.logger?.info({ trimmed: n }, 'CDC retention trimmed the change log');
      },
      { onError: (err) => this.o.logger?.warn({ err }, 'CDC retention trim failed') },
    );
  }

  async stop(): Promise<void> {
    await this.trimmer?.stop();
    await this.unsubscribe?.();
    this.wake();
  }

  /** Appends the events of a client task (none for a task Miroir decided at once — nothing reached a node — or one
   * that changes no index). */
  async record(task: TaskRow, facts?: ChangeFacts): Promise<void> {
    if (task.outcome !== undefined) return;
    const operation = facts?.operation ?? operationOf(task.type);
    if (operation === null) return;
    const indexes = task.queues.filter((q) => q !== CONTROL_QUEUE);
    if (indexes.length === 0 && task.indexUid !== null) indexes.push(task.indexUid);
    const timestamp = new Date(this.now()).toISOString();
    const drafts: CdcEventDraft[] = [];
    for (const index of indexes) {
      const draft: CdcEventDraft = {
        mtask_id: task.uid,
        index,
        operation,
        primary_keys: facts?.primary_keys ?? null,
        shard_ids: facts?.shard_ids ?? [],
        settings_version: projectedSettingsVersion(await this.o.store.getIndexCached(index)),
        timestamp,
      };
      if (facts?.filter !== undefined) draft.filter = facts.filter;
      // The body: a write's documents, or a settings task's settings as its details name them.
      const body = facts?.document ?? (operation === 'settings_update' ? task.details : undefined);
      if (this.withBodies && body !== undefined && body !== null) draft.document = body;
      drafts.push(draft);
    }
    await this.append(drafts);
  }

  async internal(origin: CdcOrigin, change: InternalChange): Promise<void> {
    const allowed = origin === 'ttl_expire' ? this.o.config.emit_ttl_deletes : this.o.config.emit_internal_writes;
    if (!allowed) {
      this.o.metrics.suppressed.inc({ origin });
      return;
    }
    const record = await this.o.store.getIndexCached(change.index);
    let keys = change.primary_keys ?? null;
    const pk = record?.committed?.primaryKey ?? null;
    if (keys === null && change.documents !== undefined && pk !== null)
      keys = change.documents.map((d) => String(d[pk]));
    const draft: CdcEventDraft = {
      mtask_id: null,
      index: change.index,
      operation: change.operation,
      primary_keys: keys,
      shard_ids: change.shard_ids,
      settings_version: projectedSettingsVersion(record),
      timestamp: new Date(this.now()).toISOString(),
      origin,
    };
    if (change.filter !== undefined) draft.filter = change.filter;
    if (this.withBodies && change.documents !== undefined) draft.document = change.documents;
    await this.append([draft]);
  }

  private async append(drafts: CdcEventDraft[]): Promise<void> {
    if (drafts.length === 0) return;
    await this.o.store.appendChanges(drafts);
    this.wake();
    // Other pods' long-polls and sinks: a lost message only delays them until their next poll.
    this.o.store.publish('changes', '').catch(() => undefined);
  }

  private wake(): void {
    const w = this.waiters;
    this.waiters = new Set();
    for (const f of w) f();
  }

  /** Resolves at the next append (this pod's or, through the store channel, another's) or after `ms`. */
  waitForAppend(ms: number): Promise<void> {
    return new Promise((resolve) => {
      const done = () => {
        clearTimeout(timer);
        this.waiters.delete(done);
        resolve();
      };
      const timer = setTimeout(done, ms);
      this.waiters.add(done);
    });
  }

  /** One long-poll: the events after `since`, waiting up to `timeoutMs` while there are none. */
  async poll(q: ChangesQuery, includeBody: boolean): Promise<{ events: CdcEvent[]; next: number }> {
    const deadline = this.now() + q.timeoutMs;
    let since = q.since;
    for (;;) {
      const { events, scannedTo } = await this.o.store.readChanges(since, q.limit, q.index);
      const left = deadline - this.now();
      if (events.length > 0 || left <= 0) {
        const page = changesPage(
          events.map((e) => forSink(e, includeBody)),
          q.since,
          scannedTo,
        );
        for (const e of page.events) this.o.metrics.published.inc({ sink: 'long_poll', index: e.index });
        return page;
      }
      since = scannedTo;
      await this.waitForAppend(Math.min(left, 1000));
    }
  }
}
