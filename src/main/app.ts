// Assembles one Miroir process from a validated config: store, keys, topology and health, the client listener
// with its route table and auth hook, and the Prometheus listener. `start` probes every node before listening;
// `close` stops accepting, drains in-flight requests, then closes pools and the store.
import { registerDumps } from './dumps/routes.js';
import { dumpMetrics } from './dumps/metrics.js';
import { reshardMetrics } from './reshard/metrics.js';
import { registerReshard } from './reshard/routes.js';
import { ReshardService, TableAliases } from './reshard/service.js';
import { TenantRouter } from './tenancy/affinity.js';
import { createServer, type Server } from 'node:http';
import { randomUUID } from 'node:crypto';
import { hostname } from 'node:os';
import type { AddressInfo } from 'node:net';
import { enableNative } from '../../native/index.js';
import { authorize, constantTimeEqual, type AuthResult } from '../core/auth/authorize.js';
import { KeyRegistry } from '../core/auth/registry.js';
import { MIROIR_KEY_ACTIONS } from '../core/auth/actions.js';
import { MeiliError, setMiroirErrorLinkBase } from '../core/errors.js';
import { openStore } from './config/open-store.js';
import type { Store } from '../store/store.js';
import { WorkerPool } from '../workers/pool.js';
import { every } from './util/periodic.js';
import { IndexOperations } from './state/index-ops.js';
import { IndexStateService } from './state/index-state.js';
import { Settler, type SettleModule } from './tasks/settler.js';
import { controlModules } from './tasks/settle/control.js';
import { documentModules } from './tasks/settle/documents.js';
import { indexModules } from './tasks/settle/indexes.js';
import { settingsModule } from './tasks/settle/settings.js';
import { DocumentWrites } from './writes/documents.js';
import { buildRoutes, type RouteGuard } from './api/routes.js';
import { Coalescer } from './consistency/coalescing.js';
import { Idempotency } from './consistency/idempotency.js';
import { ReadConsistency } from './consistency/read-policy.js';
import { Sessions } from './consistency/sessions.js';
import { SettingsDriftCheck } from './consistency/settings-drift.js';
import { WriteHooks } from './consistency/write-hooks.js';
import { TaskRegistry } from './tasks/registry.js';
import { PodMembership } from './cluster/membership.js';
import { LeaseKeeper } from './cluster/leases.js';
import { PeerDiscovery, podIdentity } from './cluster/peers.js';
import { TopologyService } from './cluster/topology.js';
import { ReplicaSelector } from './cluster/replica-selector.js';
import { registerPressureMetrics } from './observability/pressure.js';
import { LEASE_SCOPE, Rebalancer } from './rebalance/rebalancer.js';
import type { MiroirConfig } from './config/schema.js';
import { createLogger, type Logger } from './observability/logger.js';
import { createMetrics, type Metrics } from './observability/metrics.js';
import { HttpServer, type RequestContext } from '../http/server.js';
import { registerSearchUi } from './search-ui/index.js';
import { registerAdminUi } from './admin-ui/index.js'; // admin-ui (issue 31)
import { registerCanaries } from './canaries/index.js'; // canaries (issue 30)
import { registerShadow } from './shadow/index.js'; // traffic shadow (issue 30)
import { createCdc } from './cdc/index.js'; // change data capture (issue 28)
import { EXPIRES_FIELD } from '../core/reserved.js';
import { AntiEntropy } from './integrity/anti-entropy.js';
import { expiryFilter } from './integrity/expiry-reads.js';
import { registerIntegrityRoutes } from './integrity/routes.js';
import { TtlSweeper } from './integrity/ttl-sweeper.js';
import { AliasService, aliasMetrics } from './state/aliases.js'; // aliases (issue 26)
import { registerAliases } from './api/aliases.js'; // aliases (issue 26)
import { IlmService, ilmMetrics } from './ilm/rollover.js'; // ILM rollover (issue 26)
import { registerIlmRoutes } from './ilm/index.js'; // ILM rollover (issue 26)
import { indexStats } from './api/stats.js';

export interface MiroirApp {
  readonly port: number;
  readonly metricsPort: number;
  readonly url: string;
  readonly topology: TopologyService;
  readonly store: Store;
  readonly metrics: Metrics;
  readonly rebalancer: Rebalancer;
  readonly podId: string;
  /** This pod's base URL among its peers. */
  readonly selfUrl: string;
  readonly membership: PodMembership;
  readonly leases: LeaseKeeper | null;
  /** The alias table's owner (issue 26); null unless `aliases.enabled`. */
  readonly aliases: AliasService | null;
  close(): Promise<void>;
}

