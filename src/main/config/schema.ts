// The one config schema of the proxy, defaults beside each key (SPEC Decisions "Config", C9, H3). Built with
// zod so every failure names its key; unknown keys are errors. docs/configuration.md is generated from it.
import { z } from 'zod';

const port = z.number().int().min(0).max(65535);
const positiveInt = z.number().int().min(1);
const nonNegativeInt = z.number().int().min(0);

export const nodeSchema = z.strictObject({
  id: z.string().min(1).max(200).regex(/^[A-Za-z0-9_.:-]+$/, 'node ids may only hold letters, digits, and _ . : -'),
  address: z.url({ protocol: /^https?$/ }),
  replica_group: nonNegativeInt.default(0),
});

export const configSchema = z.strictObject({
  /** Logical shards per index (fixed at index creation). */
  shards: positiveInt.max(65536).default(64),
  /** Copies of each shard inside every replica group. */
  replication_factor: positiveInt.max(16).default(2),
  /** Number of replica groups in the seed config; group ids must be 0..RG-1. */
  replica_groups: positiveInt.max(64).default(1),
  /** Seed topology; the stored topology is authoritative after the first start. */
  nodes: z.array(nodeSchema).default([]),
  /** Key clients use, like Meilisearch's master key (env MIROIR_MASTER_KEY). */
  master_key: z.string().min(1).nullable().default(null),
  /** Key Miroir sends to every node (env MIROIR_NODE_MASTER_KEY). */
  node_master_key: z.string().nullable().default(null),
  admin: z
    .strictObject({
      enabled: z.boolean().default(true),
      /** Key for /_miroir/* (env MIROIR_ADMIN_API_KEY). */
      api_key: z.string().min(1).nullable().default(null),
    })
    .prefault({}),
  task_store: z
    .strictObject({
      backend: z.enum(['lmdb', 'redis']).default('lmdb'),
      path: z.string().min(1).default('./miroir-data'),
      url: z.string().default(''),
    })
    .prefault({}),
  server: z
    .strictObject({
      port: port.default(7700),
      bind: z.string().min(1).default('0.0.0.0'),
      max_body_bytes: positiveInt.default(104857600),
      max_concurrent_requests: positiveInt.default(500),
      request_timeout_ms: positiveInt.default(30000),
      keep_alive_timeout_ms: positiveInt.default(65000),
      shutdown_grace_ms: nonNegativeInt.default(10000),
    })
    .prefault({}),
  metrics: z
    .strictObject({
      port: port.default(9090),
      bind: z.string().min(1).default('0.0.0.0'),
    })
    .prefault({}),
  health: z
    .strictObject({
      interval_ms: positiveInt.default(5000),
      timeout_ms: positiveInt.default(2000),
      unhealthy_threshold: positiveInt.default(3),
      recovery_threshold: positiveInt.default(2),
    })
    .prefault({}),
  scatter: z
    .strictObject({
      node_timeout_ms: positiveInt.default(5000),
      retry_on_timeout: z.boolean().default(true),
      unavailable_shard_policy: z.enum(['partial', 'error']).default('partial'),
    })
    .prefault({}),
  rebalancer: z
    .strictObject({
      auto_rebalance_on_recovery: z.boolean().default(true),
      max_concurrent_migrations: positiveInt.default(4),
      migration_timeout_s: positiveInt.default(3600),
    })
    .prefault({}),
  connection_pool_per_node: z
    .strictObject({
      max_idle: nonNegativeInt.default(32),
      max_total: positiveInt.default(128),
      idle_timeout_s: positiveInt.default(60),
    })
    .prefault({}),
  peer_discovery: z
    .strictObject({
      mode: z.enum(['static', 'dns']).default('static'),
      peers: z.array(z.url({ protocol: /^https?$/ })).default([]),
      service_name: z.string().min(1).default('miroir-headless'),
      refresh_interval_s: positiveInt.default(15),
      /** This pod's base URL; defaults from POD_NAME / hostname and the bound port. */
      self: z.string().nullable().default(null),
    })
    .prefault({}),
  leader_election: z
    .strictObject({
      enabled: z.boolean().default(true),
      lease_ttl_s: positiveInt.default(10),
      renew_interval_s: positiveInt.default(3),
    })
    .prefault({}),
  settings_broadcast: z
    .strictObject({
      strategy: z.enum(['two_phase', 'sequential']).default('two_phase'),
      verify_timeout_s: positiveInt.default(60),
      max_repair_retries: nonNegativeInt.default(3),
      freeze_writes_on_unrepairable: z.boolean().default(true),
    })
    .prefault({}),
  task_registry: z
    .strictObject({
      cache_size: positiveInt.default(10000),
      redis_pool_max: positiveInt.default(50),
      /** Finished tasks older than this are pruned (C7: 7 days). */
      retention_days: positiveInt.default(7),
    })
    .prefault({}),
  tracing: z
    .strictObject({
      enabled: z.boolean().default(false),
      endpoint: z.string().default('http://tempo.monitoring.svc:4317'),
      service_name: z.string().default('miroir'),
      sample_rate: z.number().min(0).max(1).default(0.1),
    })
    .prefault({}),
  errors: z
    .strictObject({
      /** Base URL of `link` for miroir_* codes (the code is appended). */
      link_base: z.string().default('https://github.com/miroir-search/miroir/blob/main/docs/errors.md#'),
    })
    .prefault({}),
  log: z
    .strictObject({
      level: z.enum(['trace', 'debug', 'info', 'warn', 'error', 'fatal', 'silent']).default('info'),
    })
    .prefault({}),
});

export type MiroirConfig = z.infer<typeof configSchema>;
export type NodeConfig = z.infer<typeof nodeSchema>;
