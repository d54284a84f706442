// Index routes through the proxy (SPEC C5): `GET /indexes[/{uid}]` from Miroir's committed index state; create,
// update (primary key, rename), delete and swap validated here and registered as tasks by the index operations.
import { MeiliError } from '../../core/errors.js';
import { checkIndexUid, validateCreateIndex, validateSwap } from '../../core/index-requests.js';
import { authAllowsIndex, invalidApiKey, type AuthResult } from '../../core/auth/authorize.js';
import type { IndexOperations } from '../state/index-ops.js';
import { indexNotFound, type IndexStateService, type IndexView } from '../state/index-state.js';
import { acceptedReply } from '../tasks/registry.js';
import type { Reply } from '../../http/server.js';

function indexJson(s: IndexView): Record<string, unknown> {
  return { uid: s.uid, createdAt: s.createdAt, updatedAt: s.updatedAt, primaryKey: s.primaryKey };
}

function uint(
  q: URLSearchParams,
  name: string,
  dflt: number,
  code: 'invalid_index_offset' | 'invalid_index_limit',
): number {
  const raw = q.get(name);
  if (raw === null) return dflt;
  if (!/^\d+$/.test(raw))
    throw new MeiliError(
      code,
      `Invalid value in parameter \`${name}\`: could not parse \`${raw}\` as a positive integer`,
    );
  return Number(raw);
}

export async function listIndexes(state: IndexStateService, query: URLSearchParams, auth: AuthResult): Promise<Reply> {
  for (const k of query.keys())
    if (k !== 'offset' && k !== 'limit')
      throw new MeiliError('bad_request', `Unknown parameter \`${k}\`: expected one of \`offset\`, \`limit\``);
  const offset = uint(query, 'offset', 0, 'invalid_index_offset');
  const limit = uint(query, 'limit', 20, 'invalid_index_limit');
  const all = (await state.list()).filter((i) => authAllowsIndex(auth, i.uid));
  return {
    status: 200,
    body: { results: all.slice(offset, offset + limit).map(indexJson), offset, limit, total: all.length },
  };
}

export async function getIndex(state: IndexStateService, uid: string): Promise<Reply> {
  const s = await state.get(checkIndexUid(uid));
  if (s === null) throw indexNotFound(uid);
  return { status: 200, body: indexJson(s) };
}

/**
 * Every index a request names — in its path or its body (a creation's `uid`, a rename's new `uid`, both sides of
 * each swap) — must be one the key may act on, as Meilisearch checks (else 403 invalid_api_key).
 */
function requireIndexes(auth: AuthResult, uids: readonly string[]): void {
  for (const uid of uids) if (!authAllowsIndex(auth, uid)) throw invalidApiKey();
}

export async function createIndex(ops: IndexOperations, body: unknown, auth: AuthResult): Promise<Reply> {
  const { uid, primaryKey } = validateCreateIndex(body);
  requireIndexes(auth, [uid]);
  return acceptedReply(await ops.createIndex(uid, primaryKey));
}

export async function deleteIndex(ops: IndexOperations, uid: string): Promise<Reply> {
  return acceptedReply(await ops.deleteIndex(checkIndexUid(uid)));
}

/** `PATCH /indexes/{uid}` ({primaryKey} and/or {uid} rename). */
export async function updateIndex(ops: IndexOperations, uid: string, body: unknown, auth: AuthResult): Promise<Reply> {
  checkIndexUid(uid);
  if (body === null || typeof body !== 'object' || Array.isArray(body))
    throw new MeiliError('bad_request', `Invalid value type: expected an object, but found ${JSON.stringify(body)}`);
  const b = body as Record<string, unknown>;
  for (const k of Object.keys(b))
    if (k !== 'uid' && k !== 'primaryKey')
      throw new MeiliError('bad_request', `Unknown field \`${k}\`: expected one of \`primaryKey\`, \`uid\``);
  if (b.primaryKey !== undefined && b.primaryKey !== null && typeof b.primaryKey !== 'string') {
    throw new MeiliError(
      'invalid_index_primary_key',
      `Invalid value type at \`.primaryKey\`: expected a string, but found ${JSON.stringify(b.primaryKey)}`,
    );
  }
  if (b.uid !== undefined) checkIndexUid(String(b.uid));
  if (typeof b.uid === 'string') requireIndexes(auth, [b.uid]);
  return acceptedReply(
    await ops.updateIndex(uid, {
      primaryKey: b.primaryKey as string | null | undefined,
      uid: typeof b.uid === 'string' ? b.uid : undefined,
    }),
  );
}

export async function swapIndexes(ops: IndexOperations, body: unknown, auth: AuthResult): Promise<Reply> {
  const swaps = validateSwap(body);
  requireIndexes(
    auth,
    swaps.flatMap((s) => s.indexes),
  );
  return acceptedReply(await ops.swapIndexes(swaps));
}
