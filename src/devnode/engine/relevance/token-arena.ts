// Every indexed document's searchable words as word ids in one contiguous Int32Array, fields in searchable order,
// each field opened by a marker `−1 − fieldIndex`. Ranking scans thousands of documents' words per query; reading
// them from one array (in document order, as the postings hand them out) costs a few cache misses per document
// instead of one per object hop through entry → fields → field → words. Removed documents leave garbage that is
// compacted away once it is half the arena.

export class TokenArena {
  /** Tokens: word ids, and `−1 − fieldIndex` where a field starts. */
  tokens = new Int32Array(1 << 12);
  /** Per document id: where its tokens start and end in `tokens` (end 0 = not stored). */
  start = new Int32Array(1 << 10);
  end = new Int32Array(1 << 10);
  private length = 0;
  private garbage = 0;

  /** Stores a document's fields (word ids per field, in the order of its DocEntry fields). */
  put(docId: number, fields: ReadonlyArray<readonly number[]>): void {
    this.delete(docId);
    let size = 0;
    for (const f of fields) size += f.length + 1;
    this.reserve(size);
    if (docId >= this.start.length) this.growDocs(docId + 1);
    const from = this.length;
    let at = from;
    const tokens = this.tokens;
    for (let fi = 0; fi < fields.length; fi++) {
      tokens[at++] = -1 - fi;
      for (const id of fields[fi]!) tokens[at++] = id;
    }
    this.start[docId] = from;
    this.end[docId] = at;
    this.length = at;
  }

  delete(docId: number): void {
    if (docId >= this.end.length || this.end[docId] === 0) return;
    this.garbage += this.end[docId]! - this.start[docId]!;
    this.start[docId] = 0;
    this.end[docId] = 0;
    if (this.garbage > 1 << 16 && this.garbage * 2 > this.length) this.compact();
  }

  clear(): void {
    this.start.fill(0);
    this.end.fill(0);
    this.length = 0;
    this.garbage = 0;
  }

  private reserve(size: number): void {
    if (this.length + size <= this.tokens.length) return;
    let cap = this.tokens.length;
    while (cap < this.length + size) cap *= 2;
    const grown = new Int32Array(cap);
    grown.set(this.tokens.subarray(0, this.length));
    this.tokens = grown;
  }

  private growDocs(min: number): void {
    let cap = this.start.length;
    while (cap < min) cap *= 2;
    const start = new Int32Array(cap);
    const end = new Int32Array(cap);
    start.set(this.start);
    end.set(this.end);
    this.start = start;
    this.end = end;
  }

  /** Rewrites the live documents contiguously, in document id order. */
  private compact(): void {
    const next = new Int32Array(Math.max(1 << 12, this.tokens.length));
    let at = 0;
    for (let doc = 0; doc < this.end.length; doc++) {
      const e = this.end[doc]!;
      if (e === 0) continue;
      const s = this.start[doc]!;
      next.set(this.tokens.subarray(s, e), at);
      this.start[doc] = at;
      at += e - s;
      this.end[doc] = at;
    }
    this.tokens = next;
    this.length = at;
    this.garbage = 0;
  }
}
