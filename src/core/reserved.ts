// Miroir's reserved document fields (SPEC Decisions, Round 2 "Reserved fields"): `_miroir_shard` and
// `_miroir_version` (the task uid that wrote the document, stamped when anti-entropy is on) — rejected on client
// writes (as a failed task, `miroir_reserved_field`) and always stripped from answers. `_miroir_expires_at` stays a
// client field; with TTL on its value is checked and normalized here (expiryOf).
import { MeiliError } from './errors.js';
import { parseRfc3339 } from './rfc3339.js';
import { SHARD_FIELD } from './shard-filter.js';

/** The Miroir task uid that last wrote a document (anti-entropy's last-writer-wins). */
export const VERSION_FIELD = '_miroir_version';
/** The client field holding a document's expiry (ms since the epoch or RFC 3339), acted on when TTL is on. */
export const EXPIRES_FIELD = '_miroir_expires_at';

export const RESERVED_FIELDS: readonly string[] = Object.freeze([SHARD_FIELD, VERSION_FIELD]);
const RESERVED = new Set(RESERVED_FIELDS);

/** Whether a field is one of Miroir's own (hidden from clients, never searchable); other `_miroir_*` names are client data. */
export function isReservedField(name: string): boolean {
  return RESERVED.has(name);
}

export function reservedFieldError(field: string, index: number): MeiliError {
  return new MeiliError(
    'miroir_reserved_field',
    `Document at index ${index} contains the reserved field \`${field}\`. Fields named \`${field}\` are managed by Miroir and cannot be written by clients.`,
  );
}

/** Throws for the first document that carries a reserved field. */
export function checkReservedFields(docs: ReadonlyArray<Record<string, unknown>>): void {
  for (let i = 0; i < docs.length; i++) {
    for (const f of RESERVED_FIELDS)
      if (Object.prototype.hasOwnProperty.call(docs[i], f)) throw reservedFieldError(f, i);
  }
}

/**
 * A document's expiry in ms since the epoch: null when it has none (absent or null), undefined when the value is
 * neither an integer nor an RFC 3339 date-time.
 */
export function expiryOf(value: unknown): number | null | undefined {
  if (value === undefined || value === null) return null;
  if (typeof value === 'number') return Number.isSafeInteger(value) ? value : undefined;
  if (typeof value === 'string') {
    const ms = parseRfc3339(value);
    return ms === null ? undefined : Math.floor(ms);
  }
  return undefined;
}

/** The node filter that hides documents expired at `now` (TTL on): a document without an expiry passes. */
export function notExpiredClause(now: number): string {
  return `NOT ${EXPIRES_FIELD} <= ${Math.floor(now)}`;
}

export function invalidExpiryError(index: number, value: unknown): MeiliError {
  return new MeiliError(
    'miroir_invalid_document_expiry',
    `Document at index ${index} has an invalid \`${EXPIRES_FIELD}\`: ${JSON.stringify(value)}. Expected an integer (milliseconds since the epoch) or an RFC 3339 date-time.`,
  );
}

const AVAILABLE_LIST = /Available ([A-Za-z -]+?) are: ((?:`[^`]*`(?:, )?)+)\./g;

/**
 * A node's error message with Miroir's reserved fields taken out of its "Available … are: `a`, `b`." lists, so a
 * client never learns of them: a list left empty becomes the sentence Meilisearch says when nothing is configured.
 */
export function hideReservedFields(message: string): string {
  if (!message.includes('_miroir_')) return message;
  return message.replace(AVAILABLE_LIST, (_whole, what: string, list: string) => {
    // Two shapes: each name in its own backticks (`a`, `b`), or one backticked list (`a, b`).
    const grouped = list.startsWith('`') && list.endsWith('`') && list.indexOf('`', 1) === list.length - 1;
    const names = grouped ? list.slice(1, -1).split(', ') : list.split(', ').map((item) => item.slice(1, -1));
    const kept = names.filter((name) => !RESERVED.has(name));
    const items = grouped ? (kept.length > 0 ? [`\`${kept.join(', ')}\``] : []) : kept.map((name) => `\`${name}\``);
    if (items.length > 0) return `Available ${what} are: ${items.join(', ')}.`;
    return `This index does not have configured ${what.startsWith('sortable') ? 'sortable' : 'filterable'} attributes.`;
  });
}

const RESERVED_MEMBER = new RegExp(
  `(,?)"(?:${RESERVED_FIELDS.map((f) => f.replace(/[^A-Za-z0-9_]/g, '')).join('|')})":(?:-?\\d+(?:\\.\\d+)?|"[^"\\\\]*")(,?)`,
  'g',
);

/**
 * A node's JSON answer with every reserved member (`"_miroir_shard":3`, or its formatted `"3"`) cut out, without
 * parsing it: a `"` inside a JSON string is always escaped, so the pattern only meets object members. Used when one
 * node's answer is passed through as it came.
 */
export function scrubReservedMembers(json: string): string {
  if (!json.includes('"_miroir_')) return json;
  return json.replace(RESERVED_MEMBER, (_m, before: string, after: string) =>
    before !== '' && after !== '' ? ',' : '',
  );
}
