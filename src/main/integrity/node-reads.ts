// Bounded node reads for background integrity work (anti-entropy, TTL sweeps): at most `concurrency` page reads in
// flight per pod and at most `perSecond` started per second (0 = unlimited), so a pass never loads nodes more than
// its config allows, however many shards and replicas it walks.
export class ReadLimiter {
  private active = 0;
  private readonly waiting: Array<() => void> = [];
  private nextAt = 0;

  constructor(
    private readonly concurrency: number,
    private readonly perSecond: number,
  ) {}

  async run<T>(fn: () => Promise<T>): Promise<T> {
    // A finishing read hands its slot straight to the next waiter (so a newcomer cannot slip in between).
    if (this.active >= this.concurrency) await new Promise<void>((r) => this.waiting.push(r));
    else this.active++;
    try {
      if (this.perSecond > 0) {
        const now = Date.now();
        const at = Math.max(now, this.nextAt);
        this.nextAt = at + 1000 / this.perSecond;
        if (at > now) await new Promise((r) => setTimeout(r, at - now));
      }
      return await fn();
    } finally {
      const next = this.waiting.shift();
      if (next === undefined) this.active--;
      else next();
    }
  }
}
