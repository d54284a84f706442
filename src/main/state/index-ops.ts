// The index-level tasks (SPEC C5, Decisions "Logical vs physical settings", Round 2 "Task order"): create, delete,
// update (primary key, rename), swap and settings, plus what a document write needs first (implicit creation, the
// inferred primary key, learned fields). Each registers in the index's write lane: decide from the projected state,
// record the task's state changes (compare-and-set), enqueue every node write, record the task — all before the
// 202, so node queues apply tasks in task order and nothing of a task is written to a node after a later task was
// sent. What Miroir can decide at once (an index that already exists, one that does not) becomes a task whose
// outcome is reported in task order, exactly where Meilisearch would report it.
import { settingsHash } from '../../core/canonical-json.js';
import { MeiliError } from '../../core/errors.js';
import {
  physicalPatch,
  physicalSettings,
  project,
  type PendingChange,
  type ProjectedIndex,
} from '../../core/index-state.js';
import { swapConflict, type IndexSwap } from '../../core/index-requests.js';
import { EXPIRES_FIELD } from '../../core/reserved.js';
import {
  applySettingsPatch,
  defaultSettings,
  ALL_SETTINGS_ROUTES,
  resetAllDetails,
  validateSettings,
  type Settings,
  type SettingsFeatures,
} from '../../core/settings.js';
import type { TaskRow } from '../../store/store.js';
import { NodeResponseError, type NodeApi } from '../cluster/node-api.js';
import { broadcastWrite, type Ack } from '../cluster/replicated-write.js';
import type { TopologyService } from '../cluster/topology.js';
import type { TaskRegistry } from '../tasks/registry.js';
import { indexNotFound, type IndexStateService } from './index-state.js';

export interface IndexOpsOptions {
  state: IndexStateService;
  tasks: TaskRegistry;
  topology: TopologyService;
  /** `scatter.faceting_overfetch`. */
  facetingOverfetch: number;
  /** `settings_broadcast.strategy`. */
  strategy: 'two_phase' | 'sequential';
  /** `settings_broadcast.verify_timeout_s` in ms: the longest wait for node tasks inside a request. */
  verifyTimeoutMs: number;
  /** Anti-entropy on: a swap or rename gives these indexes other documents (their tombstones' epoch ends). */
  swapped?: (uids: readonly string[], taskUid: number) => Promise<void>;
}

/** Called in the lane with the new task uid; `recorded` says the task record was written (nothing to undo). */
type Register<T> = (taskUid: number, recorded: () => void) => Promise<T>;

function errorText(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}

export class IndexOperations {
  constructor(private readonly o: IndexOpsOptions) {}

  private get nodes(): NodeApi[] {
    return this.o.topology.liveClients();
  }

  /**
   * Registers a task of `uids` in their write lanes: waits while a rename/swap of one of them is in flight, takes a
   * task uid queued behind every earlier task of those indexes, and runs `fn`. When `fn` fails before recording the
   * task, its state changes are dropped and the uid given back.
   */
  register<T>(uids: readonly string[], fn: Register<T>): Promise<T> {
    return this.o.state.inLanes(uids, async () => {
      for (const u of uids) await this.waitForBarrier(u);
      const taskUid = await this.o.tasks.allocate(uids);
      let recorded = false;
      try {
        return await fn(taskUid, () => {
          recorded = true;
        });
      } catch (err) {
        if (!recorded) {
          for (const u of uids) await this.o.state.dropPending(u, taskUid).catch(() => undefined);
          await this.o.tasks.release(uids, taskUid).catch(() => undefined);
        }
        throw err;
      }
    });
  }

  /** Waits until every earlier task of the index settled (this task is the head of its queue). */
  private async waitForTurn(uid: string, taskUid: number): Promise<void> {
    const deadline = Date.now() + this.o.verifyTimeoutMs;
    for (let delay = 2; (await this.o.tasks.queued(uid))[0] !== taskUid; delay = Math.min(delay * 2, 50)) {
      if (Date.now() > deadline)
        throw new MeiliError(
          'miroir_shard_unavailable',
          `Earlier tasks of \`${uid}\` did not finish within ${this.o.verifyTimeoutMs} ms; retry later.`,
        );
      await new Promise((r) => setTimeout(r, delay));
    }
  }

