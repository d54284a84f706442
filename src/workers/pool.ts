// The proxy's CPU pool: a Piscina pool of worker threads for big jobs, and the same functions inline for small
// ones — a worker hop costs tens of microseconds plus (de)serialization, which only pays above a size measured by
// `bench/workers/thresholds.bench.ts` (numbers beside each constant below).
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { availableParallelism } from 'node:os';
import { Piscina } from 'piscina';
import * as jobs from './tasks.js';
import type { IngestBatchInput } from '../core/ingest-batch.js';
import { ownsMemory, type IngestBatchReturn } from './tasks.js';

export type JobName = 'ingestBatch' | 'canonicalHash' | 'fingerprintPage' | 'mergeResults';

/**
 * Inline below these sizes (payload bytes / hits / documents / bytes), measured with
 * bench/workers/thresholds.bench.ts on the 2-core dev machine (native addon loaded). ingestBatch (parse + key +
 * route from the raw bytes): inline 0.5 ms @6 KB, 0.8 ms @32 KB, 1.2 ms @64 KB, 6.6 ms @330 KB; through the pool
 * the event loop is busy only 0.2 / 0.2 / 0.15 / 0.6 ms (bytes go in, ready bodies come out; nothing is cloned
 * object by object) while the round trip takes 0.5 / 1.4 / 2.6 / 8.0 ms. A write answers 202 either way, so from
 * 32 KB (~500 small documents, where inline work would stall searches for ~1 ms) batches go to the pool.
 * mergeResults: inline 0.3 ms for 3 × 1,000 hits, 0.9 ms for 3 × 5,000, while the pool costs 3.7 / 15 ms (cloning
 * hits dominates): merging stays inline in practice.
 */
export const INLINE_THRESHOLDS: Readonly<Record<JobName, number>> = Object.freeze({
  ingestBatch: 32 * 1024,
  mergeResults: 50_000,
  fingerprintPage: 2000,
  canonicalHash: 1_000_000,
});

const WORKER_FILE = fileURLToPath(new URL('./tasks.js', import.meta.url));

export interface PoolOptions {
  maxThreads?: number;
  /** Override thresholds (tests force the pool with 0). */
  thresholds?: Partial<Record<JobName, number>>;
}

function asBuffer(b: Uint8Array): Buffer {
  return Buffer.isBuffer(b) ? b : Buffer.from(b.buffer, b.byteOffset, b.byteLength);
}

/** Bodies moved back from a worker arrive as plain Uint8Arrays: the same bytes as Buffers, as the inline path gives. */
function reviveBodies(out: IngestBatchReturn): IngestBatchReturn {
  const bodies = out.routed?.bodies;
  if (bodies !== undefined)
    for (const [node, b] of Object.entries(bodies) as Array<[string, Uint8Array]>) bodies[node] = asBuffer(b);
  if (out.movedBody !== undefined) out.movedBody = asBuffer(out.movedBody);
  return out;
}

export class WorkerPool {
  private readonly piscina: Piscina | null;
  private readonly thresholds: Record<JobName, number>;

  constructor(opts: PoolOptions = {}) {
    this.thresholds = { ...INLINE_THRESHOLDS, ...opts.thresholds };
    // Under a TypeScript runner (tsx) there is no compiled worker file: everything runs inline. minThreads 0: no
    // worker thread until a big job needs one (idle RSS 115 → 106–111 MB in the ceiling bench); threads then stay
    // for idleTimeout.
    this.piscina = existsSync(WORKER_FILE)
      ? new Piscina({
          filename: WORKER_FILE,
          maxThreads: opts.maxThreads ?? Math.max(1, availableParallelism() - 1),
          minThreads: 0,
          idleTimeout: 30_000,
        })
      : null;
  }

  /** Whether a job of this size would run in the pool. */
  usesPool(name: JobName, size: number): boolean {
    return this.piscina !== null && size >= this.thresholds[name];
  }

  run<T>(name: JobName, input: unknown, size: number): Promise<T> {
    if (!this.usesPool(name, size)) {
      const fn = jobs[name] as (i: never) => T;
      try {
        return Promise.resolve(fn(input as never));
      } catch (err) {
        return Promise.reject(err);
      }
    }
    if (name !== 'ingestBatch') return this.piscina!.run(input, { name }) as Promise<T>;
    // A batch's body moves to the worker instead of being copied (postTask cloned 95 MB on the event loop for
    // 340 ms); the worker moves it back as `movedBody`, and the caller takes it from there.
    const job = input as IngestBatchInput;
    const moved = ownsMemory(job.body);
    const ran = this.piscina!.run(moved ? { ...job, moved } : job, {
      name,
      transferList: moved ? [job.body.buffer as ArrayBuffer] : undefined,
    }) as Promise<IngestBatchReturn>;
    return ran.then((out) => reviveBodies(out) as T);
  }

  /** Jobs waiting for a worker thread. */
  get queueSize(): number {
    return this.piscina?.queueSize ?? 0;
  }

  async close(): Promise<void> {
    await this.piscina?.destroy();
  }
}
