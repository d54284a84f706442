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
   * Every candidate ordered like Meilisearch's vector sort: by similarity desc (ties in insertion order), then the
   * candidates without an embedding (similarity null) in insertion order.
   */
  nearest(embedder: string, query: readonly number[], candidates: Iterable<number>): VectorHit[] {
    const q = Float32Array.from(query);
    const qn = normF32(q);
    const m = this.byEmbedder.get(embedder);
    const scored: VectorHit[] = [];
    const rest: number[] = [];
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
      scored.push({ seq, similarity: best });
    }
    scored.sort((a, b) => b.similarity! - a.similarity! || a.seq - b.seq);
    rest.sort((a, b) => a - b);
    for (const seq of rest) scored.push({ seq, similarity: null });
    return scored;
  }
}
