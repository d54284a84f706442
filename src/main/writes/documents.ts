// HOT PATH. Document writes (SPEC C3, C6, Decisions "Tasks" / "Writes and health"): additions and updates parsed,
// keyed and routed from the raw bytes (a worker thread for big payloads while other requests share the loop), then
// registered in the index's write lane — content problems become a failed task with nothing sent, the index is
// created / given its inferred primary key / taught new fields first, and the documents go out through the one
// replicated write. Deletes by id (routed, linear in the ids), by filter and of everything (every node) take the
// same path. Every write answers 202 with one Miroir task, or 503 miroir_no_quorum.
import { routedDocuments, type ChangeFacts } from '../../core/cdc.js';
import { MeiliError } from '../../core/errors.js';
import { ingestBatch, type IngestBatchOutput } from '../../core/ingest-batch.js';
import type { PayloadFormat } from '../../core/payload.js';
import type { RoutingTable } from '../../core/rendezvous.js';
import { shardsForAnyIds, stampVersion } from '../../core/route-batch.js';
import type { TaskRow } from '../../store/store.js';
import type { WorkerPool } from '../../workers/pool.js';
import type { IngestBatchReturn } from '../../workers/tasks.js';
import type { NodeApi } from '../cluster/node-api.js';
import {
  replicatedWrite,
  type Ack,
  type ReplicatedWriteDeps,
  type ReplicatedWriteResult,
} from '../cluster/replicated-write.js';
import type { TopologyService } from '../cluster/topology.js';
import type { Metrics } from '../observability/metrics.js';
import { indexNotFound, type IndexStateService } from '../state/index-state.js';
import type { IndexOperations } from '../state/index-ops.js';
import type { TaskRegistry } from '../tasks/registry.js';

/** The largest batch parsed on the event loop even when no other request is in flight. */
const ALONE_INLINE_MAX_BYTES = 1024 * 1024;

export interface DocumentWritesOptions {
  ops: IndexOperations;
  state: IndexStateService;
  tasks: TaskRegistry;
  topology: TopologyService;
  metrics: Metrics;
  pool: WorkerPool | null;
  retryOnTimeout: boolean;
  /** Whether this request shares the event loop with others right now (absent: assume it does). */
  otherRequestsInFlight?: () => boolean;
  /** `anti_entropy.enabled`: stamp `_miroir_version` on every routed document and keep tombstones of deletes. */
  antiEntropy?: boolean;
  /** `ttl.enabled`: check `_miroir_expires_at` (integer ms or RFC 3339, stored as ms). */
  ttl?: boolean;
  /** Records the tombstone of a delete (anti-entropy on) before its node writes are sent. */
  tombstone?: (t: {
    index: string;
    taskUid: number;
    kind: 'ids' | 'filter' | 'all';
    ids?: string[];
    filter?: unknown;
  }) => Promise<void>;
  /** `cdc.enabled`: each task then says what it changed (keys, shards; documents when `withBodies`). */
  changes?: { readonly withBodies: boolean } | null;
}

/** Where a write to an index is mirrored while it is resharded (the other copy and its shard count). */
export interface MirrorTarget {
  uid: string;
  shards: number;
}

export interface AddDocuments {
  /** The client's bytes. Routing may move them to a worker thread and back into a new Buffer set here: read the
   * body from this field after `add`, never from the request (its Buffer is then empty). */
  body: Buffer;
  format: PayloadFormat;
  csvDelimiter: string;
  /** The `primaryKey` parameter. */
  primaryKey: string | null;
  customMetadata: string | null;
  skipCreation: boolean;
  merge: boolean;
}

export interface Written {
  task: TaskRow;
  headers: Record<string, string>;
}

function allShards(n: number): number[] {
  return Array.from({ length: n }, (_, s) => s);
}

function path(uid: string, rest: string, tagQuery: string, extra = ''): string {
  return `/indexes/${encodeURIComponent(uid)}${rest}?${tagQuery}${extra}`;
}

