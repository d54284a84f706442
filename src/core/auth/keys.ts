// Meilisearch API keys as data: the stored record, the derived key value (hex HMAC-SHA256(master key, uid)),
// the four default keys, the public key object, and validation of POST/PATCH /keys bodies with Meilisearch's codes.
import { isObject, stringsOf } from '../types.js';
import { createHash, createHmac, randomUUID } from 'node:crypto';
import { MeiliError } from '../errors.js';
import { GLOBAL_ACTIONS, isKeyAction } from './actions.js';
import { parseUuid } from './uuid.js';

export interface ApiKeyRecord {
  uid: string;
  name: string | null;
  description: string | null;
  actions: string[];
  indexes: string[];
  /** RFC 3339 or null. */
  expiresAt: string | null;
  createdAt: string;
  updatedAt: string;
}

/** The key object Meilisearch answers (field order as Meilisearch). */
export interface ApiKeyObject extends Omit<ApiKeyRecord, 'uid'> {
  key: string;
  uid: string;
}

export function deriveKeyValue(masterKey: string, uid: string): string {
  return createHmac('sha256', masterKey).update(uid).digest('hex');
}

export function toKeyObject(record: ApiKeyRecord, masterKey: string): ApiKeyObject {
  return {
    name: record.name,
    description: record.description,
    key: deriveKeyValue(masterKey, record.uid),
    uid: record.uid,
    actions: record.actions,
    indexes: record.indexes,
    expiresAt: record.expiresAt,
    createdAt: record.createdAt,
    updatedAt: record.updatedAt,
  };
}

/** A stable UUIDv4-shaped uid for a default key, the same on every pod and restart. */
function stableUid(name: string): string {
  const h = createHash('sha256').update(`miroir-default-key:${name}`).digest('hex');
  const variant = ((parseInt(h[16]!, 16) & 0x3) | 0x8).toString(16);
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-4${h.slice(13, 16)}-${variant}${h.slice(17, 20)}-${h.slice(20, 32)}`;
}

const DEFAULT_KEY_SPECS: ReadonlyArray<{ name: string; description: string; actions: string[] }> = [
  { name: 'Default Search API Key', description: 'Use it to search from the frontend', actions: ['search'] },
  {
    name: 'Default Admin API Key',
    description: 'Use it for anything that is not a search operation. Caution! Do not expose it on a public frontend',
    actions: ['*'],
  },
  {
    name: 'Default Read-Only Admin API Key',
    description: 'Use it to read information across the whole database. Caution! Do not expose it on a public frontend',
    actions: ['*.get', 'keys.get'],
  },
  {
    name: 'Default Chat API Key',
    description: 'Use it to chat and search from the frontend',
    actions: ['chatCompletions', 'search'],
  },
];

/** The four keys Meilisearch creates when a master key is set. */
export function defaultKeys(now: string): ApiKeyRecord[] {
  return DEFAULT_KEY_SPECS.map((spec) => ({
    uid: stableUid(spec.name),
    name: spec.name,
    description: spec.description,
    actions: [...spec.actions],
    indexes: ['*'],
    expiresAt: null,
    createdAt: now,
    updatedAt: now,
  }));
}

const INDEX_PATTERN_RE = /^[A-Za-z0-9_-]{1,400}\*?$|^\*$/;
const NO_EXTRA_ACTIONS: ReadonlySet<string> = new Set();

const CREATE_FIELDS = ['uid', 'name', 'description', 'actions', 'indexes', 'expiresAt'];
const IMMUTABLE: Record<
  string,
  | 'immutable_api_key_uid'
  | 'immutable_api_key_actions'
  | 'immutable_api_key_indexes'
  | 'immutable_api_key_expires_at'
  | 'immutable_api_key_created_at'
  | 'immutable_api_key_updated_at'
  | 'immutable_api_key_key'
> = {
  uid: 'immutable_api_key_uid',
  actions: 'immutable_api_key_actions',
  indexes: 'immutable_api_key_indexes',
  expiresAt: 'immutable_api_key_expires_at',
  createdAt: 'immutable_api_key_created_at',
  updatedAt: 'immutable_api_key_updated_at',
  key: 'immutable_api_key_key',
};

function typeName(v: unknown): string {
  if (v === null) return 'null';
  if (Array.isArray(v)) return 'an array';
  if (typeof v === 'object') return 'an object';
  if (typeof v === 'string') return 'a string';
  if (typeof v === 'number') return 'a number';
  if (typeof v === 'boolean') return 'a boolean';
  return typeof v;
}

function unknownField(field: string, expected: string[]): MeiliError {
  return new MeiliError(
    'bad_request',
    `Unknown field \`${field}\`: expected one of ${expected.map((f) => `\`${f}\``).join(', ')}`,
  );
}

function optionalText(body: Record<string, unknown>, field: 'name' | 'description'): string | null {
  const v = body[field];
  if (v === undefined || v === null) return null;
  if (typeof v !== 'string') {
    throw new MeiliError(
      field === 'name' ? 'invalid_api_key_name' : 'invalid_api_key_description',
      `Invalid value type at \`.${field}\`: expected a string, but found ${typeName(v)}: \`${JSON.stringify(v)}\``,
    );
  }
  return v;
}