  /** Whether any node holds a document of the index. */
  private async hasDocuments(uid: string): Promise<boolean> {
    const counts = await Promise.all(
      this.nodes.map(async (n) => {
        try {
          return Number((await n.stats(uid)).numberOfDocuments ?? 0);
        } catch (err) {
          if (err instanceof NodeResponseError && err.code === 'index_not_found') return 0;
          throw new MeiliError(
            'miroir_shard_unavailable',
            `A node (${n.nodeId}) could not say whether \`${uid}\` holds documents; retry later.`,
          );
        }
      }),
    );
    return counts.some((c) => c > 0);
  }

  private async waitForBarrier(uid: string): Promise<void> {
    const deadline = Date.now() + this.o.verifyTimeoutMs;
    for (let delay = 5; (await this.o.state.projected(uid)).barrier; delay = Math.min(delay * 2, 100)) {
      if (Date.now() > deadline)
        throw new MeiliError(
          'miroir_shard_unavailable',
          `Index \`${uid}\` is being renamed or swapped and the change did not finish within ${this.o.verifyTimeoutMs} ms; retry later.`,
        );
      await new Promise((r) => setTimeout(r, delay));
    }
  }

  /** A task Miroir decided at once, in task order (`error` null = succeeded). */
  private decided(
    taskUid: number,
    type: string,
    uid: string | null,
    queues: readonly string[],
    details: Record<string, unknown> | null,
    error: MeiliError | null,
    recorded: () => void,
  ): Promise<TaskRow> {
    recorded();
    return this.o.tasks.decided({ uid: taskUid, type, indexUid: uid, queues, details }, error);
  }

  /**
   * Creates an index on every live node together with its physical settings (one create and one settings task per
   * node). Needs every node: a node without the index would answer shard-filtered reads with errors, so when one
   * refuses, the nodes that accepted delete it again and 503 is thrown.
   */
  async createEverywhere(uid: string, primaryKey: string | null, physical: Settings): Promise<Ack[]> {
    const results = await Promise.allSettled(
      this.nodes.map(
        async (n) => [await n.createIndex(uid, primaryKey), await n.patchSettings(uid, physical)] as const,
      ),
    );
    const acks: Ack[] = [];
    const failed: Array<{ nodeId: string; error: unknown }> = [];
    results.forEach((r, i) => {
      const nodeId = this.nodes[i]!.nodeId;
      if (r.status === 'fulfilled') acks.push({ nodeId, taskUid: r.value[0] }, { nodeId, taskUid: r.value[1] });
      else failed.push({ nodeId, error: r.reason });
    });
    if (failed.length > 0) {
      const created = [...new Set(acks.map((a) => a.nodeId))];
      await Promise.allSettled(created.map((id) => this.o.topology.client(id)?.deleteIndex(uid)));
      throw new MeiliError(
        'miroir_no_quorum',
        `Creating index \`${uid}\` needs every node; ${failed.map((f) => f.nodeId).join(', ')} did not accept it (${errorText(failed[0]!.error)}). Nothing was created.`,
      );
    }
    return acks;
  }

  // ---------------------------------------------------------------- POST /indexes

  createIndex(uid: string, primaryKey: string | null): Promise<TaskRow> {
    return this.register([uid], async (taskUid, recorded) => {
      const p = await this.o.state.projected(uid);
      const details = { primaryKey };
      if (p.exists)
        return this.decided(
          taskUid,
          'indexCreation',
          uid,
          [uid],
          details,
          new MeiliError('index_already_exists', `Index \`${uid}\` already exists.`),
          recorded,
        );
      const record = await this.o.state.addPending(uid, [{ taskUid, kind: 'create', primaryKey }], {
        resetFields: true,
      });
      const acks = await this.createEverywhere(
        uid,
        primaryKey,
        physicalSettings(
          defaultSettings(),
          record?.fields ?? [],
          this.o.facetingOverfetch,
          this.o.state.physicalFilterable,
        ),
      );
      recorded();
      return this.o.tasks.create({ uid: taskUid, type: 'indexCreation', indexUid: uid, queues: [uid], details, acks });
    });
  }

  // ---------------------------------------------------------------- online reshard (issue 26)

  /**
   * Creates `copy`, a copy of `source` with its own shard count: the source's projected primary key and logical
   * settings, its learned fields, one `indexCreation` task in the copy's lane. The documents come later (dual writes
   * and backfill).
   */
  createCopy(source: string, copy: string, shards: number): Promise<TaskRow> {
    return this.register([copy], async (taskUid, recorded) => {
      const src = await this.o.state.record(source);
      if (src === null || src.committed === null) throw indexNotFound(source);
      if ((await this.o.state.projected(copy)).exists)
        throw new MeiliError('index_already_exists', `Index \`${copy}\` already exists.`);
      const { primaryKey, settings } = project(src);
      const fields = [...src.fields];
      await this.o.state.change(copy, () => ({
        uid: copy,
        committed: null,
        fields,
        shards,
        pending: [
          { taskUid, kind: 'create', primaryKey },
          { taskUid, kind: 'settings', patch: settings },
        ],
      }));
      const acks = await this.createEverywhere(
        copy,
        primaryKey,
        physicalSettings(settings, fields, this.o.facetingOverfetch, this.o.state.physicalFilterable),
      );
      recorded();
      return this.o.tasks.create({
        uid: taskUid,
        type: 'indexCreation',
        indexUid: copy,
        queues: [copy],
        details: { primaryKey },
        acks,
      });
    });
  }

