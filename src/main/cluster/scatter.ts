// HOT PATH. Scattered reads over one covering set (SPEC C4, Decisions "Reading from a covering set", A2, A3, A4):
// a read plan first — the shards a filter pinning the primary key can match (core/query-plan.ts), each shard's
// replica chosen by adaptive replica selection — then one request per chosen node, asking it only for the shards it
// was chosen for (the client's filter AND `_miroir_shard IN [...]`, omitted when the node answers for everything it
// holds). A node request still running past the hedge trigger (fleet read p95 × multiplier) is duplicated to other
// replicas of the same shards (another group when allowed), within `max_hedges_per_query`: the first complete answer
// wins, the loser is aborted. A node that fails is retried once per shard on another readable replica of any active
// group; what stays missing follows `scatter.unavailable_shard_policy`, and when no node answered at all the read
// fails with 503 miroir_shard_unavailable (never an empty 200). A node's refusal of the query itself (4xx) is the
// client's error, passed through as the node gave it. Reads only: writes never come here.
import { MeiliError } from '../../core/errors.js';
import type { NodeAnswer } from '../../core/merge.js';
import { planPkFilter, PLAN_REASON_TEXT, type PkPlan } from '../../core/query-plan.js';
import type { CoveringSet, ReadPolicy, RoutingTable } from '../../core/rendezvous.js';
import { andFilters, withShardFilter } from '../../core/shard-filter.js';
import type { Logger } from '../observability/logger.js';
import type { Metrics } from '../observability/metrics.js';
import { NodeRequestError, NodeResponseError, type NodeApi } from './node-api.js';
import { CallAbort, type CallSignal } from './call-signal.js';
import type { NodeCall } from './node-client.js';
import type { ReplicaSelector } from './replica-selector.js';
import type { TopologyService } from './topology.js';

/** The `query_planner` config block. */
export interface PlannerConfig {
  enabled: boolean;
  max_pk_literals_narrowable: number;
  log_plans: boolean;
}

/** The `hedging` config block. */
export interface HedgingConfig {
  enabled: boolean;
  p95_trigger_multiplier: number;
  min_trigger_ms: number;
  max_hedges_per_query: number;
  cross_group_fallback: boolean;
}

export interface ScatterDeps {
  topology: TopologyService;
  metrics: Metrics;
  unavailablePolicy: 'partial' | 'error';
  /** Adaptive replica selection and the hedge trigger; null keeps the routing table's rotation and never hedges. */
  selector?: ReplicaSelector | null;
  planner?: PlannerConfig;
  hedging?: HedgingConfig;
  logger?: Logger | null;
  /** TTL on: the extra node filter hiding the index's expired documents (null when it has none to hide). */
  expiryFilter?: (uid: string) => Promise<string | null>;
  /** This read's consistency options (session pin, nodes below a requested settings version); absent: none. */
  policy?: ReadPolicy | null;
}

/** The client's filter with the index's expiry filter ANDed in (TTL on), else as it is. */
export async function hideExpired(deps: ScatterDeps, uid: string, filter: unknown): Promise<unknown> {
  if (deps.expiryFilter === undefined) return filter;
  return andFilters(filter, await deps.expiryFilter(uid));
}

/** 503 miroir_settings_version_stale: the nodes a read may use cannot answer for every shard. */
export function settingsVersionStale(): MeiliError {
  return new MeiliError(
    'miroir_settings_version_stale',
    'No node holding the requested settings version (`X-Miroir-Min-Settings-Version`) can answer for every shard.',
  );
}

export type ScatterRoute = 'search' | 'facet-search' | 'documents/fetch';

export interface Scattered<T = NodeAnswer> {
  answers: T[];
  /** Shards no replica could answer, or only a replica still catching up on missed writes (ascending). */
  missing: number[];
  nodeCount: number;
}

/** What a read will do before any node is asked: the narrowing decision and the covering set. */
export interface ReadPlan {
  pk: PkPlan;
  cover: CoveringSet;
  table: RoutingTable;
  /** Groups a retry may use, the read's own first (tenant affinity keeps retries inside the tenant's groups). */
  retryGroups: readonly number[];
  /**
   * Groups a hedge may use, the read's own first: a tenant's read is pinned to its group, so its hedges stay there
   * (only a failed node sends it to the tenant's other groups, as a retry).
   */
  hedgeGroups: readonly number[];
}

