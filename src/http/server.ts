// HOT PATH. The proxy's HTTP front: a raw node:http server running each request through the compiled route table
// and the cross-cutting hooks (request id, concurrency limit, auth, body limits, error shaping, metrics, one log
// line). Handlers get a RequestContext and return a Reply; they never touch the response object. Per request: one
// socket write (status line, headers and body together), metrics into the route's cached cells, and one log line
// built only when the info level is on.
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { randomBytes } from 'node:crypto';
import type { AddressInfo } from 'node:net';
import { MeiliError, internalError, errorMessage } from '../core/errors.js';
import { jsonDepthExceeded, recursionLimitMessage } from '../core/json-depth.js';
import { Router, type RouteMethod } from './router.js';

/** The request metrics the server feeds (the proxy's `miroir_request_*`; the dev node has none). */
export interface RequestObserver {
  /** Requests being served right now. */
  inFlight: number;
  /** The series of one method + path template, kept by the server per route. */
  route(method: string, pathTemplate: string): RouteSeries;
}

export interface RouteSeries {
  observe(status: number, seconds: number): void;
}

/** The slice of a pino logger the server uses. */
export interface HttpLogger {
  isLevelEnabled(level: string): boolean;
  info(obj: object, msg: string): void;
  error(obj: object, msg: string): void;
}

export interface Reply {
  status: number;
  /** Serialized as JSON unless `raw` is set. */
  body?: unknown;
  /** Pre-serialized JSON (e.g. a node's answer passed through). */
  raw?: Buffer | string;
  headers?: Record<string, string>;
}

/** `stream`: the body is left unread on `ctx.req` for the handler to consume (no size limit; the handler bounds it). */
export type BodyKind = 'none' | 'json' | 'raw' | 'stream';

export interface RequestContext<A = unknown> {
  readonly req: IncomingMessage;
  readonly method: string;
  readonly path: string;
  readonly query: URLSearchParams;
  readonly params: Record<string, string>;
  readonly requestId: string;
  readonly routeName: string;
  /** Set by the auth hook. */
  auth: A | null;
  /** Raw body (route body 'raw' or 'json'); null for GET/HEAD and 'none' routes. */
  rawBody: Buffer | null;
  /** Parsed JSON for 'json' routes (undefined when the body was empty). */
  json: unknown;
  /** Headers every reply of this request carries (handlers may add, e.g. X-Miroir-Degraded). */
  replyHeaders: Record<string, string>;
  /** Whether this request's log line will be written (info level on): build `logFields` only when true. */
  readonly logging: boolean;
  /** Fields a handler adds to the request's one log line (SPEC C16: index, node_count, estimated_hits, degraded). */
  logFields: Record<string, unknown> | null;
}

export interface RouteSpec<A = unknown> {
  method: RouteMethod;
  path: string;
  /** Stable label for metrics and logs (the template by default). */
  name?: string;
  body: BodyKind;
  /** Opaque to the server; the auth hook interprets it. */
  auth: unknown;
  /** A liveness or readiness probe: answered even past `maxConcurrentRequests`, when the pod is busiest. */
  probe?: boolean;
  handler: (ctx: RequestContext<A>) => Promise<Reply> | Reply;
}

export interface ServerHooks<A> {
  /** Throws a MeiliError to refuse; returns what handlers see as ctx.auth. */
  authenticate(ctx: RequestContext<A>, spec: unknown): Promise<A> | A;
}

export interface HttpServerOptions<A> {
  routes: ReadonlyArray<RouteSpec<A>>;
  hooks: ServerHooks<A>;
  maxBodyBytes: number;
  maxConcurrentRequests: number;
  requestTimeoutMs: number;
  /** Longest wait for a request's headers, counted from the connection or the previous reply; at most requestTimeoutMs. */
  headersTimeoutMs?: number;
  keepAliveTimeoutMs: number;
  metrics?: RequestObserver | null;
  logger?: HttpLogger | null;
}

interface CompiledRoute<A> {
  spec: RouteSpec<A>;
  name: string;
  readsBody: boolean;
  /** Request metrics of this route for its method and for HEAD (GET routes), made on first use. */
  series: RouteSeries | null;
  headSeries: RouteSeries | null;
}

/** What handlers see; the query string is parsed on first use (most routes never read it). */
class Context<A> implements RequestContext<A> {
  auth: A | null = null;
  rawBody: Buffer | null = null;
  json: unknown = undefined;
  logFields: Record<string, unknown> | null = null;
  readonly replyHeaders: Record<string, string>;
  private parsedQuery: URLSearchParams | null = null;

