// HOT PATH. A keep-alive HTTP/1.1 client for the read path to one plain-http node (issue 22): scattered searches,
// facet searches and documents fetches — small idempotent requests whose whole answer is read into one buffer.
// undici's generality cost ~14 µs of CPU per call here (request validation, its wasm parser's callbacks, the idle
// socket check it defers to a setImmediate); a fanned-out search makes one call per node. Each request goes out as
// one string write; the answer head is parsed here. At most `maxConnections` sockets, a wait queue beyond them;
// Content-Length, chunked and read-until-close bodies; 1xx answers skipped; `Connection: close` and the server's
// `Keep-Alive: timeout=N` honoured (a socket is retired a second before the server would close it); an inactivity
// deadline per call (the socket's timeout, as undici's headers/body timeouts); a CallSignal aborts by closing the
// socket. A request that finds its reused socket closed before any answer byte is sent once more on a new
// connection: reads only, so that is safe. Writes, https nodes and large bodies stay on undici (node-client.ts).
import { connect, type Socket } from 'node:net';
import type { CallSignal } from './call-signal.js';

/** An answer head larger than this is refused (undici's default `maxHeaderSize` is 16 KiB; Meilisearch's is ~300 B). */
const MAX_HEAD_BYTES = 64 * 1024;
const HEAD_END = Buffer.from('\r\n\r\n');
const CRLF = Buffer.from('\r\n');
const EMPTY = Buffer.alloc(0);

/** A socket that closed or broke while its call was running, before a complete answer. */
export class LeanSocketError extends Error {
  constructor(
    message: string,
    readonly code: string,
  ) {
    super(message);
    this.name = 'LeanSocketError';
  }
}

/** A complete answer: its status, its head's lines (the status line first) and its body. */
export interface LeanAnswer {
  status: number;
  headLines: readonly string[];
  body: Buffer;
}

export interface LeanRequest {
  /** Request line and headers but the length, ending with `content-length: ` (or the blank line without a body). */
  head: string;
  body: string | null;
  timeoutMs: number;
  signal?: CallSignal;
}

interface Waiting {
  req: LeanRequest;
  resolve: (res: LeanAnswer) => void;
  reject: (err: unknown) => void;
  onAbort: (() => void) | null;
  /** Sent once already on a reused socket found closed. */
  resent: boolean;
}

/** How an answer's body ends: its Content-Length, its last chunk, the socket's close, or it has none. */
type Framing = 'length' | 'chunked' | 'until-close' | 'none';

/** One socket and the call it is running, with the answer parser's state. */
class Conn {
  call: Waiting | null = null;
  /** Whether a call completed on it (a later call reuses it). */
  used = false;
  /** The server's keep-alive hint (ms), or null. */
  keepAliveMs: number | null = null;
  private armedMs = -1;
  // Parser state of the running call.
  private pending: Buffer = EMPTY;
  private gotBytes = false;
  private status = 0;
  private headLines: string[] = [];
  private framing: Framing = 'none';
  private remaining = 0;
  private chunks: Buffer[] = [];
  private bodyLength = 0;
  private reusable = true;
  private chunkState: 'size' | 'data' | 'data-end' | 'trailers' = 'size';
  private error: Error | null = null;
  closed = false;

  constructor(
    readonly pool: LeanPool,
    readonly socket: Socket,
  ) {
    socket.setNoDelay(true);
    socket.on('data', (chunk: Buffer) => this.onData(chunk));
    socket.on('timeout', () => this.onTimeout());
    socket.on('error', (err: Error) => (this.error = err));
    socket.on('end', () => this.onEnd());
    socket.on('close', () => this.onClose());
  }

  /** Sets the socket's inactivity timeout when it changes. */
  arm(ms: number): void {
    if (ms === this.armedMs) return;
    this.armedMs = ms;
    this.socket.setTimeout(ms);
  }

