// The dev node's vector store: per embedder, each document's embeddings (f32, with their norms) or its opt-out, and
// exact nearest neighbours by Meilisearch's cosine similarity (a document scores its best embedding). Counts for
// index stats. Sizes here are dev sizes, so a scan is fine.
import { normF32, similarityF32, type DocEmbeddings } from '../../core/vectors.js';

interface Stored {
  vectors: Float32Array[];
  norms: number[];
}

export interface VectorHit {
  seq: number;
  /** Similarity in [0, 1]; null for a candidate without an embedding (ranked last, scored 0). */
  similarity: number | null;
}

export class VectorIndex {
  /** embedder → seq → embeddings (null: the document opted out). */
  private readonly byEmbedder = new Map<string, Map<number, Stored | null>>();

  clear(): void {
    this.byEmbedder.clear();
  }

  set(seq: number, embeddings: ReadonlyMap<string, DocEmbeddings>): void {
    this.remove(seq);
    for (const [name, list] of embeddings) {
      let m = this.byEmbedder.get(name);
      if (m === undefined) this.byEmbedder.set(name, (m = new Map()));
      m.set(seq, list === null ? null : { vectors: list, norms: list.map((v) => normF32(v)) });
    }
  }

  remove(seq: number): void {
    for (const m of this.byEmbedder.values()) m.delete(seq);
  }

  /** A document's embeddings for one embedder (undefined: none stored, null: opted out). */
  get(embedder: string, seq: number): Float32Array[] | null | undefined {
    const s = this.byEmbedder.get(embedder)?.get(seq);
    return s === undefined ? undefined : s === null ? null : s.vectors;
  }

  /** `numberOfEmbeddings` and `numberOfEmbeddedDocuments` of the index stats. */
  counts(): { embeddings: number; documents: number } {
    let embeddings = 0;
    const docs = new Set<number>();
    for (const m of this.byEmbedder.values())
      for (const [seq, s] of m) {
        if (s === null || s.vectors.length === 0) continue;
        embeddings += s.vectors.length;
        docs.add(seq);
      }
    return { embeddings, documents: docs.size };
  }

  /**
   * The first `k` candidates in Meilisearch's vector-sort order: by similarity desc (ties in insertion order), then
   * the candidates without an embedding (similarity null) in insertion order. `k` = Infinity: every candidate.
   * Selection keeps a bounded sorted window, so a page of a large index costs a scan, not a sort.
   */
  nearest(embedder: string, query: readonly number[], candidates: Iterable<number>, k = Infinity): VectorHit[] {
    const q = Float32Array.from(query);
    const qn = normF32(q);
    const m = this.byEmbedder.get(embedder);
    // Best first; `top` holds at most k entries while k is finite.
    const top: VectorHit[] = [];
    const rest: number[] = [];
    const before = (a: VectorHit, b: VectorHit) =>
      a.similarity! > b.similarity! || (a.similarity === b.similarity && a.seq < b.seq);
    for (const seq of candidates) {
      const s = m?.get(seq);
      if (s === undefined || s === null || s.vectors.length === 0) {
        rest.push(seq);
        continue;
      }
      let best = -Infinity;
      for (let i = 0; i < s.vectors.length; i++) {
        const sim = similarityF32(q, qn, s.vectors[i]!, s.norms[i]!);
        if (sim > best) best = sim;
      }
      const hit = { seq, similarity: best };
      if (top.length >= k && !before(hit, top[top.length - 1]!)) continue;
      // Insert in order (binary search); drop the last past k.
      let lo = 0;
      let hi = top.length;
      while (lo < hi) {
        const mid = (lo + hi) >>> 1;
        if (before(top[mid]!, hit)) lo = mid + 1;
        else hi = mid;
      }
      top.splice(lo, 0, hit);
      if (top.length > k) top.pop();
    }
    if (top.length < k) {
      rest.sort((a, b) => a - b);
      for (const seq of rest) {
        if (top.length >= k) break;
        top.push({ seq, similarity: null });
      }
    }
    return top;
  }
}
