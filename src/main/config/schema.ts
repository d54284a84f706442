// The one config schema of the proxy, defaults beside each key (SPEC Decisions "Config", C9, H3). Built with
// zod so every failure names its key; unknown keys are errors. docs/configuration.md is generated from it.
import { z } from 'zod';
import { searchUiSchema } from '../search-ui/config.js'; // search UI block (issue 32)
import { canaryRunnerSchema } from '../canaries/config.js'; // canaries (issue 30)
import { shadowSchema } from '../shadow/config.js'; // traffic shadow (issue 30)
import { cdcSchema } from '../cdc/config.js'; // change data capture (issue 28)

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

const redisUrl = z
  .string()
  .regex(/^rediss?:\/\/[^\s]+$/, 'must be a redis:// or rediss:// URL (e.g. redis://redis:6379/0)');

/** `task_store.redis`: how to reach a production Redis (one node, Sentinel or Cluster), its credentials and TLS. */
export const redisStoreSchema = z
  .strictObject({
    url: z
      .string()
      .regex(/^(|rediss?:\/\/[^\s]+)$/, 'must be a redis:// or rediss:// URL (e.g. redis://redis:6379/0)')
      .default('')
      .describe('One Redis node: redis://[user:password@]host:port[/db], or rediss:// for TLS.'),
    sentinels: z
      .array(
        z.strictObject({
          host: z.string().min(1).describe('Sentinel host name or address.'),
          port: port.min(1).describe('Sentinel port (usually 26379).'),
        }),
      )
      .default([])
      .describe('Redis Sentinels [{host, port}] that name the master of group `name` (instead of url).'),
    name: z.string().default('').describe('The Sentinel master group name (with sentinels).'),
    cluster: z
      .array(redisUrl)
      .default([])
      .describe('Seed nodes of a Redis Cluster, e.g. [redis://redis-0:6379, redis://redis-1:6379] (instead of url).'),
    username: z.string().min(1).nullable().default(null).describe('Redis ACL user (null: the default user).'),
    password: z
      .string()
      .min(1)
      .nullable()
      .default(null)
      .describe(
        'Password of the ACL user on the Redis nodes; Sentinels are asked without one (env MIROIR_REDIS_PASSWORD).',
      ),
    tls: z
      .strictObject({
        enabled: z
          .boolean()
          .default(false)
          .describe('Connect with TLS (on by itself for rediss:// URLs; needed for sentinels).'),
        ca: z
          .string()
          .min(1)
          .nullable()
          .default(null)
          .describe('PEM file of the CA that signed the Redis certificate.'),
        cert: z.string().min(1).nullable().default(null).describe('PEM client certificate file (with key).'),
        key: z.string().min(1).nullable().default(null).describe('PEM client private key file (with cert).'),
        reject_unauthorized: z
          .boolean()
          .default(true)
          .describe('Refuse a Redis certificate the CA does not vouch for (false only for tests).'),
      })
      .prefault({}),
    key_prefix: z
      .string()
      .regex(/^[A-Za-z0-9_.:-]+$/, 'may only hold letters, digits, and _ . : - (no braces: keys carry hash tags)')
      .default('miroir:')
      .describe('Prefix of every key and channel, so several Miroir clusters can share one Redis.'),
    connect_timeout_ms: positiveInt
      .default(5000)
      .describe('Longest wait for Redis at start-up and for each reconnection attempt; then start-up fails.'),
    wait_replicas: nonNegativeInt
      .nullable()
      .default(null)
      .describe(
        'Replicas that must confirm a task, index-state, topology, job or lease write (Redis WAIT) before it is acknowledged; null: 1 with sentinels, else 0.',
      ),
    wait_timeout_ms: positiveInt
      .default(1000)
      .describe('Longest WAIT for wait_replicas; a write not confirmed in time fails with the store unavailable.'),
  })
  .prefault({});

