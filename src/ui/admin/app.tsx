// The console shell: finds out whether a session exists (GET /_miroir/admin/session), shows the login or the views
// (hash-routed, focus moved to each view's heading), the menu, the logout, the read-only notice, the outcome of the
// last action and the retype-to-confirm dialog. A 401 anywhere ends the session in the page.
import { useCallback, useEffect, useRef, useState } from 'preact/hooks';
import { api, ApiError, setCsrfToken, setUnauthorizedHandler, type SessionInfo } from './api.js';
import { ConfirmDialog, Notice, type ConfirmRequest, type Message } from './components.js';
import { useHashRoute } from './hooks.js';
import { LoginView } from './views/login.js';
import { visibleViews } from './views/registry.js';

type Phase = { kind: 'checking' } | { kind: 'out'; reason: string | null } | { kind: 'in'; session: SessionInfo };

export function App() {
  const [phase, setPhase] = useState<Phase>({ kind: 'checking' });
  const enter = useCallback((session: SessionInfo) => {
    setCsrfToken(session.csrf_token);
    setPhase({ kind: 'in', session });
  }, []);
  useEffect(() => {
    setUnauthorizedHandler(() => {
      setCsrfToken(null);
      setPhase({ kind: 'out', reason: 'Your session ended; log in again.' });
    });
    api<SessionInfo>('GET', '/_miroir/admin/session', undefined, { quiet401: true }).then(
      (s) => (s.csrf_token === null ? setPhase({ kind: 'out', reason: null }) : enter(s)),
      (err: unknown) =>
        setPhase({
          kind: 'out',
          reason: err instanceof ApiError && err.status === 401 ? null : `Miroir did not answer: ${String(err)}`,
        }),
    );
  }, [enter]);
  if (phase.kind === 'checking') return <p class="login">Loading…</p>;
  if (phase.kind === 'out') return <LoginView reason={phase.reason} onLogin={enter} />;
  return (
    <Console
      session={phase.session}
      onLogout={() => {
        setCsrfToken(null);
        setPhase({ kind: 'out', reason: 'You are logged out.' });
      }}
    />
  );
}

function Console({ session, onLogout }: { session: SessionInfo; onLogout(): void }) {
  const views = visibleViews(session.capabilities);
  const route = useHashRoute();
  const view = views.find((v) => v.id === route) ?? views[0]!;
  const [message, setMessage] = useState<Message | null>(null);
  const [pending, setPending] = useState<ConfirmRequest | null>(null);
  const heading = useRef<HTMLHeadingElement>(null);
  const first = useRef(true);
  useEffect(() => {
    document.title = `${view.title} · Miroir admin`;
    setMessage(null);
    // Moving between views puts focus on the new view's heading (not on first load).
    if (!first.current) heading.current?.focus();
    first.current = false;
  }, [view.id]);
  const View = view.component;
  return (
    <>
      <a class="skip" href="#main" onClick={(e) => (e.preventDefault(), heading.current?.focus())}>
        Skip to content
      </a>
      <header>
        <p class="brand">Miroir admin</p>
        <nav aria-label="Views">
          <ul>
            {views.map((v) => (
              <li key={v.id}>
                <a href={`#/${v.id}`} aria-current={v.id === view.id ? 'page' : undefined}>
                  {v.title}
                </a>
              </li>
            ))}
          </ul>
        </nav>
        <button
          type="button"
          class="logout"
          onClick={async () => {
            await api('POST', '/_miroir/admin/logout').catch(() => undefined);
            onLogout();
          }}
        >
          Log out
        </button>
      </header>
      <main id="main">
        <h1 ref={heading} tabIndex={-1}>
          {view.title}
        </h1>
        {session.read_only && (
          <p class="notice">
            This console is read-only (admin_ui.read_only_mode): it shows the cluster but offers no actions.
          </p>
        )}
        <Notice message={message} />
        <View key={view.id} session={session} notify={setMessage} confirm={setPending} />
      </main>
      <ConfirmDialog request={pending} onClose={() => setPending(null)} />
    </>
  );
}