let querySeq = 0;

const OPERATION: Record<ScatterRoute, string> = {
  search: 'search',
  'facet-search': 'facet_search',
  'documents/fetch': 'documents_fetch',
};

const DISABLED: PkPlan = Object.freeze({ narrowed: false, reason: 'planner_disabled', shards: null, literals: 0 });
const UNPLANNED: PkPlan = Object.freeze({ narrowed: false, reason: 'no_primary_key', shards: null, literals: 0 });

/**
 * The read plan of one query: `primaryKey` null skips narrowing. `record` false (explain) leaves the metrics alone.
 */
export function planRead(
  deps: ScatterDeps,
  uid: string,
  filter: unknown,
  primaryKey: string | null,
  record = true,
): ReadPlan {
  const table = deps.topology.routingFor(uid);
  const planner = deps.planner;
  const pk =
    planner === undefined || primaryKey === null
      ? UNPLANNED
      : !planner.enabled
        ? DISABLED
        : planPkFilter(filter, primaryKey, table.shards, planner.max_pk_literals_narrowable);
  const selector = deps.selector ?? null;
  const policy = deps.policy ?? null;
  const chooser = selector !== null && selector.active ? selector : null;
  const cover =
    record || chooser === null
      ? table.coveringSet(querySeq++, pk.shards, chooser, policy)
      : chooser.withoutExploration(() => table.coveringSet(querySeq++, pk.shards, chooser, policy));
  if (policy?.exclude != null && policy.exclude.size > 0 && cover.uncovered.length > 0) throw settingsVersionStale();
  if (record && primaryKey !== null) {
    const m = deps.metrics;
    (pk.narrowed ? m.planNarrowed : m.planNotNarrowed).inc();
    m.planFanout.observe(cover.assignments.size);
    m.planNarrowingRatio.observe(pk.shards === null ? 1 : pk.shards.length / table.shards);
    if (planner?.log_plans === true && deps.logger)
      deps.logger.info(
        {
          index: uid,
          narrowed: pk.narrowed,
          reason: pk.reason,
          why: PLAN_REASON_TEXT[pk.reason],
          shards: pk.shards,
          nodes: [...cover.assignments.keys()],
          group: cover.group,
        },
        'read plan',
      );
  }
  // A read confined to groups (a tenant placement) retries in them, its own group first, and hedges only in it.
  const confined = policy?.groups ?? null;
  const retryGroups =
    confined === null ? table.activeGroups : [cover.group, ...confined.filter((g) => g !== cover.group)];
  const hedgeGroups = confined === null ? table.activeGroups : [cover.group];
  return { pk, cover, table, retryGroups, hedgeGroups };
}

/** A request that lost to its hedge (or the other way round) and was aborted. */
const ABORTED = Symbol('aborted');
type Outcome<T> = T | MeiliError | typeof ABORTED;

/** How a node's answer body becomes what the scatter hands back (null: parsed as JSON). */
export type ReadAnswer<T> = ((body: Buffer) => T) | null;

/** One node's answer, or the error that decides what happens next (client error, or retry elsewhere). */
async function askNode<T>(
  deps: ScatterDeps,
  nodeId: string,
  uid: string,
  route: ScatterRoute,
  body: string,
  read: ReadAnswer<T>,
  signal?: CallSignal,
): Promise<Outcome<T>> {
  const api = deps.topology.client(nodeId);
  if (api === undefined)
    return new MeiliError('miroir_shard_unavailable', 'A node left the topology while the read was in flight.');
  const selector = deps.selector ?? null;
  selector?.started(nodeId);
  const started = performance.now();
  let failed = false;
  try {
    const call: NodeCall = {
      method: 'POST',
      path: `/indexes/${encodeURIComponent(uid)}/${route}`,
      body,
      operation: OPERATION[route],
      signal,
      read: true,
    };
    return read === null ? await api.call<T>(call) : read(await api.callBody(call));
  } catch (err) {
    if (signal?.aborted === true) return ABORTED;
    if (err instanceof NodeResponseError) {
      failed = err.status >= 500;
      return err.status < 500
        ? err.toMeiliError()
        : new MeiliError('miroir_shard_unavailable', `A node failed the read (${err.status}).`);
    }
    failed = true;
    if (err instanceof NodeRequestError)
      return new MeiliError('miroir_shard_unavailable', `A node did not answer the read (${err.kind}).`);
    throw err;
  } finally {
    selector?.finished(nodeId, performance.now() - started, failed, signal?.aborted === true);
  }
}

