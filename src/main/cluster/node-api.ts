// HOT PATH. The typed API of one Meilisearch node, the only way Miroir talks to nodes: writes that enqueue a node
// task (`enqueue` and its named forms), task reads and waits, settings, search, documents and stats. Failures are
// named errors: NodeRequestError when no HTTP answer came (timeout, refused, network), NodeResponseError when the
// node answered an error — it carries the node's code, message and status, unknown codes included, so an error
// a client should see passes through unchanged (`toMeiliError`).
import { MeiliError, type ErrorBody } from '../../core/errors.js';
import { hideReservedFields } from '../../core/reserved.js';
import type { Settings } from '../../core/settings.js';
import {
  NodeClient,
  NodeRequestError,
  type NodeCall,
  type NodeClientOptions,
  type NodeResponse,
} from './node-client.js';
import type { CallSignal } from './call-signal.js';

export { NodeRequestError } from './node-client.js';

const kResponseError = Symbol.for('miroir.node_response_error');

/** The node answered with an error status (4xx/5xx, or a write that did not enqueue). */
export class NodeResponseError extends Error {
  readonly nodeId: string;
  readonly status: number;
  readonly code: string;
  readonly body: Partial<ErrorBody>;
  constructor(nodeId: string, status: number, body: Partial<ErrorBody>, what: string) {
    super(
      `node ${nodeId} answered ${status} to ${what}: ${typeof body.message === 'string' ? body.message : 'no message'}`,
    );
    this.name = 'NodeResponseError';
    this.nodeId = nodeId;
    this.status = status;
    this.code = typeof body.code === 'string' ? body.code : '';
    this.body = body;
  }
  static override [Symbol.hasInstance](v: unknown): boolean {
    return typeof v === 'object' && v !== null && (v as Record<symbol, unknown>)[kResponseError] === true;
  }
  /** The node's own error as a client would get it from that node (status, code, message, type, link). */
  toMeiliError(): MeiliError {
    const message = typeof this.body.message === 'string' ? hideReservedFields(this.body.message) : this.body.message;
    return MeiliError.forwarded({ ...this.body, message }, this.status);
  }
}
Object.defineProperty(NodeResponseError.prototype, kResponseError, { value: true });

export type NodeTaskStatus = 'enqueued' | 'processing' | 'succeeded' | 'failed' | 'canceled';

/** A node task as GET /tasks answers it (the fields Miroir reads). */
export interface NodeTask {
  uid: number;
  status: NodeTaskStatus;
  type?: string;
  indexUid?: string | null;
  error: ErrorBody | null;
  startedAt: string | null;
  finishedAt: string | null;
  details?: Record<string, unknown>;
  customMetadata?: string;
}

export function isTerminalNodeTask(t: Pick<NodeTask, 'status'>): boolean {
  return t.status === 'succeeded' || t.status === 'failed' || t.status === 'canceled';
}

export type Answer = Record<string, unknown>;

/** Task uids asked per `GET /tasks?uids=` call (keeps the query string short). */
const TASKS_PER_CALL = 200;

function index(uid: string): string {
  return `/indexes/${encodeURIComponent(uid)}`;
}

function bodyOf(res: NodeResponse): Partial<ErrorBody> {
  try {
    const parsed = NodeClient.json<unknown>(res);
    return parsed !== null && typeof parsed === 'object' ? (parsed as Partial<ErrorBody>) : {};
  } catch {
    return { message: res.body.toString('utf8').slice(0, 200) };
  }
}

export class NodeApi extends NodeClient {
  constructor(nodeId: string, address: string, opts: NodeClientOptions) {
    super(nodeId, address, opts);
  }

  /** A request that must answer `ok` (200 by default); the parsed answer, or NodeResponseError. */
  async call<T = Answer>(call: NodeCall, ok = 200): Promise<T> {
    const res = await this.request(call);
    if (res.status !== ok)
      throw new NodeResponseError(this.nodeId, res.status, bodyOf(res), `${call.method} ${call.path}`);
    return NodeClient.json<T>(res);
  }

