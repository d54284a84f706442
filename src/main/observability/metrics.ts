// The proxy's one metrics registry (prom-client): every metric of SPEC C16 declared once, per proxy instance
// (tests run several proxies in one process). Labels are path templates and node ids, never raw ids or keys.
import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';
import { HistogramCells } from './cells.js';
import { RequestMetrics } from './request-metrics.js';

const LATENCY_BUCKETS = [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10];

export function createMetrics(opts: { defaultMetrics?: boolean } = {}) {
  const registry = new Registry();
  if (opts.defaultMetrics !== false) collectDefaultMetrics({ register: registry, prefix: 'miroir_process_' });
  const r = [registry];
  const requests = new RequestMetrics(registry, LATENCY_BUCKETS);
  return {
    registry,
    /** Per-request cells behind miroir_request_duration_seconds, miroir_requests_total and the in-flight count. */
    requests,
    requestsInFlight: new Gauge({
      name: 'miroir_requests_in_flight',
      help: 'Client requests being served',
      registers: r,
      collect() {
        this.set(requests.inFlight);
      },
    }),
    idempotencyHits: new Counter({
      name: 'miroir_idempotency_hits_total',
      help: 'Writes sent with an Idempotency-Key, by outcome (new, replayed, waited = replayed after waiting for the first, conflict)',
      labelNames: ['outcome'] as const,
      registers: r,
    }),
    settingsHashMismatch: new Counter({
      name: 'miroir_settings_hash_mismatch_total',
      help: "Nodes found holding physical settings other than the index's committed ones (drift check)",
      registers: r,
    }),
    nodeHealthy: new Gauge({
      name: 'miroir_node_healthy',
      help: '1 when the node passes health checks, else 0',
      labelNames: ['node_id'] as const,
      registers: r,
    }),
    /** Cells (one per node and operation, kept by each node client): no label hashing per node request. */
    nodeRequestDuration: new HistogramCells(registry, {
      name: 'miroir_node_request_duration_seconds',
      help: 'Latency of requests Miroir sends to nodes, by node and operation',
      labelNames: ['node_id', 'operation'],
      buckets: LATENCY_BUCKETS,
    }),
    nodeErrors: new Counter({
      name: 'miroir_node_errors_total',
      help: 'Failed node requests by node and error type (timeout, refused, 5xx, 4xx, network)',
      labelNames: ['node_id', 'error_type'] as const,
      registers: r,
    }),
    shardCoverage: new Gauge({
      name: 'miroir_shard_coverage',
      help: 'Fraction of shards that at least one healthy active node can serve (1 = fully covered)',
      registers: r,
    }),
    degradedShards: new Gauge({
      name: 'miroir_degraded_shards_total',
      help: 'Shards currently missing at least one healthy replica in some active group',
      registers: r,
    }),
    shardDistribution: new Gauge({
      name: 'miroir_shard_distribution',
      help: 'Shard copies assigned to each node',
      labelNames: ['node_id'] as const,
      registers: r,
    }),
    documentsRouted: new Counter({
      name: 'miroir_documents_routed_total',
      help: 'Documents routed to their shards by the write path',
      registers: r,
    }),
    degradedWrites: new Counter({
      name: 'miroir_degraded_writes_total',
      help: 'Writes acknowledged while some replica group missed quorum for some shard (X-Miroir-Degraded)',
      registers: r,
    }),
    noQuorumWrites: new Counter({
      name: 'miroir_no_quorum_writes_total',
      help: 'Writes refused with 503 miroir_no_quorum',
      registers: r,
    }),
    ...planMetrics(r),
    fanOut: new HistogramCells(registry, {
      name: 'miroir_scatter_fan_out_size',
      help: 'Nodes asked per scattered read',
      labelNames: [],
      buckets: [1, 2, 3, 4, 6, 8, 12, 16, 24, 32, 64],
    }).cell(),
    partialResponses: new Counter({
      name: 'miroir_scatter_partial_responses_total',
      help: 'Reads answered without some shards (X-Miroir-Degraded) or refused by the error policy',
      registers: r,
    }),
    scatterRetries: new Counter({
      name: 'miroir_scatter_retries_total',
      help: 'Node reads retried on another replica after an error or timeout',
      registers: r,
    }),
    vectorOverFetched: new Counter({
      name: 'miroir_vector_search_over_fetched_total',
      help: 'Vector or hybrid searches whose nodes were asked for more hits than the page needs (over_fetch_factor)',
      registers: r,
    }),
    vectorMergeStrategy: new Counter({
      name: 'miroir_vector_merge_strategy',
      help: 'Hybrid searches merged over shards, by merge strategy (convex or rrf)',
      labelNames: ['strategy'] as const,
      registers: r,
    }),
    vectorEmbedderDrift: new Counter({
      name: 'miroir_vector_embedder_drift_total',
      help: 'Vector searches where nodes disagreed on the query vector they used (embedder settings drift)',
      registers: r,
    }),
    tenantQueries: new Counter({
      name: 'miroir_tenant_queries_total',
      help: 'Reads of a tenant (tenant affinity), by tenant and the group that served them (rotate: not pinned)',
      labelNames: ['tenant', 'group'] as const,
      registers: r,
    }),
    tenantPinnedGroups: new Gauge({
      name: 'miroir_tenant_pinned_groups',
      help: "The replica group a tenant's reads are pinned to",
      labelNames: ['tenant'] as const,
      registers: r,
    }),
    tenantFallback: new Counter({
      name: 'miroir_tenant_fallback_total',
      help: "Tenant reads not served by the tenant's own group, by reason (unknown_tenant, group_unavailable, no_shared_group)",
      labelNames: ['reason'] as const,
      registers: r,
    }),
    rebalanceInProgress: new Gauge({
      name: 'miroir_rebalance_in_progress',
      help: '1 while a topology change (node add/drain/remove, group add/remove, recovery) is running or queued',
      registers: r,
    }),
    rebalanceDocumentsMigrated: new Counter({
      name: 'miroir_rebalance_documents_migrated_total',
      help: 'Documents this pod copied onto new or recovering shard owners (copies and verify-pass repairs)',
      registers: r,
    }),
    rebalanceDuration: new Histogram({
      name: 'miroir_rebalance_duration_seconds',
      help: 'Duration of finished topology changes, from start to the end of cleanup',
      labelNames: ['kind'] as const,
      buckets: [1, 5, 15, 30, 60, 300, 900, 1800, 3600, 7200],
      registers: r,
    }),
    tasksTotal: new Counter({
      name: 'miroir_tasks_total',
      help: 'Miroir tasks that reached a final status, by status',
      labelNames: ['status'] as const,
      registers: r,
    }),
    taskProcessingAge: new Gauge({
      name: 'miroir_task_processing_age_seconds',
      help: 'Age of the oldest task still waiting to settle (0 when none)',
      registers: r,
    }),
    // ---- anti-entropy (SPEC A8) and document TTL (A14)
    antiEntropyShardsScanned: new Counter({
      name: 'miroir_antientropy_shards_scanned_total',
      help: 'Shards (of one index) an anti-entropy pass compared across their replicas',
      registers: r,
    }),
    antiEntropyMismatches: new Counter({
      name: 'miroir_antientropy_mismatches_found_total',
      help: 'Documents whose replicas disagreed, by kind (missing, stale, conflict, deleted, expired)',
      labelNames: ['kind'] as const,
      registers: r,
    }),
    antiEntropyRepaired: new Counter({
      name: 'miroir_antientropy_docs_repaired_total',
      help: 'Documents anti-entropy repaired (copied to or deleted from replicas)',
      registers: r,
    }),
    antiEntropyLastScan: new Gauge({
      name: 'miroir_antientropy_last_scan_completed_seconds',
      help: 'Unix time the last anti-entropy pass of this pod completed',
      registers: r,
    }),
    antiEntropyPassDuration: new Histogram({
      name: 'miroir_antientropy_pass_duration_seconds',
      help: 'Duration of anti-entropy passes (every shard the pass covered)',
      buckets: [0.1, 0.5, 1, 5, 15, 60, 300, 900, 3600],
      registers: r,
    }),
    antiEntropyPagesRead: new Counter({
      name: 'miroir_antientropy_pages_read_total',
      help: 'Document pages anti-entropy read from nodes (the load a pass puts on them)',
      registers: r,
    }),
    antiEntropyConsecutive: new Gauge({
      name: 'miroir_antientropy_consecutive_mismatch_passes',
      help: 'Most passes in a row that found mismatches on one shard of one index (3 or more: investigate)',
      registers: r,
    }),
    ttlExpired: new Counter({
      name: 'miroir_ttl_documents_expired_total',
      help: 'Expired documents the TTL sweeper deleted, by index',
      labelNames: ['index'] as const,
      registers: r,
    }),
    ttlSweepDuration: new Histogram({
      name: 'miroir_ttl_sweep_duration_seconds',
      help: 'Duration of one TTL sweep of one index',
      labelNames: ['index'] as const,
      buckets: [0.01, 0.05, 0.1, 0.5, 1, 5, 15, 60, 300],
      registers: r,
    }),
    ttlPending: new Gauge({
      name: 'miroir_ttl_pending_estimate',
      help: 'Expired documents still waiting for a sweep after the last one, by index',
      labelNames: ['index'] as const,
      registers: r,
    }),
    nativeEnabled: new Gauge({
      name: 'miroir_native_enabled',
      help: '1 when the Rust addon serves hashing and routing, 0 for the TypeScript fallback',
      registers: r,
    }),
  };
}

