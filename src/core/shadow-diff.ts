// Traffic-shadow diffs (SPEC A16): how a shadow target's answer to a teed read differs from the answer the client
// got — the hit-set difference (missing: only the client's answer has it; extra: only the target's), Kendall τ over
// the hits both hold, the latency delta, and errors — folded into one kind, or null when the answers are the same
// and within the latency threshold (those are only counted). Pure.

export type ShadowDiffKind = 'hits_differ' | 'order_differs' | 'error' | 'latency';

export const SHADOW_DIFF_KINDS: readonly ShadowDiffKind[] = ['hits_differ', 'order_differs', 'error', 'latency'];

/** One side of a comparison: its HTTP status and the ids it answered in rank order (null: no id list, e.g. error). */
export interface ShadowSide {
  status: number;
  ids: ReadonlyArray<string | number> | null;
  /** Answers with no ranked ids (a document) compare by this canonical content when both sides are 200. */
  content?: string;
}

export interface ShadowComparison {
  kind: ShadowDiffKind | null;
  kendall_tau: number | null;
  missing_ids: Array<string | number>;
  extra_ids: Array<string | number>;
  latency_delta_ms: number;
}

/** Most hits compared per answer (τ is quadratic in the common hits). */
const MAX_COMPARED = 1000;

/**
 * Kendall τ-a of the common items' order in `a` versus `b`: 1 same order, -1 reversed; null with fewer than two
 * common items (no pair to compare). Ids compare as strings (5 and "5" are one document).
 */
export function kendallTau(a: ReadonlyArray<string | number>, b: ReadonlyArray<string | number>): number | null {
  const rankInB = new Map<string, number>();
  b.slice(0, MAX_COMPARED).forEach((id, i) => {
    const k = String(id);
    if (!rankInB.has(k)) rankInB.set(k, i);
  });
  const seen = new Set<string>();
  const ranks: number[] = [];
  for (const id of a.slice(0, MAX_COMPARED)) {
    const k = String(id);
    const r = rankInB.get(k);
    if (r !== undefined && !seen.has(k)) {
      seen.add(k);
      ranks.push(r);
    }
  }
  const n = ranks.length;
  if (n < 2) return null;
  let concordant = 0;
  let discordant = 0;
  for (let i = 0; i < n; i++)
    for (let j = i + 1; j < n; j++) {
      if (ranks[i]! < ranks[j]!) concordant++;
      else discordant++;
    }
  return (concordant - discordant) / ((n * (n - 1)) / 2);
}

function minus(a: ReadonlyArray<string | number>, b: ReadonlyArray<string | number>): Array<string | number> {
  const inB = new Set(b.map(String));
  return a.filter((id) => !inB.has(String(id)));
}

/**
 * Compares the client's answer (`primary`) with the target's. Kinds, first that applies: `error` (the statuses
 * differ, or either side has no readable answer), `hits_differ` (some id on one side only, or a document's content
 * differs), `order_differs` (same hits, τ < 1), `latency` (same answer, |Δ| > `latencyThresholdMs`).
 */
export function compareShadow(
  primary: ShadowSide,
  shadow: ShadowSide,
  latencyDeltaMs: number,
  latencyThresholdMs: number,
): ShadowComparison {
  const out: ShadowComparison = {
    kind: null,
    kendall_tau: null,
    missing_ids: [],
    extra_ids: [],
    latency_delta_ms: Math.round(latencyDeltaMs * 100) / 100,
  };
  if (primary.status !== shadow.status || primary.ids === null || shadow.ids === null) {
    out.kind = 'error';
    return out;
  }
  out.missing_ids = minus(primary.ids, shadow.ids).slice(0, MAX_COMPARED);
  out.extra_ids = minus(shadow.ids, primary.ids).slice(0, MAX_COMPARED);
  out.kendall_tau = kendallTau(primary.ids, shadow.ids);
  const contentDiffers =
    primary.content !== undefined && shadow.content !== undefined && primary.content !== shadow.content;
  if (out.missing_ids.length > 0 || out.extra_ids.length > 0 || contentDiffers) out.kind = 'hits_differ';
  else if (out.kendall_tau !== null && out.kendall_tau < 1) out.kind = 'order_differs';
  else if (Math.abs(latencyDeltaMs) > latencyThresholdMs) out.kind = 'latency';
  return out;
}
