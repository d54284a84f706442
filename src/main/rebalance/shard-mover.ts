// Runs one shard move (a Mode C `shard_move` job) for every index: copy the shard onto each target by paging
// `_miroir_shard = s` from a readable, healthy source, then the verify pass — compare per-document content hashes on
// source and target (after both have processed what they had queued), re-copy every mismatch from the source and
// delete what the source does not hold, until equal. Progress is reported as a cursor the job resumes from. With TTL
// on, expired documents are left out of both (a move never copies one anywhere; the target drops its own).
import { documentHash } from '../../core/canonical-json.js';
import { shardForKey } from '../../core/hash.js';
import { MeiliError } from '../../core/errors.js';
import type { InternalChanges } from '../cdc/log.js';
import type { ShardCopy } from '../../core/topology-plan.js';
import { project } from '../../core/index-state.js';
import { EXPIRES_FIELD, notExpiredClause } from '../../core/reserved.js';
import type { NodeApi } from '../cluster/node-api.js';
import type { TopologyService } from '../cluster/topology.js';
import type { IndexStateService } from '../state/index-state.js';
import { provisionIndex } from './provision.js';

export interface MoveCursor {
  /** Position in `copies`. */
  copy: number;
  /** The index being copied (indexes run in uid order); null before the first. */
  uid: string | null;
  /** Next page offset of the copy phase; -1 once copied and only the verify pass is left. */
  offset: number;
  /** Documents written to targets so far (copy pages and verify repairs). */
  copied: number;
}

export interface MoveJobPayload {
  op: string;
  shard: number;
  copies: ShardCopy[];
}

export interface ShardMoverDeps {
  state: IndexStateService;
  topology: TopologyService;
  facetingOverfetch: number;
  pageSize: number;
  verifyRounds: number;
  taskTimeoutMs: number;
  /** Persists progress; false when this pod lost the job (stop at once). */
  progress(cursor: MoveCursor): Promise<boolean>;
  onCopied?(documents: number): void;
  /** CDC on: told about each page copied (origin `shard_move`). */
  changes?: InternalChanges | null;
}

export class JobLostError extends Error {}

type Doc = Record<string, unknown>;

function shardFilter(shard: number): string {
  return `_miroir_shard = ${shard}`;
}

/** One page of a shard from a node; null when the node does not have the index. */
async function fetchPage(
  api: NodeApi,
  uid: string,
  shard: number,
  offset: number,
  limit: number,
  expiring = false,
): Promise<Doc[] | null> {
  const filter = expiring ? [shardFilter(shard), notExpiredClause(Date.now())] : shardFilter(shard);
  const page = await api.fetchDocuments(uid, { filter, offset, limit }, { operation: 'shard_copy', timeoutMs: 30_000 });
  return page === null ? null : page.results;
}

/** Calls `each` with every page of a shard in turn (one page in memory); false when the node lacks the index. */
async function eachPage(
  api: NodeApi,
  uid: string,
  shard: number,
  pageSize: number,
  each: (docs: Doc[]) => void,
  expiring = false,
): Promise<boolean> {
  for (let offset = 0; ; offset += pageSize) {
    const page = await fetchPage(api, uid, shard, offset, pageSize, expiring);
    if (page === null) return offset > 0;
    each(page);
    if (page.length < pageSize) return true;
  }
}

/** Documents the verify pass holds per side at once (their ids and 64-bit hashes, not their bodies). */
export const VERIFY_PART_DOCS = 50_000;

/** Which verify partition an id falls in (a hash independent of the shard's own). */
function partOf(id: string, parts: number): number {
  return parts === 1 ? 0 : shardForKey(`verify:${id}`, parts);
}

/** Waits until the node has processed every task it had enqueued when called; a failed task does not stop it. */
export async function settle(api: NodeApi, timeoutMs: number): Promise<void> {
  await api.drain({ timeoutMs });
}

/** Documents per shard of one index on a node (a facet over `_miroir_shard`); null when the node lacks the index. */
export function shardCounts(api: NodeApi, uid: string): Promise<Map<number, number> | null> {
  return api.shardCounts(uid, '_miroir_shard');
}

/** Waits for node tasks of one node; throws when one failed. */
async function waitAll(api: NodeApi, uids: readonly number[], timeoutMs: number): Promise<void> {
  for (const t of await api.waitTasks(uids, { timeoutMs })) {
    if (t.status === 'failed')
      throw new MeiliError(
        'internal',
        `node ${api.nodeId} failed task ${t.uid}: ${t.error?.message ?? 'unknown error'}`,
      );
  }
}

