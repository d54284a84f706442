// One repeating background task: runs `fn`, waits `intervalMs` after it settled, runs it again — never two runs at
// once. Timers are unref'd (they never keep the process alive); `stop` cancels the next run and waits for the one in
// flight. Health probes, task polling, peer lookups, lease renewal, membership, data checks and the rebalancer's
// loops all run on it.
export interface Periodic {
  stop(): Promise<void>;
}

export function every(
  intervalMs: number,
  fn: () => Promise<unknown>,
  opts: { firstAfterMs?: number; onError?: (err: unknown) => void } = {},
): Periodic {
  let timer: NodeJS.Timeout | null = null;
  let running: Promise<void> | null = null;
  let stopped = false;
  const tick = () => {
    timer = null;
    running = fn()
      .then(
        () => undefined,
        (err: unknown) => opts.onError?.(err),
      )
      .finally(() => {
        running = null;
        if (!stopped) timer = setTimeout(tick, intervalMs).unref();
      });
  };
  timer = setTimeout(tick, opts.firstAfterMs ?? intervalMs).unref();
  return {
    async stop() {
      stopped = true;
      if (timer !== null) clearTimeout(timer);
      timer = null;
      await running;
    },
  };
}