  // ---------------------------------------------------------------- DELETE /indexes/{uid}

  deleteIndex(uid: string): Promise<TaskRow> {
    return this.register([uid], async (taskUid, recorded) => {
      const p = await this.o.state.projected(uid);
      const details = { deletedDocuments: 0 };
      if (!p.exists) return this.decided(taskUid, 'indexDeletion', uid, [uid], details, indexNotFound(uid), recorded);
      await this.o.state.addPending(uid, [{ taskUid, kind: 'delete' }], { resetFields: true });
      const { acks, failures } = await broadcastWrite(this.nodes, (n) => n.deleteIndex(uid));
      if (acks.length === 0)
        throw new MeiliError(
          'miroir_no_quorum',
          `No node accepted the deletion of \`${uid}\` (${failures.length === 0 ? 'no nodes' : errorText(failures[0]!.error)}).`,
        );
      this.missed(failures);
      recorded();
      return this.o.tasks.create({
        uid: taskUid,
        type: 'indexDeletion',
        indexUid: uid,
        queues: [uid],
        details: { deletedDocuments: null },
        acks,
      });
    });
  }

  // ---------------------------------------------------------------- PATCH /indexes/{uid}

  updateIndex(uid: string, body: { primaryKey?: string | null; uid?: string }): Promise<TaskRow> {
    const newUid = body.uid;
    const details: Record<string, unknown> = { primaryKey: body.primaryKey ?? null };
    if (newUid !== undefined) {
      details.oldIndexUid = uid;
      details.newIndexUid = newUid;
    }
    const uids = newUid === undefined || newUid === uid ? [uid] : [uid, newUid];
    return this.register(uids, async (taskUid, recorded) => {
      const p = await this.o.state.projected(uid);
      if (!p.exists) return this.decided(taskUid, 'indexUpdate', uid, uids, details, indexNotFound(uid), recorded);
      if (uids.length > 1 && (await this.o.state.projected(newUid!)).exists) {
        return this.decided(
          taskUid,
          'indexUpdate',
          uid,
          uids,
          details,
          new MeiliError('index_already_exists', `Index \`${newUid}\` already exists.`),
          recorded,
        );
      }
      const changes: PendingChange[] = [];
      if (typeof body.primaryKey === 'string' && body.primaryKey !== p.primaryKey) {
        // Meilisearch refuses a new primary key once the index holds documents — a fact of the whole index, not of
        // one node: decided here once every earlier task of the index settled, so nodes never disagree.
        await this.waitForTurn(uid, taskUid);
        const settled = await this.o.state.projected(uid);
        if (settled.primaryKey !== null && (await this.hasDocuments(uid))) {
          return this.decided(
            taskUid,
            'indexUpdate',
            uid,
            uids,
            details,
            new MeiliError(
              'index_primary_key_already_exists',
              `Index \`${uid}\`: Index already has a primary key: \`${settled.primaryKey}\`.`,
            ),
            recorded,
          );
        }
      }
      if (uids.length > 1) changes.push({ taskUid, kind: 'barrier' });
      else if (typeof body.primaryKey === 'string')
        changes.push({ taskUid, kind: 'primaryKey', primaryKey: body.primaryKey });
      for (const u of uids) await this.o.state.addPending(u, changes);
      if (uids.length > 1) await this.o.swapped?.(uids, taskUid);
      const nodeBody: Record<string, unknown> = {};
      if (body.primaryKey !== undefined) nodeBody.primaryKey = body.primaryKey;
      if (newUid !== undefined) nodeBody.uid = newUid;
      const { acks, failures } = await broadcastWrite(this.nodes, (n) => n.updateIndex(uid, nodeBody));
      if (acks.length === 0)
        throw new MeiliError(
          'miroir_no_quorum',
          `No node accepted the update of \`${uid}\` (${errorText(failures[0]?.error ?? 'no nodes')}).`,
        );
      this.missed(failures);
      recorded();
      return this.o.tasks.create({ uid: taskUid, type: 'indexUpdate', indexUid: uid, queues: uids, details, acks });
    });
  }