/**
 * One verify pass of a shard: compares per-document hashes on source and target and repairs the target (missing or
 * different documents copied from the source, extra ones deleted). Both sides are streamed page by page and only ids
 * and 64-bit hashes of one partition are held at once (at most VERIFY_PART_DOCS), so memory stays flat whatever
 * the shard size — a bigger shard is compared in more partitions. Null when the source lacks the index.
 */
export async function verifyPass(
  source: NodeApi,
  target: NodeApi,
  uid: string,
  primaryKey: string,
  shard: number,
  opts: { pageSize: number; taskTimeoutMs: number; expiring?: boolean },
): Promise<{ repaired: number; copied: number } | null> {
  const [sourceCount, targetCount] = await Promise.all([shardCounts(source, uid), shardCounts(target, uid)]);
  if (sourceCount === null) return null;
  const parts = Math.max(
    1,
    Math.ceil(Math.max(sourceCount.get(shard) ?? 0, targetCount?.get(shard) ?? 0) / VERIFY_PART_DOCS),
  );
  let repaired = 0;
  let copied = 0;
  for (let part = 0; part < parts; part++) {
    const want = new Map<string, bigint>();
    await eachPage(
      source,
      uid,
      shard,
      opts.pageSize,
      (docs) => {
        for (const d of docs) {
          const id = String(d[primaryKey]);
          if (partOf(id, parts) === part) want.set(id, documentHash(d));
        }
      },
      opts.expiring,
    );
    const recopy: string[] = [];
    const extra: string[] = [];
    await eachPage(
      target,
      uid,
      shard,
      opts.pageSize,
      (docs) => {
        for (const d of docs) {
          const id = String(d[primaryKey]);
          if (partOf(id, parts) !== part) continue;
          const h = want.get(id);
          if (h === undefined) extra.push(id);
          else {
            want.delete(id);
            if (h !== documentHash(d)) recopy.push(id);
          }
        }
      },
      opts.expiring,
    );
    for (const id of want.keys()) recopy.push(id);
    if (recopy.length === 0 && extra.length === 0) continue;
    copied += await repairShard(source, target, uid, recopy, extra, opts);
    repaired += recopy.length + extra.length;
  }
  return { repaired, copied };
}

/** Copies `ids` from the source onto the target (a page at a time) and deletes `extra` there; waits for both. */
async function repairShard(
  source: NodeApi,
  target: NodeApi,
  uid: string,
  ids: readonly string[],
  extra: readonly string[],
  opts: { pageSize: number; taskTimeoutMs: number },
): Promise<number> {
  const acks: number[] = [];
  let copied = 0;
  for (let i = 0; i < ids.length; i += opts.pageSize) {
    const chunk = ids.slice(i, i + opts.pageSize);
    const page = await source.fetchDocuments(
      uid,
      { ids: chunk, limit: chunk.length },
      { operation: 'shard_repair', timeoutMs: 30_000 },
    );
    if (page === null || page.results.length === 0) continue;
    acks.push(
      await target.addDocuments(uid, JSON.stringify(page.results), { operation: 'shard_repair', timeoutMs: 30_000 }),
    );
    copied += page.results.length;
  }
  for (let i = 0; i < extra.length; i += opts.pageSize)
    acks.push(await target.deleteDocuments(uid, extra.slice(i, i + opts.pageSize), 'shard_repair'));
  await waitAll(target, acks, opts.taskTimeoutMs);
  return copied;
}

export class ShardMover {
  private readonly deps: ShardMoverDeps;

  constructor(deps: ShardMoverDeps) {
    this.deps = deps;
  }

  /**
   * The copy's source, chosen again for every page and verify round (a source that went bad is replaced): the first
   * healthy, readable one; when every candidate is catching up on missed writes too, the first healthy one — the
   * replicas then converge on it instead of waiting for each other forever (with quorum writes every acknowledged
   * write is on it unless it missed that very write).
   */
  private source(copy: ShardCopy): NodeApi {
    const t = this.deps.topology;
    const usable = (id: string, readable: boolean): NodeApi | undefined => {
      const node = t.current.nodes.find((n) => n.id === id);
      if (node === undefined || node.state === 'removed' || id === copy.target || !t.health.isHealthy(id))
        return undefined;
      if (readable && node.catching_up === true) return undefined;
      return t.client(id);
    };
    for (const readable of [true, false]) {
      for (const id of copy.sources) {
        const c = usable(id, readable);
        if (c !== undefined) return c;
      }
    }
    throw new MeiliError(
      'internal',
      `no healthy source for a copy onto ${copy.target} (tried ${copy.sources.join(', ')})`,
    );
  }