function adminKeyOf(ctx: RequestContext<AuthResult>): string | undefined {
  const x = ctx.req.headers['x-admin-key'];
  if (typeof x === 'string') return x;
  const h = ctx.req.headers.authorization;
  const m = h === undefined ? null : /^Bearer\s+(.+)$/i.exec(h.trim());
  return m === null ? undefined : m[1]!.trim();
}

export async function startMiroir(cfg: Readonly<MiroirConfig>, opts: { logger?: Logger } = {}): Promise<MiroirApp> {
  const logger = opts.logger ?? createLogger(cfg.log.level);
  setMiroirErrorLinkBase(cfg.errors.link_base);
  const native = enableNative();
  const metrics = createMetrics();
  metrics.nativeEnabled.set(native ? 1 : 0);
  const store = await openStore(cfg.task_store);
  const keys = new KeyRegistry(
    cfg.master_key,
    { save: (k) => store.putKey(k), remove: (uid) => store.deleteKey(uid) },
    { extraActions: MIROIR_KEY_ACTIONS },
  );
  keys.load(await store.listKeys());
  await keys.seedDefaults(new Date().toISOString());
  const reloadKeys = () =>
    void store
      .listKeys()
      .then((all) => keys.load(all))
      .catch((err: unknown) => logger.warn({ err }, 'reloading keys failed'));
  const unsubscribeKeys = await store.subscribe('keys', reloadKeys);
  const topology = await TopologyService.open(cfg, store, metrics, logger);
  const reloadTopology = () =>
    void topology.refresh().catch((err: unknown) => logger.warn({ err }, 'reloading the topology failed'));
  const unsubscribeTopology = await store.subscribe('topology', reloadTopology);
  // Pub/sub carries changes at once; a periodic reload covers messages lost while the store connection was down.
  const resync = every(cfg.leader_election.renew_interval_s * 1000, async () => {
    reloadKeys();
    reloadTopology();
  });
  await topology.start();
  const pool = new WorkerPool();
  const state = new IndexStateService(store, () => topology.current.shards, cfg.ttl.enabled ? [EXPIRES_FIELD] : []);
  const verifyTimeoutMs = cfg.settings_broadcast.verify_timeout_s * 1000;
  const facetingOverfetch = cfg.scatter.faceting_overfetch;
  const modules = new Map<string, SettleModule>([
    ...documentModules(topology),
    ...indexModules(topology, state),
    ...controlModules(store),
    [
      'settingsUpdate',
      settingsModule({
        store,
        topology,
        state,
        facetingOverfetch,
        maxRepairRetries: cfg.settings_broadcast.max_repair_retries,
        verifyTimeoutMs,
        logger,
      }),
    ],
  ]);
  // Several pods: one drains each settlement queue at a time (lease `settle:<queue>`, owned by this pod's id).
  const shared = store.backend === 'redis' && cfg.leader_election.enabled;
  const incarnation = randomUUID();
  const leaseTtlMs = cfg.leader_election.lease_ttl_s * 1000;
  const settler = new Settler({
    store,
    topology,
    state,
    modules,
    logger,
    metrics,
    lease: shared ? { ttlMs: leaseTtlMs } : null,
    incarnation,
    aliveTtlMs: leaseTtlMs,
  });
  // Mode A: task pruning is partitioned over the live pods (membership starts once the port is known).
  let membership: PodMembership | null = null;
  // change data capture (issue 28): the change log tasks append to before their 202; null unless cdc.enabled
  const cdc = cfg.cdc.enabled ? createCdc({ config: cfg, store, metrics, logger }) : null;
  const tasks = new TaskRegistry({
    store,
    waker: settler,
    incarnation,
    logger,
    retentionDays: cfg.task_registry.retention_days,
    owns: (item) => membership?.owns(item) ?? true,
    changes: cdc?.log ?? null,
  });
  const ops = new IndexOperations({
    state,
    tasks,
    topology,
    facetingOverfetch,
    strategy: cfg.settings_broadcast.strategy,
    verifyTimeoutMs,
    swapped: cfg.anti_entropy.enabled
      ? async (uids, taskUid) => {
          for (const index of uids) await store.putTombstone({ index, taskUid, kind: 'epoch', at: Date.now() });
        }
      : undefined,
  });
  const writes = new DocumentWrites({
    ops,
    state,
    tasks,
    topology,
    metrics,
    pool,
    retryOnTimeout: cfg.scatter.retry_on_timeout,
    // Whether other requests are being served alongside a write (pool or inline): the server counts them there.
    otherRequestsInFlight: () => metrics.requests.inFlight > 1,
    antiEntropy: cfg.anti_entropy.enabled,
    ttl: cfg.ttl.enabled,
    // Anti-entropy on: every delete leaves its tombstone before its node writes are sent.
    tombstone: cfg.anti_entropy.enabled ? (t) => store.putTombstone({ ...t, at: Date.now() }) : undefined,
    changes: cdc?.log ?? null,
  });
  // Integrity over time (SPEC A8, A14): Mode A work on the shards this pod owns among its live peers.
  const owns = (item: string | number) => membership?.owns(item) ?? true;
  const antiEntropy = cfg.anti_entropy.enabled
    ? new AntiEntropy({
        store,
        state,
        topology,
        metrics,
        logger,
        config: cfg.anti_entropy,
        ttl: cfg.ttl.enabled,
        owns,
        taskTimeoutMs: verifyTimeoutMs,
        changes: cdc?.log ?? null,
      })
    : null;
  const ttlSweeper = cfg.ttl.enabled
    ? new TtlSweeper({
        store,
        state,
        topology,
        metrics,
        logger,
        config: cfg.ttl,
        owns,
        taskTimeoutMs: verifyTimeoutMs,
        changes: cdc?.log ?? null,
      })
    : null;
  tasks.start();

  // The pod id owns leases and job claims; the port is only known once bound, so it is set after listen().
  const rebalancer = new Rebalancer({
    store,
    state,
    topology,
    logger,
    metrics,
    maxConcurrentMigrations: cfg.rebalancer.max_concurrent_migrations,
    autoRebalanceOnRecovery: cfg.rebalancer.auto_rebalance_on_recovery,
    migrationTimeoutMs: cfg.rebalancer.migration_timeout_s * 1000,
    leaseTtlMs: cfg.leader_election.lease_ttl_s * 1000,
    facetingOverfetch,
    taskTimeoutMs: verifyTimeoutMs,
    changes: cdc?.log ?? null,
  });

  // Consistency (issue 24): settings drift, idempotent writes, read-your-writes sessions.
  const drift = new SettingsDriftCheck({
    store,
    state,
    topology,
    metrics,
    logger,
    facetingOverfetch,
    intervalMs: cfg.settings_drift_check.interval_s * 1000,
    autoRepair: cfg.settings_drift_check.auto_repair,
    maxRepairRetries: cfg.settings_broadcast.max_repair_retries,
    freezeWrites: cfg.settings_broadcast.freeze_writes_on_unrepairable,
    taskTimeoutMs: verifyTimeoutMs,
    owns: (item) => membership?.owns(item) ?? true,
  });
  const sessions = cfg.session_pinning.enabled
    ? new Sessions({
        store,
        topology,
        metrics,
        ttlMs: cfg.session_pinning.ttl_seconds * 1000,
        strategy: cfg.session_pinning.wait_strategy,
        maxWaitMs: cfg.session_pinning.max_wait_ms,
      })
    : null;
  const idempotency = cfg.idempotency.enabled
    ? new Idempotency({ store, metrics, ttlMs: cfg.idempotency.ttl_seconds * 1000 })
    : null;
  const adminKey = cfg.admin.api_key;
  const scatterDeps = {
    topology,
    metrics,
    unavailablePolicy: cfg.scatter.unavailable_shard_policy,
    selector: new ReplicaSelector(cfg.replica_selection, metrics),
    planner: cfg.query_planner,
    hedging: cfg.hedging,
    logger,
    expiryFilter: cfg.ttl.enabled ? expiryFilter(store) : undefined,
  };
  const consistency = new ReadConsistency({ store, topology, sessions });
  const tenants = cfg.tenant_affinity.enabled
    ? new TenantRouter(
        {
          mode: cfg.tenant_affinity.mode,
          headerName: cfg.tenant_affinity.header_name,
          fallback: cfg.tenant_affinity.fallback,
          staticMap: cfg.tenant_affinity.static_map,
          dedicatedGroups: cfg.tenant_affinity.dedicated_groups,
        },
        topology,
        metrics,
      )
    : null;
  const vectorSearch = {
    enabled: cfg.vector_search.enabled,
    overFetchFactor: cfg.vector_search.over_fetch_factor,
    mergeStrategy: cfg.vector_search.merge_strategy,
    hybridAlphaDefault: cfg.vector_search.hybrid_alpha_default,
    rrfK: cfg.vector_search.rrf_k,
  };
  const routes = buildRoutes({
    store,
    topology,
    state,
    ops,
    writes,
    tasks,
    metrics,
    keys,
    rebalancer,
    logger,
    facetingOverfetch,
    multiSearch: {
      enabled: cfg.multi_search.enabled,
      maxQueries: cfg.multi_search.max_queries_per_batch,
      maxFederatedHits: cfg.multi_search.max_federated_hits,
    },
    scatter: scatterDeps,
    explain: cfg.explain,
    writeHooks: new WriteHooks({
      idempotency,
      drift: cfg.settings_drift_check.interval_s > 0 ? drift : null,
      sessions,
    }),
    consistency,
    consistencyStatus: async () => ({
      idempotency: { enabled: idempotency !== null, keys: await store.countExpiring('idemp') },
      session_pinning: { enabled: sessions !== null, sessions: await store.countExpiring('session') },
      settings_drift_check: {
        interval_s: cfg.settings_drift_check.interval_s,
        frozen_indexes: await drift.frozenCount(),
      },
      query_coalescing: { enabled: cfg.query_coalescing.enabled },
    }),
    coalescer: cfg.query_coalescing.enabled
      ? new Coalescer({ metrics, windowMs: cfg.query_coalescing.window_ms })
      : null,
    tenants,
    vectorSearch,
  });
  registerIntegrityRoutes(routes, { store, state, antiEntropy, ttl: ttlSweeper });
  cdc?.addRoutes(routes);
  // dumps (issue 28): POST /dumps, the streaming import and its Mode C job
  const dumps = registerDumps(routes, {
    config: cfg.dump_import,
    dumps: cfg.dumps,
    store,
    tasks,
    ops,
    writes,
    state,
    keys,
    topology,
    scatter: scatterDeps,
    facetingOverfetch,
    metrics: dumpMetrics(metrics.registry),
    logger,
  });
  // online reshard (issue 26): the service mirrors writes and resolves uids whenever a reshard record exists
  const reshard = new ReshardService({
    store,
    state,
    ops,
    tasks,
    topology,
    writes,
    metrics: reshardMetrics(metrics.registry),
    logger,
    config: cfg.resharding,
    jobLeaseMs: leaseTtlMs * 3,
    taskTimeoutMs: verifyTimeoutMs,
  });
  const readDeps = {
    state,
    scatter: scatterDeps,
    logger,
    facetingOverfetch,
    consistency,
    coalescer: null,
    tenants,
    vectorSearch,
  };
  // aliases (issue 26): the alias table's owner and the resolution of every index route; null unless aliases.enabled
  // online reshard flips through an internal alias: the table is kept when either capability is on (with both off,
  // the reshard records themselves lead a resharded uid to its copy: reshard/service.ts RecordAliases)
  const aliases =
    cfg.aliases.enabled || cfg.resharding.enabled
      ? new AliasService({
          store,
          config: {
            historyRetention: cfg.aliases.history_retention,
            requireTargetExists: cfg.aliases.require_target_exists,
            resyncIntervalMs: cfg.aliases.resync_interval_s * 1000,
          },
          metrics: aliasMetrics(metrics.registry),
          indexExists: async (uid) => (await state.get(uid)) !== null,
          logger,
        })
      : null;
  if (aliases !== null) {
    await aliases.start();
    registerAliases(routes, { aliases, read: readDeps });
  }
  // online reshard (issue 26): flips through the alias table; answers name the client's uid (registered after the
  // aliases so its display rules wrap theirs); before the first request, writes are mirrored and uids resolved
  if (aliases !== null) reshard.aliases = new TableAliases(aliases);
  registerReshard(routes, { service: reshard, state });
  await reshard.refresh();
  // ILM rollover (issue 26): policies, the Mode B check loop (lease `ilm`) and its routes; needs aliases
  let podIdForIlm = '';
  const ilm =
    cfg.ilm.enabled && aliases !== null
      ? new IlmService({
          store,
          aliases,
          ops,
          tasks,
          stats: async (uid) => {
            const s = await indexStats({ state, topology, scatter: scatterDeps }, uid);
            return { documents: s.numberOfDocuments, sizeBytes: s.rawDocumentDbSize };
          },
          indexExists: async (uid) => (await state.get(uid)) !== null,
          metrics: ilmMetrics(metrics.registry),
          config: {
            checkIntervalMs: cfg.ilm.check_interval_s * 1000,
            safetyLockMs: cfg.ilm.safety_lock_older_than_days * 86_400_000,
            maxRolloversPerCheck: cfg.ilm.max_rollovers_per_check,
          },
          historyRetention: cfg.aliases.history_retention,
          logger,
          lease: cfg.leader_election.enabled
            ? { owner: () => podIdForIlm, ttlMs: cfg.leader_election.lease_ttl_s * 1000 }
            : null,
        })
      : null;
  if (cfg.ilm.enabled && aliases === null) logger.warn('ilm.enabled needs aliases.enabled: ILM rollover is off');
  if (ilm !== null) registerIlmRoutes(routes, ilm);
  // canaries (issue 30): routes, search sampling and the Mode A runner; null unless canary_runner.enabled
  const canaries = cfg.canary_runner.enabled
    ? registerCanaries(routes, { config: cfg, store, read: readDeps, metrics, logger })
    : null;
  // traffic shadow (issue 30): reads teed after their answer; null (routes untouched) unless shadow.enabled
  const shadow = cfg.shadow.enabled ? registerShadow(routes, { config: cfg, state, metrics, logger }) : null;
  const searchUi = cfg.search_ui.enabled
    ? registerSearchUi(routes, { config: cfg, store, keys, state, metrics, logger })
    : null;
  // admin-ui (issue 31): the console's routes and its session-cookie auth extension; null unless admin_ui.enabled
  const adminUi = await registerAdminUi(routes, {
    config: cfg,
    store,
    registry: metrics.registry,
    logger,
    api: { store, state, topology, tasks, keys },
  });
  const http = new HttpServer<AuthResult>({
    routes,
    hooks: {
      authenticate: async (ctx, spec) => {
        const guard = spec as RouteGuard;
        if (guard.kind === 'public') return { kind: 'open' };
        if (guard.adminKey === true && cfg.admin.enabled && adminKey !== null) {
          const given = adminKeyOf(ctx);
          if (given !== undefined && constantTimeEqual(given, adminKey)) return { kind: 'master' };
        }
        if (guard.kind === 'admin') {
          const given = adminKeyOf(ctx);
          // admin-ui (issue 31): without an admin key, the console's session cookie may stand in for it
          const byCookie = given === undefined ? (adminUi?.authenticate(ctx) ?? null) : null;
          if (byCookie !== null) return byCookie;
          if (!cfg.admin.enabled || adminKey === null || given === undefined || !constantTimeEqual(given, adminKey)) {
            throw new MeiliError(
              'miroir_invalid_auth',
              'The admin API key is missing or invalid. Send it as `Authorization: Bearer <key>` or `X-Admin-Key`.',
            );
          }
          return { kind: 'master' };
        }
        const viaSession = searchUi === null ? null : await searchUi.authenticate(ctx, guard);
        if (viaSession !== null) return viaSession;
        return authorize({
          authorization: ctx.req.headers.authorization,
          masterKey: cfg.master_key,
          route: guard.auth,
          indexUid: ctx.params.uid ?? null,
          tenantTokenAllowed: guard.tenant,
          keys,
          nowMs: Date.now(),
        });
      },
    },
    maxBodyBytes: cfg.server.max_body_bytes,
    maxConcurrentRequests: cfg.server.max_concurrent_requests,
    requestTimeoutMs: cfg.server.request_timeout_ms,
    headersTimeoutMs: cfg.server.headers_timeout_ms,
    keepAliveTimeoutMs: cfg.server.keep_alive_timeout_ms,
    metrics: metrics.requests,
    logger,
  });
  const port = await http.listen(cfg.server.port, cfg.server.bind);
  const metricsServer: Server = createServer((req, res) => {
    if (req.url === '/metrics' || req.url?.startsWith('/metrics?')) {
      void metrics.registry
        .metrics()
        .then((text) => res.writeHead(200, { 'content-type': metrics.registry.contentType }).end(text));
    } else res.writeHead(404).end();
  });
  await new Promise<void>((resolve, reject) => {
    metricsServer.once('error', reject);
    metricsServer.listen(cfg.metrics.port, cfg.metrics.bind, () => resolve());
  });
  const metricsPort = (metricsServer.address() as AddressInfo).port;
  const host = cfg.server.bind === '0.0.0.0' || cfg.server.bind === '::' ? '127.0.0.1' : cfg.server.bind;
  const identity = podIdentity({ env: process.env, hostname: hostname(), port, selfUrl: cfg.peer_discovery.self });
  const podId = identity.id;
  await settler.start(podId);
  const pressure = registerPressureMetrics(metrics.registry, {
    queueDepth: () => pool.queueSize,
    backgroundDepth: async () => {
      const depth: Record<string, number> = {};
      for (const j of await store.listJobs())
        if (j.state === 'queued' || j.state === 'in_progress') depth[j.type] = (depth[j.type] ?? 0) + 1;
      return depth;
    },
    logger,
  });
  const renewMs = cfg.leader_election.renew_interval_s * 1000;
  const ttlMs = cfg.leader_election.lease_ttl_s * 1000;
  const discovery = new PeerDiscovery({
    mode: cfg.peer_discovery.mode,
    peers: cfg.peer_discovery.peers,
    serviceName: cfg.peer_discovery.service_name,
    refreshIntervalMs: cfg.peer_discovery.refresh_interval_s * 1000,
    self: identity.url,
    port,
    logger,
  });
  await discovery.start();
  membership = new PodMembership({
    store,
    discovery,
    selfUrl: discovery.selfId,
    podId,
    ttlMs,
    renewMs,
    shards: () => topology.current.shards,
    peerGauge: pressure.peerPodCount,
    ownedGauge: pressure.ownedShardsCount,
    logger,
  });
  await membership.start();
  drift.start();
  await searchUi?.start({ url: discovery.selfId, livePods: () => membership!.peers() });
  // Mode B: leader-only work runs on the holder of its scope's lease (TTL lease_ttl_s, renewed every renew_interval_s).
  const leases = cfg.leader_election.enabled
    ? new LeaseKeeper({ store, owner: podId, ttlMs, renewMs, scopes: [LEASE_SCOPE], gauge: pressure.leader, logger })
    : null;
  await leases?.start();
  rebalancer.podId = podId;
  podIdForIlm = podId;
  ilm?.start();
  rebalancer.leadership = leases === null ? () => true : () => leases.isLeader(LEASE_SCOPE);
  rebalancer.start();
  dumps.start(podId);
  reshard.podId = podId;
  reshard.leadership = leases === null ? () => true : () => leases.isLeader(LEASE_SCOPE);
  await reshard.start();
  await canaries?.start((item) => membership!.owns(item));
  antiEntropy?.start();
  ttlSweeper?.start();
  await cdc?.start(podId, (item) => membership!.owns(item));
  logger.info(
    { port, metrics_port: metricsPort, native, nodes: topology.current.nodes.length, shards: topology.current.shards },
    'miroir listening',
  );
  return {
    port,
    metricsPort,
    url: `http://${host}:${port}`,
    topology,
    store,
    metrics,
    rebalancer,
    podId,
    selfUrl: discovery.selfId,
    membership,
    leases,
    aliases,
    async close() {
      await http.close(cfg.server.shutdown_grace_ms);
      await ilm?.stop();
      await aliases?.stop();
      await canaries?.stop();
      await shadow?.close();
      await searchUi?.stop();
      await adminUi?.close(); // admin-ui (issue 31)
      await antiEntropy?.stop();
      await ttlSweeper?.stop();
      await cdc?.stop();
      await rebalancer.stop();
      await dumps.stop();
      await reshard.stop();
      await drift.stop();
      await leases?.stop();
      await membership!.stop();
      await discovery.stop();
      await new Promise<void>((r) => metricsServer.close(() => r()));
      await resync.stop();
      await unsubscribeKeys();
      await unsubscribeTopology();
      await settler.stop();
      await tasks.stop();
      await pool.close();
      await topology.close();
      await store.close();
      logger.flush?.();
    },
  };
}
