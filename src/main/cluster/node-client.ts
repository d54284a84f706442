// HOT PATH. The proxy's HTTP client to one Meilisearch node: an undici Pool (connection_pool_per_node.*), a per-call
// deadline (scatter.node_timeout_ms unless the caller gives one), the node master key, per-node metrics, and
// errors classified as timeout | refused | network | 5xx | 4xx. Any HTTP status is returned, never thrown.
import { membersOf, stringOf } from '../../core/types.js';
import { errorMessage } from '../../core/errors.js';
import { Readable } from 'node:stream';
import { errors, Pool, type Dispatcher } from 'undici';
import { LeanPool } from './lean-http.js';
import type { CallSignal } from './call-signal.js';
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
  signal?: CallSignal;
  /** Send no credentials (a probe of an address not yet accepted as a node must never receive the node key). */
  anonymous?: boolean;
  /**
   * An idempotent read with a small JSON body (scattered searches, facet searches, documents fetches): it goes over the
   * lean client (lean-http.ts) to a plain-http node, and is sent once more on a new connection when the reused one
   * turns out closed before answering.
   */
  read?: boolean;
}

/**
 * A node's answer; its headers are parsed only when read (search answers never read them): from undici's raw name and
 * value buffers, or from the lean client's head lines (the status line first).
 */
class RawAnswer implements NodeResponse {
  private parsed: Record<string, string | string[] | undefined> | null = null;
  constructor(
    readonly status: number,
    private readonly rawHeaders: readonly Buffer[],
    readonly body: Buffer,
    private readonly headLines: readonly string[] = [],
  ) {}

  get headers(): Record<string, string | string[] | undefined> {
    if (this.parsed !== null) return this.parsed;
    const out: Record<string, string | string[] | undefined> = {};
    const add = (k: string, v: string): void => {
      const prev = out[k];
      out[k] = prev === undefined ? v : Array.isArray(prev) ? [...prev, v] : [prev, v];
    };
    const raw = this.rawHeaders;
    for (let i = 0; i + 1 < raw.length; i += 2)
      add(raw[i]!.toString('latin1').toLowerCase(), raw[i + 1]!.toString('latin1'));
    const lines = this.headLines;
    for (let i = 1; i < lines.length; i++) {
      const colon = lines[i]!.indexOf(':');
      if (colon > 0) add(lines[i]!.slice(0, colon).trim().toLowerCase(), lines[i]!.slice(colon + 1).trim());
    }
    return (this.parsed = out);
  }
}

function abortReason(signal: CallSignal): unknown {
  return signal.reason ?? new errors.RequestAbortedError();
}

/**
 * HOT PATH. One node call in flight, as undici's dispatch handler: the answer's chunks gathered straight from the
 * parser (no response stream, async iterator, AbortSignal or header object per call, as `Pool.request` makes). This
 * is undici's own handler interface (the one its `request` wraps), marked deprecated in favour of the controller form,
 * which would wrap it again.
 */
class CallHandler implements Dispatcher.DispatchHandler {
  private readonly started = performance.now();
  private abortFn: ((err?: Error) => void) | null = null;
  private status = 0;
  private rawHeaders: Buffer[] = [];
  private readonly chunks: Buffer[] = [];
  private readonly onAbort: (() => void) | null = null;
  private done = false;

  constructor(
    private readonly client: NodeClient,
    private readonly call: NodeCall,
    private readonly timeoutMs: number,
    private readonly resolve: (res: NodeResponse) => void,
    private readonly reject: (err: unknown) => void,
  ) {
    const signal = call.signal;
    if (signal !== undefined && !signal.aborted) {
      this.onAbort = () => this.abortFn?.(asError(abortReason(signal)));
      signal.addEventListener('abort', this.onAbort);
    }
  }

  /** A call whose signal was aborted before it started fails at once, as undici's `request` does. */
  abortedEarly(): boolean {
    const signal = this.call.signal;
    if (signal === undefined || !signal.aborted) return false;
    this.onError(asError(abortReason(signal)));
    return true;
  }

  onConnect(abort: (err?: Error) => void): void {
    const signal = this.call.signal;
    if (signal !== undefined && signal.aborted) abort(asError(abortReason(signal)));
    else this.abortFn = abort;
  }

  onHeaders(statusCode: number, rawHeaders: Buffer[]): boolean {
    if (statusCode < 200) return true; // 1xx: the real answer follows
    this.status = statusCode;
    this.rawHeaders = rawHeaders;
    return true;
  }

  onData(chunk: Buffer): boolean {
    this.chunks.push(chunk);
    return true;
  }

  onComplete(): void {
    if (this.done) return;
    this.settle();
    const c = this.chunks;
    const body = c.length === 1 ? c[0]! : c.length === 0 ? EMPTY : Buffer.concat(c);
    this.client.finished(this.call, this.started, this.status);
    this.resolve(new RawAnswer(this.status, this.rawHeaders, body));
  }