/** Combinations of task_store keys that cannot work, each reported at the key to change. */
function redisStoreProblems(
  v: { backend: 'lmdb' | 'redis'; url: string; redis: z.infer<typeof redisStoreSchema> },
  ctx: z.RefinementCtx,
): void {
  const r = v.redis;
  const problem = (path: PropertyKey[], message: string) => ctx.addIssue({ code: 'custom', path, message });
  if (v.url !== '' && r.url !== '') problem(['url'], 'the short form of task_store.redis.url: set only one of them');
  const url = v.url !== '' ? v.url : r.url;
  const ways = [url !== '', r.sentinels.length > 0, r.cluster.length > 0].filter(Boolean).length;
  if (ways > 1) problem(['redis'], 'url, sentinels and cluster are alternatives: set exactly one');
  if (r.sentinels.length > 0 && r.name === '') problem(['redis', 'name'], 'required with sentinels (the master group)');
  if (r.sentinels.length === 0 && r.name !== '')
    problem(['redis', 'name'], 'only used with task_store.redis.sentinels');
  if (v.backend === 'redis' && ways === 0)
    problem(
      ['url'],
      'required when task_store.backend is redis (e.g. redis://127.0.0.1:6379), or task_store.redis.sentinels or .cluster',
    );
  const schemes = new Set([url, ...r.cluster].filter((u) => u !== '').map((u) => u.split(':')[0]));
  if (schemes.size > 1) problem(['redis', 'cluster'], 'mixes redis:// and rediss:// URLs');
  const tlsOn = r.tls.enabled || schemes.has('rediss');
  for (const k of ['ca', 'cert', 'key'] as const) {
    if (r.tls[k] !== null && !tlsOn)
      problem(['redis', 'tls', k], 'set but TLS is off (set tls.enabled or use rediss://)');
  }
  if ((r.tls.cert === null) !== (r.tls.key === null))
    problem(['redis', 'tls', r.tls.cert === null ? 'cert' : 'key'], 'a client certificate needs both cert and key');
  if (r.tls.enabled && schemes.has('redis'))
    problem(['redis', 'tls', 'enabled'], 'TLS is on but the URL says redis://; use rediss://');
}

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
      url: z
        .string()
        .default('')
        .describe('Redis URL, e.g. redis://redis:6379/0 (backend redis); the short form of task_store.redis.url.'),
      redis: redisStoreSchema,
    })
    .superRefine(redisStoreProblems)
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
  query_planner: z
    .strictObject({
      enabled: z
        .boolean()
        .default(true)
        .describe('Narrow reads whose filter pins the primary key to the shards that can hold the matches (A4).'),
      max_pk_literals_narrowable: positiveInt
        .max(100000)
        .default(128)
        .describe('Most primary-key values (case spellings included) a filter may pin and still be narrowed.'),
      log_plans: z.boolean().default(false).describe('Log every read plan (narrowed or not, why, shards, nodes).'),
    })
    .prefault({}),
  replica_selection: z
    .strictObject({
      strategy: z
        .enum(['adaptive', 'round_robin'])
        .default('adaptive')
        .describe('adaptive: each shard read goes to the replica with the lowest score (A3); round_robin: rotate.'),
      latency_weight: z.number().min(0).default(1.0).describe('Score weight of the node latency p95 estimate (ms).'),
      inflight_weight: z.number().min(0).default(2.0).describe('Score weight of the node requests in flight.'),
      error_weight: z.number().min(0).default(10.0).describe('Score weight of the node error rate (percent).'),
      ewma_half_life_ms: positiveInt
        .default(5000)
        .describe('Half-life of the latency and error averages (older samples weigh half as much per half-life).'),
      exploration_epsilon: z
        .number()
        .min(0)
        .max(1)
        .default(0.05)
        .describe('Share of reads that pick replicas at random (slow nodes included) so recovery is noticed.'),
    })
    .prefault({}),
  hedging: z
    .strictObject({
      enabled: z
        .boolean()
        .default(true)
        .describe('Duplicate a slow node read (search, facet search, documents fetch, document GET) (A2).'),
      p95_trigger_multiplier: z
        .number()
        .min(1)
        .default(1.2)
        .describe('A read is hedged once it runs longer than the node-read p95 times this.'),
      min_trigger_ms: positiveInt.default(15).describe('Never hedge a read younger than this.'),
      max_hedges_per_query: nonNegativeInt.max(64).default(2).describe('Hedges one client read may fire.'),
      cross_group_fallback: z
        .boolean()
        .default(true)
        .describe('A hedge may go to a replica in another replica group when its own group has none.'),
    })
    .prefault({}),
  explain: z
    .strictObject({
      enabled: z.boolean().default(true).describe('Serve POST /indexes/{uid}/explain (A20).'),
      max_warnings: positiveInt.max(1000).default(20).describe('Most warnings one explain answer lists.'),
      allow_execute_parameter: z
        .boolean()
        .default(true)
        .describe('Allow ?execute=true (run the search and add its result).'),
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
      freeze_writes_on_unrepairable: z
        .boolean()
        .default(true)
        .describe(
          'When a drift check cannot repair a node, refuse writes to the index (503 miroir_settings_frozen) until a later check finds every node right.',
        ),
    })
    .prefault({}),
  settings_drift_check: z
    .strictObject({
      interval_s: nonNegativeInt
        .default(300)
        .describe(
          "Time between checks of every node's physical settings against each index's committed ones (0 = no check).",
        ),
      auto_repair: z
        .boolean()
        .default(true)
        .describe('Re-apply the committed physical settings to a node found drifted (else only count and log it).'),
    })
    .prefault({}),
  query_coalescing: z
    .strictObject({
      enabled: z
        .boolean()
        .default(false)
        .describe(
          'Identical searches (index, settings version, body, search rules) within window_ms share one scatter, per pod.',
        ),
      window_ms: positiveInt
        .max(10000)
        .default(50)
        .describe("How long after a search's scatter started an identical one joins it."),
    })
    .prefault({}),
  session_pinning: z
    .strictObject({
      enabled: z
        .boolean()
        .default(false)
        .describe('Honour `X-Miroir-Session`: reads of a session see its own writes (read-your-writes).'),
      ttl_seconds: positiveInt.default(900).describe('How long a session is kept after its last write (task store).'),
      wait_strategy: z
        .enum(['block', 'route_pin'])
        .default('block')
        .describe(
          "block: a read waits until the session's pending writes finished on the pinned group; route_pin: it only reads from that group.",
        ),
      max_wait_ms: positiveInt
        .max(60000)
        .default(5000)
        .describe('Longest block wait; then the read is answered with `X-Miroir-Session-Stale: true`.'),
    })
    .prefault({}),
  idempotency: z
    .strictObject({
      enabled: z
        .boolean()
        .default(true)
        .describe(
          'Honour `Idempotency-Key` on every write route: a repeat gets the first answer (`Idempotent-Replayed: true`), another request under the same key 409.',
        ),
      ttl_seconds: positiveInt.default(86400).describe('How long a key and its answer are kept (in the task store).'),
    })
    .prefault({}),
  dump_import: z
    .strictObject({
      enabled: z
        .boolean()
        .default(true)
        .describe(
          'Serve `POST /_miroir/dumps/import` (a Meilisearch v6 `.dump` as the raw body; SPEC A9). Acts only when called.',
        ),
      mode: z
        .enum(['streaming'])
        .default('streaming')
        .describe('`streaming`: documents routed by shard as the dump is read (the legacy `broadcast` is not served).'),
      batch_size: positiveInt.default(1000).describe('Documents per routed write (one Miroir write task each).'),
      parallel_target_writes: positiveInt.default(8).describe('Routed writes in flight at once.'),
      memory_buffer_bytes: positiveInt
        .default(134217728)
        .describe('Most bytes of routed batches held in memory at once, whatever the dump size.'),
      chunk_size_bytes: positiveInt
        .default(268435456)
        .describe(
          'Resume granularity (Mode C): the cursor (index + document offset) is saved at least every this many document bytes (and every heartbeat).',
        ),
      spool_dir: z
        .string()
        .min(1)
        .default('./miroir-dumps/imports')
        .describe(
          'Where uploads are spooled before the import reads them (what makes a resume after a crash possible).',
        ),
    })
    .prefault({}),
  dumps: z
    .strictObject({
      dir: z.string().min(1).default('./miroir-dumps').describe('Where `POST /dumps` writes `{dumpUid}.dump`.'),
    })
    .prefault({}),
  task_registry: z
    .strictObject({
      retention_days: positiveInt.default(7).describe('Finished tasks older than this are pruned (C7: 7 days).'),
    })
    .prefault({}),
  anti_entropy: z
    .strictObject({
      enabled: z
        .boolean()
        .default(false)
        .describe(
          'Stamp every routed document with `_miroir_version` (its task uid), keep tombstones of deletes and run anti-entropy passes (SPEC A8).',
        ),
      schedule: z
        .string()
        .regex(/^every [1-9][0-9]*(s|m|h|d)$/, 'must read `every <n><s|m|h|d>`, e.g. `every 6h`')
        .default('every 6h')
        .describe('How often a pass runs over the shards this pod owns (`every 30m`, `every 6h`, ...).'),
      shards_per_pass: nonNegativeInt
        .default(0)
        .describe('Shards (of every index) one scheduled pass covers, continuing where the last stopped; 0 = all.'),
      auto_repair: z
        .boolean()
        .default(true)
        .describe('Repair what a pass finds; false = report only (status and metrics, nothing written).'),
      updated_at_field: z
        .string()
        .min(1)
        .nullable()
        .default(null)
        .describe(
          'A client field (number) that decides first between two copies: greater wins, `_miroir_version` breaks ties.',
        ),
      tombstone_retention_s: positiveInt
        .default(604800)
        .describe('How long the tombstone of a delete through Miroir is kept (a delete older than this is forgotten).'),
      fingerprint_batch_size: positiveInt
        .max(10000)
        .default(1000)
        .describe('Documents read per page when fingerprinting a replica.'),
      max_read_concurrency: positiveInt
        .max(64)
        .default(2)
        .describe('Replica pages read at once by one pass (bounds the load on nodes).'),
      max_pages_per_second: nonNegativeInt
        .default(20)
        .describe('Pass rate limit: pages read per second by one pod at most; 0 = unlimited.'),
    })
    .prefault({}),
  ttl: z
    .strictObject({
      enabled: z
        .boolean()
        .default(false)
        .describe(
          'Document expiry (SPEC A14): `_miroir_expires_at` (ms since the epoch or RFC 3339) is filterable on nodes, expired documents are hidden from every read and deleted by the sweeper.',
        ),
      sweep_interval_s: positiveInt.default(300).describe('Time between sweeps of each index.'),
      max_deletes_per_sweep: positiveInt
        .default(10000)
        .describe('Expired documents one sweep deletes per index at most (the rest wait for the next sweep).'),
      per_index_overrides: z
        .record(
          z.string(),
          z.strictObject({
            enabled: z.boolean().optional(),
            sweep_interval_s: positiveInt.optional(),
            max_deletes_per_sweep: positiveInt.optional(),
          }),
        )
        .default({})
        .describe('Per index uid: a policy used until `POST /_miroir/indexes/{uid}/ttl-policy` sets one.'),
    })
    .prefault({}),
  aliases: z
    .strictObject({
      enabled: z
        .boolean()
        .default(false)
        .describe(
          'Index aliases (SPEC A7): `/_miroir/aliases`, and every index route, multi-search and explain resolve an alias name to its target(s) first.',
        ),
      history_retention: nonNegativeInt.default(10).describe('Earlier target lists kept per alias (newest first).'),
      require_target_exists: z
        .boolean()
        .default(true)
        .describe(
          'Refuse an alias (create, put) whose target is not an existing index (404 `miroir_alias_not_found`).',
        ),
      resync_interval_s: positiveInt
        .default(5)
        .describe(
          'Each pod rereads the alias table this often besides the `aliases` change message (a lost message heals).',
        ),
    })
    .prefault({}),
  ilm: z
    .strictObject({
      enabled: z
        .boolean()
        .default(false)
        .describe(
          'ILM rollover policies (SPEC A17); needs `aliases.enabled`. The checks run on the `ilm` lease holder.',
        ),
      check_interval_s: positiveInt.default(3600).describe('Time between trigger checks of every policy.'),
      safety_lock_older_than_days: z
        .number()
        .nonnegative()
        .default(7)
        .describe('Retention never deletes an index of a policy younger than this many days.'),
      max_rollovers_per_check: positiveInt
        .default(10)
        .describe('Rollovers one check performs at most (over all policies).'),
    })
    .prefault({}),
  resharding: z
    .strictObject({
      enabled: z
        .boolean()
        .default(false)
        .describe(
          'Online reshard (SPEC A1): `POST /_miroir/indexes/{uid}/reshard` builds a copy with a new shard count under dual writes and flips the uid to it (an internal alias).',
        ),
      throttle_docs_per_sec: nonNegativeInt
        .default(0)
        .describe('Backfill rate per reshard when the request names none (documents per second); 0 = unthrottled.'),
      verify_before_swap: z
        .boolean()
        .default(true)
        .describe('Compare primary-key sets and per-document content hashes of both copies before the flip.'),
      retain_old_index_hours: z
        .number()
        .min(0)
        .default(48)
        .describe('How long the old copy is kept after the flip (a reverse flip stays possible until then).'),
      backfill_batch_size: positiveInt.max(10000).default(1000).describe('Documents per backfill page.'),
      backfill_concurrency: positiveInt
        .max(64)
        .default(4)
        .describe('Backfill jobs (one per old shard) one pod runs at once.'),
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
  canary_runner: canaryRunnerSchema, // canaries (issue 30, SPEC A18)
  shadow: shadowSchema, // traffic shadow (issue 30, SPEC A16)
  cdc: cdcSchema, // change data capture (issue 28, SPEC A13)
});

export type MiroirConfig = z.infer<typeof configSchema>;
export type NodeConfig = z.infer<typeof nodeSchema>;
