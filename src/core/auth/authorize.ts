// HOT PATH. Meilisearch's authorization decision for one request: master key, API key (actions, indexes,
// expiry) or tenant token (JWT signed with an API key; `searchRules` become extra filters), with Meilisearch's
// errors: 401 missing_authorization_header, 403 invalid_api_key. The caller supplies key lookups (its store).
import { timingSafeEqual } from 'node:crypto';
import { jwtVerify, decodeProtectedHeader } from 'jose';
import { MeiliError } from '../errors.js';
import { actionsAllow, indexesAllow, indexPatternMatches } from './actions.js';
import { deriveKeyValue, isExpired, type ApiKeyRecord } from './keys.js';
import type { RouteAuth } from './route-actions.js';

/** Tenant-token search rules: index pattern → null or `{filter}`. */
export type SearchRules = Record<string, { filter?: unknown } | null>;

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
  return new MeiliError('missing_authorization_header', 'The Authorization header is missing. It must use the bearer authorization method.');
}

export function invalidApiKey(): MeiliError {
  return new MeiliError('invalid_api_key', 'The provided API key is invalid.');
}

export function constantTimeEqual(a: string, b: string): boolean {
  const ab = Buffer.from(a);
  const bb = Buffer.from(b);
  return ab.length === bb.length && timingSafeEqual(ab, bb);
}

function bearerToken(header: string | undefined): string | null {
  if (header === undefined) return null;
  const m = /^Bearer\s+(.+)$/i.exec(header.trim());
  return m === null ? '' : m[1]!.trim();
}

function looksLikeJwt(token: string): boolean {
  const dot1 = token.indexOf('.');
  return dot1 > 0 && token.indexOf('.', dot1 + 1) > dot1 + 1 && token.startsWith('ey');
}

function checkKey(key: ApiKeyRecord, input: AuthorizeInput): void {
  if (isExpired(key, input.nowMs)) throw invalidApiKey();
  if (!actionsAllow(key.actions, input.route.actions)) throw invalidApiKey();
  if (input.route.scope === 'index') {
    if (input.indexUid !== null && !indexesAllow(key.indexes, input.indexUid)) throw invalidApiKey();
  } else if (!key.indexes.includes('*')) {
    throw invalidApiKey();
  }
}

function normalizeSearchRules(raw: unknown): SearchRules | null {
  if (Array.isArray(raw)) {
    const out: SearchRules = {};
    for (const p of raw) {
      if (typeof p !== 'string') return null;
      out[p] = null;
    }
    return out;
  }
  if (typeof raw === 'object' && raw !== null) {
    const out: SearchRules = {};
    for (const [pattern, rule] of Object.entries(raw as Record<string, unknown>)) {
      if (rule === null || rule === undefined) out[pattern] = null;
      else if (typeof rule === 'object' && !Array.isArray(rule)) out[pattern] = rule as { filter?: unknown };
      else return null;
    }
    return out;
  }
  return null;
}

async function verifyTenantToken(token: string, input: AuthorizeInput): Promise<AuthResult> {
  let alg: string | undefined;
  try {
    alg = decodeProtectedHeader(token).alg;
  } catch {
    throw invalidApiKey();
  }
  if (alg !== 'HS256' && alg !== 'HS384' && alg !== 'HS512') throw invalidApiKey();
  let claims: Record<string, unknown>;
  // The payload names the signing key; read it before verifying, then verify with that key's value.
  try {
    const payloadPart = token.split('.')[1]!;
    claims = JSON.parse(Buffer.from(payloadPart, 'base64url').toString('utf8')) as Record<string, unknown>;
  } catch {
    throw invalidApiKey();
  }
  const apiKeyUid = claims['apiKeyUid'];
  if (typeof apiKeyUid !== 'string' || input.masterKey === null) throw invalidApiKey();
  const key = await input.keys.byUid(apiKeyUid);
  if (key === null || isExpired(key, input.nowMs)) throw invalidApiKey();
  const secret = new TextEncoder().encode(deriveKeyValue(input.masterKey, key.uid));
  try {
    await jwtVerify(token, secret, { algorithms: [alg], currentDate: new Date(input.nowMs) });
  } catch {
    throw invalidApiKey();
  }
  const rules = normalizeSearchRules(claims['searchRules']);
  if (rules === null) throw invalidApiKey();
  if (!actionsAllow(key.actions, ['search'])) throw invalidApiKey();
  if (input.indexUid !== null) {
    if (!indexesAllow(key.indexes, input.indexUid)) throw invalidApiKey();
    if (searchRuleFor(rules, input.indexUid) === undefined) throw invalidApiKey();
  }
  return { kind: 'tenant', key, searchRules: rules };
}

/** The rule of a tenant token for one index: undefined = not allowed, null = allowed without filter. */
export function searchRuleFor(rules: SearchRules, indexUid: string): { filter?: unknown } | null | undefined {
  if (Object.prototype.hasOwnProperty.call(rules, indexUid)) return rules[indexUid];
  let found: { filter?: unknown } | null | undefined;
  for (const [pattern, rule] of Object.entries(rules)) {
    if (indexPatternMatches(pattern, indexUid)) {
      found = rule;
      if (pattern !== '*') break;
    }
  }
  return found;
}

/** Decides one request; throws Meilisearch's auth errors. */
export async function authorize(input: AuthorizeInput): Promise<AuthResult> {
  if (input.masterKey === null || input.route.actions.length === 0) return OPEN;
  const token = bearerToken(input.authorization);
  if (token === null) throw missingAuthorization();
  if (token === '') throw invalidApiKey();
  if (constantTimeEqual(token, input.masterKey)) return MASTER;
  if (looksLikeJwt(token)) {
    if (!input.tenantTokenAllowed) throw invalidApiKey();
    return verifyTenantToken(token, input);
  }
  const key = await input.keys.byValue(token);
  if (key === null) throw invalidApiKey();
  checkKey(key, input);
  return { kind: 'key', key };
}

/** Whether an authenticated caller may see/touch an index (used to filter listings and multi-search queries). */
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
