// The best `k` of many items under a comparator, in order, without sorting them all: a sorted list of at most k
// with binary insertion, where most items are rejected by one comparison with the current worst.

export class TopK<T> {
  readonly items: T[] = [];

  constructor(
    private readonly k: number,
    private readonly cmp: (a: T, b: T) => number,
  ) {}

  offer(item: T): void {
    const { items, k, cmp } = this;
    if (k <= 0 || (items.length === k && cmp(item, items[k - 1]!) >= 0)) return;
    let lo = 0;
    let hi = items.length;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      if (cmp(items[mid]!, item) <= 0) lo = mid + 1;
      else hi = mid;
    }
    items.splice(lo, 0, item);
    if (items.length > k) items.pop();
  }
}
