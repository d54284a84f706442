// The one config schema of the proxy, defaults beside each key (SPEC Decisions "Config", C9, H3). Built with
// zod so every failure names its key; unknown keys are errors. docs/configuration.md is generated from it.
import { z } from 'zod';
import { searchUiSchema } from '../search-ui/config.js'; // search UI block (issue 32)

const port = z.number().int().min(0).max(65535);
const positiveInt = z.number().int().min(1);
const nonNegativeInt = z.number().int().min(0);

export const nodeSchema = z.strictObject({
  id: z
    .string()
    .min(1)
    .max(200)
    .regex(/^[A-Za-z0-9_.:-]+$/, 'node ids may only hold letters, digits, and _ . : -')
    .describe('Unique, never reused node id (e.g. node-0).'),
  address: z.url({ protocol: /^https?$/ }).describe('Base URL of the Meilisearch node.'),
  replica_group: nonNegativeInt.default(0).describe('Replica group id (integer ≥ 0).'),
});

export const configSchema = z.strictObject({
  shards: positiveInt.max(65536).default(64).describe('Logical shards per index (fixed at index creation).'),
  replication_factor: positiveInt.max(16).default(2).describe('Copies of each shard inside every replica group.'),
  replica_groups: positiveInt
    .max(64)
    .default(1)
    .describe('Number of replica groups in the seed config; group ids must be 0..RG-1.'),
  nodes: z
    .array(nodeSchema)
    .default([])
    .describe('Seed topology; the stored topology is authoritative after the first start.'),
  master_key: z
    .string()
    .min(1)
    .nullable()
    .default(null)
    .describe("Key clients use, like Meilisearch's master key (env MIROIR_MASTER_KEY)."),
  node_master_key: z
    .string()
    .nullable()
    .default(null)
    .describe('Key Miroir sends to every node (env MIROIR_NODE_MASTER_KEY).'),
  admin: z
    .strictObject({
      enabled: z.boolean().default(true).describe('Serve the admin API under /_miroir/*.'),
      api_key: z.string().min(1).nullable().default(null).describe('Key for /_miroir/* (env MIROIR_ADMIN_API_KEY).'),
    })
    .prefault({}),
  admin_ui: z
    .strictObject({
      enabled: z
        .boolean()
        .default(false)
        .describe(
          'Serve the admin console: a single-page app over the admin API, logged in with the admin key (see docs/operations.md).',
        ),
      path: z
        .string()
        .regex(
          /^\/_miroir(\/[a-z0-9][a-z0-9_-]*)+$/,
          'must be a path under /_miroir/ of lowercase letters, digits, _ and - (e.g. /_miroir/admin)',
        )
        .default('/_miroir/admin')
        .describe(
          'Where the console page is served; its login and logout routes stay at /_miroir/admin/login and /_miroir/admin/logout.',
        ),
      auth: z
        .enum(['key'])
        .default('key')
        .describe('How operators log in: key = the admin API key, exchanged for a session cookie.'),
      session_ttl_s: positiveInt
        .max(604800)
        .default(3600)
        .describe('Lifetime of a console session (cookie miroir_admin_session).'),
      read_only_mode: z
        .boolean()
        .default(false)
        .describe(
          'The console shows no actions and its sessions may not change anything (403 miroir_admin_read_only).',
        ),
      allowed_origins: z
        .array(
          z
            .string()
            .regex(
              /^(same-origin|https?:\/\/[^/\s]+)$/,
              'must be same-origin or an origin such as https://ops.example.com',
            ),
        )
        .default(['same-origin'])
        .describe(
          'Origins whose console requests may change state or log in (same-origin: the Host the request was sent to); others get 403.',
        ),
    })
    .prefault({}),
  task_store: z
    .strictObject({
      backend: z
        .enum(['lmdb', 'redis'])
        .default('lmdb')
        .describe('lmdb: embedded, one pod. redis: shared by several pods (required for HA).'),
      path: z.string().min(1).default('./miroir-data').describe('LMDB directory (relative to the working directory).'),
      url: z.string().default('').describe('Redis URL, e.g. redis://redis:6379/0 (backend redis).'),
    })
    .prefault({}),
  server: z
    .strictObject({
      port: port.default(7700).describe('Client port (0 = pick a free one; the bound port is logged).'),
      bind: z.string().min(1).default('0.0.0.0').describe('Client listen address.'),
      max_body_bytes: positiveInt
        .default(104857600)
        .describe('Largest accepted request body (larger → 413 payload_too_large).'),
      max_concurrent_requests: positiveInt.default(500).describe('Requests served at once; more are refused with 503.'),
      request_timeout_ms: positiveInt.default(30000).describe('Longest time to receive a whole client request.'),
      headers_timeout_ms: positiveInt
        .default(10000)
        .describe('Longest time to receive request headers; also closes connections that never send one.'),
      keep_alive_timeout_ms: positiveInt.default(65000).describe('Idle keep-alive time for client connections.'),
      shutdown_grace_ms: nonNegativeInt
        .default(10000)
        .describe('On SIGTERM/SIGINT, how long in-flight requests may finish.'),
    })
    .prefault({}),
  metrics: z
    .strictObject({
      port: port.default(9090).describe('Prometheus listener port (no auth; 0 = pick a free one).'),
      bind: z.string().min(1).default('0.0.0.0').describe('Prometheus listen address.'),
    })
    .prefault({}),
  health: z
    .strictObject({
      interval_ms: positiveInt.default(5000).describe('Time between health probes of each node.'),
      timeout_ms: positiveInt.default(2000).describe('Deadline of one health probe.'),
      unhealthy_threshold: positiveInt.default(3).describe('Consecutive failed probes before a node is unhealthy.'),
      recovery_threshold: positiveInt
        .default(2)
        .describe('Consecutive good probes before an unhealthy node is healthy again.'),
    })
    .prefault({}),
  scatter: z
    .strictObject({
      node_timeout_ms: positiveInt.default(5000).describe('Deadline of one request to a node.'),
      retry_on_timeout: z
        .boolean()
        .default(true)
        .describe('Retry a timed-out node request once (writes deduplicated).'),
      unavailable_shard_policy: z
        .enum(['partial', 'error'])
        .default('partial')
        .describe('A read missing shards: partial = 200 + X-Miroir-Degraded; error = 503 miroir_shard_unavailable.'),
      faceting_overfetch: positiveInt
        .max(1000)
        .default(10)
        .describe("Nodes keep faceting.maxValuesPerFacet × this many values so merged facet counts equal one node's."),
    })
    .prefault({}),
  vector_search: z
    .strictObject({
      enabled: z
        .boolean()
        .default(false)
        .describe('Tune vector/hybrid search over shards (off: nodes asked for exactly the page, convex merge).'),
      over_fetch_factor: positiveInt
        .max(100)
        .default(3)
        .describe('Each node is asked for (offset + limit) × this many hits of a vector or hybrid search.'),
      merge_strategy: z
        .enum(['convex', 'rrf'])
        .default('convex')
        .describe("Hybrid merge over shards: convex = Meilisearch's weighted scores; rrf = reciprocal rank fusion."),
      hybrid_alpha_default: z
        .number()
        .min(0)
        .max(1)
        .default(0.5)
        .describe('semanticRatio of a hybrid search that names none.'),
      rrf_k: positiveInt.default(60).describe('k of reciprocal rank fusion: a hit scores 1 / (k + its rank).'),
    })
    .prefault({}),
  tenant_affinity: z
    .strictObject({
      enabled: z
        .boolean()
        .default(false)
        .describe("Pin each tenant's reads to one replica group (writes still reach every group)."),
      mode: z
        .enum(['header', 'api_key', 'explicit'])
        .default('header')
        .describe(
          'header: the tenant is header_name, its group hash(tenant) % shared groups; api_key: the tenant is the API key uid; explicit: static_map only.',
        ),
      header_name: z
        .string()
        .min(1)
        .default('X-Miroir-Tenant')
        .describe('Request header naming the tenant (header and explicit modes).'),
      fallback: z
        .enum(['hash', 'rotate'])
        .default('hash')
        .describe(
          'A tenant without a group (explicit mode) or whose group cannot answer: hash = hashed over the shared groups that can, rotate = read like a request without a tenant.',
        ),
      static_map: z
        .record(z.string(), z.number().int().min(0))
        .default({})
        .describe('tenant → replica group id (every mode; the only map in explicit mode).'),
      dedicated_groups: z
        .record(z.string().regex(/^\d+$/), z.array(z.string().min(1)))
        .default({})
        .describe('replica group id → the tenants it serves alone (other reads never use it).'),
    })
    .prefault({}),
  multi_search: z
    .strictObject({
      enabled: z.boolean().default(true).describe('Serve POST /multi-search (false → 501 miroir_not_supported).'),
      max_queries_per_batch: positiveInt
        .default(100)
        .describe('Most queries in one multi-search; more → 400 bad_request.'),
      max_federated_hits: positiveInt
        .default(1000)
        .describe('Largest federation offset + limit (or page × hitsPerPage); more → 400 invalid_search_limit.'),
    })
    .prefault({}),
  rebalancer: z
    .strictObject({
      auto_rebalance_on_recovery: z.boolean().default(true).describe('Catch a recovered node up from its replicas.'),
      max_concurrent_migrations: positiveInt.default(4).describe('Shard moves in flight at once.'),
      migration_timeout_s: positiveInt
        .default(3600)
        .describe('A shard move running longer is failed and resumed from its saved cursor.'),
    })
    .prefault({}),
  connection_pool_per_node: z
    .strictObject({
      max_total: positiveInt.default(128).describe('Connections per node at most.'),
      idle_timeout_s: positiveInt.default(60).describe('Idle connections to nodes close after this.'),
    })
    .prefault({}),
  peer_discovery: z
    .strictObject({
      mode: z.enum(['static', 'dns']).default('static').describe('static: the peers list; dns: look up service_name.'),
      peers: z
        .array(z.url({ protocol: /^https?$/ }))
        .default([])
        .describe("Every pod's base URL, this pod included (static mode)."),
      service_name: z.string().min(1).default('miroir-headless').describe('Headless service resolved in dns mode.'),
      refresh_interval_s: positiveInt.default(15).describe('Time between peer lookups.'),
      self: z
        .string()
        .nullable()
        .default(null)
        .describe("This pod's base URL; defaults from POD_NAME / hostname and the bound port."),
    })
    .prefault({}),
  leader_election: z
    .strictObject({
      enabled: z.boolean().default(true).describe('Coordinate leader-only work with store leases.'),
      lease_ttl_s: positiveInt.default(10).describe('Lease lifetime without renewal.'),
      renew_interval_s: positiveInt.default(3).describe('Lease renewal period.'),
    })
    .refine((v) => v.renew_interval_s < v.lease_ttl_s, {
      message: 'renew_interval_s must be below lease_ttl_s',
      path: ['renew_interval_s'],
    })
    .prefault({}),
  settings_broadcast: z
    .strictObject({
      strategy: z
        .enum(['two_phase', 'sequential'])
        .default('two_phase')
        .describe('two_phase: push to all, verify hashes, commit; sequential: node by node with revert.'),
      verify_timeout_s: positiveInt.default(60).describe('Longest wait for every node to apply settings.'),
      max_repair_retries: nonNegativeInt.default(3).describe('Re-pushes of settings to a node whose hash differs.'),
    })
    .prefault({}),
  task_registry: z
    .strictObject({
      retention_days: positiveInt.default(7).describe('Finished tasks older than this are pruned (C7: 7 days).'),
    })
    .prefault({}),
  errors: z
    .strictObject({
      link_base: z
        .string()
        .default('https://github.com/miroir-search/miroir/blob/main/docs/errors.md#')
        .describe('Base URL of `link` for miroir_* codes (the code is appended).'),
    })
    .prefault({}),
  log: z
    .strictObject({
      level: z
        .enum(['trace', 'debug', 'info', 'warn', 'error', 'fatal', 'silent'])
        .default('info')
        .describe('Log level of the JSON log.'),
    })
    .prefault({}),
  search_ui: searchUiSchema, // search UI (issue 32, SPEC A21)
});

export type MiroirConfig = z.infer<typeof configSchema>;
export type NodeConfig = z.infer<typeof nodeSchema>;