  /** A request that must answer `ok` (200 by default): the answer's body as it came, or NodeResponseError. */
  async callBody(call: NodeCall, ok = 200): Promise<Buffer> {
    const res = await this.request(call);
    if (res.status !== ok)
      throw new NodeResponseError(this.nodeId, res.status, bodyOf(res), `${call.method} ${call.path}`);
    return res.body;
  }

  /** A read where 404 means "not there" (null). */
  private async maybe<T>(call: NodeCall): Promise<T | null> {
    const res = await this.request(call);
    if (res.status === 404) return null;
    if (res.status !== 200)
      throw new NodeResponseError(this.nodeId, res.status, bodyOf(res), `${call.method} ${call.path}`);
    return NodeClient.json<T>(res);
  }

  // ---------------------------------------------------------------- writes (each enqueues one node task)

  /** Sends a write; resolves to the node's task uid once the node answered 202. */
  async enqueue(call: NodeCall): Promise<number> {
    return (await this.call<{ taskUid: number }>(call, 202)).taskUid;
  }

  createIndex(uid: string, primaryKey: string | null): Promise<number> {
    return this.enqueue({
      method: 'POST',
      path: '/indexes',
      body: JSON.stringify({ uid, primaryKey }),
      operation: 'index_create',
    });
  }

  deleteIndex(uid: string): Promise<number> {
    return this.enqueue({ method: 'DELETE', path: index(uid), operation: 'index_delete' });
  }

  updateIndex(uid: string, body: Record<string, unknown>): Promise<number> {
    return this.enqueue({ method: 'PATCH', path: index(uid), body: JSON.stringify(body), operation: 'index_update' });
  }

  patchSettings(uid: string, settings: Settings, operation = 'settings_update'): Promise<number> {
    return this.enqueue({ method: 'PATCH', path: `${index(uid)}/settings`, body: JSON.stringify(settings), operation });
  }

  swapIndexes(swaps: unknown): Promise<number> {
    return this.enqueue({
      method: 'POST',
      path: '/swap-indexes',
      body: JSON.stringify(swaps),
      operation: 'index_swap',
    });
  }

  /** Meilisearch answers a cancelation with 200 (older versions with 202): either carries the task. */
  async cancelTasks(uids: readonly number[]): Promise<number> {
    const res = await this.request({
      method: 'POST',
      path: `/tasks/cancel?uids=${uids.join(',')}`,
      operation: 'task_cancel',
    });
    if (res.status !== 200 && res.status !== 202)
      throw new NodeResponseError(this.nodeId, res.status, bodyOf(res), 'POST /tasks/cancel');
    return NodeClient.json<{ taskUid: number }>(res).taskUid;
  }

  /** Documents (JSON array body) added or replaced. */
  addDocuments(
    uid: string,
    documents: string | Buffer,
    opts: { merge?: boolean; operation?: string; query?: string; timeoutMs?: number } = {},
  ): Promise<number> {
    const q = opts.query === undefined || opts.query === '' ? '' : `?${opts.query}`;
    return this.enqueue({
      method: opts.merge === true ? 'PUT' : 'POST',
      path: `${index(uid)}/documents${q}`,
      body: documents,
      operation: opts.operation ?? 'documents_add',
      timeoutMs: opts.timeoutMs,
    });
  }

  deleteDocuments(uid: string, ids: ReadonlyArray<string | number>, operation = 'documents_delete'): Promise<number> {
    return this.enqueue({
      method: 'POST',
      path: `${index(uid)}/documents/delete-batch`,
      body: JSON.stringify(ids),
      operation,
      timeoutMs: 30_000,
    });
  }

  // ---------------------------------------------------------------- tasks

  task(uid: number): Promise<NodeTask | null> {
    return this.maybe<NodeTask>({ method: 'GET', path: `/tasks/${uid}`, operation: 'task_get' });
  }