export class DocumentWrites {
  private readonly write: ReplicatedWriteDeps;
  /**
   * Online reshard (issue 26): the copy a write to an index is mirrored to (null: none). Set once by the reshard
   * service; the mirror write goes out in the same lane right after the write itself, before the 202, and its node
   * tasks are part of the same Miroir task — an acknowledged write is on both copies.
   */
  mirrorOf: ((uid: string) => MirrorTarget | null) | null = null;
  /** Told when a mirror write could not reach quorum (the reshard then fails before its flip). */
  mirrorFailed: ((uid: string, mirror: MirrorTarget, err: unknown) => void) | null = null;

  constructor(private readonly o: DocumentWritesOptions) {
    this.write = { topology: o.topology, metrics: o.metrics, retryOnTimeout: o.retryOnTimeout };
  }

  /** Parses, keys and routes a batch on `table` (inline, or in the pool while other requests share the loop). */
  private route(
    input: AddDocuments,
    primaryKey: string | null,
    table: RoutingTable,
    version: 'reserve' | null = this.o.antiEntropy === true ? 'reserve' : null,
  ): Promise<IngestBatchOutput> {
    const targets = Array.from({ length: table.shards }, (_, s) => [...table.writeTargets(s).values()].flat());
    const job = {
      body: input.body,
      format: input.format,
      csvDelimiter: input.csvDelimiter,
      primaryKey,
      shards: table.shards,
      targets,
      version,
      checkExpiry: this.o.ttl === true,
    };
    // Alone on the loop, inline is faster (the worker hop adds ~1.4 ms per 64 KB and nothing else needs the loop) —
    // up to a size whose parse would stall a probe or a search arriving meanwhile (~15 ms at 1 MiB).
    const contended = (this.o.otherRequestsInFlight?.() ?? true) || input.body.length > ALONE_INLINE_MAX_BYTES;
    if (this.o.pool === null || !contended) return Promise.resolve(ingestBatch(job));
    // The pool may move the body to its worker: it comes back as `movedBody`, and the batch keeps it.
    return this.o.pool.run<IngestBatchReturn>('ingestBatch', job, input.body.length).then((out) => {
      if (out.movedBody !== undefined) input.body = out.movedBody as Buffer;
      delete out.movedBody;
      return out;
    });
  }

