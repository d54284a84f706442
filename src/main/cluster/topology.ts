// The proxy's view of the cluster: the stored topology (seeded once from config, authoritative afterwards), one
// node client per node, the health checker, and the routing table rebuilt whenever topology or health changes.
// Answers the shapes of `/_miroir/topology`, `/_miroir/shards` and readiness, and keeps the C16 gauges current.
// Every topology change is a compare-and-set on the stored record (`update`), adopted here at once and by other pods
// through the store's `topology` channel. A node that misses writes (unhealthy, or a write it did not ACK) is
// flagged `catching_up` — it keeps taking writes but serves no reads until the rebalancer has caught it up.
import { RoutingTable, type RouteNode } from '../../core/rendezvous.js';
import type { Store, StoredTopology } from '../../store/store.js';
import type { MiroirConfig } from '../config/schema.js';
import type { Logger } from '../observability/logger.js';
import type { Metrics } from '../observability/metrics.js';
import { every, type Periodic } from '../util/periodic.js';
import { HealthChecker } from './health.js';
import { NodeApi } from './node-api.js';

export function seedTopology(cfg: Readonly<MiroirConfig>): Omit<StoredTopology, 'version'> {
  return {
    shards: cfg.shards,
    replication_factor: cfg.replication_factor,
    groups: Array.from({ length: cfg.replica_groups }, (_, id) => ({ id, state: 'active' as const })),
    nodes: cfg.nodes.map((n) => ({
      id: n.id,
      address: n.address,
      replica_group: n.replica_group,
      state: 'active' as const,
    })),
    retiredIds: [],
  };
}

export class TopologyService {
  private topology: StoredTopology;
  private readonly clients = new Map<string, NodeApi>();
  readonly health: HealthChecker;
  private table: RoutingTable;
  /** Index uid → its own shard count, and the tables built for those counts (dropped when the topology changes). */
  private indexShards = new Map<string, number>();
  private readonly tables = new Map<number, RoutingTable>();
  private readonly cfg: Readonly<MiroirConfig>;
  private readonly metrics: Metrics | null;
  private readonly logger: Logger | null;
  private readonly store: Store;
  /** Nodes whose catching_up flag is being written (one CAS loop per node at a time). */
  private readonly flagging = new Set<string>();
  private dataChecks: Periodic | null = null;
  private suspectedEmpty = new Set<string>();

  private constructor(
    cfg: Readonly<MiroirConfig>,
    store: Store,
    topology: StoredTopology,
    metrics: Metrics | null,
    logger: Logger | null,
  ) {
    this.cfg = cfg;
    this.store = store;
    this.topology = topology;
    this.metrics = metrics;
    this.logger = logger;
    this.syncClients();
    this.health = new HealthChecker({
      intervalMs: cfg.health.interval_ms,
      timeoutMs: cfg.health.timeout_ms,
      unhealthyThreshold: cfg.health.unhealthy_threshold,
      recoveryThreshold: cfg.health.recovery_threshold,
      clients: () => this.clients.values(),
      onChange: (nodeId, health) => {
        this.rebuild();
        if (health === 'unhealthy') void this.markCatchingUp([nodeId]);
      },
      metrics,
      logger,
    });
    this.table = this.buildTable();
  }

  /** Loads the stored topology, seeding it from config on first start (a differing config is only logged). */
  static async open(
    cfg: Readonly<MiroirConfig>,
    store: Store,
    metrics: Metrics | null,
    logger: Logger | null,
  ): Promise<TopologyService> {
    let stored = await store.getTopology();
    if (stored === null) {
      if (cfg.nodes.length === 0)
        throw new Error('nodes: the store holds no topology yet, so the config must list the seed nodes');
      stored = (await store.casTopology(0, seedTopology(cfg))) ?? (await store.getTopology());
      logger?.info({ nodes: cfg.nodes.length, shards: cfg.shards }, 'topology seeded from config');
    } else {
      const seeded = seedTopology(cfg);
      const same =
        JSON.stringify(seeded.nodes.map((n) => [n.id, n.address, n.replica_group])) ===
        JSON.stringify(stored.nodes.map((n) => [n.id, n.address, n.replica_group]));
      if (!same && cfg.nodes.length > 0)
        logger?.warn(
          { stored_version: stored.version },
          'config nodes differ from the stored topology; the stored topology is authoritative (change it through the admin API)',
        );
    }
    return new TopologyService(cfg, store, stored!, metrics, logger);
  }

