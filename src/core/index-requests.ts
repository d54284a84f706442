// Validation of index-level request bodies and uids exactly as Meilisearch answers them (shared by the dev node
// and the proxy): index uid rules, `POST /indexes {uid, primaryKey}`.
import { MeiliError } from './errors.js';

const INDEX_UID_RE = /^[A-Za-z0-9_-]{1,400}$/;

export function checkIndexUid(uid: string): string {
  if (!INDEX_UID_RE.test(uid)) {
    throw new MeiliError('invalid_index_uid', `\`${uid}\` is not a valid index uid. Index uid can be an integer or a string containing only alphanumeric characters, hyphens (-) and underscores (_), and can not be more than 512 bytes.`);
  }
  return uid;
}

export function validateCreateIndex(body: unknown): { uid: string; primaryKey: string | null } {
  if (body === null || typeof body !== 'object' || Array.isArray(body)) throw new MeiliError('bad_request', `Invalid value type: expected an object, but found ${JSON.stringify(body)}`);
  const b = body as Record<string, unknown>;
  for (const k of Object.keys(b)) if (k !== 'uid' && k !== 'primaryKey') throw new MeiliError('bad_request', `Unknown field \`${k}\`: expected one of \`uid\`, \`primaryKey\``);
  if (b.uid === undefined) throw new MeiliError('missing_index_uid', 'Missing field `uid`');
  if (typeof b.uid !== 'string') throw new MeiliError('invalid_index_uid', `Invalid value type at \`.uid\`: expected a string, but found ${JSON.stringify(b.uid)}`);
  checkIndexUid(b.uid);
  if (b.primaryKey !== undefined && b.primaryKey !== null && typeof b.primaryKey !== 'string') {
    throw new MeiliError('invalid_index_primary_key', `Invalid value type at \`.primaryKey\`: expected a string, but found ${JSON.stringify(b.primaryKey)}`);
  }
  return { uid: b.uid, primaryKey: (b.primaryKey as string | undefined) ?? null };
}
