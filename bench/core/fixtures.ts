// Shared inputs of the micro benchmarks: 10,000 routed documents, 3 shard answers of 1,000 hits with facets,
// and a 100 KB settings-like body.
import { assignShard } from '../../src/core/rendezvous.js';

export const NODES = ['node-0', 'node-1', 'node-2'];
export const SHARDS = 64;
export const TARGETS = Array.from({ length: SHARDS }, (_, s) => assignShard(s, NODES, 1));

export function documents(n: number): Array<Record<string, unknown>> {
  return Array.from({ length: n }, (_, i) => ({
    id: `sku_${i}`,
    title: `Product ${i}`,
    price: i % 997,
    color: ['red', 'green', 'blue'][i % 3],
  }));
}

export function shardAnswers(hitsPerShard: number): Array<Record<string, unknown>> {
  return [0, 1, 2].map((s) => ({
    hits: Array.from({ length: hitsPerShard }, (_, i) => ({
      id: `s${s}-${i}`,
      title: `hit ${i}`,
      _rankingScore: 1 - (i * 3 + s) / (hitsPerShard * 3),
      _miroir_shard: s,
    })),
    estimatedTotalHits: hitsPerShard * 4,
    processingTimeMs: 2 + s,
    facetDistribution: {
      color: { red: 100 + s, green: 50, blue: 7 * s },
      brand: Object.fromEntries(Array.from({ length: 150 }, (_, b) => [`brand-${s}-${b}`, b + 1])),
    },
    facetStats: { price: { min: s, max: 100 + s } },
  }));
}

export function bigBody(bytes: number): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  let size = 0;
  for (let i = 0; size < bytes; i++) {
    const v = { name: `field_${i}`, tokens: Array.from({ length: 8 }, (_, j) => `tok${i}_${j}`), weight: i / 7 };
    out[`k${(i * 7919) % 100000}`] = v;
    size += JSON.stringify(v).length + 12;
  }
  return out;
}