  get current(): StoredTopology {
    return this.topology;
  }

  get routing(): RoutingTable {
    return this.table;
  }

  /**
   * HOT PATH. The routing table of one index: the cluster's, unless the index has its own shard count (a reshard
   * copy, SPEC Round 2 "Per-index shard count"); tables of other counts are built once per topology change.
   */
  routingFor(uid: string): RoutingTable {
    if (this.indexShards.size === 0) return this.table;
    const n = this.indexShards.get(uid);
    if (n === undefined || n === this.topology.shards) return this.table;
    let t = this.tables.get(n);
    if (t === undefined) this.tables.set(n, (t = this.buildTable(n)));
    return t;
  }

  /** The indexes whose shard count differs from the cluster's (kept by the reshard service from its records). */
  setIndexShards(counts: ReadonlyMap<string, number>): void {
    this.indexShards = new Map(counts);
  }

  client(nodeId: string): NodeApi | undefined {
    return this.clients.get(nodeId);
  }

  /** A readable replica of `shard` of index `uid` (active groups in order), or null when none is. */
  readerOf(uid: string, shard: number): NodeApi | null {
    const table = this.routingFor(uid);
    for (const g of table.activeGroups)
      for (const id of table.owners(shard, g))
        if (table.canRead(id)) {
          const api = this.clients.get(id);
          if (api !== undefined) return api;
        }
    return null;
  }

  allClients(): NodeApi[] {
    return [...this.clients.values()];
  }

  /** Clients of every node that is part of the cluster (any state but removed, healthy or not). */
  liveClients(): NodeApi[] {
    const ids = new Set(this.topology.nodes.filter((n) => n.state !== 'removed').map((n) => n.id));
    return this.allClients().filter((c) => ids.has(c.nodeId));
  }

  healthyClients(): NodeApi[] {
    return this.allClients().filter((c) => this.health.isHealthy(c.nodeId));
  }

  /** Adopts a newer stored topology (after a change made by this or another pod); new nodes are probed at once. */
  apply(next: StoredTopology): void {
    if (next.version <= this.topology.version) return;
    this.topology = next;
    const added = this.syncClients();
    this.rebuild();
    for (const c of added) void this.health.probeNew(c).then(() => this.rebuild());
  }

  /** Reads the stored topology and adopts it when newer. */
  async refresh(): Promise<StoredTopology> {
    const stored = await this.store.getTopology();
    if (stored !== null) this.apply(stored);
    return this.topology;
  }

  /**
   * Changes the stored topology with compare-and-set: `change` gets a copy of the latest record and returns the next
   * one (or null to leave it as is). Retries on a concurrent change; adopts and returns the result.
   */
  async update(change: (current: StoredTopology) => Omit<StoredTopology, 'version'> | null): Promise<StoredTopology> {
    for (;;) {
      const current = (await this.store.getTopology()) ?? this.topology;
      const next = change(structuredClone(current));
      if (next === null) {
        this.apply(current);
        return current;
      }
      const { version: _ignored, ...rest } = next as StoredTopology;
      const written = await this.store.casTopology(current.version, rest);
      if (written !== null) {
        this.apply(written);
        return written;
      }
    }
  }

