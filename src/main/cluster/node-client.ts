// HOT PATH. The proxy's HTTP client to one Meilisearch node: an undici Pool (connection_pool_per_node.*), a per-call
// deadline (scatter.node_timeout_ms unless the caller gives one), the node master key, per-node metrics, and
// errors classified as timeout | refused | network | 5xx | 4xx. Any HTTP status is returned, never thrown.
import { membersOf, stringOf } from '../../core/types.js';
import { errorMessage } from '../../core/errors.js';
import { Readable } from 'node:stream';
import { Pool, type Dispatcher } from 'undici';
import type { Metrics } from '../observability/metrics.js';

export type NodeErrorKind = 'timeout' | 'refused' | 'network' | '5xx' | '4xx';

const kNodeError = Symbol.for('miroir.node_error');

/** A request that never produced an HTTP answer (or was cut by its deadline). */
export class NodeRequestError extends Error {
  readonly nodeId: string;
  readonly kind: NodeErrorKind;
  constructor(nodeId: string, kind: NodeErrorKind, message: string) {
    super(message);
    this.name = 'NodeRequestError';
    this.nodeId = nodeId;
    this.kind = kind;
  }
  static override [Symbol.hasInstance](v: unknown): boolean {
    return typeof v === 'object' && v !== null && (v as Record<symbol, unknown>)[kNodeError] === true;
  }
}
Object.defineProperty(NodeRequestError.prototype, kNodeError, { value: true });

export interface NodeResponse {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  body: Buffer;
}

export interface NodeCall {
  method: 'GET' | 'POST' | 'PUT' | 'PATCH' | 'DELETE';
  /** Path with query string, e.g. `/indexes/movies/search`. */
  path: string;
  body?: string | Buffer | null;
  contentType?: string;
  /** Label for metrics (`search`, `documents_add`, `health`, ...). */
  operation: string;
  timeoutMs?: number;
  signal?: AbortSignal;
  /** Send no credentials (a probe of an address not yet accepted as a node must never receive the node key). */
  anonymous?: boolean;
}

export interface NodeClientOptions {
  nodeMasterKey: string | null;
  timeoutMs: number;
  maxConnections: number;
  idleTimeoutMs: number;
  metrics?: Metrics | null;
}

const CONNECT_REFUSED = new Set([
  'ECONNREFUSED',
  'ECONNRESET',
  'EHOSTUNREACH',
  'ENETUNREACH',
  'UND_ERR_CONNECT_TIMEOUT',
]);

function classify(err: unknown, timedOut: boolean): NodeErrorKind {
  if (timedOut) return 'timeout';
  const code = stringOf(membersOf(err).code) ?? stringOf(membersOf(membersOf(err).cause).code);
  if (code === 'ECONNREFUSED') return 'refused';
  if (code !== undefined && CONNECT_REFUSED.has(code))
    return code === 'UND_ERR_CONNECT_TIMEOUT' ? 'timeout' : 'network';
  if (code === 'UND_ERR_HEADERS_TIMEOUT' || code === 'UND_ERR_BODY_TIMEOUT') return 'timeout';
  return 'network';
}

/** Bodies above this go to the socket in slices of SLICE_BYTES: one write of a 30 MB body held the event loop for
 * 90–120 ms (big-batch bench profile); each slice waits for the socket to drain. */
const SLICED_BODY_FROM = 4 * 1024 * 1024;
const SLICE_BYTES = 1024 * 1024;

function* slices(body: Buffer): Generator<Buffer> {
  for (let at = 0; at < body.length; at += SLICE_BYTES) yield body.subarray(at, at + SLICE_BYTES);
}

export class NodeClient {
  readonly nodeId: string;
  readonly address: string;
  private readonly pool: Pool;
  private readonly authHeader: string | null;
  private readonly opts: NodeClientOptions;
  private readonly durations = new Map<string, { observe(seconds: number): void }>();
  /** Header blocks built once: with the node key, for a JSON body or none. */
  private readonly jsonHeaders: Record<string, string>;
  private readonly plainHeaders: Record<string, string>;

