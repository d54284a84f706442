// The console's one way to call Miroir: same-origin fetch with the session cookie, the CSRF token on every state
// change, Meilisearch-shaped errors turned into ApiError, and a 401 reported once to whoever shows the login.
export class ApiError extends Error {
  constructor(
    message: string,
    readonly status: number,
    readonly code: string,
    readonly retryAfterS: number | null,
  ) {
    super(message);
  }
}

let csrfToken: string | null = null;
let onUnauthorized: (() => void) | null = null;

export function setCsrfToken(token: string | null): void {
  csrfToken = token;
}

export function setUnauthorizedHandler(handler: (() => void) | null): void {
  onUnauthorized = handler;
}

export interface SessionInfo {
  csrf_token: string | null;
  expires_at: string | null;
  read_only: boolean;
  capabilities: string[];
}

export async function api<T>(
  method: 'GET' | 'POST' | 'DELETE' | 'PATCH',
  path: string,
  body?: unknown,
  opts: { signal?: AbortSignal; quiet401?: boolean } = {},
): Promise<T> {
  const headers: Record<string, string> = { accept: 'application/json' };
  if (body !== undefined) headers['content-type'] = 'application/json';
  if (method !== 'GET' && csrfToken !== null) headers['x-csrf-token'] = csrfToken;
  const res = await fetch(path, {
    method,
    headers,
    body: body === undefined ? undefined : JSON.stringify(body),
    credentials: 'same-origin',
    signal: opts.signal,
    cache: 'no-store',
  });
  const text = await res.text();
  let parsed: unknown = null;
  if (text !== '') {
    try {
      parsed = JSON.parse(text);
    } catch {
      parsed = null;
    }
  }
  if (!res.ok) {
    const err = (parsed ?? {}) as { message?: string; code?: string };
    if (res.status === 401 && opts.quiet401 !== true) onUnauthorized?.();
    const retry = res.headers.get('retry-after');
    throw new ApiError(
      err.message ?? `Miroir answered ${res.status}.`,
      res.status,
      err.code ?? 'unknown',
      retry === null ? null : Number(retry),
    );
  }
  return parsed as T;
}

export function errorText(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}