  /** Flags nodes that missed writes as catching up (they serve no reads until the rebalancer caught them up). */
  async markCatchingUp(ids: readonly string[]): Promise<void> {
    const todo = ids.filter(
      (id) =>
        !this.flagging.has(id) &&
        this.topology.nodes.some((n) => n.id === id && n.state !== 'removed' && n.catching_up !== true),
    );
    if (todo.length === 0) return;
    for (const id of todo) this.flagging.add(id);
    try {
      await this.update((t) => {
        const hit = t.nodes.filter((n) => todo.includes(n.id) && n.state !== 'removed' && n.catching_up !== true);
        if (hit.length === 0) return null;
        for (const n of hit) n.catching_up = true;
        return t;
      });
      this.logger?.warn({ node_ids: todo }, 'nodes missed writes; they serve no reads until caught up');
    } catch (err) {
      this.logger?.warn({ err, node_ids: todo }, 'flagging nodes as catching up failed');
    } finally {
      for (const id of todo) this.flagging.delete(id);
    }
  }

  /** Returns the clients created for nodes new to this process. */
  private syncClients(): NodeApi[] {
    const added: NodeApi[] = [];
    const live = new Set<string>();
    for (const n of this.topology.nodes) {
      if (n.state === 'removed') continue;
      live.add(n.id);
      const existing = this.clients.get(n.id);
      if (existing !== undefined && existing.address === n.address.replace(/\/+$/, '')) continue;
      void existing?.close();
      const client = this.newClient(n.id, n.address);
      this.clients.set(n.id, client);
      added.push(client);
    }
    for (const [id, c] of this.clients) {
      if (!live.has(id)) {
        void c.close();
        this.clients.delete(id);
        this.health?.forget(id);
      }
    }
    return added;
  }

  /** A client for a node with this process's pool settings (also for nodes not in the topology yet). */
  newClient(id: string, address: string): NodeApi {
    return new NodeApi(id, address, {
      nodeMasterKey: this.cfg.node_master_key,
      timeoutMs: this.cfg.scatter.node_timeout_ms,
      maxConnections: this.cfg.connection_pool_per_node.max_total,
      idleTimeoutMs: this.cfg.connection_pool_per_node.idle_timeout_s * 1000,
      metrics: this.metrics,
    });
  }

  private buildTable(shards = this.topology.shards): RoutingTable {
    const nodes: RouteNode[] = this.topology.nodes.map((n) => ({
      id: n.id,
      replica_group: n.replica_group,
      state: n.state,
      health: this.health.isHealthy(n.id) ? 'healthy' : 'unhealthy',
      readable: n.catching_up !== true,
    }));
    return new RoutingTable({
      shards,
      replication_factor: this.topology.replication_factor,
      groups: this.topology.groups,
      nodes,
    });
  }

  private rebuild(): void {
    this.table = this.buildTable();
    this.tables.clear();
    if (this.metrics === null) return;
    this.metrics.rebalanceInProgress.set((this.topology.operations ?? []).length > 0 ? 1 : 0);
    const coverage = this.coverage();
    this.metrics.shardCoverage.set((this.topology.shards - coverage.uncovered.length) / this.topology.shards);
    this.metrics.degradedShards.set(coverage.degraded.length);
    const counts = this.table.shardCounts();
    for (const n of this.topology.nodes) this.metrics.shardDistribution.labels(n.id).set(counts.get(n.id) ?? 0);
  }

  /** Shards no healthy node can read (uncovered) and shards missing a healthy replica in some active group. */
  coverage(): { uncovered: number[]; degraded: number[] } {
    // A shard only a catching-up replica can answer is served (degraded) but not covered: readiness waits for it.
    const cover = this.table.coveringSet(0);
    const uncovered =
      cover.stale.length === 0 ? cover.uncovered : [...cover.uncovered, ...cover.stale].sort((a, b) => a - b);
    const degraded: number[] = [];
    for (let s = 0; s < this.topology.shards; s++) {
      for (const g of this.table.activeGroups) {
        const owners = this.table.owners(s, g);
        if (owners.length < this.topology.replication_factor || owners.some((id) => !this.health.isHealthy(id))) {
          degraded.push(s);
          break;
        }
      }
    }
    return { uncovered, degraded };
  }