/** Readable replicas of `shard` other than `avoid`: the group's own first, then (when allowed) other groups. */
function alternatives(
  table: RoutingTable,
  shard: number,
  group: number,
  avoid: string,
  otherGroups: readonly number[],
  exclude: ReadonlySet<string> | null,
): string[] {
  const usable = (id: string) => id !== avoid && table.canRead(id) && (exclude === null || !exclude.has(id));
  const out: string[] = [];
  for (const id of table.owners(shard, group)) if (usable(id)) out.push(id);
  if (out.length === 0)
    for (const g of otherGroups) if (g !== group) for (const id of table.owners(shard, g)) if (usable(id)) out.push(id);
  return out;
}

/** The hedge trigger of a query (ms), or null when it may not hedge. */
export function hedgeTrigger(deps: ScatterDeps): number | null {
  const h = deps.hedging;
  const selector = deps.selector ?? null;
  if (h === undefined || !h.enabled || h.max_hedges_per_query === 0 || selector === null) return null;
  return selector.hedgeTriggerMs(h.p95_trigger_multiplier, h.min_trigger_ms);
}

type Targets = Array<[string, readonly number[]]>;

/** One covering-set node's share of a query, with its possible hedge: settles with the first complete answer. */
class Part<T> {
  settled = false;
  hedged = false;
  private pending = 0;
  private readonly controllers: CallAbort[] = [];
  readonly started = performance.now();
  readonly done: Promise<T[] | MeiliError>;
  private resolve!: (r: T[] | MeiliError) => void;

  constructor(
    private readonly q: Query<T>,
    readonly nodeId: string,
    readonly shards: readonly number[],
  ) {
    this.done = new Promise((r) => (this.resolve = r));
    this.launch([[nodeId, shards]], false);
  }

  launch(targets: Targets, isHedge: boolean): void {
    const ctrl = this.q.trigger === null ? null : new CallAbort();
    if (ctrl !== null) this.controllers.push(ctrl);
    this.pending++;
    const started = performance.now();
    void Promise.all(
      targets.map(([id, shards]) =>
        askNode(this.q.deps, id, this.q.uid, this.q.route, this.q.bodyFor(id, shards), this.q.read, ctrl ?? undefined),
      ),
    ).then(
      (results) => this.settle(results, isHedge, ctrl, started),
      (err: unknown) => {
        this.pending--;
        if (!this.settled) {
          this.settled = true;
          this.resolve(err instanceof MeiliError ? err : new MeiliError('internal', String(err)));
        }
      },
    );
  }

  private settle(results: Array<Outcome<T>>, isHedge: boolean, ctrl: CallAbort | null, started: number): void {
    this.pending--;
    if (this.settled) return;
    let failure: MeiliError | null = null;
    for (const r of results) {
      if (r === ABORTED) return;
      if (r instanceof MeiliError && (failure === null || r.status < 500)) failure = r;
    }
    if (failure !== null && failure.status >= 500 && this.pending > 0) {
      ctrl?.abort(); // the other attempt may still answer
      return;
    }
    this.settled = true;
    for (const c of this.controllers) if (c !== ctrl) c.abort();
    if (this.hedged) {
      const m = this.q.deps.metrics;
      if (failure !== null) m.hedgeFailed.inc();
      else if (isHedge) {
        m.hedgeWon.inc();
        const took = performance.now() - this.started;
        const expected = this.q.deps.selector?.score(this.nodeId) ?? took;
        m.hedgeSavings.observe(Math.max(0, expected - took) / 1000);
      } else m.hedgeLost.inc();
    }
    void started;
    this.resolve(failure ?? (results as T[]));
  }
}

interface Query<T> {
  deps: ScatterDeps;
  uid: string;
  route: ScatterRoute;
  read: ReadAnswer<T>;
  /** The JSON body asking `nodeId` for `shards`. */
  bodyFor: (nodeId: string, shards: readonly number[]) => string;
  trigger: number | null;
  /** Groups the read may use (its own first): a tenant's or a session's read hedges inside them only. */
  groups: readonly number[];
}