  start(call: Waiting): void {
    this.call = call;
    this.pending = EMPTY;
    this.gotBytes = false;
    this.status = 0;
    this.framing = 'none';
    this.chunks = [];
    this.bodyLength = 0;
    this.reusable = true;
    this.arm(call.req.timeoutMs);
    this.socket.ref();
    const { head, body } = call.req;
    this.socket.write(body === null ? head : `${head}${Buffer.byteLength(body)}\r\n\r\n${body}`);
  }

  private onData(chunk: Buffer): void {
    if (this.call === null) {
      // Bytes nobody asked for: the connection is out of step with its requests.
      this.socket.destroy();
      return;
    }
    this.gotBytes = true;
    this.pending = this.pending.length === 0 ? chunk : Buffer.concat([this.pending, chunk]);
    try {
      this.parse();
    } catch (err) {
      this.fail(err as Error);
      this.socket.destroy();
    }
  }

  /** Reads what `pending` holds: heads (1xx skipped), then the body by its framing. */
  private parse(): void {
    for (;;) {
      if (this.status === 0) {
        const end = this.pending.indexOf(HEAD_END);
        if (end === -1) {
          if (this.pending.length > MAX_HEAD_BYTES)
            throw new LeanSocketError('answer head too large', 'HPE_HEADER_OVERFLOW');
          return;
        }
        this.readHead(this.pending.toString('latin1', 0, end));
        this.pending = this.pending.subarray(end + 4);
        if (this.status < 200) {
          this.status = 0; // an interim answer: the real one follows
          continue;
        }
      }
      if (this.framing === 'length') {
        const take = Math.min(this.remaining, this.pending.length);
        if (take > 0) this.push(this.pending.subarray(0, take));
        this.remaining -= take;
        if (this.pending.length > take) this.reusable = false; // bytes past the answer: never reuse this socket
        this.pending = EMPTY;
        if (this.remaining === 0) this.complete();
        return;
      }
      if (this.framing === 'chunked') {
        if (this.readChunks()) this.complete();
        return;
      }
      if (this.framing === 'until-close') {
        if (this.pending.length > 0) this.push(this.pending);
        this.pending = EMPTY;
        return;
      }
      if (this.pending.length > 0) this.reusable = false;
      this.pending = EMPTY;
      this.complete();
      return;
    }
  }

  private readHead(text: string): void {
    const lines = text.split('\r\n');
    const m = /^HTTP\/1\.([01]) (\d{3})/.exec(lines[0]!);
    if (m === null)
      throw new LeanSocketError(`not an HTTP/1.x answer: ${lines[0]!.slice(0, 40)}`, 'HPE_INVALID_CONSTANT');
    this.status = Number(m[2]);
    this.headLines = lines;
    let length = -1;
    let chunked = false;
    let close = m[1] === '0';
    for (let i = 1; i < lines.length; i++) {
      const line = lines[i]!;
      const colon = line.indexOf(':');
      if (colon <= 0) continue;
      const name = line.slice(0, colon).trim().toLowerCase();
      if (name.length < 10 || name.length > 17) continue; // the framing headers' lengths
      const value = line
        .slice(colon + 1)
        .trim()
        .toLowerCase();
      if (name === 'content-length') {
        if (!/^\d+$/.test(value)) throw new LeanSocketError('invalid content-length', 'HPE_INVALID_CONTENT_LENGTH');
        length = Number(value);
      } else if (name === 'transfer-encoding') chunked = value.split(',').pop()!.trim() === 'chunked';
      else if (name === 'connection') {
        if (value.includes('close')) close = true;
        else if (value.includes('keep-alive')) close = false;
      } else if (name === 'keep-alive') {
        const t = /timeout=(\d+)/.exec(value);
        if (t !== null) this.keepAliveMs = Number(t[1]) * 1000;
      }
    }
    if (close) this.reusable = false;
    if (this.status < 200) return;
    if (this.status === 204 || this.status === 304) this.framing = 'none';
    else if (chunked) {
      this.framing = 'chunked';
      this.chunkState = 'size';
    } else if (length >= 0) {
      this.framing = length === 0 ? 'none' : 'length';
      this.remaining = length;
    } else {
      this.framing = 'until-close';
      this.reusable = false;
    }
  }

