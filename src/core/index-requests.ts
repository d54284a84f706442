// Validation of index-level request bodies and uids exactly as Meilisearch answers them (shared by the dev node
// and the proxy): index uid rules, `POST /indexes {uid, primaryKey}`, swaps, delete-batch ids, delete-by-filter.
import { MeiliError } from './errors.js';
import { parseFilter } from './filter/index.js';
import { foundValue } from './settings.js';

const INDEX_UID_RE = /^[A-Za-z0-9_-]{1,400}$/;

export function checkIndexUid(uid: string): string {
  if (!INDEX_UID_RE.test(uid)) {
    throw new MeiliError('invalid_index_uid', `\`${uid}\` is not a valid index uid. Index uid can be an integer or a string containing only alphanumeric characters, hyphens (-) and underscores (_), and can not be more than 512 bytes.`);
  }
  return uid;
}

export function validateCreateIndex(body: unknown): { uid: string; primaryKey: string | null } {
  if (body === null || typeof body !== 'object' || Array.isArray(body)) throw new MeiliError('bad_request', `Invalid value type: expected an object, but found ${foundValue(body)}`);
  const b = body as Record<string, unknown>;
  for (const k of Object.keys(b)) if (k !== 'uid' && k !== 'primaryKey') throw new MeiliError('bad_request', `Unknown field \`${k}\`: expected one of \`uid\`, \`primaryKey\``);
  if (b.uid === undefined) throw new MeiliError('missing_index_uid', 'Missing field `uid`');
  if (typeof b.uid !== 'string') throw new MeiliError('invalid_index_uid', `Invalid value type at \`.uid\`: expected a string, but found ${foundValue(b.uid)}`);
  checkIndexUid(b.uid);
  if (b.primaryKey !== undefined && b.primaryKey !== null && typeof b.primaryKey !== 'string') {
    throw new MeiliError('invalid_index_primary_key', `Invalid value type at \`.primaryKey\`: expected a string, but found ${foundValue(b.primaryKey)}`);
  }
  return { uid: b.uid, primaryKey: (b.primaryKey as string | undefined) ?? null };
}

export interface IndexSwap {
  indexes: [string, string];
  rename: boolean;
}

/** Validates a `POST /swap-indexes` body. */
export function validateSwap(body: unknown): IndexSwap[] {
  if (!Array.isArray(body)) throw new MeiliError('bad_request', `Invalid value type: expected an array, but found ${foundValue(body)}`);
  const seen = new Set<string>();
  return body.map((s, i) => {
    const o = s as Record<string, unknown>;
    if (o === null || typeof o !== 'object' || o.indexes === undefined) throw new MeiliError('missing_swap_indexes', `Missing field \`indexes\` inside \`[${i}]\``);
    if (!Array.isArray(o.indexes) || o.indexes.length !== 2 || o.indexes.some((x) => typeof x !== 'string')) {
      throw new MeiliError('invalid_swap_indexes', `Invalid value at \`[${i}].indexes\`: exactly two indexes must be given.`);
    }
    if (o.rename !== undefined && typeof o.rename !== 'boolean') throw new MeiliError('invalid_swap_rename', `Invalid value type at \`[${i}].rename\`: expected a boolean`);
    for (const u of o.indexes as string[]) {
      checkIndexUid(u);
      if (seen.has(u)) throw new MeiliError('invalid_swap_duplicate_index_found', `Indexes must be declared only once during a swap. \`${u}\` was specified several times.`);
      seen.add(u);
    }
    return { indexes: o.indexes as [string, string], rename: o.rename === true };
  });
}

/** Validates a `POST /documents/delete-batch` body: document ids as strings or integers. */
export function parseDocumentIds(body: unknown): string[] {
  if (!Array.isArray(body)) throw new MeiliError('bad_request', `Invalid value type: expected an array, but found ${foundValue(body)}`);
  return body.map((v, i) => {
    if (typeof v === 'string') return v;
    if (typeof v === 'number' && Number.isInteger(v)) return String(v);
    throw new MeiliError('bad_request', `Invalid value type at \`[${i}]\`: expected a string or an integer, but found ${foundValue(v)}`);
  });
}

/** Validates a `POST /documents/delete` body (`{filter}` with a well-formed, non-empty filter); returns the filter. */
export function validateDeleteByFilter(body: unknown): unknown {
  if (body === null || typeof body !== 'object' || Array.isArray(body)) throw new MeiliError('bad_request', `Invalid value type: expected an object, but found ${foundValue(body)}`);
  const b = body as Record<string, unknown>;
  for (const k of Object.keys(b)) if (k !== 'filter') throw new MeiliError('bad_request', `Unknown field \`${k}\`: expected one of \`filter\``);
  if (b.filter === undefined || b.filter === null) throw new MeiliError('missing_document_filter', 'Missing field `filter`');
  // An empty filter (`""`, blanks, `[]`) would delete everything: Meilisearch refuses it before enqueuing.
  if (parseFilter(b.filter, 'invalid_document_filter') === null) throw new MeiliError('invalid_document_filter', 'Sending an empty filter is forbidden.');
  return b.filter;
}
