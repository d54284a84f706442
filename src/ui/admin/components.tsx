// Shared pieces of the views: the retype-to-confirm dialog for destructive actions, progress, status badges with
// text (never color alone), the live message region and a table wrapper that scrolls by keyboard.
import type { ComponentChildren } from 'preact';
import { useEffect, useRef, useState } from 'preact/hooks';

/** A labelled form control: the label names the control alone (not the control's current value). */
export function Field({ id, label, children }: { id: string; label: ComponentChildren; children: ComponentChildren }) {
  return (
    <div class="field">
      <label for={id}>{label}</label>
      {children}
    </div>
  );
}

export function Badge({ kind, children }: { kind: string; children: ComponentChildren }) {
  return <span class={`badge badge-${kind}`}>{children}</span>;
}

const GOOD = new Set(['healthy', 'active', 'succeeded', 'done', 'ready']);
const BAD = new Set(['unhealthy', 'failed', 'removed', 'canceled']);

/** A state word as a badge: green for good states, red for bad ones, amber for the rest. */
export function StateBadge({ state }: { state: string }) {
  const kind = GOOD.has(state) ? 'good' : BAD.has(state) ? 'bad' : 'busy';
  const mark = kind === 'good' ? '●' : kind === 'bad' ? '✕' : '◐';
  return (
    <Badge kind={kind}>
      <span aria-hidden="true">{mark} </span>
      {state}
    </Badge>
  );
}

export function Progress({ done, total, label }: { done: number; total: number; label: string }) {
  const pct = total > 0 ? Math.round((done / total) * 100) : 100;
  return (
    <span class="progress">
      <progress max={Math.max(total, 1)} value={total > 0 ? done : 1} aria-label={label} />
      <span>
        {done} of {total} ({pct}%)
      </span>
    </span>
  );
}

/** A wide table in a region that scrolls; focusable so keyboard users can scroll it. */
export function Scroll({ label, children }: { label: string; children: ComponentChildren }) {
  return (
    <div class="scroll" role="region" aria-label={label} tabIndex={0}>
      {children}
    </div>
  );
}

export interface Message {
  kind: 'ok' | 'error';
  text: string;
}

/** The outcome of the last action: announced politely (ok) or at once (error). */
export function Notice({ message }: { message: Message | null }) {
  return (
    <div>
      <p role="status" class={message?.kind === 'ok' ? 'notice notice-ok' : 'sr-only'}>
        {message?.kind === 'ok' ? message.text : ''}
      </p>
      <p role="alert" class={message?.kind === 'error' ? 'notice notice-error' : 'sr-only'}>
        {message?.kind === 'error' ? message.text : ''}
      </p>
    </div>
  );
}

export interface ConfirmRequest {
  title: string;
  /** What happens, in a sentence or two. */
  body: string;
  /** The name the operator must retype. */
  name: string;
  action: string;
  run(): Promise<void>;
}

/** Asks for the target's name to be typed before a destructive action runs (a modal <dialog>). */
export function ConfirmDialog({ request, onClose }: { request: ConfirmRequest | null; onClose(): void }) {
  const ref = useRef<HTMLDialogElement>(null);
  const [typed, setTyped] = useState('');
  const [busy, setBusy] = useState(false);
  useEffect(() => {
    const d = ref.current;
    if (d === null) return;
    if (request !== null && !d.open) {
      setTyped('');
      d.showModal();
    } else if (request === null && d.open) d.close();
  }, [request]);
  const matches = request !== null && typed === request.name;
  return (
    <dialog ref={ref} class="confirm" aria-labelledby="confirm-title" onClose={onClose}>
      {request !== null && (
        <form
          method="dialog"
          onSubmit={async (e) => {
            e.preventDefault();
            if (!matches || busy) return;
            setBusy(true);
            try {
              await request.run();
            } finally {
              setBusy(false);
              onClose();
            }
          }}
        >
          <h2 id="confirm-title">{request.title}</h2>
          <p>{request.body}</p>
          <label for="confirm-name">
            Type <strong>{request.name}</strong> to confirm
          </label>
          <input
            id="confirm-name"
            name="confirm-name"
            autoComplete="off"
            spellcheck={false}
            value={typed}
            onInput={(e) => setTyped((e.target as HTMLInputElement).value)}
          />
          <div class="buttons">
            <button type="button" onClick={onClose}>
              Cancel
            </button>
            <button type="submit" class="danger" disabled={!matches || busy}>
              {request.action}
            </button>
          </div>
        </form>
      )}
    </dialog>
  );
}
