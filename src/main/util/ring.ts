// A fixed-capacity FIFO ring buffer (no Array.shift): `push` refuses when full (a bounded queue that sheds) or
// overwrites the oldest (`pushEvicting`, a history that forgets). O(1) per operation; iteration oldest first.
export class Ring<T> {
  private readonly items: Array<T | undefined>;
  private head = 0;
  private count = 0;

  constructor(readonly capacity: number) {
    if (!Number.isInteger(capacity) || capacity < 1) throw new RangeError('capacity must be an integer ≥ 1');
    this.items = new Array<T | undefined>(capacity);
  }

  get size(): number {
    return this.count;
  }

  /** Adds at the tail; false (nothing added) when full. */
  push(item: T): boolean {
    if (this.count === this.capacity) return false;
    this.items[(this.head + this.count) % this.capacity] = item;
    this.count++;
    return true;
  }

  /** Adds at the tail, dropping the oldest item when full. */
  pushEvicting(item: T): void {
    if (this.count === this.capacity) this.shift();
    this.push(item);
  }

  /** Removes and answers the oldest item. */
  shift(): T | undefined {
    if (this.count === 0) return undefined;
    const item = this.items[this.head];
    this.items[this.head] = undefined;
    this.head = (this.head + 1) % this.capacity;
    this.count--;
    return item;
  }

  *[Symbol.iterator](): IterableIterator<T> {
    for (let i = 0; i < this.count; i++) yield this.items[(this.head + i) % this.capacity]!;
  }
}
