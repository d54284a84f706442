// HOT PATH. Adaptive replica selection (SPEC A3) and the hedge trigger (A2): per node, time-decayed averages
// (`ewma_half_life_ms`) of read latency, its spread and the error rate, plus reads in flight. A node's score is
// latency_weight × p95 estimate (mean + 1.645 σ, ms) + inflight_weight × in flight + error_weight × error rate (%);
// each shard's read goes to the lowest score — among replicas within a near-equal band of it, the query's rotation
// decides, so equal nodes still share the load — except for an `exploration_epsilon` share of covering sets that
// pick at random. A node slower than 5 × the fleet median is excluded from ordinary picks until it recovers; the
// exploration picks still reach it (counted), so its recovery is seen. The hedge trigger is the p95 of every
// node read (a ring of recent samples) × `p95_trigger_multiplier`, never below `min_trigger_ms`.
import type { ReplicaChooser } from '../../core/rendezvous.js';
import type { Metrics } from '../observability/metrics.js';

/** The `replica_selection` config block. */
export interface ReplicaSelectionConfig {
  strategy: 'adaptive' | 'round_robin';
  latency_weight: number;
  inflight_weight: number;
  error_weight: number;
  ewma_half_life_ms: number;
  exploration_epsilon: number;
}

/** How many times the fleet median latency excludes a node from ordinary picks (SPEC A3). */
export const EXCLUDE_FACTOR = 5;
/** Scores within best × BAND_RATIO + BAND_MS count as equal (the query's rotation picks among them). */
const BAND_RATIO = 1.1;
const BAND_MS = 1;
/** The fleet median and the score gauges are refreshed at most this often. */
const REFRESH_MS = 100;
/** Fleet read samples kept for the hedge trigger's p95; it is recomputed every RING_EVERY samples. */
const RING = 256;
const RING_EVERY = 32;
/** Samples before the hedge trigger is armed. */
const MIN_SAMPLES = 20;

class NodeStat {
  mean = 0;
  variance = 0;
  errorRate = 0;
  inflight = 0;
  last = 0;
  samples = 0;
  excluded = false;
  /** The score, kept current on every change (picks only read it). */
  score = 0;
}

export interface NodeView {
  node_id: string;
  score: number;
  latency_p95_ms: number;
  in_flight: number;
  error_rate: number;
  excluded: boolean;
}

/** A 32-bit finalizer (murmur3's): every input bit moves every output bit, so ranks are close to uniform. */
function mix(h: number): number {
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b);
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35);
  h ^= h >>> 16;
  return h >>> 0;
}

export class ReplicaSelector implements ReplicaChooser {
  private readonly stats = new Map<string, NodeStat>();
  private readonly adaptive: boolean;
  private exploring = false;
  /** While exploring: a random number that ranks the nodes the same way for every shard of the covering set. */
  private exploreKey = 0;
  private readonly idHashes = new Map<string, number>();
  private refreshedAt = -Infinity;
  private median = 0;
  private readonly ring = new Float64Array(RING);
  private ringCount = 0;
  private ringAt = 0;
  private p95 = 0;
  private sinceP95 = 0;
  private readonly scratch: number[] = [];
  private readonly gauges = new Map<string, { set(v: number): void }>();

  constructor(
    private readonly cfg: ReplicaSelectionConfig,
    private readonly metrics: Metrics | null,
    private readonly random: () => number = Math.random,
    private readonly now: () => number = () => performance.now(),
  ) {
    this.adaptive = cfg.strategy === 'adaptive';
  }

  /** Whether this selector decides (adaptive); round_robin keeps the routing table's rotation. */
  get active(): boolean {
    return this.adaptive;
  }

  private stat(id: string): NodeStat {
    let s = this.stats.get(id);
    if (s === undefined) this.stats.set(id, (s = new NodeStat()));
    return s;
  }

  private quiet = false;

  /** Runs `fn` (a plan for explain) with ordinary picks only: no exploration, nothing counted. */
  withoutExploration<T>(fn: () => T): T {
    this.quiet = true;
    try {
      return fn();
    } finally {
      this.quiet = false;
    }
  }

  /** Starts one covering set: decides whether its picks explore. */
  begin(): void {
    this.exploring = !this.quiet && this.cfg.exploration_epsilon > 0 && this.random() < this.cfg.exploration_epsilon;
    if (this.exploring) {
      this.exploreKey = Math.floor(this.random() * 0x1_0000_0000) >>> 0;
      this.metrics?.replicaExploration.inc();
    }
    const t = this.now();
    if (t - this.refreshedAt >= REFRESH_MS) this.refresh(t);
  }

  /** Ends a covering set (its picks no longer explore). */
  end(): void {
    this.exploring = false;
  }

  private p95Of(s: NodeStat): number {
    return s.mean + 1.645 * Math.sqrt(s.variance);
  }

  score(id: string): number {
    return this.stats.get(id)?.score ?? 0;
  }

  private rescore(s: NodeStat): void {
    s.score =
      this.cfg.latency_weight * this.p95Of(s) +
      this.cfg.inflight_weight * s.inflight +
      this.cfg.error_weight * s.errorRate * 100;
  }

