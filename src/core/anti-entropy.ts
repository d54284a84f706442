// Anti-entropy's pure logic (SPEC A8, Round 2 "Reserved fields"): each document copy reduces to a fingerprint
// (primary key, `_miroir_version`, optional client updated-at, content hash, expiry); a replica's shard reduces to 256
// buckets (by a hash of the primary key) of order-independent digests, built page by page; buckets that differ
// between replicas are compared document by document, and each differing document gets one repair decision by
// last-writer-wins: an expired winner is deleted everywhere; a tombstone newer than the winner deletes it
// everywhere; otherwise the winner (greater updated-at, then greater version, then the shard's first owner) is
// copied to every replica that misses it or holds something else. No I/O.
import { documentHash } from './canonical-json.js';
import { compileFilter, parseFilter, type Predicate } from './filter/index.js';
import { xxh64 } from './hash.js';
import { EXPIRES_FIELD, VERSION_FIELD } from './reserved.js';

export const BUCKETS = 256;

type Doc = Record<string, unknown>;

export interface Fingerprint {
  id: string;
  /** `_miroir_version` (-1 when absent: written behind Miroir's back or before stamping; task uids start at 0). */
  version: number;
  /** The `updated_at_field` value (0 when absent or not a number); null when no such field is configured. */
  updatedAt: number | null;
  /** XXH3-64 of the canonical document (every field). */
  hash: bigint;
  /** `_miroir_expires_at` in ms, or null. */
  expiresAt: number | null;
}

const encoder = new TextEncoder();
const MASK64 = (1n << 64n) - 1n;

/** A document's bucket: a hash of its primary key independent of the shard hash (which fixes its low bits). */
export function bucketOf(id: string): number {
  return Number(xxh64(encoder.encode(id), 0xae5eedn) >> 56n);
}

function numberOr0(v: unknown): number {
  return typeof v === 'number' && Number.isFinite(v) ? v : 0;
}

export function fingerprint(doc: Doc, primaryKey: string, updatedAtField: string | null): Fingerprint {
  const exp = doc[EXPIRES_FIELD];
  return {
    id: String(doc[primaryKey]),
    version: typeof doc[VERSION_FIELD] === 'number' ? doc[VERSION_FIELD] : -1,
    updatedAt: updatedAtField === null ? null : numberOr0(doc[updatedAtField]),
    hash: documentHash(doc),
    expiresAt: typeof exp === 'number' && Number.isFinite(exp) ? exp : null,
  };
}

/** One fingerprint as one 64-bit value: equal ⇔ same id, version and content (with overwhelming probability). */
function entryHash(fp: Fingerprint): bigint {
  return xxh64(encoder.encode(`${fp.id}\u0000${fp.version}\u0000${fp.hash.toString(16)}`), 0n);
}

/** A replica's shard as 256 bucket digests (count, XOR and sum of entry hashes), fed page by page. */
export class ShardDigest {
  readonly counts = new Uint32Array(BUCKETS);
  readonly xors = new BigUint64Array(BUCKETS);
  readonly sums = new BigUint64Array(BUCKETS);
  documents = 0;

  add(fp: Fingerprint): void {
    const b = bucketOf(fp.id);
    const h = entryHash(fp);
    this.counts[b]!++;
    this.xors[b]! ^= h;
    this.sums[b] = (this.sums[b]! + h) & MASK64;
    this.documents++;
  }

  sameBucket(other: ShardDigest, b: number): boolean {
    return this.counts[b] === other.counts[b] && this.xors[b] === other.xors[b] && this.sums[b] === other.sums[b];
  }
}

/** Buckets in which some replica's digest differs from the first one's (ascending). */
export function mismatchedBuckets(digests: readonly ShardDigest[]): number[] {
  const out: number[] = [];
  if (digests.length < 2) return out;
  for (let b = 0; b < BUCKETS; b++) if (digests.some((d) => !d.sameBucket(digests[0]!, b))) out.push(b);
  return out;
}

/** Whether the copies of one document (null: missing) differ at all. */
export function copiesDiffer(copies: ReadonlyArray<Fingerprint | null>): boolean {
  const first = copies[0] ?? null;
  for (const c of copies) {
    if ((c === null) !== (first === null)) return true;
    if (c !== null && first !== null && (c.version !== first.version || c.hash !== first.hash)) return true;
  }
  return false;
}