  constructor(
    readonly req: IncomingMessage,
    readonly method: string,
    readonly path: string,
    private readonly rawQuery: string,
    readonly params: Record<string, string>,
    readonly requestId: string,
    readonly routeName: string,
    readonly logging: boolean,
  ) {
    this.replyHeaders = { 'x-request-id': requestId };
  }

  get query(): URLSearchParams {
    return (this.parsedQuery ??= new URLSearchParams(this.rawQuery));
  }
}

const REQUEST_ID_RE = /^[A-Za-z0-9._-]{1,64}$/;
const JSON_TYPE = 'application/json';

// Request ids come from a pooled block of random bytes (one syscall per 1,024 ids, not one per request).
let idPool = randomBytes(4096);
let idPos = 0;

function newRequestId(): string {
  if (idPos + 4 > idPool.length) {
    idPool = randomBytes(4096);
    idPos = 0;
  }
  const id = idPool.toString('hex', idPos, idPos + 4);
  idPos += 4;
  return id;
}

function mib(bytes: number): string {
  return `${Number((bytes / 1048576).toFixed(2))} MiB`;
}

/** Meilisearch's message for a body over the limit. */
export function payloadTooLarge(limit: number): MeiliError {
  return new MeiliError(
    'payload_too_large',
    `The provided payload reached the size limit. The maximum accepted payload size is ${mib(limit)}.`,
  );
}

/** Parses a JSON body the way Meilisearch reports problems with it. */
export function parseJsonBody(raw: Buffer | null, contentType: string | undefined): unknown {
  if (raw === null || raw.length === 0) throw new MeiliError('missing_payload', 'A json payload is missing.');
  const type = contentType === JSON_TYPE ? JSON_TYPE : contentType?.split(';')[0]!.trim().toLowerCase();
  if (type === undefined || type === '') {
    throw new MeiliError(
      'missing_content_type',
      'A Content-Type header is missing. Accepted values for the Content-Type header are: `application/json`',
    );
  }
  if (type !== JSON_TYPE) {
    throw new MeiliError(
      'invalid_content_type',
      `The Content-Type \`${type}\` is invalid. Accepted values for the Content-Type header are: \`application/json\``,
    );
  }
  const tooDeep = jsonDepthExceeded(raw);
  if (tooDeep !== null)
    throw new MeiliError(
      'malformed_payload',
      `The json payload provided is malformed. \`${recursionLimitMessage(tooDeep)}\`.`,
    );
  try {
    return JSON.parse(raw.toString('utf8'));
  } catch (err) {
    throw new MeiliError('malformed_payload', `The json payload provided is malformed. \`${errorMessage(err)}\`.`);
  }
}

const PREALLOCATE_FROM = 256 * 1024;

function readBody(req: IncomingMessage, limit: number): Promise<Buffer> {
  const declared = req.headers['content-length'];
  if (declared !== undefined && Number(declared) > limit) return Promise.reject(payloadTooLarge(limit));
  // A big body with a declared length is read straight into one buffer of that size: no chunk list held beside a
  // concatenated copy (a 95 MB batch would briefly cost twice that).
  const expected = declared !== undefined && /^\d+$/.test(declared) ? Number(declared) : -1;
  const into = expected >= PREALLOCATE_FROM ? Buffer.allocUnsafeSlow(expected) : null;
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    req.on('data', (chunk: Buffer) => {
      if (into !== null && size + chunk.length <= expected) {
        chunk.copy(into, size);
        size += chunk.length;
        return;
      }
      size += chunk.length;
      if (size > limit) {
        req.removeAllListeners('data');
        req.resume();
        reject(payloadTooLarge(limit));
        return;
      }
      chunks.push(chunk);
    });
    req.on('end', () => {
      if (into !== null) resolve(size === expected ? into : into.subarray(0, size));
      else resolve(chunks.length === 1 ? chunks[0]! : Buffer.concat(chunks));
    });
    req.on('error', reject);
  });
}

export function errorReply(err: MeiliError): Reply {
  const headers: Record<string, string> = err.status === 503 ? { 'retry-after': '10' } : {};
  return { status: err.status, body: err.toJSON(), headers };
}

/** The proxy's HTTP server around a compiled route table. */
export class HttpServer<A> {
  readonly server: Server;
  private readonly router = new Router<CompiledRoute<A>>();
  private readonly opts: HttpServerOptions<A>;
  private readonly requestMetrics: RequestObserver | null;
  /** Series of requests that matched no route (404/405), by method. */
  private readonly unmatchedSeries = new Map<string, RouteSeries>();
  private inFlight = 0;

