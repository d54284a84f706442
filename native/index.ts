// Loads the optional Rust addon (native/miroir.node, built by `npm install` when cargo exists) and, unless
// MIROIR_NATIVE=0, routes XXH64, XXH3-64, batch shard routing and the scan of node search answers through it. Same signatures and results as the
// TypeScript paths in src/core/hash.ts.
import { existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';
import { join } from 'node:path';
import { setHashBackend, typescriptBackend, type HashBackend } from '../src/core/hash.js';
import { setNativeAnswerScanner } from '../src/core/answer-spans.js';

export interface NativeAddon {
  xxh64(data: Uint8Array, seed: bigint): bigint;
  xxh3_64(data: Uint8Array): bigint;
  shardsForKeys(keys: Uint8Array, offsets: Uint32Array, shards: number): Uint32Array;
  scanAnswer(bytes: Uint8Array, out: Uint32Array): number;
}

/** Where the built addon lives: `native/miroir.node` at the package root (from source or from dist/native). */
export function addonPath(): string {
  const here = fileURLToPath(import.meta.url);
  const root = here.includes('/dist/') ? here.slice(0, here.indexOf('/dist/')) : join(here, '../..');
  return join(root, 'native', 'miroir.node');
}

let addon: NativeAddon | null | undefined;

/** The addon, or null when it is not built, fails to load, or MIROIR_NATIVE=0. */
export function loadAddon(): NativeAddon | null {
  if (addon !== undefined) return addon;
  addon = null;
  if (process.env.MIROIR_NATIVE === '0') return addon;
  const path = addonPath();
  if (!existsSync(path)) return addon;
  try {
    addon = createRequire(import.meta.url)(path) as NativeAddon;
  } catch {
    addon = null;
  }
  return addon;
}

export function nativeBackend(a: NativeAddon): HashBackend {
  return {
    xxh64: (data, seed) => a.xxh64(data, seed),
    xxh3_64: (data) => a.xxh3_64(data),
    shardsForPackedKeys: (keys, offsets, shards) => a.shardsForKeys(keys, offsets, shards),
  };
}

/** Installs the native hash backend and answer scan when available; returns whether native paths are active. */
export function enableNative(): boolean {
  const a = loadAddon();
  setHashBackend(a === null ? typescriptBackend : nativeBackend(a));
  // An addon built before the scan existed has no scanAnswer: answers are then parsed whole.
  setNativeAnswerScanner(a === null || typeof a.scanAnswer !== 'function' ? null : (b, out) => a.scanAnswer(b, out));
  return a !== null;
}
