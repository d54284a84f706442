// Document ids and primary keys, exactly as Meilisearch reads them: the id rules (integer, or a string of
// [A-Za-z0-9_-] of 1..511 bytes), the frozen id → string form used for hashing, and primary-key inference.
// Pure; shared by the proxy's write path, the workers and the dev node.
import { MeiliError } from './errors.js';

const ID_RE = /^[A-Za-z0-9_-]{1,511}$/;

/** Reads the value at a (possibly dotted) primary-key path, as Meilisearch does for nested keys. */
export function readPrimaryKeyValue(doc: Record<string, unknown>, primaryKey: string): unknown {
  if (Object.prototype.hasOwnProperty.call(doc, primaryKey)) return doc[primaryKey];
  if (!primaryKey.includes('.')) return undefined;
  let cur: unknown = doc;
  for (const part of primaryKey.split('.')) {
    if (cur === null || typeof cur !== 'object' || Array.isArray(cur)) return undefined;
    cur = (cur as Record<string, unknown>)[part];
  }
  return cur;
}

/**
 * The canonical string form of a valid id (integers as their decimal string, so `1` and `"1"` are the same
 * document and hash the same), or `null` when the value is not a valid document id.
 */
export function documentIdString(value: unknown): string | null {
  if (typeof value === 'string') return ID_RE.test(value) ? value : null;
  if (typeof value === 'number') return Number.isSafeInteger(value) ? String(value) : null;
  return null;
}

/**
 * Resolves and validates a document's id; throws Meilisearch's `missing_document_id` or `invalid_document_id`
 * (task errors). Returns the canonical string form.
 */
export function resolveDocumentId(doc: Record<string, unknown>, primaryKey: string): string {
  const value = readPrimaryKeyValue(doc, primaryKey);
  if (value === undefined || value === null) {
    throw new MeiliError(
      'missing_document_id',
      `Document doesn't have a \`${primaryKey}\` attribute: \`${JSON.stringify(doc)}\`.`,
    );
  }
  const id = documentIdString(value);
  if (id === null) {
    throw new MeiliError(
      'invalid_document_id',
      `Document identifier \`${JSON.stringify(value)}\` is invalid. A document identifier can be of type integer or string, only composed of alphanumeric characters (a-z A-Z 0-9), hyphens (-) and underscores (_), and can not be more than 511 bytes.`,
    );
  }
  return id;
}

/**
 * Meilisearch's primary-key inference over the first document: the one field whose lowercase name ends
 * with "id". Throws `index_primary_key_no_candidate_found` / `index_primary_key_multiple_candidates_found`.
 */
export function inferPrimaryKey(firstDocument: Record<string, unknown> | undefined): string {
  const candidates =
    firstDocument === undefined ? [] : Object.keys(firstDocument).filter((k) => k.toLowerCase().endsWith('id'));
  if (candidates.length === 1) return candidates[0]!;
  if (candidates.length === 0) {
    throw new MeiliError(
      'index_primary_key_no_candidate_found',
      'The primary key inference failed as the engine did not find any field ending with `id` in its name. Please specify the primary key manually using the `primaryKey` query parameter.',
    );
  }
  throw new MeiliError(
    'index_primary_key_multiple_candidates_found',
    `The primary key inference failed as the engine found ${candidates.length} fields ending with \`id\` in their names: '${candidates.join("' and '")}'. Please specify the primary key manually using the \`primaryKey\` query parameter.`,
  );
}
