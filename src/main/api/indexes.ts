// Index routes through the proxy (SPEC C5): `GET /indexes[/{uid}]` from Miroir's committed index state; create,
// update (primary key, rename), delete and swap validated here and registered as tasks by the index operations.
import { MeiliError } from '../../core/errors.js';
import { uintQueryParam } from '../../core/pagination.js';
import { checkIndexUid, validateCreateIndex, validateSwap, validateUpdateIndex } from '../../core/index-requests.js';
import { authAllowsIndex, requireIndexes, type AuthResult } from '../../core/auth/authorize.js';
import type { IndexOperations } from '../state/index-ops.js';
import { indexNotFound, type IndexStateService, type IndexView } from '../state/index-state.js';
import { acceptedReply } from '../tasks/registry.js';
import type { Reply } from '../../http/server.js';

function indexJson(s: IndexView): Record<string, unknown> {
  return { uid: s.uid, createdAt: s.createdAt, updatedAt: s.updatedAt, primaryKey: s.primaryKey };
}

export async function listIndexes(state: IndexStateService, query: URLSearchParams, auth: AuthResult): Promise<Reply> {
  for (const k of query.keys())
    if (k !== 'offset' && k !== 'limit')
      throw new MeiliError('bad_request', `Unknown parameter \`${k}\`: expected one of \`offset\`, \`limit\``);
  const offset = uintQueryParam(query, 'offset', 0, 'invalid_index_offset');
  const limit = uintQueryParam(query, 'limit', 20, 'invalid_index_limit');
  const all = (await state.listForClients()).filter((i) => authAllowsIndex(auth, i.uid));
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
  const b = validateUpdateIndex(body);
  if (b.uid !== undefined) requireIndexes(auth, [b.uid]);
  return acceptedReply(await ops.updateIndex(uid, b));
}

export async function swapIndexes(ops: IndexOperations, body: unknown, auth: AuthResult): Promise<Reply> {
  const swaps = validateSwap(body);
  requireIndexes(
    auth,
    swaps.flatMap((s) => s.indexes),
  );
  return acceptedReply(await ops.swapIndexes(swaps));
}
