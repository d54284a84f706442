// Mode A work partitioning among Miroir pods (SPEC H2): the owner of an item (a shard number, an index uid, a
// job key) is the peer with the top rendezvous score for it, ties by peer id. Pure and deterministic: every pod
// that sees the same peer list computes the same owner, and removing a peer only moves the items it owned.
// Shard numbers (u32) score exactly like node routing, `rendezvousScore(shard, peer)` (XXH64 over
// u32 LE shard ‖ UTF-8 peer ‖ 0xFF); any other item scores XXH64 over UTF-8 `${item}` ‖ 0xFF ‖ UTF-8 peer ‖ 0xFF.
import { rendezvousScore, xxh64 } from './hash.js';

export type OwnedItem = string | number;

const encoder = new TextEncoder();
const TERMINATOR = 0xff;

function isShardNumber(item: OwnedItem): item is number {
  return typeof item === 'number' && Number.isInteger(item) && item >= 0 && item <= 0xffff_ffff;
}

/** Score of (item, peer); the owner is the peer with the highest score. */
export function ownershipScore(item: OwnedItem, peer: string): bigint {
  if (isShardNumber(item)) return rendezvousScore(item, peer);
  const a = encoder.encode(String(item));
  const b = encoder.encode(peer);
  const buf = new Uint8Array(a.length + b.length + 2);
  buf.set(a, 0);
  buf[a.length] = TERMINATOR;
  buf.set(b, a.length + 1);
  buf[buf.length - 1] = TERMINATOR;
  return xxh64(buf, 0n);
}

/** The peer owning `item` (top score, ties by peer id ascending), or null when there are no peers. */
export function ownerOf(item: OwnedItem, peers: readonly string[]): string | null {
  let best: string | null = null;
  let bestScore = -1n;
  for (const peer of peers) {
    const score = ownershipScore(item, peer);
    if (best === null || score > bestScore || (score === bestScore && peer < best)) {
      best = peer;
      bestScore = score;
    }
  }
  return best;
}

/** Whether `self` owns `item`; with no peers at all this pod owns everything. `peers` should include `self`. */
export function owns(item: OwnedItem, self: string, peers: readonly string[]): boolean {
  if (peers.length === 0) return true;
  return ownerOf(item, peers) === self;
}

/** The items `self` owns, in input order. */
export function ownedItems<T extends OwnedItem>(items: Iterable<T>, self: string, peers: readonly string[]): T[] {
  const out: T[] = [];
  for (const item of items) if (owns(item, self, peers)) out.push(item);
  return out;
}