function parseExpiresAt(v: unknown, now: Date): string | null {
  if (v === null) return null;
  const bad = () =>
    new MeiliError(
      'invalid_api_key_expires_at',
      `Invalid value at \`.expiresAt\`: \`${typeof v === 'string' ? v : JSON.stringify(v)}\` is not a valid date. It should follow the RFC 3339 format to represents a date or datetime in the future or specified as a null value. e.g. 'YYYY-MM-DD' or 'YYYY-MM-DD HH:MM:SS'.`,
    );
  if (typeof v !== 'string') throw bad();
  const normalized = /^\d{4}-\d{2}-\d{2}$/.test(v) ? `${v}T00:00:00Z` : v.replace(' ', 'T');
  const t = Date.parse(/[zZ]|[+-]\d{2}:\d{2}$/.test(normalized) ? normalized : `${normalized}Z`);
  if (Number.isNaN(t) || t <= now.getTime()) throw bad();
  return new Date(t).toISOString().replace('.000Z', 'Z');
}

/** Validates a POST /keys body; returns the record to store. */
export function validateCreateKey(
  body: unknown,
  now: Date,
  extraActions: ReadonlySet<string> = NO_EXTRA_ACTIONS,
): ApiKeyRecord {
  if (!isObject(body)) {
    throw new MeiliError(
      'bad_request',
      `Invalid value type: expected an object, but found ${typeName(body)}: \`${JSON.stringify(body)}\``,
    );
  }
  const b = body;
  for (const field of Object.keys(b)) if (!CREATE_FIELDS.includes(field)) throw unknownField(field, CREATE_FIELDS);
  if (b.actions === undefined) throw new MeiliError('missing_api_key_actions', 'Missing field `actions`');
  if (b.indexes === undefined) throw new MeiliError('missing_api_key_indexes', 'Missing field `indexes`');
  if (b.expiresAt === undefined) throw new MeiliError('missing_api_key_expires_at', 'Missing field `expiresAt`');
  let uid: string = randomUUID();
  if (b.uid !== undefined && b.uid !== null) {
    const parsed = typeof b.uid === 'string' ? parseUuid(b.uid) : null;
    if (parsed === null || 'error' in parsed) {
      throw new MeiliError(
        'invalid_api_key_uid',
        `Invalid value at \`.uid\`: ${parsed === null ? `invalid character: found \`${String(b.uid).slice(0, 1)}\` at 1` : parsed.error}`,
      );
    }
    uid = parsed.uuid;
  }
  if (!Array.isArray(b.actions)) {
    throw new MeiliError(
      'invalid_api_key_actions',
      `Invalid value type at \`.actions\`: expected an array, but found ${typeName(b.actions)}: \`${JSON.stringify(b.actions)}\``,
    );
  }
  b.actions.forEach((a, i) => {
    if (!isKeyAction(a) && !(typeof a === 'string' && extraActions.has(a))) {
      throw new MeiliError(
        'invalid_api_key_actions',
        `Unknown value \`${String(a)}\` at \`.actions[${i}]\`: expected one of \`search\`, \`documents.add\`, \`documents.get\`, \`documents.delete\`, \`documents.*\`, \`indexes.create\`, \`indexes.get\`, \`indexes.update\`, \`indexes.delete\`, \`indexes.swap\`, \`indexes.*\`, \`tasks.cancel\`, \`tasks.delete\`, \`tasks.get\`, \`tasks.*\`, \`settings.get\`, \`settings.update\`, \`settings.*\`, \`stats.get\`, \`stats.*\`, \`metrics.get\`, \`metrics.*\`, \`dumps.create\`, \`dumps.*\`, \`snapshots.create\`, \`snapshots.*\`, \`version\`, \`keys.create\`, \`keys.get\`, \`keys.update\`, \`keys.delete\`, \`experimental.get\`, \`experimental.update\`, \`network.get\`, \`network.update\`, \`*.get\`, \`*\``,
      );
    }
  });
  if (!Array.isArray(b.indexes)) {
    throw new MeiliError(
      'invalid_api_key_indexes',
      `Invalid value type at \`.indexes\`: expected an array, but found ${typeName(b.indexes)}: \`${JSON.stringify(b.indexes)}\``,
    );
  }
  b.indexes.forEach((p, i) => {
    if (typeof p !== 'string' || !INDEX_PATTERN_RE.test(p)) {
      throw new MeiliError(
        'invalid_api_key_indexes',
        `Invalid value at \`.indexes[${i}]\`: \`${String(p)}\` is not a valid index uid pattern. Index uid patterns can be an integer or a string containing only alphanumeric characters, hyphens (-), underscores (_), and optionally end with a star (*).`,
      );
    }
  });
  const actions = stringsOf(b.actions) ?? [];
  const indexes = stringsOf(b.indexes) ?? [];
  if (!indexes.includes('*')) {
    const global = actions.find((a) => GLOBAL_ACTIONS.has(a));
    if (global !== undefined) {
      throw new MeiliError(
        'index_scoped_api_key_with_global_action',
        `API keys with access restricted to some indexes cannot have the \`${global}\` action. Either give the key access to all indexes with \`"indexes": ["*"]\` or remove the action.`,
      );
    }
  }
  const ts = now.toISOString();
  return {
    uid,
    name: optionalText(b, 'name'),
    description: optionalText(b, 'description'),
    actions: [...new Set(actions)],
    indexes: [...new Set(indexes)],
    expiresAt: parseExpiresAt(b.expiresAt, now),
    createdAt: ts,
    updatedAt: ts,
  };
}

/** Validates a PATCH /keys/:key body (only name and description may change); returns the updated record. */
export function applyKeyUpdate(record: ApiKeyRecord, body: unknown, now: Date): ApiKeyRecord {
  if (!isObject(body)) {
    throw new MeiliError(
      'bad_request',
      `Invalid value type: expected an object, but found ${typeName(body)}: \`${JSON.stringify(body)}\``,
    );
  }
  const b = body;
  for (const field of Object.keys(b)) {
    const immutable = IMMUTABLE[field];
    if (immutable !== undefined)
      throw new MeiliError(immutable, `Immutable field \`${field}\`: expected one of \`name\`, \`description\``);
    if (field !== 'name' && field !== 'description') throw unknownField(field, ['name', 'description']);
  }
  return {
    ...record,
    name: 'name' in b ? optionalText(b, 'name') : record.name,
    description: 'description' in b ? optionalText(b, 'description') : record.description,
    updatedAt: now.toISOString(),
  };
}

export function isExpired(record: ApiKeyRecord, nowMs: number): boolean {
  return record.expiresAt !== null && Date.parse(record.expiresAt) <= nowMs;
}
