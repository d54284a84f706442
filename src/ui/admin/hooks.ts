// Live data for the views: `usePoll` loads at once and again every interval after the previous load finished
// (never two at a time; paused while the tab is hidden), and `useHashRoute` follows `#/view` in the address bar.
import { useCallback, useEffect, useRef, useState } from 'preact/hooks';
import { ApiError, errorText } from './api.js';

export interface Polled<T> {
  data: T | null;
  error: string | null;
  /** Loads again now (after an action). */
  refresh(): void;
}

export function usePoll<T>(
  load: (signal: AbortSignal) => Promise<T>,
  intervalMs: number,
  deps: readonly unknown[] = [],
): Polled<T> {
  // Each answer is kept with the parameters it answered, so a render with new parameters never shows an old answer.
  const key = JSON.stringify(deps);
  const [state, setState] = useState<{ key: string; data: T | null; error: string | null }>({
    key,
    data: null,
    error: null,
  });
  const kick = useRef<() => void>(() => undefined);
  useEffect(() => {
    const ctl = new AbortController();
    let timer: ReturnType<typeof setTimeout> | undefined;
    let running = false;
    let again = false;
    const tick = async (): Promise<void> => {
      clearTimeout(timer);
      if (running) {
        again = true;
        return;
      }
      running = true;
      again = false;
      if (!document.hidden) {
        try {
          const data = await load(ctl.signal);
          if (!ctl.signal.aborted) setState({ key, data, error: null });
        } catch (err) {
          if (ctl.signal.aborted) return;
          if (!(err instanceof ApiError && err.status === 401))
            setState((s) => ({ key, data: s.key === key ? s.data : null, error: errorText(err) }));
        }
      }
      running = false;
      if (!ctl.signal.aborted) timer = setTimeout(() => void tick(), again ? 0 : intervalMs);
    };
    kick.current = () => void tick();
    void tick();
    return () => {
      ctl.abort();
      clearTimeout(timer);
    };
  }, deps);
  const refresh = useCallback(() => kick.current(), []);
  return state.key === key ? { data: state.data, error: state.error, refresh } : { data: null, error: null, refresh };
}

export function useHashRoute(): string {
  const read = () => location.hash.replace(/^#\/?/, '').split('?')[0] ?? '';
  const [route, setRoute] = useState(read);
  useEffect(() => {
    const on = () => setRoute(read());
    addEventListener('hashchange', on);
    return () => removeEventListener('hashchange', on);
  }, []);
  return route;
}