  /** Chunked body: true once the last chunk and the trailers are read. */
  private readChunks(): boolean {
    for (;;) {
      const p = this.pending;
      if (this.chunkState === 'size') {
        const eol = p.indexOf(CRLF);
        if (eol === -1) {
          if (p.length > 1024) throw new LeanSocketError('chunk size line too long', 'HPE_INVALID_CHUNK_SIZE');
          return false;
        }
        const line = p.toString('latin1', 0, eol).split(';')[0]!.trim();
        if (!/^[0-9a-fA-F]{1,12}$/.test(line))
          throw new LeanSocketError('invalid chunk size', 'HPE_INVALID_CHUNK_SIZE');
        this.remaining = parseInt(line, 16);
        this.pending = p.subarray(eol + 2);
        this.chunkState = this.remaining === 0 ? 'trailers' : 'data';
      } else if (this.chunkState === 'data') {
        const take = Math.min(this.remaining, p.length);
        if (take > 0) this.push(p.subarray(0, take));
        this.remaining -= take;
        this.pending = p.subarray(take);
        if (this.remaining > 0) return false;
        this.chunkState = 'data-end';
      } else if (this.chunkState === 'data-end') {
        if (p.length < 2) return false;
        if (p[0] !== 0x0d || p[1] !== 0x0a) throw new LeanSocketError('chunk not ended by CRLF', 'HPE_STRICT');
        this.pending = p.subarray(2);
        this.chunkState = 'size';
      } else {
        // Trailers: lines until an empty one.
        const eol = p.indexOf(CRLF);
        if (eol === -1) return false;
        this.pending = p.subarray(eol + 2);
        if (eol === 0) {
          if (this.pending.length > 0) this.reusable = false;
          this.pending = EMPTY;
          return true;
        }
      }
    }
  }

  private push(piece: Buffer): void {
    this.chunks.push(piece);
    this.bodyLength += piece.length;
  }

  private body(): Buffer {
    const c = this.chunks;
    return c.length === 1 ? c[0]! : c.length === 0 ? EMPTY : Buffer.concat(c, this.bodyLength);
  }

  private complete(): void {
    const call = this.call!;
    const answer: LeanAnswer = { status: this.status, headLines: this.headLines, body: this.body() };
    this.call = null;
    this.chunks = [];
    this.used = true;
    this.pool.release(this, this.reusable);
    this.pool.settled(call);
    call.resolve(answer);
  }

  /** The running call fails with `err` (the socket is closed by the caller). */
  fail(err: unknown): void {
    const call = this.call;
    if (call === null) return;
    this.call = null;
    this.pool.settled(call);
    call.reject(err);
  }

  private onTimeout(): void {
    if (this.call !== null) this.fail(new LeanSocketError('inactivity deadline passed', 'UND_ERR_HEADERS_TIMEOUT'));
    this.socket.destroy();
  }

  private onEnd(): void {
    if (this.call !== null && this.framing === 'until-close' && this.status !== 0) {
      this.reusable = false;
      this.complete();
    }
    this.socket.end();
  }

  private onClose(): void {
    this.closed = true;
    const call = this.call;
    this.call = null;
    this.pool.gone(this);
    if (call === null) return;
    // A reused socket the server closed before answering: the read goes once more, on a new connection.
    if (this.used && !this.gotBytes && !call.resent && !this.pool.isClosed) {
      call.resent = true;
      this.pool.enqueue(call, true);
      return;
    }
    this.pool.settled(call);
    const code = (this.error as NodeJS.ErrnoException | null)?.code ?? 'UND_ERR_SOCKET';
    call.reject(this.error ?? new LeanSocketError('the node closed the connection before answering', code));
  }
}

/** The sockets to one node and the calls waiting for one. */
export class LeanPool {
  private readonly idle: Conn[] = [];
  private readonly all = new Set<Conn>();
  private readonly waiting: Waiting[] = [];
  private closedPool = false;