  // ---------------------------------------------------------------- POST /swap-indexes

  swapIndexes(swaps: readonly IndexSwap[]): Promise<TaskRow> {
    const uids = [...new Set(swaps.flatMap((s) => s.indexes))];
    const details = { swaps };
    return this.register(uids, async (taskUid, recorded) => {
      const states = new Map<string, ProjectedIndex>();
      for (const u of uids) states.set(u, await this.o.state.projected(u));
      const conflict = swapConflict(swaps, (u) => states.get(u)!.exists);
      if (conflict !== null) return this.decided(taskUid, 'indexSwap', null, uids, details, conflict, recorded);
      for (const u of uids) await this.o.state.addPending(u, [{ taskUid, kind: 'barrier' }]);
      await this.o.swapped?.(uids, taskUid);
      const { acks, failures } = await broadcastWrite(this.nodes, (n) => n.swapIndexes(swaps));
      if (failures.length > 0) {
        // A swap half-applied across nodes would mix two indexes: every node must take it (those that did keep it
        // queued; the barrier holds writes until the task settles, failed).
        if (acks.length === 0)
          throw new MeiliError(
            'miroir_no_quorum',
            `Swapping indexes needs every node; ${failures.map((f) => f.nodeId).join(', ')} did not accept it.`,
          );
        this.missed(failures);
      }
      recorded();
      return this.o.tasks.create({ uid: taskUid, type: 'indexSwap', indexUid: null, queues: uids, details, acks });
    });
  }

  // ---------------------------------------------------------------- settings

  /**
   * `PATCH /settings` (route null), `PUT|PATCH /settings/{route}`, `DELETE /settings[/{route}]` (reset). The body is
   * validated against the projected settings; nodes receive only the changed keys, physical.
   */
  updateSettings(
    uid: string,
    body: unknown,
    route: string | null,
    verb: 'PUT' | 'PATCH' | 'DELETE',
    features: SettingsFeatures = {},
  ): Promise<TaskRow> {
    return this.register([uid], async (taskUid, recorded) => {
      const record = await this.o.state.record(uid);
      const p = project(record);
      let patch: Settings;
      let details: Settings;
      if (verb === 'DELETE') {
        patch =
          route === null
            ? Object.fromEntries(Object.keys(defaultSettings()).map((k) => [k, null]))
            : { [ALL_SETTINGS_ROUTES[route]!.key]: null };
        details = route === null ? resetAllDetails() : patch;
        // Resetting settings of an index that does not exist fails (Meilisearch does not create it for that).
        if (!p.exists)
          return this.decided(taskUid, 'settingsUpdate', uid, [uid], details, indexNotFound(uid), recorded);
      } else {
        patch = validateSettings(body, route, p.settings, features);
        details = route === null ? (body as Settings) : { [ALL_SETTINGS_ROUTES[route]!.key]: body };
      }
      const after = applySettingsPatch(p.settings, patch);
      const changes: PendingChange[] = [];
      if (!p.exists) changes.push({ taskUid, kind: 'create', primaryKey: null, sticky: true });
      changes.push({ taskUid, kind: 'settings', patch });
      const written = await this.o.state.addPending(uid, changes, p.exists ? undefined : { resetFields: true });
      const fields = written?.fields ?? [];
      const acks: Ack[] = [];
      if (!p.exists)
        acks.push(
          ...(await this.createEverywhere(
            uid,
            null,
            physicalSettings(defaultSettings(), fields, this.o.facetingOverfetch, this.o.state.physicalFilterable),
          )),
        );
      const physical = physicalPatch(patch, after, fields, this.o.facetingOverfetch, this.o.state.physicalFilterable);
      if (this.o.strategy === 'sequential')
        acks.push(
          ...(await this.sequential(
            uid,
            physical,
            physicalPatch(patch, p.settings, fields, this.o.facetingOverfetch, this.o.state.physicalFilterable),
            physicalSettings(after, fields, this.o.facetingOverfetch, this.o.state.physicalFilterable),
          )),
        );
      else {
        // A node that misses it is repaired when the task settles (the verify pass compares every node).
        const sent = await broadcastWrite(this.nodes, (n) => n.patchSettings(uid, physical));
        if (sent.acks.length === 0)
          throw new MeiliError(
            'miroir_no_quorum',
            `No node accepted the settings update of \`${uid}\` (${errorText(sent.failures[0]?.error ?? 'no nodes')}).`,
          );
        acks.push(...sent.acks);
      }
      recorded();
      return this.o.tasks.create({ uid: taskUid, type: 'settingsUpdate', indexUid: uid, queues: [uid], details, acks });
    });
  }

