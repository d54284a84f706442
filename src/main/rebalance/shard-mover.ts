// Runs one shard move (a Mode C `shard_move` job) for every index: copy the shard onto each target by paging
// `_miroir_shard = s` from a readable, healthy source, then the verify pass — compare per-document content hashes on
// source and target (after both have processed what they had queued), re-copy every mismatch from the source and
// delete what the source does not hold, until equal. Progress is reported as a cursor the job resumes from.
import { documentHash } from '../../core/canonical-json.js';
import { MeiliError } from '../../core/errors.js';
import type { ShardCopy } from '../../core/topology-plan.js';
import { project } from '../../core/index-state.js';
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
}

export class JobLostError extends Error {}

type Doc = Record<string, unknown>;

function shardFilter(shard: number): string {
  return `_miroir_shard = ${shard}`;
}

/** One page of a shard from a node; null when the node does not have the index. */
async function fetchPage(api: NodeApi, uid: string, shard: number, offset: number, limit: number): Promise<Doc[] | null> {
  const page = await api.fetchDocuments(uid, { filter: shardFilter(shard), offset, limit }, { operation: 'shard_copy', timeoutMs: 30_000 });
  return page === null ? null : page.results;
}

async function fetchShard(api: NodeApi, uid: string, shard: number, pageSize: number): Promise<Doc[] | null> {
  const all: Doc[] = [];
  for (let offset = 0; ; offset += pageSize) {
    const page = await fetchPage(api, uid, shard, offset, pageSize);
    if (page === null) return offset === 0 ? null : all;
    all.push(...page);
    if (page.length < pageSize) return all;
  }
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
    if (t.status === 'failed') throw new MeiliError('internal', `node ${api.nodeId} failed task ${t.uid}: ${t.error?.message ?? 'unknown error'}`);
  }
}

export class ShardMover {
  private readonly deps: ShardMoverDeps;

  constructor(deps: ShardMoverDeps) {
    this.deps = deps;
  }

  /** The first source that is in the topology, healthy and readable. */
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
      if (node === undefined || node.state === 'removed' || id === copy.target || !t.health.isHealthy(id)) return undefined;
      if (readable && node.catching_up === true) return undefined;
      return t.client(id);
    };
    for (const readable of [true, false]) {
      for (const id of copy.sources) {
        const c = usable(id, readable);
        if (c !== undefined) return c;
      }
    }
    throw new MeiliError('internal', `no healthy source for a copy onto ${copy.target} (tried ${copy.sources.join(', ')})`);
  }

  private target(copy: ShardCopy): NodeApi {
    const c = this.deps.topology.client(copy.target);
    if (c === undefined || !this.deps.topology.health.isHealthy(copy.target)) throw new MeiliError('internal', `target node ${copy.target} is not healthy`);
    return c;
  }

  async run(payload: MoveJobPayload, resume: MoveCursor | null): Promise<MoveCursor> {
    const cursor: MoveCursor = resume ?? { copy: 0, uid: null, offset: 0, copied: 0 };
    const indexes = (await this.deps.state.records()).map((r) => ({ uid: r.uid, primaryKey: project(r).primaryKey, exists: project(r).exists })).filter((r) => r.exists).sort((a, b) => (a.uid < b.uid ? -1 : a.uid > b.uid ? 1 : 0));
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
        await provisionIndex(this.target(copy), index.uid, { state: this.deps.state, facetingOverfetch: this.deps.facetingOverfetch, taskTimeoutMs: this.deps.taskTimeoutMs });
        if (cursor.offset >= 0) await this.copy(copy, index.uid, payload.shard, cursor);
        await this.verify(copy, index.uid, index.primaryKey, payload.shard, cursor);
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

  private async copy(copy: ShardCopy, uid: string, shard: number, cursor: MoveCursor): Promise<void> {
    const source = this.source(copy);
    const target = this.target(copy);
    const acks: number[] = [];
    for (;;) {
      const page = await fetchPage(source, uid, shard, cursor.offset, this.deps.pageSize);
      if (page === null || page.length === 0) break;
      acks.push(await target.addDocuments(uid, JSON.stringify(page), { operation: 'shard_copy', timeoutMs: 30_000 }));
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
  private async verify(copy: ShardCopy, uid: string, primaryKey: string, shard: number, cursor: MoveCursor): Promise<void> {
    for (let round = 0; round < this.deps.verifyRounds; round++) {
      const source = this.source(copy);
      const target = this.target(copy);
      await Promise.all([settle(source, this.deps.taskTimeoutMs), settle(target, this.deps.taskTimeoutMs)]);
      const [want, have] = await Promise.all([fetchShard(source, uid, shard, this.deps.pageSize), fetchShard(target, uid, shard, this.deps.pageSize)]);
      if (want === null) return; // the index is gone on the source (deleted meanwhile)
      const theirs = new Map<string, bigint>();
      for (const d of have ?? []) theirs.set(String(d[primaryKey]), documentHash(d));
      const recopy: Doc[] = [];
      for (const d of want) {
        const id = String(d[primaryKey]);
        const h = theirs.get(id);
        theirs.delete(id);
        if (h === undefined || h !== documentHash(d)) recopy.push(d);
      }
      const extra = [...theirs.keys()];
      if (recopy.length === 0 && extra.length === 0) return;
      const acks: number[] = [];
      for (let i = 0; i < recopy.length; i += this.deps.pageSize) acks.push(await target.addDocuments(uid, JSON.stringify(recopy.slice(i, i + this.deps.pageSize)), { operation: 'shard_repair', timeoutMs: 30_000 }));
      if (extra.length > 0) acks.push(await target.deleteDocuments(uid, extra, 'shard_repair'));
      cursor.copied += recopy.length;
      this.deps.onCopied?.(recopy.length);
      await waitAll(target, acks, this.deps.taskTimeoutMs);
      await this.report(cursor);
    }
    throw new MeiliError('internal', `shard ${shard} of \`${uid}\` on ${copy.target} still differs from its source after ${this.deps.verifyRounds} verify rounds`);
  }
}