/** Fires the query's hedges: the outstanding parts with the worst scores first, within the budget. */
function fireHedges<T>(q: Query<T>, parts: Array<Part<T>>, cover: CoveringSet, table: RoutingTable): void {
  const h = q.deps.hedging!;
  const selector = q.deps.selector!;
  // A session's pinned group stays the read's group; nodes below a requested settings version are never asked.
  const policy = q.deps.policy ?? null;
  const crossGroup = h.cross_group_fallback && (policy?.group ?? null) === null;
  const open = parts.filter((p) => !p.settled && !p.hedged);
  if (open.length === 0) return;
  open.sort((a, b) => selector.score(b.nodeId) - selector.score(a.nodeId));
  let budget = h.max_hedges_per_query;
  for (const part of open) {
    if (budget === 0) {
      q.deps.metrics.hedgeBudgetExhausted.inc();
      return;
    }
    const byNode = new Map<string, number[]>();
    let possible = true;
    for (const s of part.shards) {
      const alt = alternatives(table, s, cover.group, part.nodeId, crossGroup ? q.groups : [], policy?.exclude ?? null);
      const id = selector.choose(alt, s, false);
      if (id === null) {
        possible = false;
        break;
      }
      let list = byNode.get(id);
      if (list === undefined) byNode.set(id, (list = []));
      list.push(s);
    }
    if (!possible) continue;
    budget--;
    part.hedged = true;
    part.launch([...byNode], true);
  }
}

export async function scatter<T = NodeAnswer>(
  deps: ScatterDeps,
  uid: string,
  filter: unknown,
  build: () => Record<string, unknown>,
  route: ScatterRoute,
  plan?: ReadPlan,
  read: ReadAnswer<T> = null,
): Promise<Scattered<T>> {
  if (deps.expiryFilter !== undefined) filter = await hideExpired(deps, uid, filter);
  const { cover, table, retryGroups, hedgeGroups } = plan ?? planRead(deps, uid, filter, null);
  deps.metrics.fanOut.observe(cover.assignments.size);
  const policy = deps.policy ?? null;
  // A node asked for every shard it holds gets the client's filter alone: that body is the same for all such nodes,
  // serialized once per read.
  let whole: string | null = null;
  const bodyFor = (nodeId: string, shards: readonly number[]): string => {
    const held = table.heldShards(nodeId);
    const exact = held.length === shards.length && held.every((s, i) => s === shards[i]);
    if (exact && whole !== null) return whole;
    const f = withShardFilter(filter, exact ? null : shards);
    const body = build();
    if (f === undefined || f === null) delete body.filter;
    else body.filter = f;
    const json = JSON.stringify(body);
    if (exact) whole = json;
    return json;
  };
  // One copy of each shard: nothing to hedge to (no trigger, no abort handle per part).
  const trigger = table.hasSecondCopy ? hedgeTrigger(deps) : null;
  const q: Query<T> = { deps, uid, route, read, bodyFor, trigger, groups: hedgeGroups };
  const parts: Array<Part<T>> = [];
  for (const [nodeId, shards] of cover.assignments) parts.push(new Part(q, nodeId, shards));
  const timer = q.trigger === null ? null : setTimeout(() => fireHedges(q, parts, cover, table), Math.ceil(q.trigger));
  const answers: T[] = [];
  const missing: number[] = [...cover.uncovered];
  try {
    await Promise.all(
      parts.map(async (part) => {
        const first = await part.done;
        if (!(first instanceof MeiliError)) {
          answers.push(...first);
          return;
        }
        if (first.status < 500) throw first; // the node refused the query itself: the client's error
        // Retry the node's shards once, each on another readable replica of any active group.
        deps.metrics.scatterRetries.inc();
        const alt = new Map<string, number[]>();
        for (const s of part.shards) {
          const other = retryGroups
            .flatMap((g) => [...table.owners(s, g)])
            .find((id) => id !== part.nodeId && table.canRead(id) && policy?.exclude?.has(id) !== true);
          if (other === undefined) missing.push(s);
          else (alt.get(other) ?? alt.set(other, []).get(other)!).push(s);
        }
        await Promise.all(
          [...alt].map(async ([otherId, list]) => {
            const again = await askNode(deps, otherId, uid, route, bodyFor(otherId, list), read);
            if (again === ABORTED) missing.push(...list);
            else if (again instanceof MeiliError) {
              if (again.status < 500) throw again;
              missing.push(...list);
            } else answers.push(again);
          }),
        );
      }),
    );
  } finally {
    if (timer !== null) clearTimeout(timer);
  }
  const lost = [...new Set(missing)].sort((a, b) => a - b);
  if (lost.length > 0) {
    deps.metrics.partialResponses.inc();
    if (answers.length === 0)
      throw new MeiliError(
        'miroir_shard_unavailable',
        'No node could answer this read: every shard is unavailable right now.',
      );
    if (deps.unavailablePolicy === 'error')
      throw new MeiliError(
        'miroir_shard_unavailable',
        `Shards ${lost.join(', ')} have no healthy replica in any active group.`,
      );
  }
  // Shards answered by a replica still catching up are served, and reported as degraded like missing ones.
  const degraded = cover.stale.length === 0 ? lost : [...new Set([...lost, ...cover.stale])].sort((a, b) => a - b);
  return { answers, missing: degraded, nodeCount: cover.assignments.size };
}