  /** Fleet median of the node latency averages, exclusions and score gauges. */
  private refresh(t: number): void {
    this.refreshedAt = t;
    const means = this.scratch;
    means.length = 0;
    for (const s of this.stats.values()) if (s.samples > 0) means.push(s.mean);
    means.sort((a, b) => a - b);
    this.median = means.length === 0 ? 0 : means[(means.length - 1) >> 1]!;
    for (const [id, s] of this.stats) {
      s.excluded = means.length > 1 && s.samples > 0 && s.mean > EXCLUDE_FACTOR * this.median;
      if (this.metrics !== null) {
        let g = this.gauges.get(id);
        if (g === undefined) this.gauges.set(id, (g = this.metrics.replicaScore.labels(id)));
        g.set(this.score(id));
      }
    }
  }

  isExcluded(id: string): boolean {
    return this.stats.get(id)?.excluded === true;
  }

  /**
   * One shard's replica among readable candidates: random while exploring, else the lowest score among those not
   * excluded (the rotation by `seq` among near-equal ones). All excluded: null when `strict` (the caller may look
   * in another group), else the lowest score.
   */
  choose(candidates: readonly string[], seq: number, strict: boolean): string | null {
    const n = candidates.length;
    if (n === 0) return null;
    if (this.exploring) {
      // A random node order shared by every shard of this covering set, so exploring keeps it small.
      let pick = candidates[0]!;
      let low = Infinity;
      for (let i = 0; i < n; i++) {
        const rank = mix(this.idHash(candidates[i]!) ^ this.exploreKey);
        if (rank < low) {
          low = rank;
          pick = candidates[i]!;
        }
      }
      return pick;
    }
    let best = Infinity;
    let fallback: string | null = null;
    let fallbackScore = Infinity;
    for (let i = 0; i < n; i++) {
      const id = candidates[i]!;
      const st = this.stats.get(id);
      const sc = st === undefined ? 0 : st.score;
      if (st !== undefined && st.excluded) {
        if (sc < fallbackScore) {
          fallbackScore = sc;
          fallback = id;
        }
      } else if (sc < best) best = sc;
    }
    if (best === Infinity) return strict ? null : fallback;
    const band = best * BAND_RATIO + BAND_MS;
    for (let i = 0; i < n; i++) {
      const id = candidates[(seq + i) % n]!;
      const st = this.stats.get(id);
      if (st === undefined || (!st.excluded && st.score <= band)) return id;
    }
    return null; // unreachable: the best one is in the band
  }

  private idHash(id: string): number {
    let h = this.idHashes.get(id);
    if (h === undefined) {
      h = 0x811c9dc5;
      for (let i = 0; i < id.length; i++) h = Math.imul(h ^ id.charCodeAt(i), 0x01000193) >>> 0;
      this.idHashes.set(id, h);
    }
    return h;
  }

  /** A read to a node starts. */
  started(id: string): void {
    const s = this.stat(id);
    s.inflight++;
    this.rescore(s);
  }

  /** A read to a node ended: its latency (ms) and whether it failed; `abandoned` (a lost hedge) records no sample. */
  finished(id: string, ms: number, failed: boolean, abandoned = false): void {
    const s = this.stat(id);
    s.inflight = Math.max(0, s.inflight - 1);
    if (abandoned) {
      this.rescore(s);
      return;
    }
    const t = this.now();
    if (s.samples === 0) {
      s.mean = ms;
      s.variance = 0;
      s.errorRate = failed ? 1 : 0;
    } else {
      // Time-decayed weights: a sample after a long silence counts almost fully.
      const w = 1 - Math.pow(2, -(t - s.last) / this.cfg.ewma_half_life_ms);
      const alpha = Math.min(1, Math.max(w, 0.02));
      const d = ms - s.mean;
      s.mean += alpha * d;
      s.variance = (1 - alpha) * (s.variance + alpha * d * d);
      s.errorRate += alpha * ((failed ? 1 : 0) - s.errorRate);
    }
    s.last = t;
    s.samples++;
    this.rescore(s);
    if (!failed) {
      this.ring[this.ringAt] = ms;
      this.ringAt = (this.ringAt + 1) % RING;
      if (this.ringCount < RING) this.ringCount++;
      if (++this.sinceP95 >= RING_EVERY || this.ringCount === MIN_SAMPLES) this.recomputeP95();
    }
  }

  private recomputeP95(): void {
    this.sinceP95 = 0;
    const n = this.ringCount;
    const copy = this.ring.slice(0, n).sort();
    this.p95 = copy[Math.min(n - 1, Math.floor(n * 0.95))]!;
  }

  /** When a read still running should be hedged (ms), or null while too few reads were seen. */
  hedgeTriggerMs(multiplier: number, minMs: number): number | null {
    if (this.ringCount < MIN_SAMPLES) return null;
    if (this.p95 === 0) this.recomputeP95();
    return Math.max(minMs, this.p95 * multiplier);
  }

  /** Fleet read p95 (ms) from recent samples, or null with too few. */
  fleetP95(): number | null {
    return this.ringCount < MIN_SAMPLES ? null : this.p95;
  }

  /** Per-node view for explain. */
  view(ids: Iterable<string>): NodeView[] {
    const out: NodeView[] = [];
    for (const id of ids) {
      const s = this.stats.get(id);
      out.push({
        node_id: id,
        score: Math.round(this.score(id) * 100) / 100,
        latency_p95_ms: s === undefined ? 0 : Math.round(this.p95Of(s) * 100) / 100,
        in_flight: s?.inflight ?? 0,
        error_rate: s === undefined ? 0 : Math.round(s.errorRate * 10000) / 10000,
        excluded: s?.excluded === true,
      });
    }
    return out;
  }
}
