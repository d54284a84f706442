// The proxy's CPU pool: a Piscina pool of worker threads for big jobs, and the same functions inline for small
// ones — a worker hop costs tens of microseconds plus (de)serialization, which only pays above a size measured by
// `bench/workers/thresholds.bench.ts` (numbers beside each constant below).
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { availableParallelism } from 'node:os';
import { Piscina } from 'piscina';
import * as jobs from './tasks.js';

export type JobName = 'routeBatch' | 'canonicalHash' | 'fingerprintPage' | 'mergeResults';

/**
 * Inline below these sizes (documents / hits / documents / bytes), measured with bench/workers/thresholds.bench.ts
 * on the 2-core dev machine (native addon loaded). routeBatch: inline 1.2 ms @1k, 2.6 ms @2k, 12 ms @10k docs; the
 * pool round trip is 2.0 / 3.6 / 19 ms because the documents are cloned into the worker — the pool never lowers a
 * batch's own latency, it keeps the event loop free for searches, so batches move to the pool once inline work
 * would stall the loop for more than ~2.5 ms (2,000 docs). mergeResults: inline 0.4 ms for 3 × 1,000 hits, 1.8 ms
 * for 3 × 5,000, while the pool costs 2.8 / 13.7 ms (cloning hits dominates): merging stays inline in practice.
 */
export const INLINE_THRESHOLDS: Readonly<Record<JobName, number>> = Object.freeze({
  routeBatch: 2000,
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

export class WorkerPool {
  private readonly piscina: Piscina | null;
  private readonly thresholds: Record<JobName, number>;

  constructor(opts: PoolOptions = {}) {
    this.thresholds = { ...INLINE_THRESHOLDS, ...opts.thresholds };
    // Under a TypeScript runner (tsx) there is no compiled worker file: everything runs inline.
    this.piscina = existsSync(WORKER_FILE)
      ? new Piscina({ filename: WORKER_FILE, maxThreads: opts.maxThreads ?? Math.max(1, availableParallelism() - 1), idleTimeout: 30_000 })
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
    return this.piscina!.run(input, { name }) as Promise<T>;
  }

  /** Jobs waiting for a worker thread. */
  get queueSize(): number {
    return this.piscina?.queueSize ?? 0;
  }

  async close(): Promise<void> {
    await this.piscina?.destroy();
  }
}