  /** The node's view of several of its tasks (missing ones are absent from the map). */
  async tasks(uids: readonly number[]): Promise<Map<number, NodeTask>> {
    const out = new Map<number, NodeTask>();
    for (let i = 0; i < uids.length; i += TASKS_PER_CALL) {
      const part = uids.slice(i, i + TASKS_PER_CALL);
      const page = await this.call<{ results: NodeTask[] }>({
        method: 'GET',
        path: `/tasks?uids=${part.join(',')}&limit=${part.length}`,
        operation: 'task_list',
      });
      for (const t of page.results) out.set(t.uid, t);
    }
    return out;
  }

  /** Tasks of one index enqueued since `sinceIso` (newest first), for finding a tagged write whose answer was lost. */
  async recentTasks(indexUid: string, sinceIso: string, limit = 1000): Promise<NodeTask[]> {
    const page = await this.call<{ results: NodeTask[] }>({
      method: 'GET',
      path: `/tasks?indexUids=${encodeURIComponent(indexUid)}&afterEnqueuedAt=${encodeURIComponent(sinceIso)}&limit=${limit}`,
      operation: 'task_list',
    });
    return page.results;
  }

  /** The uid of the newest task the node has (null when it has none). */
  async latestTaskUid(): Promise<number | null> {
    const page = await this.call<{ results: Array<{ uid: number }> }>({
      method: 'GET',
      path: '/tasks?limit=1',
      operation: 'task_list',
    });
    return page.results[0]?.uid ?? null;
  }

  /**
   * Waits until every given task is terminal (polling with backoff) and returns them; a task the node no longer
   * knows counts as done. Throws a MeiliError on timeout, or the signal's reason when aborted.
   */
  async waitTasks(uids: readonly number[], opts: { timeoutMs: number; signal?: AbortSignal }): Promise<NodeTask[]> {
    const deadline = Date.now() + opts.timeoutMs;
    const done = new Map<number, NodeTask>();
    let delay = 5;
    for (;;) {
      opts.signal?.throwIfAborted();
      const todo = uids.filter((u) => !done.has(u));
      if (todo.length === 0) return uids.map((u) => done.get(u)!);
      try {
        const seen = await this.tasks(todo);
        for (const u of todo) {
          const t = seen.get(u);
          if (t === undefined)
            done.set(u, { uid: u, status: 'succeeded', error: null, startedAt: null, finishedAt: null });
          else if (isTerminalNodeTask(t)) done.set(u, t);
        }
      } catch (err) {
        if (!(err instanceof NodeRequestError) && !(err instanceof NodeResponseError)) throw err;
      }
      if (done.size === uids.length) continue;
      if (Date.now() > deadline)
        throw new MeiliError(
          'internal',
          `node ${this.nodeId}: tasks ${todo.join(', ')} did not finish within ${opts.timeoutMs} ms`,
        );
      await new Promise((r) => setTimeout(r, delay));
      delay = Math.min(delay * 2, 200);
    }
  }

  /** Waits until the node processed everything it had enqueued when called (its queue runs in order). */
  async drain(opts: { timeoutMs: number; signal?: AbortSignal }): Promise<void> {
    const last = await this.latestTaskUid();
    if (last !== null) await this.waitTasks([last], opts);
  }

  // ---------------------------------------------------------------- reads

  /** The index as the node has it (null when it does not have it). */
  getIndex(uid: string): Promise<{ uid: string; primaryKey: string | null } | null> {
    return this.maybe({ method: 'GET', path: index(uid), operation: 'index_get' });
  }

  /** The node's physical settings of an index (null when it does not have the index). */
  settings(uid: string): Promise<Settings | null> {
    return this.maybe<Settings>({ method: 'GET', path: `${index(uid)}/settings`, operation: 'settings_get' });
  }

  search(
    uid: string,
    body: Record<string, unknown>,
    opts: { signal?: AbortSignal; operation?: string } = {},
  ): Promise<Answer> {
    return this.call({
      method: 'POST',
      path: `${index(uid)}/search`,
      body: JSON.stringify(body),
      operation: opts.operation ?? 'search',
      signal: opts.signal,
    });
  }

