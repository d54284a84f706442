// The one owner of index state (SPEC Round 2 decisions "Task order and state ownership"). Every change — creation,
// primary key, rename, swap, deletion, logical settings + settings_version, learned fields (a set union), shard
// count — is a compare-and-set on the index record's version in the store, retried on conflict, so writers in any
// pod never overwrite each other. It also owns this pod's per-index write lanes: the register-and-send step of every
// task of an index runs in its lane, one at a time, so node queues receive a pod's tasks of one index in task order.
import { MeiliError } from '../../core/errors.js';
import {
  draftOf,
  emptyRecord,
  project,
  settleChanges,
  type CommittedIndex,
  type IndexRecord,
  type IndexRecordDraft,
  type PendingChange,
  type ProjectedIndex,
} from '../../core/index-state.js';
import type { Store } from '../../store/store.js';

/** What a change function answers: the next draft, null to delete the record, or undefined to leave it as it is. */
export type Change = (current: IndexRecordDraft | null) => IndexRecordDraft | null | undefined;

/** An index as clients see it (committed state). */
export interface IndexView extends CommittedIndex {
  uid: string;
  shards: number;
  /** Set when clients know the index under another uid (a reshard copy behind an internal alias). */
  physical?: string;
}

export function indexNotFound(uid: string): MeiliError {
  return new MeiliError('index_not_found', `Index \`${uid}\` not found.`);
}

function view(record: IndexRecord | null): IndexView | null {
  return record === null || record.committed === null
    ? null
    : { uid: record.uid, shards: record.shards, ...record.committed };
}

export class IndexStateService {
  private readonly lanes = new Map<string, Promise<unknown>>();

  constructor(
    private readonly store: Store,
    /** The cluster's shard count, which a new index takes. */
    private readonly defaultShards: () => number,
    /** Fields Miroir itself filters on besides `_miroir_shard` (`_miroir_expires_at` with TTL on). */
    readonly physicalFilterable: readonly string[] = [],
  ) {}

  /** Whether Miroir filters on `field` physically (so it is filterable on every node of every index). */
  filtersOn(field: string): boolean {
    return this.physicalFilterable.includes(field);
  }

  // ---------------------------------------------------------------- reads

  record(uid: string): Promise<IndexRecord | null> {
    return this.store.getIndex(uid);
  }

  async projected(uid: string): Promise<ProjectedIndex> {
    return project(await this.store.getIndex(uid));
  }

  /** The committed index, fresh from the store (null when clients cannot see it). */
  async get(uid: string): Promise<IndexView | null> {
    return view(await this.store.getIndex(uid));
  }

  /** The committed index through the short-lived read cache (search path); throws index_not_found. */
  async readable(uid: string): Promise<IndexView> {
    const v = view(await this.store.getIndexCached(uid));
    if (v === null) throw indexNotFound(uid);
    return v;
  }

  /** Every committed index, by uid. */
  async list(): Promise<IndexView[]> {
    return (await this.store.listIndexes())
      .map(view)
      .filter((v): v is IndexView => v !== null)
      .sort((a, b) => (a.uid < b.uid ? -1 : a.uid > b.uid ? 1 : 0));
  }

  /**
   * What clients are shown of the index list (online reshard: copies behind an internal alias appear under the
   * client's uid, other copies not at all); null shows every committed index.
   */
  clientView: ((views: IndexView[]) => IndexView[]) | null = null;

  /** Every committed index as clients see it (`GET /indexes`, `GET /stats`). */
  async listForClients(): Promise<IndexView[]> {
    const all = await this.list();
    return this.clientView === null ? all : this.clientView(all);
  }

  /** Every record, pending-only ones included (provisioning, moves). */
  records(): Promise<IndexRecord[]> {
    return this.store.listIndexes();
  }

  // ---------------------------------------------------------------- changes (compare-and-set)