  constructor(
    private readonly host: string,
    private readonly port: number,
    private readonly maxConnections: number,
    private readonly idleTimeoutMs: number,
  ) {}

  get isClosed(): boolean {
    return this.closedPool;
  }

  request(req: LeanRequest): Promise<LeanAnswer> {
    return new Promise<LeanAnswer>((resolve, reject) => {
      const call: Waiting = { req, resolve, reject, onAbort: null, resent: false };
      const signal = req.signal;
      if (signal !== undefined) {
        if (signal.aborted) return reject(signal.reason ?? new LeanSocketError('aborted', 'UND_ERR_ABORTED'));
        call.onAbort = () => this.abort(call);
        signal.addEventListener('abort', call.onAbort);
      }
      if (this.closedPool) return this.settledThenReject(call, new LeanSocketError('client closed', 'UND_ERR_CLOSED'));
      this.enqueue(call, false);
    });
  }

  /** Runs `call` on an idle socket, a new one, or queues it (`first`: at the head of the queue). */
  enqueue(call: Waiting, first: boolean): void {
    let conn: Conn | undefined;
    while ((conn = this.idle.pop()) !== undefined) if (!conn.closed) break;
    if (conn === undefined && this.all.size < this.maxConnections) conn = this.open();
    if (conn === undefined) {
      if (first) this.waiting.unshift(call);
      else this.waiting.push(call);
      return;
    }
    conn.start(call);
  }

  private open(): Conn {
    const conn = new Conn(this, connect({ host: this.host, port: this.port }));
    this.all.add(conn);
    return conn;
  }

  /** A call is over (answered, failed or moved): its abort listener goes. */
  settled(call: Waiting): void {
    if (call.onAbort !== null) call.req.signal!.removeEventListener('abort', call.onAbort);
  }

  private settledThenReject(call: Waiting, err: unknown): void {
    this.settled(call);
    call.reject(err);
  }

  /** A socket finished its call: idle (or closed when it may not be reused), then the next waiting call. */
  release(conn: Conn, reusable: boolean): void {
    const hint = conn.keepAliveMs;
    const keepMs = hint === null ? this.idleTimeoutMs : Math.min(this.idleTimeoutMs, hint - 1000);
    if (!reusable || this.closedPool || keepMs <= 0) {
      conn.socket.destroy();
      this.all.delete(conn);
    } else {
      const next = this.waiting.shift();
      if (next !== undefined) return conn.start(next);
      conn.arm(keepMs);
      conn.socket.unref();
      this.idle.push(conn);
      return;
    }
    const next = this.waiting.shift();
    if (next !== undefined) this.enqueue(next, true);
  }

  /** A socket closed: it leaves the pool; a waiting call may open a new one. */
  gone(conn: Conn): void {
    if (!this.all.delete(conn)) return;
    const at = this.idle.indexOf(conn);
    if (at !== -1) this.idle.splice(at, 1);
    const next = this.waiting.shift();
    if (next !== undefined && !this.closedPool) this.enqueue(next, true);
  }

  private abort(call: Waiting): void {
    const reason = call.req.signal?.reason ?? new LeanSocketError('aborted', 'UND_ERR_ABORTED');
    const at = this.waiting.indexOf(call);
    if (at !== -1) {
      this.waiting.splice(at, 1);
      return this.settledThenReject(call, reason);
    }
    for (const conn of this.all)
      if (conn.call === call) {
        conn.fail(reason);
        conn.socket.destroy();
        return;
      }
  }

  /** Closes every socket; waiting calls fail. */
  close(): void {
    this.closedPool = true;
    for (const call of this.waiting.splice(0))
      this.settledThenReject(call, new LeanSocketError('client closed', 'UND_ERR_CLOSED'));
    for (const conn of this.all) {
      conn.fail(new LeanSocketError('client closed', 'UND_ERR_CLOSED'));
      conn.socket.destroy();
    }
    this.all.clear();
    this.idle.length = 0;
  }
}