  onError(err: Error): void {
    if (this.done) return;
    this.settle();
    this.reject(this.client.failed(this.call, this.timeoutMs, err));
  }

  private settle(): void {
    this.done = true;
    this.abortFn = null;
    if (this.onAbort !== null) this.call.signal!.removeEventListener('abort', this.onAbort);
  }
}

const EMPTY = Buffer.alloc(0);

function asError(v: unknown): Error {
  return v instanceof Error ? v : new errors.RequestAbortedError(String(v));
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
  /** The read path's own client (plain-http nodes only; null for https), with its head lines built once. */
  private readonly lean: LeanPool | null;
  private readonly leanJsonHead: string;
  private readonly leanPlainHead: string;

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
    const url = new URL(this.address);
    const headerSafe = this.authHeader === null || !/[\r\n]/.test(this.authHeader);
    this.lean =
      url.protocol === 'http:' && headerSafe
        ? new LeanPool(
            url.hostname.replace(/^\[|\]$/g, ''),
            Number(url.port || 80),
            opts.maxConnections,
            opts.idleTimeoutMs,
          )
        : null;
    const credentials = this.authHeader === null ? '' : `authorization: ${this.authHeader}\r\n`;
    this.leanPlainHead = ` HTTP/1.1\r\nhost: ${url.host}\r\n${credentials}\r\n`;
    this.leanJsonHead = ` HTTP/1.1\r\nhost: ${url.host}\r\n${credentials}content-type: application/json\r\ncontent-length: `;
  }

  /** The latency series of one operation, looked up once (no label hashing per request). */
  private durationOf(operation: string): { observe(seconds: number): void } {
    let series = this.durations.get(operation);
    if (series === undefined)
      this.durations.set(operation, (series = this.opts.metrics!.nodeRequestDuration.cell(this.nodeId, operation)));
    return series;
  }

  request(call: NodeCall): Promise<NodeResponse> {
    const timeoutMs = call.timeoutMs ?? this.opts.timeoutMs;
    if (
      this.lean !== null &&
      call.read === true &&
      call.anonymous !== true &&
      (call.body === undefined || call.body === null || typeof call.body === 'string') &&
      (call.contentType === undefined || call.contentType === 'application/json')
    )
      return this.leanRequest(call, timeoutMs);
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
    return new Promise<NodeResponse>((resolve, reject) => {
      const handler = new CallHandler(this, call, timeoutMs, resolve, reject);
      if (handler.abortedEarly()) return;
      this.pool.dispatch(
        {
          method: call.method,
          path: call.path,
          headers,
          body: payload,
          headersTimeout: timeoutMs,
          bodyTimeout: timeoutMs,
        },
        handler,
      );
    });
  }

  /** HOT PATH. A read over the lean client: the same metrics, deadline and errors as a call through undici. */
  private leanRequest(call: NodeCall, timeoutMs: number): Promise<NodeResponse> {
    const started = performance.now();
    const body = typeof call.body === 'string' ? call.body : null;
    const head = `${call.method} ${call.path}${body === null ? this.leanPlainHead : this.leanJsonHead}`;
    return this.lean!.request({ head, body, timeoutMs, signal: call.signal }).then(
      (res) => {
        this.finished(call, started, res.status);
        return new RawAnswer(res.status, [], res.body, res.headLines);
      },
      (err: unknown) => {
        throw this.failed(call, timeoutMs, err);
      },
    );
  }

  /** A call that got its whole answer: metrics, then the answer. */
  finished(call: NodeCall, started: number, status: number): void {
    const metrics = this.opts.metrics;
    if (!metrics) return;
    this.durationOf(call.operation).observe((performance.now() - started) / 1000);
    if (status >= 500) metrics.nodeErrors.labels(this.nodeId, '5xx').inc();
    else if (status >= 400) metrics.nodeErrors.labels(this.nodeId, '4xx').inc();
  }

  /** A call that produced no answer: the caller's own abort as it came, anything else as a NodeRequestError. */
  failed(call: NodeCall, timeoutMs: number, err: unknown): unknown {
    if (call.signal?.aborted === true) return err; // the caller gave up (e.g. a hedge won): not a node error
    const kind = classify(err, false);
    this.opts.metrics?.nodeErrors.labels(this.nodeId, kind).inc();
    const detail = kind === 'timeout' ? `no answer within ${timeoutMs} ms` : errorMessage(err);
    return new NodeRequestError(
      this.nodeId,
      kind,
      `node ${this.nodeId} (${this.address}) ${call.method} ${call.path}: ${detail}`,
    );
  }

  /** Parses a JSON answer (nodes always answer JSON bodies). */
  static json<T = unknown>(res: NodeResponse): T {
    return (res.body.length === 0 ? null : JSON.parse(res.body.toString('utf8'))) as T;
  }

  async close(): Promise<void> {
    this.lean?.close();
    await this.pool.close();
  }

  destroy(): Promise<void> {
    this.lean?.close();
    return this.pool.destroy();
  }
}
