// What cancels a node call: an AbortSignal, or the lighter CallAbort the scatter hot path shares among the requests
// of one hedged part. Both node clients (undici's and the lean read client) take either.
/**
 * What can cancel a call: an AbortSignal, or the lighter CallAbort the scatter hot path uses (an AbortController and
 * its EventTarget cost ~5% of a fanned-out search's CPU when made per node request).
 */
export interface CallSignal {
  readonly aborted: boolean;
  readonly reason?: unknown;
  addEventListener(type: 'abort', listener: () => void): void;
  removeEventListener(type: 'abort', listener: () => void): void;
}

/** A CallSignal with an `abort()`: one per hedged part of a scattered read, shared by the requests it launches. */
export class CallAbort implements CallSignal {
  aborted = false;
  private listeners: Array<() => void> | null = null;

  addEventListener(_type: 'abort', listener: () => void): void {
    (this.listeners ??= []).push(listener);
  }

  removeEventListener(_type: 'abort', listener: () => void): void {
    const at = this.listeners?.indexOf(listener) ?? -1;
    if (at !== -1) this.listeners!.splice(at, 1);
  }

  abort(): void {
    if (this.aborted) return;
    this.aborted = true;
    const listeners = this.listeners;
    this.listeners = null;
    if (listeners !== null) for (const l of listeners) l();
  }
}