  /** `POST|PUT /indexes/{uid}/documents`. */
  async add(uid: string, input: AddDocuments): Promise<Written> {
    // The CPU work happens before the lane, on the primary key known now; the lane re-routes if it changed.
    const before = await this.o.state.projected(uid);
    let table = this.o.topology.routingFor(uid);
    let routedWith = before.primaryKey ?? input.primaryKey;
    let batch = await this.route(input, routedWith, table);
    if (batch.refused !== null) throw MeiliError.fromBody(batch.refused);
    const type = 'documentAdditionOrUpdate';
    return this.o.ops.register([uid], async (taskUid, recorded) => {
      const p = await this.o.state.projected(uid);
      const statePk = p.exists ? p.primaryKey : null;
      if ((statePk ?? input.primaryKey) !== routedWith) {
        routedWith = statePk ?? input.primaryKey;
        batch = await this.route(input, routedWith, table);
      }
      const base = { uid: taskUid, type, indexUid: uid, queues: [uid], customMetadata: input.customMetadata };
      const failed = (err: MeiliError) => {
        recorded();
        return this.o.tasks
          .decided({ ...base, details: { receivedDocuments: batch.count, indexedDocuments: 0 } }, err)
          .then((task) => ({ task, headers: {} }));
      };
      // Content checks first: a content problem is a failed task even when every node is down.
      if (input.primaryKey !== null && statePk !== null && input.primaryKey !== statePk)
        return failed(
          new MeiliError(
            'index_primary_key_already_exists',
            `Index \`${uid}\`: Index already has a primary key: \`${statePk}\`.`,
          ),
        );
      if (batch.keyError !== null) return failed(MeiliError.fromBody(batch.keyError));
      const pk = batch.primaryKey;
      if (pk === null || batch.routed === null) {
        recorded();
        return {
          task: await this.o.tasks.decided({ ...base, details: { receivedDocuments: 0, indexedDocuments: 0 } }, null),
          headers: {},
        };
      }
      if (batch.routed.error !== null) return failed(MeiliError.fromBody(batch.routed.error));
      const aux = await this.o.ops.prepareDocuments(uid, taskUid, p, pk, batch.fields);
      // The topology may have changed while this request waited: route again with the current table, so every
      // document goes to its current owners and never to a node that left.
      while (this.o.topology.routingFor(uid) !== table) {
        table = this.o.topology.routingFor(uid);
        batch = await this.route(input, pk, table);
      }
      const routed = batch.routed!;
      // Anti-entropy on: the task uid, known only now, goes into the room routing left for `_miroir_version`.
      if (this.o.antiEntropy === true) for (const body of Object.values(routed.bodies)) stampVersion(body, taskUid);
      const extra = input.skipCreation ? '&skipCreation=true' : '';
      const operation = input.merge ? 'documents_update' : 'documents_add';
      // One routed batch to `target`'s owners: the client's index, or a reshard's mirror copy.
      const sendDocuments = (target: string, t: RoutingTable, r: typeof routed) =>
        replicatedWrite(this.write, {
          indexUid: target,
          taskUid,
          table: t,
          bodies: new Map(Object.entries(r.bodies)),
          shards: Object.keys(r.shardCounts).map(Number),
          send: (api: NodeApi, body, tag) =>
            api.enqueue({
              method: input.merge ? 'PUT' : 'POST',
              path: path(target, '/documents', tag, extra),
              body,
              operation,
            }),
        });
      const sent = await this.sendOrRecord(
        taskUid,
        aux,
        base,
        { receivedDocuments: batch.count, indexedDocuments: 0 },
        recorded,
        () => sendDocuments(uid, table, routed),
      );
      const mirrored = await this.mirrorWrite(uid, async (mirror) => {
        const mTable = this.o.topology.routingFor(mirror.uid);
        const mb = await this.route(input, pk, mTable);
        if (mb.routed === null || mb.routed.error !== null) return [];
        const pm = await this.o.state.projected(mirror.uid);
        if (!pm.exists) return [];
        const mAux = await this.o.ops.prepareDocuments(mirror.uid, taskUid, pm, pk, mb.fields);
        const mRouted = mb.routed;
        if (this.o.antiEntropy === true) for (const body of Object.values(mRouted.bodies)) stampVersion(body, taskUid);
        return [...mAux, ...(await sendDocuments(mirror.uid, mTable, mRouted)).acks];
      });
      this.o.metrics.documentsRouted.inc(batch.count);
      recorded();
      const task = await this.o.tasks.create({
        ...base,
        details: { receivedDocuments: batch.count, indexedDocuments: null },
        acks: [...aux, ...sent.acks, ...mirrored],
        pinGroup: sent.firstGroup,
        change: this.documentChange(routed, pk, input.merge),
      });
      return { task, headers: sent.headers };
    });
  }

  /** CDC on: the keys, shards and (when a sink wants them) documents of a routed batch; undefined when CDC is off. */
  private documentChange(
    routed: { bodies: Record<string, Uint8Array>; nodeShards: Record<string, number[]> },
    pk: string,
    merge: boolean,
  ): ChangeFacts | undefined {
    const changes = this.o.changes ?? null;
    if (changes === null) return undefined;
    const docs = routedDocuments(routed.bodies, routed.nodeShards, pk, changes.withBodies);
    const facts: ChangeFacts = {
      operation: merge ? 'document_update' : 'document_add',
      primary_keys: docs.primary_keys,
      shard_ids: docs.shard_ids,
    };
    if (docs.documents !== null) facts.document = docs.documents;
    return facts;
  }