let oneSeq = 0;

/**
 * A read one replica answers (a document by id): the replica adaptive selection prefers first, hedged to the next
 * one past the trigger, then the rest in turn when one fails. `read` throws NodeResponseError / NodeRequestError
 * like NodeApi; a 4xx from any replica is the answer. Null when no replica answered.
 */
export async function readOne<T>(
  deps: ScatterDeps,
  replicas: readonly string[],
  read: (api: NodeApi, signal: CallSignal | undefined) => Promise<T>,
): Promise<T | null> {
  const selector = deps.selector ?? null;
  const seq = oneSeq++;
  let order: string[] = [];
  if (selector !== null && selector.active && replicas.length > 1) {
    selector.begin();
    const first = selector.choose(replicas, seq, false)!;
    selector.end();
    order.push(first);
    for (let i = 0; i < replicas.length; i++) {
      const id = replicas[(seq + i) % replicas.length]!;
      if (id !== first) order.push(id);
    }
  } else order = replicas.map((_, i) => replicas[(seq + i) % replicas.length]!);
  const attempt = async (id: string, signal?: CallSignal): Promise<{ ok: T } | { err: unknown } | null> => {
    const api = deps.topology.client(id);
    if (api === undefined) return null;
    selector?.started(id);
    const started = performance.now();
    let failed = false;
    try {
      return { ok: await read(api, signal) };
    } catch (err) {
      if (signal?.aborted === true) return null;
      if (err instanceof NodeResponseError && err.status < 500) throw err.toMeiliError();
      if (!(err instanceof NodeResponseError) && !(err instanceof NodeRequestError)) throw err;
      failed = true;
      return { err };
    } finally {
      selector?.finished(id, performance.now() - started, failed, signal?.aborted === true);
    }
  };
  const trigger = order.length > 1 ? hedgeTrigger(deps) : null;
  let i = 0;
  if (trigger !== null) {
    // The first two replicas race once the first is past the trigger; the loser is aborted.
    const a = new CallAbort();
    const b = new CallAbort();
    const primary = attempt(order[0]!, a);
    let hedged = false;
    let timer: NodeJS.Timeout | null = null;
    const hedge = new Promise<{ ok: T } | { err: unknown } | null>((resolve, reject) => {
      timer = setTimeout(() => {
        hedged = true;
        attempt(order[1]!, b).then(resolve, reject);
      }, Math.ceil(trigger));
    });
    void primary.catch(() => undefined);
    void hedge.catch(() => undefined);
    const first = await Promise.race([
      primary.then((r) => ({ r, hedge: false })),
      hedge.then((r) => ({ r, hedge: true })),
    ]);
    if (first.r !== null && 'ok' in first.r) {
      if (timer !== null) clearTimeout(timer);
      if (first.hedge) {
        a.abort();
        deps.metrics.hedgeWon.inc();
      } else {
        b.abort();
        if (hedged) deps.metrics.hedgeLost.inc();
      }
      return first.r.ok;
    }
    // The first to finish failed: the other (if running) may still answer.
    if (timer !== null && !hedged) clearTimeout(timer);
    if (hedged) {
      const other = await (first.hedge ? primary : hedge);
      if (other !== null && 'ok' in other) return other.ok;
      deps.metrics.hedgeFailed.inc();
    }
    i = hedged ? 2 : 1;
  }
  for (; i < order.length; i++) {
    const r = await attempt(order[i]!);
    if (r !== null && 'ok' in r) return r.ok;
  }
  return null;
}
