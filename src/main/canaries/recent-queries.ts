// The recent searches `POST /_miroir/canaries/capture` turns into canaries (SPEC A18): per index, the last N
// distinct search bodies this pod served (keyed by their canonical JSON) with how often each came, oldest forgotten
// first. Recording is a Map touch per search, and only while `canary_runner.enabled`.
import { canonicalJson } from '../../core/canonical-json.js';

interface Seen {
  query: Record<string, unknown>;
  count: number;
  last: number;
}

export class RecentQueries {
  private readonly byIndex = new Map<string, Map<string, Seen>>();
  private seq = 0;

  constructor(private readonly perIndex: number) {}

  record(index: string, query: Record<string, unknown>): void {
    let seen = this.byIndex.get(index);
    if (seen === undefined) this.byIndex.set(index, (seen = new Map()));
    const key = canonicalJson(query);
    const cur = seen.get(key);
    if (cur !== undefined) {
      // Re-inserted so Map order stays least recently seen first.
      seen.delete(key);
      cur.count++;
      cur.last = ++this.seq;
      seen.set(key, cur);
      return;
    }
    seen.set(key, { query, count: 1, last: ++this.seq });
    if (seen.size > this.perIndex) seen.delete(seen.keys().next().value!);
  }

  /** Up to `count` distinct recent searches of `index`, the most frequent first (ties: the most recent). */
  sample(index: string, count: number): Array<Record<string, unknown>> {
    const seen = this.byIndex.get(index);
    if (seen === undefined) return [];
    return [...seen.values()]
      .sort((a, b) => b.count - a.count || b.last - a.last)
      .slice(0, count)
      .map((s) => s.query);
  }
}
