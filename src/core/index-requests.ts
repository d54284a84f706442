// Validation of index-level request bodies and uids exactly as Meilisearch answers them (shared by the dev node
// and the proxy): index uid rules, `POST /indexes {uid, primaryKey}`, swaps, delete-batch ids, delete-by-filter.
import { MeiliError } from './errors.js';
import { parseFilter, type ParseOptions } from './filter/index.js';
import { foundValue } from './settings.js';
import { isObject, stringOf } from './types.js';

const INDEX_UID_RE = /^[A-Za-z0-9_-]{1,400}$/;

/** Checks an index uid; `where` prefixes the message (`Invalid value at \`.uid\`: ` for a body field). */
export function checkIndexUid(uid: string, where = ''): string {
  if (!INDEX_UID_RE.test(uid)) {
    throw new MeiliError(
      'invalid_index_uid',
      `${where}\`${uid}\` is not a valid index uid. Index uid can be an integer or a string containing only alphanumeric characters, hyphens (-) and underscores (_), and can not be more than 512 bytes.`,
    );
  }
  return uid;
}

export function validateCreateIndex(body: unknown): { uid: string; primaryKey: string | null } {
  if (!isObject(body))
    throw new MeiliError('bad_request', `Invalid value type: expected an object, but found ${foundValue(body)}`);
  const b = body;
  for (const k of Object.keys(b))
    if (k !== 'uid' && k !== 'primaryKey')
      throw new MeiliError('bad_request', `Unknown field \`${k}\`: expected one of \`uid\`, \`primaryKey\``);
  if (b.uid === undefined) throw new MeiliError('missing_index_uid', 'Missing field `uid`');
  if (typeof b.uid !== 'string')
    throw new MeiliError(
      'invalid_index_uid',
      `Invalid value type at \`.uid\`: expected a string, but found ${foundValue(b.uid)}`,
    );
  checkIndexUid(b.uid, 'Invalid value at `.uid`: ');
  if (b.primaryKey !== undefined && b.primaryKey !== null && typeof b.primaryKey !== 'string') {
    throw new MeiliError(
      'invalid_index_primary_key',
      `Invalid value type at \`.primaryKey\`: expected a string, but found ${foundValue(b.primaryKey)}`,
    );
  }
  return { uid: b.uid, primaryKey: stringOf(b.primaryKey) ?? null };
}

export interface IndexSwap {
  indexes: [string, string];
  rename: boolean;
}

/** Validates a `POST /swap-indexes` body. */
export function validateSwap(body: unknown): IndexSwap[] {
  if (!Array.isArray(body))
    throw new MeiliError('bad_request', `Invalid value type: expected an array, but found ${foundValue(body)}`);
  const swaps = body.map((s, i) => {
    if (!isObject(s))
      throw new MeiliError(
        'bad_request',
        `Invalid value type at \`[${i}]\`: expected an object, but found ${foundValue(s)}`,
      );
    const o = s;
    for (const k of Object.keys(o))
      if (k !== 'indexes' && k !== 'rename')
        throw new MeiliError(
          'bad_request',
          `Unknown field \`${k}\` inside \`[${i}]\`: expected one of \`indexes\`, \`rename\``,
        );
    if (o.indexes === undefined)
      throw new MeiliError('missing_swap_indexes', `Missing field \`indexes\` inside \`[${i}]\``);
    if (!Array.isArray(o.indexes))
      throw new MeiliError(
        'invalid_swap_indexes',
        `Invalid value type at \`[${i}].indexes\`: expected an array, but found ${foundValue(o.indexes)}`,
      );
    const indexes = o.indexes.map((x: unknown, j) => {
      if (typeof x !== 'string')
        throw new MeiliError(
          'invalid_swap_indexes',
          `Invalid value type at \`[${i}].indexes[${j}]\`: expected a string, but found ${foundValue(x)}`,
        );
      return checkIndexUid(x, `Invalid value at \`[${i}].indexes[${j}]\`: `);
    });
    if (o.rename !== undefined && typeof o.rename !== 'boolean')
      throw new MeiliError(
        'invalid_swap_rename',
        `Invalid value type at \`[${i}].rename\`: expected a boolean, but found ${foundValue(o.rename)}`,
      );
    return { indexes, rename: o.rename === true };
  });
  // Then the whole request: two indexes per swap, each index in at most one swap.
  const pairs: IndexSwap[] = [];
  for (const s of swaps) {
    const [a, b] = s.indexes;
    if (s.indexes.length !== 2 || a === undefined || b === undefined) {
      throw new MeiliError(
        'invalid_swap_indexes',
        `Two indexes must be given for each swap. The list \`[${s.indexes.map((x) => JSON.stringify(x)).join(', ')}]\` contains ${s.indexes.length} indexes.`,
      );
    }
    pairs.push({ indexes: [a, b], rename: s.rename });
  }
  const seen = new Set<string>();
  const dup: string[] = [];
  for (const s of swaps) {
    for (const u of s.indexes) {
      if (seen.has(u)) dup.push(u);
      seen.add(u);
    }
  }
  if (dup.length > 0) {
    throw new MeiliError(
      'invalid_swap_duplicate_index_found',
      `Indexes must be declared only once during a swap. ${[...new Set(dup)].map((u) => `\`${u}\``).join(', ')} ${dup.length === 1 ? 'was' : 'were'} specified several times.`,
    );
  }
  return pairs;
}

/** Validates a `PATCH /indexes/{uid}` body: `{primaryKey?, uid?}` (createdAt/updatedAt are immutable). */
/**
 * Why a swap cannot run against the indexes that exist now (Meilisearch's checks and messages, in its order), or
 * null: every missing index is named at once (sorted; a rename's target must not exist, so it is not required),
 * then renames onto an existing index.
 */
export function swapConflict(swaps: readonly IndexSwap[], exists: (uid: string) => boolean): MeiliError | null {
  const missing = [
    ...new Set(swaps.flatMap((s) => (s.rename ? [s.indexes[0]] : s.indexes)).filter((u) => !exists(u))),
  ].sort();
  if (missing.length === 1) return new MeiliError('index_not_found', `Index \`${missing[0]}\` not found.`);
  if (missing.length > 1)
    return new MeiliError('index_not_found', `Indexes ${missing.map((u) => `\`${u}\``).join(', ')} not found.`);
  const taken = swaps.filter((s) => s.rename && exists(s.indexes[1]));
  if (taken.length > 1) {
    const names = [...new Set(taken.map((s) => s.indexes[1]))]
      .sort()
      .map((u) => `\`${u}\``)
      .join(', ');
    return new MeiliError(
      'index_already_exists',
      `The following indexes are being renamed but cannot because their new name conflicts with an already existing index: ${names}. Renaming doesn't overwrite the other index name.`,
    );
  }
  if (taken.length === 1) {
    const [a, b] = taken[0]!.indexes;
    return new MeiliError(
      'index_already_exists',
      `Cannot rename \`${a}\` to \`${b}\` as the index already exists. Hint: You can remove \`${b}\` first and then do your remove.`,
    );
  }
  return null;
}