  /** Applies `change` to the latest record with compare-and-set, retrying on conflict; the record after it. */
  async change(uid: string, change: Change): Promise<IndexRecord | null> {
    for (;;) {
      const cur = await this.store.getIndex(uid);
      const next = change(cur === null ? null : draftOf(cur));
      if (next === undefined) return cur;
      const written = await this.store.casIndexes([{ uid, expected: cur?.version ?? 0, next }]);
      if (written !== null) return written[0] ?? null;
    }
  }

  /** Several records in one compare-and-set (rename, swap). */
  async changeMany(
    uids: readonly string[],
    change: (current: Map<string, IndexRecordDraft | null>) => Map<string, IndexRecordDraft | null>,
  ): Promise<void> {
    for (;;) {
      const cur = await Promise.all(uids.map((u) => this.store.getIndex(u)));
      const drafts = new Map(uids.map((u, i) => [u, cur[i] === null ? null : draftOf(cur[i]!)]));
      const next = change(drafts);
      const written = await this.store.casIndexes(
        uids.map((u, i) => ({ uid: u, expected: cur[i]?.version ?? 0, next: next.get(u) ?? null })),
      );
      if (written !== null) return;
    }
  }

  /** Appends a task's state changes (the index record is created when missing, with the cluster's shard count). */
  addPending(
    uid: string,
    changes: readonly PendingChange[],
    extra?: { resetFields?: boolean },
  ): Promise<IndexRecord | null> {
    return this.change(uid, (cur) => {
      const next = cur ?? emptyRecord(uid, this.defaultShards());
      next.pending.push(...structuredClone(changes as PendingChange[]));
      if (extra?.resetFields === true) next.fields = [];
      return next;
    });
  }

  /** Forgets a task's changes that never reached any node (its request failed before sending). */
  dropPending(uid: string, taskUid: number): Promise<IndexRecord | null> {
    return this.change(uid, (cur) => {
      if (cur === null || !cur.pending.some((c) => c.taskUid === taskUid)) return undefined;
      cur.pending = cur.pending.filter((c) => c.taskUid !== taskUid);
      return cur.committed === null && cur.pending.length === 0 ? null : cur;
    });
  }

  /** Learns top-level fields (a set union, in first-seen order); answers the fields that were new. */
  async learnFields(uid: string, fields: readonly string[]): Promise<{ record: IndexRecord | null; added: string[] }> {
    let added: string[] = [];
    const record = await this.change(uid, (cur) => {
      const next = cur ?? emptyRecord(uid, this.defaultShards());
      const known = new Set(next.fields);
      added = fields.filter((f) => !known.has(f));
      if (added.length === 0) return undefined;
      next.fields = [...next.fields, ...added];
      return next;
    });
    return { record, added };
  }

  /**
   * Settles a task's changes on one index: committed when `succeeded`, else dropped — except `sticky` kinds
   * (creations and primary keys a write sent on its own) when the task failed after sending them.
   */
  settle(
    uid: string,
    taskUid: number,
    outcome: 'succeeded' | 'failed' | 'canceled',
    at: string,
  ): Promise<IndexRecord | null> {
    return this.change(uid, (cur) => {
      if (cur === null || !cur.pending.some((c) => c.taskUid === taskUid)) return undefined;
      return settleChanges(cur, taskUid, outcome === 'succeeded', at, outcome === 'failed');
    });
  }

  // ---------------------------------------------------------------- lanes

  /**
   * Runs `fn` in the write lanes of `uids` (this pod): one at a time per index, in arrival order. Lanes are taken
   * in uid order, so tasks naming several indexes (rename, swap) never deadlock with each other.
   */
  inLanes<T>(uids: readonly string[], fn: () => Promise<T>): Promise<T> {
    const sorted = [...new Set(uids)].sort();
    const before = sorted.map((u) => this.lanes.get(u) ?? Promise.resolve());
    const run = Promise.allSettled(before).then(fn);
    const tail = run.catch(() => undefined);
    for (const u of sorted) this.lanes.set(u, tail);
    void tail.then(() => {
      for (const u of sorted) if (this.lanes.get(u) === tail) this.lanes.delete(u);
    });
    return run;
  }

  inLane<T>(uid: string, fn: () => Promise<T>): Promise<T> {
    return this.inLanes([uid], fn);
  }
}