/** A tombstone ready to test documents against. */
export interface CoveringTombstone {
  taskUid: number;
  covers(id: string, doc: Doc): boolean;
}

/**
 * Compiles stored tombstones; a filter that no longer parses covers nothing. Tombstones older than the index's last
 * `epoch` (a swap or rename brought it other documents) are about documents it no longer holds: left out.
 */
export function compileTombstones(
  list: ReadonlyArray<{ taskUid: number; kind: 'ids' | 'filter' | 'all' | 'epoch'; ids?: string[]; filter?: unknown }>,
): CoveringTombstone[] {
  const out: CoveringTombstone[] = [];
  const epoch = list.reduce((m, t) => (t.kind === 'epoch' && t.taskUid > m ? t.taskUid : m), -1);
  for (const t of list) {
    if (t.kind === 'epoch' || t.taskUid < epoch) continue;
    if (t.kind === 'all') out.push({ taskUid: t.taskUid, covers: () => true });
    else if (t.kind === 'ids') {
      const ids = new Set(t.ids ?? []);
      out.push({ taskUid: t.taskUid, covers: (id) => ids.has(id) });
    } else {
      let pred: Predicate | null;
      try {
        const node = parseFilter(t.filter, 'invalid_document_filter');
        pred = node === null ? () => true : compileFilter(node, { containsFilter: true });
      } catch {
        pred = null;
      }
      const p = pred;
      if (p !== null) out.push({ taskUid: t.taskUid, covers: (_id, doc) => p(doc) });
    }
  }
  return out;
}

export type MismatchKind = 'expired' | 'deleted' | 'missing' | 'stale' | 'conflict';

export interface RepairDecision {
  id: string;
  kind: MismatchKind;
  /** Replica positions to delete the document on. */
  deleteOn: number[];
  /** Replica positions to write the winner to, and the winner's position (-1 when deleting). */
  copyTo: number[];
  winner: number;
}

/** Whether copy a beats copy b (updated-at first, then version); equal → neither. */
function compare(a: Fingerprint, b: Fingerprint): number {
  const ua = a.updatedAt ?? 0;
  const ub = b.updatedAt ?? 0;
  if (ua !== ub) return ua > ub ? 1 : -1;
  if (a.version !== b.version) return a.version > b.version ? 1 : -1;
  return 0;
}

/**
 * The repair of one document from its copies on every replica (in the shard's owner order: position 0 is the first
 * rendezvous owner) — null when they agree. `now` null = TTL off (expiry ignored).
 */
export function decideRepair(
  copies: ReadonlyArray<{ fp: Fingerprint; doc: Doc } | null>,
  tombstones: readonly CoveringTombstone[],
  now: number | null,
): RepairDecision | null {
  const fps = copies.map((c) => c?.fp ?? null);
  if (!copiesDiffer(fps)) return null;
  let winner = -1;
  for (let i = 0; i < copies.length; i++) {
    const c = copies[i];
    if (c === null || c === undefined) continue;
    if (winner === -1 || compare(c.fp, copies[winner]!.fp) > 0) winner = i;
  }
  const present = copies.flatMap((c, i) => (c === null ? [] : [i]));
  const w = copies[winner]!;
  const id = w.fp.id;
  if (now !== null && w.fp.expiresAt !== null && w.fp.expiresAt <= now)
    return { id, kind: 'expired', deleteOn: present, copyTo: [], winner: -1 };
  const newest = tombstones.reduce(
    (n, t) => (t.taskUid > w.fp.version && t.taskUid > n && t.covers(id, w.doc) ? t.taskUid : n),
    -1,
  );
  if (newest >= 0) return { id, kind: 'deleted', deleteOn: present, copyTo: [], winner: -1 };
  const copyTo: number[] = [];
  let kind: MismatchKind = 'conflict';
  for (let i = 0; i < copies.length; i++) {
    if (i === winner) continue;
    const c = fps[i];
    if (c === null || c === undefined) {
      copyTo.push(i);
      kind = 'missing';
    } else if (c.version !== w.fp.version || c.hash !== w.fp.hash) {
      copyTo.push(i);
      if (kind !== 'missing' && compare(c, w.fp) !== 0) kind = 'stale';
    }
  }
  return { id, kind, deleteOn: [], copyTo, winner };
}
