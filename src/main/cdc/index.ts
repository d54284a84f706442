// Change data capture (SPEC A13, Round 2 decisions "CDC", issue 28): `createCdc` makes the change log (given to the
// task registry and the internal writers), adds `GET /_miroir/changes` (the admin key, or an API key with the
// `changes.get` action on every index) to the route table, and starts the sinks once the pod knows its peers.
// Called only when `cdc.enabled`; otherwise nothing of it exists and the write path does no CDC work.
import type { AuthResult } from '../../core/auth/authorize.js';
import { parseChangesQuery } from '../../core/cdc.js';
import { MeiliError } from '../../core/errors.js';
import type { RouteSpec } from '../../http/server.js';
import type { Store } from '../../store/store.js';
import type { RouteGuard } from '../api/routes.js';
import { LeaseKeeper } from '../cluster/leases.js';
import type { MiroirConfig } from '../config/schema.js';
import type { Logger } from '../observability/logger.js';
import type { Metrics } from '../observability/metrics.js';
import { ChangeLog } from './log.js';
import { cdcMetrics } from './metrics.js';
import { natsTarget, SinkRunner, webhookTarget, type SinkTarget } from './sinks.js';

export interface CdcDeps {
  config: Readonly<MiroirConfig>;
  store: Store;
  metrics: Metrics;
  logger: Logger | null;
  env?: NodeJS.ProcessEnv;
}

export interface Cdc {
  readonly log: ChangeLog;
  /** Adds `GET /_miroir/changes`. */
  addRoutes(routes: Array<RouteSpec<AuthResult>>): void;
  /** Starts retention and the sinks (each on the pod holding its lease). */
  start(podId: string, owns: (item: string) => boolean): Promise<void>;
  stop(): Promise<void>;
}

const GUARD: RouteGuard = {
  kind: 'client',
  auth: Object.freeze({ actions: Object.freeze(['changes.get']), scope: 'global' }),
  tenant: false,
  adminKey: true,
};

export function sinkLeaseScope(sink: string): string {
  return `cdc_sink:${sink}`;
}

export function createCdc(deps: CdcDeps): Cdc {
  const cfg = deps.config.cdc;
  const metrics = cdcMetrics(deps.metrics.registry);
  const log = new ChangeLog({ store: deps.store, config: cfg, metrics, logger: deps.logger });
  // Built here so a misconfigured sink (secret_env unset) stops the start, not the first delivery.
  const targets: SinkTarget[] = [];
  if (cfg.sinks.webhook !== undefined) targets.push(webhookTarget(cfg.sinks.webhook, deps.env ?? process.env));
  if (cfg.sinks.nats !== undefined) targets.push(natsTarget(cfg.sinks.nats));
  let leases: LeaseKeeper | null = null;
  const runners: SinkRunner[] = [];
  return {
    log,
    addRoutes(routes) {
      routes.push({
        method: 'GET',
        path: '/_miroir/changes',
        name: '/_miroir/changes',
        body: 'none',
        auth: GUARD,
        handler: async (ctx) => {
          const q = parseChangesQuery(Object.fromEntries(ctx.query));
          if (typeof q === 'string') throw new MeiliError('miroir_invalid_changes_query', q);
          const page = await log.poll(q, ctx.query.get('include_body') === 'true');
          return { status: 200, body: page };
        },
      });
    },
    async start(podId, owns) {
      await log.start(owns);
      if (targets.length === 0) return;
      const le = deps.config.leader_election;
      // Mode B: one pod delivers per sink. A lone pod on LMDB holds the leases at once.
      leases = new LeaseKeeper({
        store: deps.store,
        owner: podId,
        ttlMs: le.lease_ttl_s * 1000,
        renewMs: le.renew_interval_s * 1000,
        scopes: targets.map((t) => sinkLeaseScope(t.name)),
        logger: deps.logger ?? undefined,
      });
      await leases.start();
      for (const t of targets) {
        const keeper = leases;
        const r = new SinkRunner(t, {
          store: deps.store,
          log,
          metrics,
          logger: deps.logger,
          leading: () => keeper.isLeader(sinkLeaseScope(t.name)),
        });
        runners.push(r);
        r.start();
      }
    },
    async stop() {
      await log.stop();
      await Promise.all(runners.map((r) => r.stop()));
      await leases?.stop();
    },
  };
}
