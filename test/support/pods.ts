// Miroir pods in this process sharing one Redis store over the same dev nodes (the HA suites): one config skeleton
// (shards, RF, nodes, keys, the Redis task store, loopback listeners on free or given ports) with each suite's own
// blocks merged over it, and pods started with silent logs.
import pino from 'pino';
import { startMiroir, type MiroirApp } from '../../src/main/app.js';
import { resolveConfig } from '../../src/main/config/load.js';

export interface PodSetup {
  nodes: ReadonlyArray<{ url: string }>;
  nodeKey: string;
  master: string;
  /** The admin API key (default `admin`). */
  admin?: string;
  /** The Redis task store's connection members (`{ url }`, or a Cluster's `{ cluster }`). */
  redis: Record<string, unknown>;
  shards?: number;
  rf?: number;
  /** The client port (default: a free one). */
  port?: number;
}

/** A pod's resolved config: the shared skeleton, then `extra`'s blocks (peer discovery, leases, features). */
export function podConfig(s: PodSetup, extra: Record<string, unknown> = {}): ReturnType<typeof resolveConfig> {
  return resolveConfig(
    {
      shards: s.shards ?? 8,
      replication_factor: s.rf ?? 1,
      nodes: s.nodes.map((n, i) => ({ id: `node-${i}`, address: n.url })),
      master_key: s.master,
      node_master_key: s.nodeKey,
      admin: { api_key: s.admin ?? 'admin' },
      task_store: { backend: 'redis', ...s.redis },
      server: { port: s.port ?? 0, bind: '127.0.0.1' },
      metrics: { port: 0, bind: '127.0.0.1' },
      ...extra,
    },
    {},
  );
}

/** One pod with silent logs. */
export function startPod(cfg: ReturnType<typeof resolveConfig>): Promise<MiroirApp> {
  return startMiroir(cfg, { logger: pino({ level: 'silent' }) });
}
