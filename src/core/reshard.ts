// Online reshard as pure logic (SPEC A1, Round 2 "Per-index shard count"): the reshard record and its phases, the
// shadow index name, which index a write is mirrored to in each phase, what a client uid resolves to, the content
// hash the verify pass compares (in chunks of shards that hold the same ids under both counts), and the backfill
// throttle.
import { canonicalJson } from './canonical-json.js';
import { xxh3_64 } from './hash.js';
import { isReservedField } from './reserved.js';

export type ReshardPhase = 'preparing' | 'backfilling' | 'verifying' | 'flipped' | 'done' | 'failed';

/** `miroir_reshard_phase`: 0 idle (done, failed, none) … 5 cleanup (dropping the old copy). */
export const PHASE_GAUGE: Readonly<Record<ReshardPhase | 'cleanup', number>> = Object.freeze({
  preparing: 1,
  backfilling: 2,
  verifying: 3,
  flipped: 4,
  cleanup: 5,
  done: 0,
  failed: 0,
});

/** One reshard of one index, kept in the store (Mode B leader drives it; Mode C jobs backfill). */
export interface ReshardRecord {
  /** The client-facing uid. */
  index: string;
  /** The physical index serving clients when the reshard started (the uid itself, or an earlier reshard's copy). */
  live: string;
  /** `{index}__reshard_{new_shards}`: the copy with the new count. */
  shadow: string;
  old_shards: number;
  new_shards: number;
  phase: ReshardPhase;
  /** Documents per second for the backfill; 0 = unthrottled. */
  throttle_docs_per_sec: number;
  /** Sum of the jobs' cursors (documents written to the shadow by backfill). */
  documents_backfilled: number;
  /** The live copy's document count when the backfill started (the progress bar's total). */
  documents_total?: number;
  /** Documents the verify pass found different and copied again from the live copy. */
  documents_repaired: number;
  error: string | null;
  /** Every write to the live copy also goes to the shadow (set once the shadow exists). */
  dual_writes: boolean;
  /** Backfill may start (every pod has seen `dual_writes` by then). */
  backfill_after: number | null;
  /** The backfill job ids (one per old shard). */
  jobs: string[];
  started_at: number;
  updated_at: number;
  flipped_at: number | null;
  /** When the old copy is dropped (flip + retain_old_index_hours). */
  drop_at: number | null;
  /** Set by a reverse flip: clients are served by the old copy again. */
  reverted: boolean;
}

export const SHADOW_INFIX = '__reshard_';

export function shadowUid(index: string, newShards: number): string {
  return `${index}${SHADOW_INFIX}${newShards}`;
}

/** Whether a uid names a reshard copy (hidden from listings). */
export function isShadowUid(uid: string): boolean {
  return uid.includes(SHADOW_INFIX);
}

/** Phases in which the shadow receives every write (before the flip). */
function mirrorsToShadow(r: ReshardRecord): boolean {
  return r.dual_writes && (r.phase === 'preparing' || r.phase === 'backfilling' || r.phase === 'verifying');
}

/** Whether the client uid is served by the shadow (after the flip, until a reverse flip). */
export function servedByShadow(r: ReshardRecord): boolean {
  return !r.reverted && (r.phase === 'flipped' || r.phase === 'done');
}

/**
 * Where a write to the physical index `uid` is mirrored: before the flip, writes to the live copy also go to the
 * shadow; once flipped, writes to either copy go to the other too (a write that resolved the uid just before the flip
 * still reaches the shadow, and a reverse flip loses nothing); after a reverse flip, a write that resolved to the
 * shadow just before still reaches the old copy.
 */
export function mirrorOf(records: Iterable<ReshardRecord>, uid: string): { uid: string; shards: number } | null {
  for (const r of records) {
    // After the flip the old copy is mirrored until its drop begins (`dual_writes` off: nothing new is sent to it).
    const flipped = r.phase === 'flipped' && !r.reverted && r.dual_writes;
    if (r.live === uid && (flipped || mirrorsToShadow(r))) return { uid: r.shadow, shards: r.new_shards };
    if (r.shadow === uid && (flipped || (r.phase === 'failed' && r.reverted)))
      return { uid: r.live, shards: r.old_shards };
  }
  return null;
}

/** Strips Miroir's own members (`_miroir_shard`, `_miroir_version`): what a copy holds of the client's document. */
export function clientContent(doc: Record<string, unknown>): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const k of Object.keys(doc)) if (!isReservedField(k)) out[k] = doc[k];
  return out;
}

/** Greatest common divisor: shards `s` of the old count and `t` of the new hold the same ids when s ≡ t (mod gcd). */
export function gcd(a: number, b: number): number {
  while (b !== 0) [a, b] = [b, a % b];
  return a;
}

/** The shards of a count that fall in verify chunk `c` of `chunks` (chunks = gcd of both counts). */
export function chunkShards(shards: number, chunks: number, c: number): number[] {
  const out: number[] = [];
  for (let s = c; s < shards; s += chunks) out.push(s);
  return out;
}

/** The content hash of one document (id + canonical client content), XXH3-64. */
export function contentHash(id: string, doc: Record<string, unknown>): bigint {
  return xxh3_64(Buffer.from(`${id}\u0000${canonicalJson(clientContent(doc))}`));
}

/** Ids whose content differs between two id → hash maps (missing on either side included), ascending. */
export function differingIds(a: ReadonlyMap<string, bigint>, b: ReadonlyMap<string, bigint>): string[] {
  const out: string[] = [];
  for (const [id, h] of a) if (b.get(id) !== h) out.push(id);
  for (const id of b.keys()) if (!a.has(id)) out.push(id);
  return out.sort();
}

/** Milliseconds to wait after `done` documents since `startedAt` to stay at `perSec` (0 = never wait). */
export function throttleDelay(perSec: number, done: number, startedAt: number, now: number): number {
  if (perSec <= 0) return 0;
  const due = startedAt + (done * 1000) / perSec;
  return Math.max(0, Math.ceil(due - now));
}

/** Checks a reshard request: the new count is a positive integer other than the current one. */
export function reshardRequestError(current: number, next: unknown, throttle: unknown): string | null {
  if (typeof next !== 'number' || !Number.isInteger(next) || next < 1 || next > 4096)
    return '`new_shards` must be an integer from 1 to 4096.';
  if (next === current) return `The index already has ${current} shards.`;
  if (throttle !== undefined && throttle !== null && (typeof throttle !== 'number' || !(throttle >= 0)))
    return '`throttle_docs_per_sec` must be a number ≥ 0.';
  return null;
}