  facetSearch(uid: string, body: Record<string, unknown>, opts: { signal?: AbortSignal } = {}): Promise<Answer> {
    return this.call({
      method: 'POST',
      path: `${index(uid)}/facet-search`,
      body: JSON.stringify(body),
      operation: 'facet_search',
      signal: opts.signal,
    });
  }

  /** One page of documents (`POST /documents/fetch`); null when the node lacks the index. */
  fetchDocuments(
    uid: string,
    body: Record<string, unknown>,
    opts: { signal?: AbortSignal; operation?: string; timeoutMs?: number } = {},
  ): Promise<{ results: Answer[]; total: number; offset: number; limit: number } | null> {
    return this.maybe({
      method: 'POST',
      path: `${index(uid)}/documents/fetch`,
      body: JSON.stringify(body),
      operation: opts.operation ?? 'documents_fetch',
      signal: opts.signal,
      timeoutMs: opts.timeoutMs,
    });
  }

  /** One document; NodeResponseError (404 document_not_found / index_not_found) when the node does not hold it. */
  async getDocument(uid: string, id: string, query: string, signal?: CallSignal): Promise<Answer> {
    const res = await this.request({
      method: 'GET',
      path: `${index(uid)}/documents/${encodeURIComponent(id)}${query === '' ? '' : `?${query}`}`,
      operation: 'document_get',
      signal,
    });
    if (res.status === 200) return NodeClient.json<Answer>(res);
    throw new NodeResponseError(this.nodeId, res.status, bodyOf(res), 'GET document');
  }

  stats(uid: string): Promise<Answer> {
    return this.call({ method: 'GET', path: `${index(uid)}/stats`, operation: 'stats' });
  }

  /** Documents per shard of one index (a facet over the shard field); null when the node lacks the index. */
  async shardCounts(uid: string, shardField: string, filter?: unknown): Promise<Map<number, number> | null> {
    const body: Record<string, unknown> = { q: '', limit: 0, facets: [shardField] };
    if (filter !== undefined) body.filter = filter;
    const res = await this.maybe<{ facetDistribution?: Record<string, Record<string, number>> }>({
      method: 'POST',
      path: `${index(uid)}/search`,
      body: JSON.stringify(body),
      operation: 'shard_count',
    });
    if (res === null) return null;
    return new Map(Object.entries(res.facetDistribution?.[shardField] ?? {}).map(([s, n]) => [Number(s), n]));
  }

  /** Whether the node answers `GET /health` with 200 (`anonymous`: without the node key, for unvetted addresses). */
  async health(timeoutMs: number, anonymous = false): Promise<{ ok: boolean; error: string | null }> {
    try {
      const res = await this.request({ method: 'GET', path: '/health', operation: 'health', timeoutMs, anonymous });
      return res.status === 200
        ? { ok: true, error: null }
        : { ok: false, error: `GET /health answered ${res.status}` };
    } catch (err) {
      if (err instanceof NodeRequestError) return { ok: false, error: `${err.kind}: ${err.message}` };
      throw err;
    }
  }

  /** How many indexes the node holds (null when it could not say). */
  async indexCount(): Promise<number | null> {
    try {
      return (
        (await this.call<{ total?: number }>({ method: 'GET', path: '/indexes?limit=1', operation: 'index_list' }))
          .total ?? null
      );
    } catch (err) {
      if (err instanceof NodeRequestError || err instanceof NodeResponseError) return null;
      throw err;
    }
  }

  /** Deletes the documents a filter matches (no Miroir task: moves and cleanups). */
  deleteByFilter(uid: string, filter: unknown, operation: string): Promise<number> {
    return this.enqueue({
      method: 'POST',
      path: `${index(uid)}/documents/delete`,
      body: JSON.stringify({ filter }),
      operation,
    });
  }

  /** Any other route, answered as the node gave it (status and raw body), for routes Miroir passes through. */
  forward(method: NodeCall['method'], path: string, body: Buffer | null, operation: string): Promise<NodeResponse> {
    return this.request({ method, path, body, operation });
  }
}
