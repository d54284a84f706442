// HOT PATH. The hashes routing depends on (SPEC C2, fixed byte encodings): XXH64 seed 0, the rendezvous score
// `u32 LE shard ‖ UTF-8 node id ‖ 0xFF`, and `shard_for_key` over `UTF-8 key ‖ 0xFF`. Backed by the native addon
// when it is loaded (native/index.ts swaps the implementation), else @node-rs/xxhash for single hashes and a plain
// JavaScript XXH64 for batches (xxh64-js.ts); all give identical results.
import { xxh64 as nodeRsXxh64, xxh3 } from '@node-rs/xxhash';
import { shardsOfPackedKeys } from './xxh64-js.js';

export interface HashBackend {
  xxh64(data: Uint8Array, seed: bigint): bigint;
  xxh3_64(data: Uint8Array): bigint;
  /** Shard ids of many keys at once: `keys` packed UTF-8, `offsets` of length n+1. */
  shardsForPackedKeys(keys: Uint8Array, offsets: Uint32Array, shards: number): Uint32Array;
}

const TERMINATOR = 0xff;
let scratch = new Uint8Array(256);

function withTerminator(prefixLen: number, s: string): Uint8Array {
  const max = prefixLen + s.length * 3 + 1;
  if (scratch.length < max) scratch = new Uint8Array(Math.max(max, scratch.length * 2));
  const { written } = new TextEncoder().encodeInto(s, scratch.subarray(prefixLen));
  scratch[prefixLen + written] = TERMINATOR;
  return scratch.subarray(0, prefixLen + written + 1);
}

export const typescriptBackend: HashBackend = {
  xxh64: (data, seed) => nodeRsXxh64(data, seed),
  xxh3_64: (data) => xxh3.xxh64(data),
  // Plain JavaScript on 32-bit halves: one native call (and BigInt) per key costs more than hashing in JS.
  shardsForPackedKeys: shardsOfPackedKeys,
};

let backend: HashBackend = typescriptBackend;

/** Replaces the hash backend (the native loader does this at start); results must be identical. */
export function setHashBackend(b: HashBackend): void {
  backend = b;
}

export function hashBackend(): HashBackend {
  return backend;
}

export function xxh64(data: Uint8Array, seed = 0n): bigint {
  return backend.xxh64(data, seed);
}

export function xxh3_64(data: Uint8Array): bigint {
  return backend.xxh3_64(data);
}

/** Rendezvous score of (shard, node): XXH64 over u32 LE shard ‖ UTF-8 node id ‖ 0xFF. */
export function rendezvousScore(shard: number, nodeId: string): bigint {
  const buf = withTerminator(4, nodeId);
  buf[0] = shard & 0xff;
  buf[1] = (shard >>> 8) & 0xff;
  buf[2] = (shard >>> 16) & 0xff;
  buf[3] = (shard >>> 24) & 0xff;
  return backend.xxh64(buf, 0n);
}

/** The shard of a document id (canonical string form; integers as their decimal string). */
export function shardForKey(key: string, shards: number): number {
  return Number(backend.xxh64(withTerminator(0, key), 0n) % BigInt(shards));
}
