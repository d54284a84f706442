// Login: the admin API key, exchanged for a session cookie (never stored by the page). Shows why a login failed,
// including the wait after too many failures.
import { useEffect, useRef, useState } from 'preact/hooks';
import { api, ApiError, errorText, type SessionInfo } from '../api.js';

function waitText(seconds: number | null): string {
  if (seconds === null) return '';
  if (seconds < 120) return ` Try again in ${seconds} seconds.`;
  return ` Try again in ${Math.ceil(seconds / 60)} minutes.`;
}

export function LoginView({ onLogin, reason }: { onLogin(s: SessionInfo): void; reason: string | null }) {
  const [key, setKey] = useState('');
  const [error, setError] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);
  const input = useRef<HTMLInputElement>(null);
  useEffect(() => {
    document.title = 'Log in · Miroir admin';
    input.current?.focus();
  }, []);
  return (
    <main id="main" class="login">
      <h1>Miroir admin console</h1>
      {reason !== null && <p class="notice">{reason}</p>}
      <form
        onSubmit={async (e) => {
          e.preventDefault();
          setBusy(true);
          setError(null);
          try {
            const session = await api<SessionInfo>(
              'POST',
              '/_miroir/admin/login',
              { admin_key: key },
              { quiet401: true },
            );
            setKey('');
            onLogin(session);
          } catch (err) {
            if (err instanceof ApiError && err.status === 429)
              setError(`${err.message}${/try again/i.test(err.message) ? '' : waitText(err.retryAfterS)}`);
            else if (err instanceof ApiError && err.status === 401) setError('That is not the admin key.');
            else setError(`Login failed: ${errorText(err)}`);
            input.current?.focus();
          } finally {
            setBusy(false);
          }
        }}
      >
        <label for="admin-key">Admin API key</label>
        <input
          ref={input}
          id="admin-key"
          name="admin_key"
          type="password"
          autoComplete="current-password"
          required
          value={key}
          aria-describedby={error === null ? undefined : 'login-error'}
          onInput={(e) => setKey((e.target as HTMLInputElement).value)}
        />
        <button type="submit" disabled={busy}>
          Log in
        </button>
        <p id="login-error" role="alert" class={error === null ? 'sr-only' : 'notice notice-error'}>
          {error ?? ''}
        </p>
      </form>
    </main>
  );
}