export function validateUpdateIndex(body: unknown): { primaryKey: string | null | undefined; uid: string | undefined } {
  if (!isObject(body))
    throw new MeiliError('bad_request', `Invalid value type: expected an object, but found ${foundValue(body)}`);
  const b = body;
  for (const k of Object.keys(b)) {
    if (k === 'createdAt' || k === 'updatedAt') {
      throw new MeiliError(
        k === 'createdAt' ? 'immutable_index_created_at' : 'immutable_index_updated_at',
        `Immutable field \`${k}\`: expected one of \`primaryKey\`, \`uid\``,
      );
    }
    if (k !== 'uid' && k !== 'primaryKey')
      throw new MeiliError('bad_request', `Unknown field \`${k}\`: expected one of \`primaryKey\`, \`uid\``);
  }
  if (b.primaryKey !== undefined && b.primaryKey !== null && typeof b.primaryKey !== 'string') {
    throw new MeiliError(
      'invalid_index_primary_key',
      `Invalid value type at \`.primaryKey\`: expected a string, but found ${foundValue(b.primaryKey)}`,
    );
  }
  if (b.uid !== undefined) {
    if (typeof b.uid !== 'string')
      throw new MeiliError(
        'invalid_index_uid',
        `Invalid value type at \`.uid\`: expected a string, but found ${foundValue(b.uid)}`,
      );
    checkIndexUid(b.uid, 'Invalid value at `.uid`: ');
  }
  return { primaryKey: b.primaryKey === null ? null : stringOf(b.primaryKey), uid: stringOf(b.uid) };
}

/** Validates a `POST /documents/delete-batch` body: document ids as strings or integers. */
export function parseDocumentIds(body: unknown): string[] {
  if (!Array.isArray(body))
    throw new MeiliError('bad_request', `Invalid value type: expected an array, but found ${foundValue(body)}`);
  return body.map((v, i) => {
    if (typeof v === 'string') return v;
    if (typeof v === 'number' && Number.isInteger(v)) return String(v);
    throw new MeiliError(
      'bad_request',
      `Invalid value type at \`[${i}]\`: expected a string or an integer, but found ${foundValue(v)}`,
    );
  });
}

/** Validates a `POST /documents/delete` body (`{filter}` with a well-formed, non-empty filter); returns the filter. */
export function validateDeleteByFilter(body: unknown, opts: ParseOptions = {}): unknown {
  if (!isObject(body))
    throw new MeiliError('bad_request', `Invalid value type: expected an object, but found ${foundValue(body)}`);
  const b = body;
  for (const k of Object.keys(b))
    if (k !== 'filter') throw new MeiliError('bad_request', `Unknown field \`${k}\`: expected one of \`filter\``);
  if (b.filter === undefined || b.filter === null)
    throw new MeiliError('missing_document_filter', 'Missing field `filter`');
  // An empty filter (`""`, blanks, `[]`) would delete everything: Meilisearch refuses it before enqueuing.
  if (parseFilter(b.filter, 'invalid_document_filter', opts) === null)
    throw new MeiliError('invalid_document_filter', 'Sending an empty filter is forbidden.');
  return b.filter;
}
