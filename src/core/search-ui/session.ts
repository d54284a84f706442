// Search-UI session tokens as data (SPEC A21, C13): the claims a session JWT carries, which scope each route needs,
// whether a bearer token is JWT-shaped and not a Meilisearch tenant token (those keep Meilisearch's rules), and
// the filter `oauth_proxy` mode ANDs into every search. Signing and verifying live in src/main/search-ui/jwt.ts.

export type SessionScope = 'search' | 'multi_search' | 'beacon';
export const SESSION_SCOPES: readonly SessionScope[] = Object.freeze(['search', 'multi_search', 'beacon']);
export const SESSION_ISSUER = 'miroir';
export const SESSION_SUBJECT = 'search-ui-session';

/** The claims of a session token, exactly A21's set. */
export interface SessionClaims {
  iss: typeof SESSION_ISSUER;
  sub: typeof SESSION_SUBJECT;
  idx: string;
  scope: SessionScope[];
  exp: number;
  iat: number;
  kid: string;
  injected_filter?: string;
}

/** The scope a route needs from a session token (`METHOD template`), or null when no session may call it. */
export function scopeForRoute(method: string, template: string): SessionScope | null {
  switch (`${method === 'HEAD' ? 'GET' : method} ${template}`) {
    case 'POST /indexes/:uid/search':
    case 'GET /indexes/:uid/search':
    case 'POST /indexes/:uid/facet-search':
      return 'search';
    case 'POST /multi-search':
      return 'multi_search';
    case 'POST /ui/search/:uid/beacon':
    case 'POST /_miroir/ui/search/:uid/beacon':
      return 'beacon';
    default:
      return null;
  }
}

const SEGMENT_RE = /^[A-Za-z0-9_-]+$/;

function decodeJsonSegment(segment: string): Record<string, unknown> | null {
  if (!SEGMENT_RE.test(segment)) return null;
  try {
    const value: unknown = JSON.parse(Buffer.from(segment, 'base64url').toString('utf8'));
    return typeof value === 'object' && value !== null && !Array.isArray(value)
      ? (value as Record<string, unknown>)
      : null;
  } catch {
    return null;
  }
}

/**
 * Whether a bearer token is a JWT that the search UI must judge (C13 step 1): three base64url segments whose header
 * is a JSON object naming `alg`. A token carrying Meilisearch's tenant-token claim `apiKeyUid` is a tenant token
 * (Decisions: "a token with Meilisearch's tenant-token claims is always a tenant token") and is left alone, as is
 * anything not JWT-shaped (an API key).
 */
export function isSessionJwtShaped(token: string): boolean {
  const parts = token.split('.');
  if (parts.length !== 3 || parts[2]!.length === 0 || !SEGMENT_RE.test(parts[2]!)) return false;
  const header = decodeJsonSegment(parts[0]!);
  if (header === null || typeof header.alg !== 'string') return false;
  const payload = decodeJsonSegment(parts[1]!);
  return payload === null || !Object.hasOwn(payload, 'apiKeyUid');
}

/** Checks claims that a signature check does not: issuer, subject, index, scopes. Returns a reason or null. */
export function claimsProblem(payload: Record<string, unknown>): string | null {
  if (payload.iss !== SESSION_ISSUER) return 'the issuer is not `miroir`';
  if (payload.sub !== SESSION_SUBJECT) return 'the subject is not `search-ui-session`';
  if (typeof payload.idx !== 'string' || payload.idx === '') return 'the `idx` claim is missing';
  if (!Array.isArray(payload.scope) || !payload.scope.every((s) => typeof s === 'string'))
    return 'the `scope` claim is missing';
  if (typeof payload.exp !== 'number' || typeof payload.iat !== 'number') return 'the `exp` or `iat` claim is missing';
  if (typeof payload.kid !== 'string') return 'the `kid` claim is missing';
  if (payload.injected_filter !== undefined && typeof payload.injected_filter !== 'string')
    return 'the `injected_filter` claim is not a string';
  return null;
}

/** A string as a Meilisearch filter value: double-quoted, `"` and `\` escaped. */
export function filterString(value: string): string {
  return `"${value.replace(/[\\"]/g, (c) => `\\${c}`)}"`;
}

/** `X-Forwarded-Groups` as oauth2-proxy sends it: comma-separated, trimmed, empty entries dropped. */
export function parseGroups(header: string | undefined): string[] {
  if (header === undefined) return [];
  return header
    .split(',')
    .map((g) => g.trim())
    .filter((g) => g.length > 0);
}

/**
 * The filter `oauth_proxy` mode ANDs into the session's searches: `<user_attr> = "<user>"` and/or
 * `<groups_attr> IN ["g1", ...]` (no group → a filter nothing matches). null when neither attribute is configured.
 */
export function oauthFilter(
  user: string,
  groups: readonly string[],
  opts: { userAttribute: string | null; groupsAttribute: string | null },
): string | null {
  const parts: string[] = [];
  if (opts.userAttribute !== null) parts.push(`${opts.userAttribute} = ${filterString(user)}`);
  if (opts.groupsAttribute !== null) parts.push(`${opts.groupsAttribute} IN [${groups.map(filterString).join(', ')}]`);
  if (parts.length === 0) return null;
  return parts.length === 1 ? parts[0]! : parts.map((p) => `(${p})`).join(' AND ');
}