  constructor(nodeId: string, address: string, opts: NodeClientOptions) {
    this.nodeId = nodeId;
    this.address = address.replace(/\/+$/, '');
    this.opts = opts;
    this.authHeader = opts.nodeMasterKey ? `Bearer ${opts.nodeMasterKey}` : null;
    this.plainHeaders = this.authHeader === null ? {} : { authorization: this.authHeader };
    this.jsonHeaders = { ...this.plainHeaders, 'content-type': 'application/json' };
    this.pool = new Pool(this.address, {
      connections: opts.maxConnections,
      keepAliveTimeout: opts.idleTimeoutMs,
      keepAliveMaxTimeout: opts.idleTimeoutMs,
      pipelining: 1,
      connectTimeout: Math.min(opts.timeoutMs, 10_000),
    });
  }

  /** The latency series of one operation, looked up once (no label hashing per request). */
  private durationOf(operation: string): { observe(seconds: number): void } {
    let series = this.durations.get(operation);
    if (series === undefined)
      this.durations.set(operation, (series = this.opts.metrics!.nodeRequestDuration.labels(this.nodeId, operation)));
    return series;
  }

  async request(call: NodeCall): Promise<NodeResponse> {
    const timeoutMs = call.timeoutMs ?? this.opts.timeoutMs;
    // The deadline is undici's own headers/body timers (no AbortSignal and timer per call on the hot path).
    const hasBody = call.body !== undefined && call.body !== null;
    let headers: Record<string, string>;
    if (
      call.anonymous === true ||
      (hasBody && call.contentType !== undefined && call.contentType !== 'application/json')
    ) {
      headers = {};
      if (this.authHeader !== null && call.anonymous !== true) headers['authorization'] = this.authHeader;
      if (hasBody) headers['content-type'] = call.contentType ?? 'application/json';
    } else headers = hasBody ? this.jsonHeaders : this.plainHeaders;
    let payload: Dispatcher.DispatchOptions['body'] = call.body ?? null;
    if (Buffer.isBuffer(payload) && payload.length > SLICED_BODY_FROM) {
      headers = { ...headers, 'content-length': String(payload.length) };
      payload = Readable.from(slices(payload), { objectMode: false });
    }
    const started = performance.now();
    const metrics = this.opts.metrics;
    try {
      const res = await this.pool.request({
        method: call.method,
        path: call.path,
        headers,
        body: payload,
        signal: call.signal ?? null,
        headersTimeout: timeoutMs,
        bodyTimeout: timeoutMs,
      });
      const chunks: Buffer[] = [];
      for await (const chunk of res.body) chunks.push(chunk as Buffer);
      const body = chunks.length === 1 ? chunks[0]! : Buffer.concat(chunks);
      if (metrics) {
        this.durationOf(call.operation).observe((performance.now() - started) / 1000);
        if (res.statusCode >= 500) metrics.nodeErrors.labels(this.nodeId, '5xx').inc();
        else if (res.statusCode >= 400) metrics.nodeErrors.labels(this.nodeId, '4xx').inc();
      }
      return { status: res.statusCode, headers: res.headers, body };
    } catch (err) {
      if (call.signal?.aborted) throw err; // the caller gave up (e.g. a hedge won): not a node error
      const kind = classify(err, false);
      metrics?.nodeErrors.labels(this.nodeId, kind).inc();
      const detail = kind === 'timeout' ? `no answer within ${timeoutMs} ms` : errorMessage(err);
      throw new NodeRequestError(
        this.nodeId,
        kind,
        `node ${this.nodeId} (${this.address}) ${call.method} ${call.path}: ${detail}`,
      );
    }
  }

  /** Parses a JSON answer (nodes always answer JSON bodies). */
  static json<T = unknown>(res: NodeResponse): T {
    return (res.body.length === 0 ? null : JSON.parse(res.body.toString('utf8'))) as T;
  }

  async close(): Promise<void> {
    await this.pool.close();
  }

  destroy(): Promise<void> {
    return this.pool.destroy();
  }
}