  /** Client requests being served right now. */
  get requestsInFlight(): number {
    return this.inFlight;
  }
  private closing = false;
  private readonly sockets = new Set<import('node:net').Socket>();
  private idleWaiters: Array<() => void> = [];

  constructor(opts: HttpServerOptions<A>) {
    this.opts = opts;
    this.requestMetrics = opts.metrics ?? null;
    for (const spec of opts.routes) {
      this.router.add(spec.method, spec.path, {
        spec,
        name: spec.name ?? spec.path,
        readsBody: spec.body !== 'none' && spec.body !== 'stream' && spec.method !== 'GET',
        series: null,
        headSeries: null,
      });
    }
    const headersTimeout = Math.min(opts.headersTimeoutMs ?? 60_000, opts.requestTimeoutMs);
    this.server = createServer(
      {
        keepAliveTimeout: opts.keepAliveTimeoutMs,
        requestTimeout: opts.requestTimeoutMs,
        headersTimeout,
        // Idle and half-sent connections are found within a quarter of the headers timeout (Node checks every 30 s).
        connectionsCheckingInterval: Math.max(100, Math.min(5_000, Math.floor(headersTimeout / 4))),
      },
      (req, res) => {
        // Whatever escapes a request (a throwing logger or metrics hook) closes that request, never the process.
        this.handle(req, res).catch((err: unknown) => {
          this.opts.logger?.error({ err }, 'request handling failed');
          res.destroy();
        });
      },
    );
    this.server.on('connection', (socket) => {
      this.sockets.add(socket);
      socket.on('close', () => this.sockets.delete(socket));
    });
  }

  async listen(port: number, host: string): Promise<number> {
    await new Promise<void>((resolve, reject) => {
      this.server.once('error', reject);
      this.server.listen(port, host, () => {
        this.server.off('error', reject);
        resolve();
      });
    });
    return (this.server.address() as AddressInfo).port;
  }

  /** Stops accepting, lets in-flight requests finish (up to graceMs), then closes every socket. */
  async close(graceMs: number): Promise<void> {
    this.closing = true;
    const closed = new Promise<void>((resolve) => this.server.close(() => resolve()));
    this.server.closeIdleConnections();
    if (this.inFlight > 0) {
      // The grace timer is not unref'd: a close in progress keeps the process alive until it is done.
      let timer: NodeJS.Timeout | null = null;
      await Promise.race([
        new Promise<void>((resolve) => this.idleWaiters.push(resolve)),
        new Promise<void>((resolve) => (timer = setTimeout(resolve, graceMs))),
      ]);
      if (timer !== null) clearTimeout(timer);
    }
    for (const s of this.sockets) s.destroy();
    await closed;
  }