  /** Runs a mirror write; a failure is reported (the reshard fails) and the client's write stands as sent. */
  /**
   * A reshard in progress: the same write sent to `uid`'s mirror copy inside the client's task (its acks join the
   * task's). A mirror failure is reported, never the client's; none when `uid` has no mirror.
   */
  private async mirrorWrite(uid: string, send: (mirror: MirrorTarget) => Promise<Ack[]>): Promise<Ack[]> {
    const mirror = this.mirrorOf === null ? null : this.mirrorOf(uid);
    if (mirror === null) return [];
    try {
      return await send(mirror);
    } catch (err) {
      this.mirrorFailed?.(uid, mirror, err);
      return [];
    }
  }

  /** The change a CDC log records for a write; undefined when CDC is off. */
  private changeIf(facts: () => ChangeFacts): ChangeFacts | undefined {
    return (this.o.changes ?? null) === null ? undefined : facts();
  }

  /**
   * A delete-by-id to `target`'s owners of each id's shard, routed by `table` (the index's own shard count): the
   * client's index, or the mirror copy of a reshard. Also says which shards it touched.
   */
  private async sendDeleteIds(
    target: string,
    taskUid: number,
    table: RoutingTable,
    ids: readonly string[],
  ): Promise<ReplicatedWriteResult & { shards: number[] }> {
    const { bodies, shards } = this.deleteBodies(table, ids);
    const sent = await replicatedWrite(this.write, {
      indexUid: target,
      taskUid,
      table,
      bodies,
      shards,
      send: (api, body, tag) =>
        api.enqueue({
          method: 'POST',
          path: path(target, '/documents/delete-batch', tag),
          body,
          operation: 'documents_delete',
          timeoutMs: 30_000,
        }),
    });
    return { ...sent, shards };
  }

  /** A deletion on an index that does not exist: decided at once, Meilisearch's `index_not_found`. */
  private async missingIndex(
    base: { uid: number; type: string; indexUid: string; queues: string[]; customMetadata: string | null },
    details: Record<string, unknown>,
  ): Promise<Written> {
    return {
      task: await this.o.tasks.decided(
        { ...base, details: { ...details, deletedDocuments: 0 } },
        indexNotFound(base.indexUid),
      ),
      headers: {},
    };
  }

  /** Each id to its shard's owners in every group: node id → JSON array of its ids, and the shards touched. */
  private deleteBodies(table: RoutingTable, ids: readonly string[]): { bodies: Map<string, string>; shards: number[] } {
    const shardOf = shardsForAnyIds(ids, table.shards);
    const perNode = new Map<string, string[]>();
    const shards = new Set<number>();
    const targets = new Map<number, string[]>();
    for (let i = 0; i < ids.length; i++) {
      const s = shardOf[i]!;
      shards.add(s);
      let nodes = targets.get(s);
      if (nodes === undefined) targets.set(s, (nodes = [...table.writeTargets(s).values()].flat()));
      for (const n of nodes) {
        let list = perNode.get(n);
        if (list === undefined) perNode.set(n, (list = []));
        list.push(ids[i]!);
      }
    }
    const bodies = new Map<string, string>();
    for (const [n, list] of perNode) bodies.set(n, JSON.stringify(list));
    return { bodies, shards: [...shards] };
  }

  /**
   * Runs the replicated write; when it fails after side writes (creation, primary key, fields) already reached
   * nodes, the task is still recorded — failed — so those changes settle in order like everything nodes received.
   */
  private async sendOrRecord(
    taskUid: number,
    aux: readonly Ack[],
    base: { uid: number; type: string; indexUid: string; queues: string[]; customMetadata: string | null },
    failedDetails: Record<string, unknown>,
    recorded: () => void,
    send: () => Promise<ReplicatedWriteResult>,
  ): Promise<ReplicatedWriteResult> {
    try {
      return await send();
    } catch (err) {
      if (aux.length > 0 && err instanceof MeiliError) {
        recorded();
        await this.o.tasks.create({
          ...base,
          uid: taskUid,
          details: failedDetails,
          acks: aux,
          outcome: { status: 'failed', error: err.toJSON() },
        });
      }
      throw err;
    }
  }

