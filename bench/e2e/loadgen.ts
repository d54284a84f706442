// Load generator for the end-to-end benches, run in a process of its own (`forkLoadGen`) so that the client's work
// never sits on a measured process. A minimal keep-alive HTTP/1.1 client on raw sockets (one pre-built request,
// answers framed by Content-Length) so that it needs far less CPU than the proxies it drives on a 2-core machine.
// Commands: `seq` (sequential requests, one connection per target, targets taking turns → sorted latencies per
// target, so that paths compared are measured under the same conditions), `load` (N connections busy for a time →
// completed requests), `rate` (a paced request rate for a time).
import { fork } from 'node:child_process';
import { connect, type Socket } from 'node:net';
import { fileURLToPath } from 'node:url';

export interface Target {
  /** http://127.0.0.1:port */
  url: string;
  path: string;
  body: string;
  headers?: Record<string, string>;
}

export interface LoadResult {
  done: number;
  errors: number;
  elapsedMs: number;
  /** `load` only: the median request latency in ms. */
  p50Ms?: number;
}

type Command =
  | { cmd: 'seq'; targets: Target[]; requests: number }
  | { cmd: 'load'; target: Target; connections: number; durationMs: number }
  | { cmd: 'rate'; target: Target; perSecond: number; durationMs: number };

const HEADER_END = Buffer.from('\r\n\r\n');

/** One keep-alive connection sending the same request again and again; `send` resolves with the status code. */
class Connection {
  private readonly socket: Socket;
  private buf: Buffer = Buffer.alloc(0);
  private pending: { resolve(status: number): void; reject(err: Error): void } | null = null;
  private readonly ready: Promise<void>;

  constructor(
    port: number,
    private readonly request: Buffer,
  ) {
    this.socket = connect({ host: '127.0.0.1', port, noDelay: true });
    this.ready = new Promise((resolve, reject) => {
      this.socket.once('connect', resolve);
      this.socket.once('error', reject);
    });
    this.socket.on('data', (chunk: Buffer) => this.onData(chunk));
    this.socket.on('error', (err) => this.fail(err));
    this.socket.on('close', () => this.fail(new Error('connection closed')));
  }

  async send(): Promise<number> {
    await this.ready;
    return new Promise((resolve, reject) => {
      this.pending = { resolve, reject };
      this.socket.write(this.request);
    });
  }

  close(): void {
    this.socket.destroy();
  }

  private fail(err: Error): void {
    const p = this.pending;
    this.pending = null;
    p?.reject(err);
  }

  private onData(chunk: Buffer): void {
    this.buf = this.buf.length === 0 ? chunk : Buffer.concat([this.buf, chunk]);
    const end = this.buf.indexOf(HEADER_END);
    if (end === -1) return;
    const head = this.buf.toString('latin1', 0, end);
    const m = /\r\ncontent-length:\s*(\d+)/i.exec(head);
    if (m === null) {
      this.fail(new Error(`answer without Content-Length: ${head.split('\r\n')[0]}`));
      return;
    }
    const total = end + 4 + Number(m[1]);
    if (this.buf.length < total) return;
    this.buf = this.buf.subarray(total);
    const p = this.pending;
    this.pending = null;
    p?.resolve(Number(head.slice(9, 12)));
  }
}

function requestBytes(t: Target): { port: number; bytes: Buffer } {
  const url = new URL(t.url);
  const body = Buffer.from(t.body);
  const lines = [
    `POST ${t.path} HTTP/1.1`,
    `host: ${url.host}`,
    'connection: keep-alive',
    'content-type: application/json',
    `content-length: ${body.length}`,
  ];
  for (const [k, v] of Object.entries(t.headers ?? {})) lines.push(`${k}: ${v}`);
  return { port: Number(url.port), bytes: Buffer.concat([Buffer.from(lines.join('\r\n') + '\r\n\r\n'), body]) };
}

