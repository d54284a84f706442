// SPEC H4 resource and coordination metrics, registered on the caller's prom-client Registry: memory pressure
// against the container's memory limit (cgroup v2 memory.max, v1 memory.limit_in_bytes, else total RAM), CPU
// throttling from cgroup cpu.stat, request / background queue depths read from callbacks at scrape time, and
// the peer count, leader flags and owned-shard count that peer discovery, leases and Mode A work set directly.
// A failing source never fails the scrape: the metric keeps its last value.
import { readFile } from 'node:fs/promises';
import { totalmem } from 'node:os';
import { join } from 'node:path';
import { Counter, Gauge, type Registry } from 'prom-client';

export type PressureLevel = 0 | 1 | 2;

/** 0 normal, 1 when RSS is above 75% of the limit, 2 above 90%. */
export function memoryPressureLevel(rss: number, limit: number): PressureLevel {
  if (!Number.isFinite(limit) || limit <= 0 || !Number.isFinite(rss)) return 0;
  const ratio = rss / limit;
  return ratio > 0.9 ? 2 : ratio > 0.75 ? 1 : 0;
}

/** A cgroup memory limit file's value in bytes; null for "max" (v2 unlimited) or anything unparsable. */
export function parseCgroupMemoryLimit(text: string): number | null {
  const t = text.trim();
  if (!/^\d+$/.test(t)) return null;
  const n = Number(t);
  return n > 0 ? n : null;
}

/** Throttled CPU seconds from a cgroup cpu.stat: v2 `throttled_usec`, v1 `throttled_time` (ns); null if absent. */
export function parseThrottledSeconds(cpuStat: string): number | null {
  const v2 = /^throttled_usec\s+(\d+)\s*$/m.exec(cpuStat);
  if (v2 !== null) return Number(v2[1]) / 1e6;
  const v1 = /^throttled_time\s+(\d+)\s*$/m.exec(cpuStat);
  if (v1 !== null) return Number(v1[1]) / 1e9;
  return null;
}

async function readText(path: string): Promise<string | null> {
  try {
    return await readFile(path, 'utf8');
  } catch {
    return null;
  }
}

/** The memory limit: the cgroup limit when there is one below physical memory, else physical memory. */
export async function readMemoryLimit(cgroupRoot = '/sys/fs/cgroup', physical: number = totalmem()): Promise<number> {
  for (const file of ['memory.max', 'memory/memory.limit_in_bytes']) {
    const text = await readText(join(cgroupRoot, file));
    const limit = text === null ? null : parseCgroupMemoryLimit(text);
    if (limit !== null) return Math.min(limit, physical);
  }
  return physical;
}

/** Throttled CPU seconds of this container's cgroup (v2, then the v1 cpu / cpuacct hierarchies); 0 if unknown. */
export async function readThrottledSeconds(cgroupRoot = '/sys/fs/cgroup'): Promise<number> {
  for (const file of ['cpu.stat', 'cpu/cpu.stat', 'cpu,cpuacct/cpu.stat', 'cpuacct/cpu.stat']) {
    const text = await readText(join(cgroupRoot, file));
    const seconds = text === null ? null : parseThrottledSeconds(text);
    if (seconds !== null) return seconds;
  }
  return 0;
}

export interface PressureSources {
  /** Requests waiting for a concurrency slot (`miroir_request_queue_depth`); unset: the caller sets the gauge. */
  queueDepth?: () => number;
  /** Queued background jobs by type (`miroir_background_queue_depth{job_type}`); unset: the caller sets it. */
  backgroundDepth?: () => Record<string, number> | Promise<Record<string, number>>;
  /** Resident set size in bytes (default process.memoryUsage.rss()). */
  rss?: () => number;
  /** Where cgroup files are read (default /sys/fs/cgroup). */
  cgroupRoot?: string;
  /** Physical memory in bytes (default os.totalmem()). */
  physicalMemory?: () => number;
  logger?: { warn(obj: object, msg: string): void };
}