  /** `DELETE /documents/{id}` and `POST /documents/delete-batch`: each id to its shard's owners in every group. */
  deleteIds(
    uid: string,
    ids: readonly string[],
    details: Record<string, unknown>,
    customMetadata: string | null,
  ): Promise<Written> {
    return this.o.ops.register([uid], async (taskUid, recorded) => {
      const base = { uid: taskUid, type: 'documentDeletion', indexUid: uid, queues: [uid], customMetadata };
      if (!(await this.o.state.projected(uid)).exists) {
        recorded();
        return this.missingIndex(base, details);
      }
      await this.o.tombstone?.({ index: uid, taskUid, kind: 'ids', ids: [...ids] });
      const sent = await this.sendDeleteIds(uid, taskUid, this.o.topology.routingFor(uid), ids);
      const mirrored = await this.mirrorWrite(
        uid,
        async (mirror) =>
          (await this.sendDeleteIds(mirror.uid, taskUid, this.o.topology.routingFor(mirror.uid), ids)).acks,
      );
      recorded();
      return {
        task: await this.o.tasks.create({
          ...base,
          details,
          acks: [...sent.acks, ...mirrored],
          pinGroup: sent.firstGroup,
          change: this.changeIf(() => ({
            operation: 'document_delete',
            primary_keys: [...ids],
            shard_ids: [...sent.shards].sort((a, b) => a - b),
          })),
        }),
        headers: sent.headers,
      };
    });
  }

  /** `POST /documents/delete` (filter) and `DELETE /documents` (all): every healthy node, each holds whole shards. */
  deleteEverywhere(
    uid: string,
    how: { filter: unknown } | 'all',
    details: Record<string, unknown>,
    customMetadata: string | null,
  ): Promise<Written> {
    return this.o.ops.register([uid], async (taskUid, recorded) => {
      const base = { uid: taskUid, type: 'documentDeletion', indexUid: uid, queues: [uid], customMetadata };
      if (!(await this.o.state.projected(uid)).exists) {
        recorded();
        return this.missingIndex(base, details);
      }
      const table = this.o.topology.routingFor(uid);
      const body = how === 'all' ? '' : JSON.stringify({ filter: how.filter });
      const bodies = new Map<string, string>();
      for (const c of this.o.topology.liveClients())
        if (this.o.topology.health.isHealthy(c.nodeId)) bodies.set(c.nodeId, body);
      await this.o.tombstone?.(
        how === 'all'
          ? { index: uid, taskUid, kind: 'all' }
          : { index: uid, taskUid, kind: 'filter', filter: how.filter },
      );
      const everywhere = (target: string, t: RoutingTable) =>
        replicatedWrite(this.write, {
          indexUid: target,
          taskUid,
          table: t,
          bodies,
          shards: allShards(t.shards),
          send: (api, b, tag) =>
            how === 'all'
              ? api.enqueue({ method: 'DELETE', path: path(target, '/documents', tag), operation: 'documents_delete' })
              : api.enqueue({
                  method: 'POST',
                  path: path(target, '/documents/delete', tag),
                  body: b,
                  operation: 'documents_delete',
                }),
        });
      const sent = await everywhere(uid, table);
      const mirrored = await this.mirrorWrite(
        uid,
        async (mirror) => (await everywhere(mirror.uid, this.o.topology.routingFor(mirror.uid))).acks,
      );
      recorded();
      return {
        task: await this.o.tasks.create({
          ...base,
          details,
          acks: [...sent.acks, ...mirrored],
          pinGroup: sent.firstGroup,
          change: this.changeIf(() =>
            how === 'all'
              ? { operation: 'document_delete_all', primary_keys: null, shard_ids: allShards(table.shards) }
              : {
                  operation: 'document_delete_by_filter',
                  primary_keys: null,
                  shard_ids: allShards(table.shards),
                  filter: how.filter,
                },
          ),
        }),
        headers: sent.headers,
      };
    });
  }
}