export type Metrics = ReturnType<typeof createMetrics>;

/** The metrics of SPEC A2 (hedged reads), A3 (replica selection), A4 (query planner) and A20 (explain). */
function planMetrics(r: Registry[]) {
  const narrowable = new Counter({
    name: 'miroir_query_plan_narrowable_total',
    help: 'Read plans by whether the primary-key planner narrowed the fan-out',
    labelNames: ['narrowed'] as const,
    registers: r,
  });
  const hedges = new Counter({
    name: 'miroir_hedge_fired_total',
    help: 'Hedged node reads by outcome (won: the hedge answered first; lost: the original did; failed: neither)',
    labelNames: ['outcome'] as const,
    registers: r,
  });
  return {
    planNarrowed: narrowable.labels('true'),
    planNotNarrowed: narrowable.labels('false'),
    planFanout: new HistogramCells(r[0]!, {
      name: 'miroir_query_plan_fanout_size',
      help: 'Nodes a read plan asks',
      labelNames: [],
      buckets: [1, 2, 3, 4, 6, 8, 12, 16, 24, 32, 64],
    }).cell(),
    planNarrowingRatio: new HistogramCells(r[0]!, {
      name: 'miroir_query_plan_narrowing_ratio',
      help: "Shards a read plan asks over the index's shards (1 = every shard)",
      labelNames: [],
      buckets: [0.01, 0.05, 0.1, 0.25, 0.5, 0.75, 0.99, 1],
    }).cell(),
    hedgeWon: hedges.labels('won'),
    hedgeLost: hedges.labels('lost'),
    hedgeFailed: hedges.labels('failed'),
    hedgeSavings: new Histogram({
      name: 'miroir_hedge_latency_savings_seconds',
      help: "For a hedge that won: the original node's p95 estimate minus the read's actual latency (≥ 0)",
      buckets: [0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5],
      registers: r,
    }),
    hedgeBudgetExhausted: new Counter({
      name: 'miroir_hedge_budget_exhausted_total',
      help: 'Reads that had more slow node requests than max_hedges_per_query allowed to hedge',
      registers: r,
    }),
    replicaScore: new Gauge({
      name: 'miroir_replica_selection_score',
      help: 'Adaptive replica selection score per node (lower is preferred)',
      labelNames: ['node_id'] as const,
      registers: r,
    }),
    replicaExploration: new Counter({
      name: 'miroir_replica_selection_exploration_total',
      help: 'Covering sets whose replicas were picked at random (exploration_epsilon), slow nodes included',
      registers: r,
    }),
    explainRequests: new Counter({
      name: 'miroir_explain_requests_total',
      help: 'POST /indexes/{uid}/explain requests answered',
      registers: r,
    }),
    explainWarnings: new Counter({
      name: 'miroir_explain_warnings_total',
      help: 'Warnings explain answers carried, by type',
      labelNames: ['warning_type'] as const,
      registers: r,
    }),
    explainExecute: new Counter({
      name: 'miroir_explain_execute_total',
      help: 'Explain requests that ran the search (?execute=true)',
      registers: r,
    }),
  };
}
