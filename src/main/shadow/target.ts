// One shadow target (SPEC A16): a bounded queue of teed reads (full → the read is shed and counted) drained by at
// most `concurrency` requests in flight over one undici Pool, each with its own deadline (`timeout_ms`). Requests go
// out on a later turn of the event loop than the client's answer (setImmediate), carry the target's own key and
// never the client's, and their answers are handed to `onAnswer` for comparison.
import { Pool } from 'undici';
import { Ring } from '../util/ring.js';
import type { ShadowOperation, ShadowTargetConfig } from './config.js';

/** A read the client already has its answer to, as it will be replayed to the target. */
export interface TeedRead {
  operation: ShadowOperation;
  method: 'GET' | 'POST';
  /** Path and query string exactly as the client sent them. */
  url: string;
  body: Buffer | null;
  /** The index (or indexes) named, for the diff listing. */
  index: string;
  /** The client's query (search body, query parameters or multi-search body), for the diff listing. */
  query: unknown;
  primary: { status: number; body: unknown; raw: Buffer | string | undefined; ms: number };
}

export type ShadowAnswer = { status: number; body: Buffer; ms: number } | { error: string; ms: number };

/** Largest target answer read; a bigger one is an error (the shadow must not cost the pod its memory). */
const MAX_ANSWER_BYTES = 16 * 1024 * 1024;

export class ShadowTarget {
  readonly name: string;
  readonly cfg: ShadowTargetConfig;
  private readonly queue: Ring<TeedRead>;
  private readonly pool: Pool;
  private readonly authorization: string | null;
  private readonly inFlightAborts = new Set<AbortController>();
  private pumpScheduled = false;
  private closed = false;
  sent = 0;
  shed = 0;

  constructor(
    cfg: ShadowTargetConfig,
    env: NodeJS.ProcessEnv,
    private readonly onAnswer: (target: ShadowTarget, read: TeedRead, answer: ShadowAnswer) => Promise<void>,
    private readonly onShed: (target: ShadowTarget) => void,
  ) {
    this.name = cfg.name;
    this.cfg = cfg;
    this.queue = new Ring(cfg.max_queue);
    this.pool = new Pool(cfg.url, {
      connections: cfg.concurrency,
      headersTimeout: cfg.timeout_ms,
      bodyTimeout: cfg.timeout_ms,
      connectTimeout: cfg.timeout_ms,
    });
    const key = cfg.api_key_env === null ? undefined : env[cfg.api_key_env];
    this.authorization = key === undefined || key === '' ? null : `Bearer ${key}`;
  }

  /** Reads waiting plus reads in flight. */
  get depth(): number {
    return this.queue.size + this.inFlightAborts.size;
  }

  get queued(): number {
    return this.queue.size;
  }

  get inFlight(): number {
    return this.inFlightAborts.size;
  }

  wants(op: ShadowOperation): boolean {
    return this.cfg.operations.includes(op);
  }

  /** HOT PATH. Queues a read (sending starts on a later turn); false when the queue is full and it was shed. */
  offer(read: TeedRead): boolean {
    if (this.closed || !this.queue.push(read)) {
      this.shed++;
      this.onShed(this);
      return false;
    }
    if (!this.pumpScheduled) {
      this.pumpScheduled = true;
      setImmediate(() => {
        this.pumpScheduled = false;
        this.pump();
      });
    }
    return true;
  }

  private pump(): void {
    while (!this.closed && this.inFlightAborts.size < this.cfg.concurrency && this.queue.size > 0) {
      const read = this.queue.shift()!;
      const abort = new AbortController();
      this.inFlightAborts.add(abort);
      this.sent++;
      void this.send(read, abort)
        .then((answer) => (this.closed ? undefined : this.onAnswer(this, read, answer)))
        .catch(() => undefined)
        .finally(() => {
          this.inFlightAborts.delete(abort);
          this.pump();
        });
    }
  }

  private async send(read: TeedRead, abort: AbortController): Promise<ShadowAnswer> {
    const started = performance.now();
    const timer = setTimeout(
      () => abort.abort(new Error(`no answer within ${this.cfg.timeout_ms} ms`)),
      this.cfg.timeout_ms,
    );
    timer.unref();
    try {
      const headers: Record<string, string> = {};
      if (this.authorization !== null) headers.authorization = this.authorization;
      if (read.body !== null) headers['content-type'] = 'application/json';
      const res = await this.pool.request({
        method: read.method,
        path: read.url,
        headers,
        body: read.body ?? undefined,
        signal: abort.signal,
      });
      const chunks: Buffer[] = [];
      let size = 0;
      for await (const chunk of res.body as AsyncIterable<Buffer>) {
        size += chunk.length;
        if (size > MAX_ANSWER_BYTES) {
          res.body.destroy();
          return { error: `the answer is larger than ${MAX_ANSWER_BYTES} bytes`, ms: performance.now() - started };
        }
        chunks.push(chunk);
      }
      return { status: res.statusCode, body: Buffer.concat(chunks), ms: performance.now() - started };
    } catch (err) {
      const reason = abort.signal.aborted ? abort.signal.reason : err;
      return { error: reason instanceof Error ? reason.message : String(reason), ms: performance.now() - started };
    } finally {
      clearTimeout(timer);
    }
  }

  async close(): Promise<void> {
    this.closed = true;
    while (this.queue.size > 0) this.queue.shift();
    for (const a of this.inFlightAborts) a.abort(new Error('Miroir is shutting down'));
    await this.pool.destroy().catch(() => undefined);
  }
}
