// HOT PATH. Meilisearch's authorization decision for one request, step by step as its `ActionPolicy`: master key,
// tenant token (JWT signed with an API key's value; `searchRules` become extra filters) or API key, then the
// index checks (with Meilisearch's texts), then actions and expiry. 401 missing_authorization_header, 403
// invalid_api_key. The caller supplies key lookups (its store).
import { timingSafeEqual } from 'node:crypto';
import { MeiliError } from '../errors.js';
import { actionsAllow, indexesAllow, indexPatternMatches } from './actions.js';
import { deriveKeyValue, isExpired, type ApiKeyRecord } from './keys.js';
import type { RouteAuth } from './route-actions.js';
import { rustDebugString } from './serde-json.js';
import { readTenantToken, verifyTenantToken, type SearchRules } from './tenant-token.js';

export type { SearchRules } from './tenant-token.js';

export type AuthResult =
  | { kind: 'open' }
  | { kind: 'master' }
  | { kind: 'key'; key: ApiKeyRecord }
  | { kind: 'tenant'; key: ApiKeyRecord; searchRules: SearchRules };

export interface KeyLookup {
  /** The record whose derived value equals `value`, or null. */
  byValue(value: string): ApiKeyRecord | null | Promise<ApiKeyRecord | null>;
  byUid(uid: string): ApiKeyRecord | null | Promise<ApiKeyRecord | null>;
}

export interface AuthorizeInput {
  /** The raw Authorization header, if any. */
  authorization: string | undefined;
  /** null = no master key configured: every route is open, like Meilisearch. */
  masterKey: string | null;
  route: RouteAuth;
  /** The index named by the path (`:uid`), when the route has one. */
  indexUid: string | null;
  /** Whether tenant tokens may be used here (search routes only). */
  tenantTokenAllowed: boolean;
  keys: KeyLookup;
  nowMs: number;
}

const OPEN: AuthResult = Object.freeze({ kind: 'open' });
const MASTER: AuthResult = Object.freeze({ kind: 'master' });

export function missingAuthorization(): MeiliError {
  return new MeiliError(
    'missing_authorization_header',
    'The Authorization header is missing. It must use the bearer authorization method.',
  );
}

export function invalidApiKey(): MeiliError {
  return new MeiliError('invalid_api_key', 'The provided API key is invalid.');
}

export function constantTimeEqual(a: string, b: string): boolean {
  const ab = Buffer.from(a);
  const bb = Buffer.from(b);
  return ab.length === bb.length && timingSafeEqual(ab, bb);
}

const NOT_VISIBLE_ASCII = /[^\t\x20-\x7e]/;

/**
 * The bearer token as Meilisearch reads the header: `Bearer` (exactly), one space, then everything else. No header
 * → null; another scheme or a non-ASCII header → missing header; `Bearer` alone → invalid key.
 */
function bearerToken(header: string | undefined): string | null {
  if (header === undefined) return null;
  if (NOT_VISIBLE_ASCII.test(header)) throw missingAuthorization();
  const space = header.indexOf(' ');
  if ((space < 0 ? header : header.slice(0, space)) !== 'Bearer') throw missingAuthorization();
  if (space < 0) throw invalidApiKey();
  return header.slice(space + 1);
}

function byteOrder(a: string, b: string): number {
  return Buffer.compare(Buffer.from(a), Buffer.from(b));
}

/** Rust's `{:?}` of a sorted, de-duplicated list of names: `["a", "b"]`. */
function debugList(names: Iterable<string>): string {
  return `[${[...new Set(names)].sort(byteOrder).map(rustDebugString).join(', ')}]`;
}