  /**
   * `settings_broadcast.strategy: sequential`: node by node, each waited for and verified before the next; a node
   * that fails reverts the nodes already changed (still inside the lane, before any later task is sent).
   */
  private async sequential(
    uid: string,
    physical: Settings,
    previous: Settings,
    expectedWhole: Settings,
  ): Promise<Ack[]> {
    const done: Ack[] = [];
    const expected = settingsHash(expectedWhole);
    for (const n of this.nodes) {
      let ok: boolean;
      try {
        const taskUid = await n.patchSettings(uid, physical);
        const [t] = await n.waitTasks([taskUid], { timeoutMs: this.o.verifyTimeoutMs });
        ok = t!.status === 'succeeded' && settingsHash(await n.settings(uid)) === expected;
        if (ok) done.push({ nodeId: n.nodeId, taskUid });
      } catch {
        ok = false;
      }
      if (!ok) {
        await Promise.allSettled(
          done.map(async (a) => {
            const api = this.o.topology.client(a.nodeId)!;
            await api.waitTasks([await api.patchSettings(uid, previous)], { timeoutMs: this.o.verifyTimeoutMs });
          }),
        );
        throw new MeiliError(
          'miroir_no_quorum',
          `Settings could not be applied on ${n.nodeId}; the nodes already changed were reverted.`,
        );
      }
    }
    return done;
  }

  // ---------------------------------------------------------------- what a document write needs first

  /**
   * Run in the index's lane by a document write, before its documents are sent: creates the index when it does not
   * exist (with the batch's primary key and its physical settings), sets the inferred primary key on every node
   * when the index has none, and pushes the physical searchable list when the batch brings new fields. Answers the
   * node tasks it enqueued (part of the write's task).
   */
  async prepareDocuments(
    uid: string,
    taskUid: number,
    p: ProjectedIndex,
    primaryKey: string,
    fields: readonly string[],
  ): Promise<Ack[]> {
    if (!p.exists) {
      await this.o.state.addPending(uid, [{ taskUid, kind: 'create', primaryKey, sticky: true }]);
      const known = (await this.o.state.learnFields(uid, fields)).record?.fields ?? [...fields];
      return this.createEverywhere(
        uid,
        primaryKey,
        physicalSettings(defaultSettings(), known, this.o.facetingOverfetch, this.o.state.physicalFilterable),
      );
    }
    const learned = await this.o.state.learnFields(uid, fields);
    const known = learned.record?.fields ?? [...fields];
    const acks: Ack[] = [];
    if (p.primaryKey === null) {
      await this.o.state.addPending(uid, [{ taskUid, kind: 'primaryKey', primaryKey, sticky: true }]);
      const sent = await broadcastWrite(this.nodes, (n) => n.updateIndex(uid, { primaryKey }));
      this.missed(sent.failures);
      acks.push(...sent.acks);
    }
    const searchable = p.settings.searchableAttributes as string[];
    if (learned.added.length > 0 && searchable.length === 1 && searchable[0] === '*') {
      // Node queues run in order: the searchable list is in place before the documents that bring the fields.
      const physical = physicalSettings(p.settings, known, this.o.facetingOverfetch, this.o.state.physicalFilterable);
      const sent = await broadcastWrite(this.nodes, (n) =>
        n.patchSettings(uid, { searchableAttributes: physical.searchableAttributes }),
      );
      this.missed(sent.failures);
      acks.push(...sent.acks);
    }
    if (learned.added.includes(EXPIRES_FIELD) && this.o.state.filtersOn(EXPIRES_FIELD)) {
      // TTL on: the first documents with an expiry make it filterable on nodes of an index created before (reads
      // hide expired documents with a node filter from then on).
      const physical = physicalSettings(p.settings, known, this.o.facetingOverfetch, this.o.state.physicalFilterable);
      const sent = await broadcastWrite(this.nodes, (n) =>
        n.patchSettings(uid, { filterableAttributes: physical.filterableAttributes }),
      );
      this.missed(sent.failures);
      acks.push(...sent.acks);
    }
    return acks;
  }

  /** Nodes that did not take an index-level write missed it: they serve no reads until caught up. */
  private missed(failures: ReadonlyArray<{ nodeId: string }>): void {
    if (failures.length > 0) void this.o.topology.markCatchingUp(failures.map((f) => f.nodeId));
  }
}