  private async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const started = performance.now();
    const rawUrl = req.url ?? '/';
    const q = rawUrl.indexOf('?');
    const path = q === -1 ? rawUrl : rawUrl.slice(0, q);
    const sentId = req.headers['x-request-id'];
    const requestId = typeof sentId === 'string' && REQUEST_ID_RE.test(sentId) ? sentId : newRequestId();
    const method = req.method ?? 'GET';
    const match = this.router.match(method, path);
    const found = match.kind === 'found' ? match.route : null;
    const logger = this.opts.logger ?? null;
    const ctx = new Context<A>(
      req,
      method,
      path,
      q === -1 ? '' : rawUrl.slice(q + 1),
      match.kind === 'found' ? match.params : {},
      requestId,
      found !== null ? found.name : 'unmatched',
      logger !== null && logger.isLevelEnabled('info'),
    );
    this.inFlight++;
    if (this.requestMetrics !== null) this.requestMetrics.inFlight++;
    let reply: Reply;
    try {
      if (this.closing)
        throw new MeiliError('too_many_search_requests', 'Miroir is shutting down; retry on another instance.');
      if (this.inFlight > this.opts.maxConcurrentRequests && found?.spec.probe !== true) {
        throw new MeiliError(
          'too_many_search_requests',
          `Too many requests in flight (server.max_concurrent_requests is ${this.opts.maxConcurrentRequests}). Retry shortly.`,
        );
      }
      if (found !== null) reply = await this.run(found, ctx);
      else if (match.kind === 'method_not_allowed')
        reply = { status: 405, body: undefined, headers: { allow: match.allowed.join(', ') } };
      else reply = notFoundReply();
    } catch (err) {
      const e = internalError(err);
      if (e.code === 'internal')
        logger?.error({ err, request_id: requestId, path_template: ctx.routeName }, 'request failed');
      reply = errorReply(e);
    }
    const status = this.send(res, ctx, reply);
    this.inFlight--;
    if (this.requestMetrics !== null) this.requestMetrics.inFlight--;
    if (this.inFlight === 0 && this.idleWaiters.length > 0) for (const w of this.idleWaiters.splice(0)) w();
    const ms = performance.now() - started;
    if (this.requestMetrics !== null) this.seriesOf(found, method).observe(status, ms / 1000);
    if (ctx.logging) {
      const line: Record<string, unknown> = {
        method,
        path_template: ctx.routeName,
        status,
        duration_ms: Math.round(ms * 100) / 100,
        request_id: requestId,
      };
      if (ctx.logFields !== null) Object.assign(line, ctx.logFields);
      logger!.info(line, 'request');
    }
  }

  /** The metrics series of a route (or of unmatched requests) for this method, cached after the first request. */
  private seriesOf(route: CompiledRoute<A> | null, method: string): RouteSeries {
    const m = this.requestMetrics!;
    if (route === null) {
      let s = this.unmatchedSeries.get(method);
      if (s === undefined) this.unmatchedSeries.set(method, (s = m.route(method, 'unmatched')));
      return s;
    }
    if (method === 'HEAD') return (route.headSeries ??= m.route(method, route.name));
    return (route.series ??= m.route(method, route.name));
  }

  private async run(route: CompiledRoute<A>, ctx: RequestContext<A>): Promise<Reply> {
    ctx.auth = await this.opts.hooks.authenticate(ctx, route.spec.auth);
    if (route.readsBody) {
      ctx.rawBody = await readBody(ctx.req, this.opts.maxBodyBytes);
      if (route.spec.body === 'json') ctx.json = parseJsonBody(ctx.rawBody, ctx.req.headers['content-type']);
    } else if (ctx.req.readable && route.spec.body !== 'stream') {
      ctx.req.resume();
    }
    return route.spec.handler(ctx);
  }

  /**
   * Writes the reply: the request's headers, the reply's (which win on a clash) and the framing headers as one flat
   * list, then the body with `end`, which sends status line, headers and body in one socket write.
   */
  /**
   * Writes a reply; nothing that goes wrong here (a body that does not serialize, a header value Node refuses) may
   * end the process or leave the client hanging: it becomes a logged `internal` error answer, or a closed socket
   * once the head is out.
   */
  private send(res: ServerResponse, ctx: RequestContext<A>, reply: Reply): number {
    try {
      this.write(res, ctx, reply);
      return reply.status;
    } catch (err) {
      this.opts.logger?.error({ err, request_id: ctx.requestId, path_template: ctx.routeName }, 'reply not sent');
      try {
        if (res.headersSent) throw err;
        for (const k of Object.keys(ctx.replyHeaders)) if (k !== 'x-request-id') delete ctx.replyHeaders[k];
        const failed = errorReply(internalError(err));
        this.write(res, ctx, { ...failed, headers: undefined });
        return failed.status;
      } catch {
        res.destroy();
        return 500;
      }
    }
  }

  private write(res: ServerResponse, ctx: RequestContext<A>, reply: Reply): void {
    if (res.headersSent) return;
    let payload: Buffer | string | undefined;
    if (reply.raw !== undefined) payload = reply.raw;
    else if (reply.body !== undefined) payload = JSON.stringify(reply.body);
    const own = ctx.replyHeaders;
    const extra = reply.headers;
    const head: string[] = [];
    let typed = false;
    for (const k in own) {
      if (extra !== undefined && Object.hasOwn(extra, k)) continue;
      if (k === 'content-length') continue;
      if (k === 'content-type') typed = true;
      head.push(k, own[k]!);
    }
    if (extra !== undefined) {
      for (const k in extra) {
        if (k === 'content-length') continue;
        if (k === 'content-type') typed = true;
        head.push(k, extra[k]!);
      }
    }
    if (payload === undefined) head.push('content-length', '0');
    else {
      if (!typed) head.push('content-type', JSON_TYPE);
      head.push('content-length', String(typeof payload === 'string' ? Buffer.byteLength(payload) : payload.length));
    }
    res.writeHead(reply.status, head);
    res.end(ctx.method === 'HEAD' ? undefined : payload);
  }
}

/** Meilisearch answers an unknown route with 404 and an empty body. */
export function notFoundReply(): Reply {
  return { status: 404 };
}
