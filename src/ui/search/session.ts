// The page's session: fetches a short-lived search session token from Miroir (`<index>/session`), renews it before
// it expires and once more when Miroir calls it invalid (401 miroir_jwt_invalid), and is the only credential the
// page ever holds — a token that can search this one index and nothing else. Also the HTTP client
// instant-meilisearch sends the page's searches with (Authorization: Bearer <session token>).
import { membersOf } from '../../core/types.js';

/** An answer of Miroir the page must show a message for. */
export class UiError extends Error {
  constructor(
    readonly status: number,
    readonly code: string | null,
    message: string,
    readonly retryAfterS: number | null,
  ) {
    super(message);
    this.name = 'UiError';
  }
}

async function readBody(res: Response): Promise<unknown> {
  const text = await res.text();
  if (text === '') return undefined;
  try {
    return JSON.parse(text);
  } catch {
    return undefined;
  }
}

function errorOf(res: Response, body: unknown): UiError {
  const b = membersOf(body);
  const retry = Number(res.headers.get('retry-after'));
  return new UiError(
    res.status,
    typeof b.code === 'string' ? b.code : null,
    typeof b.message === 'string' ? b.message : `HTTP ${res.status}`,
    Number.isFinite(retry) && retry > 0 ? retry : null,
  );
}

/** Renew this long before the token's stated expiry. */
const RENEW_MARGIN_MS = 30_000;

export class Session {
  private token: string | null = null;
  private expiresAt = 0;
  private pending: Promise<string> | null = null;
  /** The access key the visitor typed (mode `shared_key`). */
  sharedKey: string | null = null;

  constructor(private readonly url: string) {}

  /** A token that is not about to expire. */
  current(): Promise<string> {
    if (this.token !== null && Date.now() < this.expiresAt - RENEW_MARGIN_MS) return Promise.resolve(this.token);
    return this.renew();
  }

  /** A fresh token (concurrent callers share one request). */
  renew(): Promise<string> {
    this.pending ??= this.fetchToken().finally(() => {
      this.pending = null;
    });
    return this.pending;
  }

  private async fetchToken(): Promise<string> {
    const headers: Record<string, string> = { accept: 'application/json' };
    if (this.sharedKey !== null) headers['x-search-ui-key'] = this.sharedKey;
    const res = await fetch(this.url, { headers, cache: 'no-store', credentials: 'same-origin' });
    const body = await readBody(res);
    if (!res.ok) throw errorOf(res, body);
    const { token, expires_at } = membersOf(body);
    if (typeof token !== 'string' || typeof expires_at !== 'string')
      throw new UiError(res.status, null, 'The search session answer has no token.', null);
    this.token = token;
    this.expiresAt = Date.parse(expires_at);
    return token;
  }
}

/**
 * meilisearch-js's `httpClient` option: every search carries the current session token; a 401 miroir_jwt_invalid
 * (expired or rotated secret) renews the session and retries once; other failures become UiError.
 */
export function sessionHttpClient(
  session: Session,
  onSuccess: () => void,
): (input: RequestInfo | URL, init?: RequestInit) => Promise<unknown> {
  return async (input, init) => {
    for (let attempt = 0; ; attempt++) {
      const headers = new Headers(init?.headers);
      headers.set('authorization', `Bearer ${await session.current()}`);
      const res = await fetch(input, { ...init, headers });
      const body = await readBody(res);
      if (res.ok) {
        onSuccess();
        return body;
      }
      const err = errorOf(res, body);
      if (attempt === 0 && res.status === 401 && err.code === 'miroir_jwt_invalid') {
        await session.renew();
        continue;
      }
      throw err;
    }
  };
}

/** The UiError behind an error instantsearch reports (instant-meilisearch wraps it as `cause`). */
export function uiErrorOf(err: unknown): UiError | null {
  for (
    let e: unknown = err, depth = 0;
    e !== null && e !== undefined && depth < 5;
    e = (e as { cause?: unknown }).cause, depth++
  ) {
    if (e instanceof UiError) return e;
  }
  return null;
}