async function run(c: Command): Promise<number[][] | LoadResult> {
  if (c.cmd === 'seq') {
    const conns = c.targets.map((t) => {
      const { port, bytes } = requestBytes(t);
      return new Connection(port, bytes);
    });
    const lat: number[][] = c.targets.map(() => []);
    for (let i = 0; i < c.requests; i++) {
      for (let k = 0; k < conns.length; k++) {
        const t0 = performance.now();
        const status = await conns[k]!.send();
        lat[k]!.push(performance.now() - t0);
        if (status !== 200) throw new Error(`${c.targets[k]!.url}${c.targets[k]!.path} answered ${status}`);
      }
    }
    for (const conn of conns) conn.close();
    return lat.map((l) => l.sort((a, b) => a - b));
  }
  const { port, bytes } = requestBytes(c.target);
  const counts = { done: 0, errors: 0 };
  const started = performance.now();
  const stopAt = started + c.durationMs;
  const count = (status: number) => (status === 200 ? counts.done++ : counts.errors++);
  if (c.cmd === 'load') {
    const conns = Array.from({ length: c.connections }, () => new Connection(port, bytes));
    const lat: number[] = [];
    await Promise.all(
      conns.map(async (conn) => {
        while (performance.now() < stopAt) {
          const t0 = performance.now();
          count(await conn.send());
          lat.push(performance.now() - t0);
        }
      }),
    );
    const elapsedMs = performance.now() - started;
    for (const conn of conns) conn.close();
    lat.sort((a, b) => a - b);
    return { ...counts, elapsedMs, p50Ms: lat[Math.floor(lat.length / 2)] ?? 0 };
  }
  // 'rate': a batch every 10 ms, each request on a free connection (new ones opened as needed).
  const idle: Connection[] = [];
  const inflight: Array<Promise<void>> = [];
  const perTick = c.perSecond / 100;
  let owed = 0;
  while (performance.now() < stopAt) {
    owed += perTick;
    for (; owed >= 1; owed--) {
      const conn = idle.pop() ?? new Connection(port, bytes);
      inflight.push(conn.send().then((s) => (count(s), void idle.push(conn))));
    }
    await new Promise((r) => setTimeout(r, 10));
  }
  await Promise.all(inflight);
  for (const conn of idle) conn.close();
  return { ...counts, elapsedMs: performance.now() - started };
}

export interface LoadGen {
  /** `requests` sequential requests to each target (one connection each, taking turns): sorted latencies in ms. */
  seq(targets: Target[], requests: number): Promise<number[][]>;
  /** `connections` connections each sending its next request as soon as the last is answered. */
  load(target: Target, connections: number, durationMs: number): Promise<LoadResult>;
  /** About `perSecond` requests per second, paced in 10 ms batches. */
  rate(target: Target, perSecond: number, durationMs: number): Promise<LoadResult>;
  close(): Promise<void>;
}

/** Forks the load-generator process; one command at a time. */
export async function forkLoadGen(): Promise<LoadGen> {
  const child = fork(fileURLToPath(import.meta.url), ['loadgen'], { stdio: 'inherit' });
  const exited = new Promise<void>((r) => child.once('exit', () => r()));
  const ask = <T>(c: Command) =>
    new Promise<T>((resolve, reject) => {
      const onExit = (code: number | null) => reject(new Error(`load generator exited with ${code}`));
      child.once('exit', onExit);
      child.once('message', (m) => {
        child.off('exit', onExit);
        const r = m as { ok: T } | { error: string };
        if ('error' in r) reject(new Error(r.error));
        else resolve(r.ok);
      });
      child.send(c);
    });
  return {
    seq: (targets, requests) => ask({ cmd: 'seq', targets, requests }),
    load: (target, connections, durationMs) => ask({ cmd: 'load', target, connections, durationMs }),
    rate: (target, perSecond, durationMs) => ask({ cmd: 'rate', target, perSecond, durationMs }),
    async close() {
      if (child.connected) child.disconnect();
      await exited;
    },
  };
}

if (process.argv[1] === fileURLToPath(import.meta.url) && process.argv[2] === 'loadgen') {
  process.on('message', (c: Command) => {
    run(c).then(
      (ok) => process.send!({ ok }),
      (err: unknown) => process.send!({ error: String(err) }),
    );
  });
  process.on('disconnect', () => process.exit(0));
}