  private target(copy: ShardCopy): NodeApi {
    const c = this.deps.topology.client(copy.target);
    if (c === undefined || !this.deps.topology.health.isHealthy(copy.target))
      throw new MeiliError('internal', `target node ${copy.target} is not healthy`);
    return c;
  }

  async run(payload: MoveJobPayload, resume: MoveCursor | null): Promise<MoveCursor> {
    const cursor: MoveCursor = resume ?? { copy: 0, uid: null, offset: 0, copied: 0 };
    const indexes = (await this.deps.state.records())
      .map((r) => ({
        uid: r.uid,
        primaryKey: project(r).primaryKey,
        exists: project(r).exists,
        // TTL on and the index holds expiries: expired documents are not moved.
        expiring: this.deps.state.filtersOn(EXPIRES_FIELD) && r.fields.includes(EXPIRES_FIELD),
      }))
      .filter((r) => r.exists)
      .sort((a, b) => (a.uid < b.uid ? -1 : a.uid > b.uid ? 1 : 0));
    for (; cursor.copy < payload.copies.length; cursor.copy++, cursor.uid = null, cursor.offset = 0) {
      const copy = payload.copies[cursor.copy]!;
      for (const index of indexes) {
        if (cursor.uid !== null && index.uid < cursor.uid) continue;
        if (cursor.uid !== index.uid) {
          cursor.uid = index.uid;
          cursor.offset = 0;
        }
        if (index.primaryKey === null) continue; // no documents can exist yet
        // The target may have restarted empty since the change was provisioned: make the index ready again.
        await provisionIndex(this.target(copy), index.uid, {
          state: this.deps.state,
          facetingOverfetch: this.deps.facetingOverfetch,
          taskTimeoutMs: this.deps.taskTimeoutMs,
        });
        if (cursor.offset >= 0) await this.copy(copy, index.uid, payload.shard, cursor, index.expiring);
        await this.verify(copy, index.uid, index.primaryKey, payload.shard, cursor, index.expiring);
        cursor.offset = 0;
        cursor.uid = `${index.uid}\u0000`; // past this index
        await this.report(cursor);
      }
    }
    return cursor;
  }

  private async report(cursor: MoveCursor): Promise<void> {
    if (!(await this.deps.progress({ ...cursor }))) throw new JobLostError('the job was claimed by another pod');
  }

  private async copy(
    copy: ShardCopy,
    uid: string,
    shard: number,
    cursor: MoveCursor,
    expiring: boolean,
  ): Promise<void> {
    const source = this.source(copy);
    const target = this.target(copy);
    const acks: number[] = [];
    for (;;) {
      const page = await fetchPage(source, uid, shard, cursor.offset, this.deps.pageSize, expiring);
      if (page === null || page.length === 0) break;
      acks.push(await target.addDocuments(uid, JSON.stringify(page), { operation: 'shard_copy', timeoutMs: 30_000 }));
      await this.deps.changes?.internal('shard_move', {
        index: uid,
        operation: 'document_add',
        shard_ids: [shard],
        documents: page,
      });
      cursor.offset += page.length;
      cursor.copied += page.length;
      this.deps.onCopied?.(page.length);
      await this.report(cursor);
      if (page.length < this.deps.pageSize) break;
    }
    await waitAll(target, acks, this.deps.taskTimeoutMs);
    cursor.offset = -1;
    await this.report(cursor);
  }

  /** Compares per-document hashes until source and target hold the same shard; repairs the target in between. */
  private async verify(
    copy: ShardCopy,
    uid: string,
    primaryKey: string,
    shard: number,
    cursor: MoveCursor,
    expiring: boolean,
  ): Promise<void> {
    for (let round = 0; round < this.deps.verifyRounds; round++) {
      const source = this.source(copy);
      const target = this.target(copy);
      await Promise.all([settle(source, this.deps.taskTimeoutMs), settle(target, this.deps.taskTimeoutMs)]);
      const pass = await verifyPass(source, target, uid, primaryKey, shard, {
        pageSize: this.deps.pageSize,
        taskTimeoutMs: this.deps.taskTimeoutMs,
        expiring,
      });
      if (pass === null || pass.repaired === 0) return; // equal (or the index is gone on the source)
      cursor.copied += pass.copied;
      this.deps.onCopied?.(pass.copied);
      await this.report(cursor);
    }
    throw new MeiliError(
      'internal',
      `shard ${shard} of \`${uid}\` on ${copy.target} still differs from its source after ${this.deps.verifyRounds} verify rounds`,
    );
  }
}