/** Index checks first (public information for tenant tokens), as Meilisearch orders them; then actions/expiry. */
function checkAccess(key: ApiKeyRecord, rules: SearchRules | null, input: AuthorizeInput): void {
  const index = input.indexUid;
  if (index !== null) {
    if (rules !== null && searchRuleFor(rules, index) === undefined) {
      throw new MeiliError(
        'invalid_api_key',
        `The provided tenant token cannot acces the index \`${index}\`, allowed indexes are ${debugList(Object.keys(rules))}.`,
      );
    }
    if (!indexesAllow(key.indexes, index)) {
      if (rules !== null)
        throw new MeiliError(
          'invalid_api_key',
          `The API key used to generate this tenant token cannot acces the index \`${index}\`.`,
        );
      throw new MeiliError(
        'invalid_api_key',
        `The API key cannot acces the index \`${index}\`, authorized indexes are ${debugList(key.indexes)}.`,
      );
    }
  }
  if (isExpired(key, input.nowMs)) throw invalidApiKey();
  if (!actionsAllow(key.actions, input.route.actions)) throw invalidApiKey();
  if (input.route.scope === 'global' && !key.indexes.includes('*')) throw invalidApiKey();
}

/** The rule of a tenant token for one index: undefined = not allowed, null/{} = allowed without filter. The most
 * specific matching pattern wins (an exact uid, then the longest prefix), as in Meilisearch. */
export function searchRuleFor(rules: SearchRules, indexUid: string): { filter?: unknown } | null | undefined {
  let best: string | null = null;
  for (const pattern of Object.keys(rules)) {
    if (!indexPatternMatches(pattern, indexUid)) continue;
    if (best === null) best = pattern;
    else {
      const exact = !pattern.endsWith('*');
      const bestExact = !best.endsWith('*');
      if (exact !== bestExact ? exact : Buffer.byteLength(pattern) > Buffer.byteLength(best)) best = pattern;
    }
  }
  return best === null ? undefined : rules[best];
}

/** Decides one request; throws Meilisearch's auth errors. */
export async function authorize(input: AuthorizeInput): Promise<AuthResult> {
  if (input.masterKey === null || input.route.actions.length === 0) return OPEN;
  const token = bearerToken(input.authorization);
  if (token === null) throw missingAuthorization();
  if (constantTimeEqual(token, input.masterKey)) return MASTER;
  const claims = input.tenantTokenAllowed ? readTenantToken(token) : null;
  if (claims !== null) {
    verifyTenantToken(token, claims, deriveKeyValue(input.masterKey, claims.apiKeyUid), input.nowMs);
    const key = await input.keys.byUid(claims.apiKeyUid);
    if (key === null) throw invalidApiKey();
    checkAccess(key, claims.searchRules, input);
    return { kind: 'tenant', key, searchRules: claims.searchRules };
  }
  const key = await input.keys.byValue(token);
  if (key === null) throw invalidApiKey();
  checkAccess(key, null, input);
  return { kind: 'key', key };
}

/** Whether every index is open to the caller (Meilisearch's `all_indexes_authorized`): lists then hide nothing. */
export function authAllIndexes(auth: AuthResult): boolean {
  switch (auth.kind) {
    case 'open':
    case 'master':
      return true;
    case 'key':
      return auth.key.indexes.includes('*');
    case 'tenant':
      return auth.key.indexes.includes('*') && Object.prototype.hasOwnProperty.call(auth.searchRules, '*');
  }
}

/** Whether an authenticated caller may see/touch an index (used to filter listings and multi-search queries). */
/**
 * Every index a request names — in its path or its body (a creation's `uid`, a rename's new `uid`, both sides of
 * each swap) — must be one the key may act on, as Meilisearch checks (else 403 invalid_api_key).
 */
export function requireIndexes(auth: AuthResult, uids: readonly string[]): void {
  for (const uid of uids) if (!authAllowsIndex(auth, uid)) throw invalidApiKey();
}

export function authAllowsIndex(auth: AuthResult, indexUid: string): boolean {
  switch (auth.kind) {
    case 'open':
    case 'master':
      return true;
    case 'key':
      return indexesAllow(auth.key.indexes, indexUid);
    case 'tenant':
      return indexesAllow(auth.key.indexes, indexUid) && searchRuleFor(auth.searchRules, indexUid) !== undefined;
  }
}

/** The extra filter a tenant token imposes on searches of one index, or null. */
export function tenantFilter(auth: AuthResult, indexUid: string): unknown {
  if (auth.kind !== 'tenant') return null;
  const rule = searchRuleFor(auth.searchRules, indexUid);
  return rule?.filter ?? null;
}