export interface PressureMetrics {
  memoryPressure: Gauge;
  cpuThrottledSeconds: Counter;
  requestQueueDepth: Gauge;
  backgroundQueueDepth: Gauge<'job_type'>;
  /** Set from PeerDiscovery's `gauge` option. */
  peerPodCount: Gauge;
  /** Set from LeaseKeeper's `gauge` option: 1 while this pod holds the scope's lease. */
  leader: Gauge<'scope'>;
  /** Shards this pod owns for Mode A work. */
  ownedShardsCount: Gauge;
}

export function registerPressureMetrics(registry: Registry, sources: PressureSources = {}): PressureMetrics {
  const registers = [registry];
  const root = sources.cgroupRoot ?? '/sys/fs/cgroup';
  const rss = sources.rss ?? (() => process.memoryUsage.rss());
  const physical = sources.physicalMemory ?? totalmem;
  const warn = (err: unknown, metric: string) =>
    sources.logger?.warn({ err: String(err), metric }, 'metric source failed; keeping the last value');

  const memoryPressure = new Gauge({
    name: 'miroir_memory_pressure',
    help: 'Memory pressure: 0 normal, 1 when RSS > 75% of the memory limit, 2 when > 90%',
    registers,
    async collect() {
      try {
        this.set(memoryPressureLevel(rss(), await readMemoryLimit(root, physical())));
      } catch (err) {
        warn(err, 'miroir_memory_pressure');
      }
    },
  });

  let throttledSeen = 0;
  const cpuThrottledSeconds = new Counter({
    name: 'miroir_cpu_throttled_seconds_total',
    help: 'Time the container was CPU-throttled by its cgroup quota (0 when unavailable)',
    registers,
    async collect() {
      const seconds = await readThrottledSeconds(root);
      if (seconds > throttledSeen) {
        this.inc(seconds - throttledSeen);
        throttledSeen = seconds;
      }
    },
  });

  const queueDepth = sources.queueDepth;
  const requestQueueDepth = new Gauge({
    name: 'miroir_request_queue_depth',
    help: 'Client requests waiting for a concurrency slot',
    registers,
    ...(queueDepth === undefined
      ? {}
      : {
          collect(this: Gauge) {
            try {
              this.set(queueDepth());
            } catch (err) {
              warn(err, 'miroir_request_queue_depth');
            }
          },
        }),
  });

  const backgroundDepth = sources.backgroundDepth;
  const jobTypesSeen = new Set<string>();
  const backgroundQueueDepth = new Gauge({
    name: 'miroir_background_queue_depth',
    help: 'Queued background jobs by job type',
    labelNames: ['job_type'] as const,
    registers,
    ...(backgroundDepth === undefined
      ? {}
      : {
          async collect(this: Gauge<'job_type'>) {
            try {
              const depths = await backgroundDepth();
              for (const type of jobTypesSeen) if (!(type in depths)) this.labels(type).set(0);
              for (const [type, n] of Object.entries(depths)) {
                jobTypesSeen.add(type);
                this.labels(type).set(n);
              }
            } catch (err) {
              warn(err, 'miroir_background_queue_depth');
            }
          },
        }),
  });

  return {
    memoryPressure,
    cpuThrottledSeconds,
    requestQueueDepth,
    backgroundQueueDepth,
    peerPodCount: new Gauge({
      name: 'miroir_peer_pod_count',
      help: 'Miroir pods in the current peer list, this pod included',
      registers,
    }),
    leader: new Gauge({
      name: 'miroir_leader',
      help: '1 while this pod holds the leader lease of the scope',
      labelNames: ['scope'] as const,
      registers,
    }),
    ownedShardsCount: new Gauge({
      name: 'miroir_owned_shards_count',
      help: 'Shards this pod owns for Mode A background work',
      registers,
    }),
  };
}