  /** Probes every node once (before listening) and starts periodic health checks. */
  async start(): Promise<void> {
    await this.health.probeAll();
    this.rebuild();
    this.health.start();
    const down = this.liveClients()
      .filter((c) => !this.health.isHealthy(c.nodeId))
      .map((c) => c.nodeId);
    if (down.length > 0) await this.markCatchingUp(down);
    this.dataChecks = every(this.cfg.health.interval_ms, () => this.checkForEmptiedNodes(), {
      onError: (err) => this.logger?.warn({ err }, 'checking nodes for lost data failed'),
    });
  }

  /**
   * A node that restarted with an empty disk faster than the health checks notice answers `/health` as before; it
   * is recognised by holding no index while Miroir knows some, and flagged catching up so that the rebalancer
   * re-provisions and refills it before it serves reads again.
   */
  async checkForEmptiedNodes(): Promise<void> {
    if ((await this.store.listIndexes()).length === 0) return;
    const candidates = this.topology.nodes.filter(
      (n) => (n.state === 'active' || n.state === 'draining') && n.catching_up !== true && this.health.isHealthy(n.id),
    );
    const emptied: string[] = [];
    await Promise.all(
      candidates.map(async (n) => {
        if ((await this.clients.get(n.id)?.indexCount()) === 0) emptied.push(n.id);
      }),
    );
    // An index deleted this very moment (nodes first, the store after) makes the counts disagree briefly: only a
    // node found empty on two checks in a row is flagged.
    const confirmed = emptied.filter((id) => this.suspectedEmpty.has(id));
    this.suspectedEmpty = new Set(emptied);
    if (confirmed.length === 0 || (await this.store.listIndexes()).length === 0) return;
    this.logger?.warn({ node_ids: confirmed }, 'nodes hold no index while Miroir knows some: they lost their data');
    await this.markCatchingUp(confirmed);
  }

  async close(): Promise<void> {
    await this.dataChecks?.stop();
    await this.health.stop();
    await Promise.all(this.allClients().map((c) => c.close()));
  }

  topologyView(now = Date.now()): Record<string, unknown> {
    const counts = this.table.shardCounts();
    const nodes = this.topology.nodes.map((n) => {
      const h = this.health.get(n.id);
      const view: Record<string, unknown> = {
        id: n.id,
        address: n.address,
        replica_group: n.replica_group,
        state: n.state,
        health: h.health,
        shard_count: counts.get(n.id) ?? 0,
        last_seen_ms: h.lastSeenAt === null ? null : now - h.lastSeenAt,
      };
      if (n.catching_up === true) view.catching_up = true;
      if (h.error !== null) view.error = h.error;
      return view;
    });
    return {
      shards: this.topology.shards,
      replication_factor: this.topology.replication_factor,
      replica_groups: this.topology.groups.length,
      groups: this.topology.groups.map((g) => ({ id: g.id, state: g.state })),
      nodes,
      degraded_node_count: nodes.filter((n) => n.health !== 'healthy' && n.state !== 'removed').length,
      rebalance_in_progress: (this.topology.operations ?? []).length > 0,
      fully_covered: this.coverage().uncovered.length === 0,
    };
  }

  shardsView(): Record<string, unknown> {
    return {
      shards: this.topology.shards,
      replication_factor: this.topology.replication_factor,
      groups: this.topology.groups.map((g) => {
        const assignments: Record<string, string[]> = {};
        for (let s = 0; s < this.topology.shards; s++) assignments[String(s)] = [...this.table.owners(s, g.id)];
        return { id: g.id, assignments };
      }),
    };
  }
}
