// Meilisearch's v6 `.dump` format as data: archive paths, the shapes of metadata.json, indexes/{uid}/metadata.json
// and keys.jsonl (snake_case dates, absent name/description), the dump uid, and the one "invalid dump" error. Pure;
// the streaming writer (writer.ts) and reader (reader.ts) and their users share it.
import { isObject, stringOf } from '../core/types.js';
import type { ApiKeyRecord } from '../core/auth/keys.js';
import { MeiliError } from '../core/errors.js';
import { canonicalJson } from '../core/canonical-json.js';
import { defaultSettings, type Settings } from '../core/settings.js';

/** The Meilisearch version a dump written here claims (`dbVersion`): the one the dev node and Miroir speak. */
export const DUMP_DB_VERSION = '1.50.0';

/** Archive paths (no `./` prefix; directory entries end with `/`). */
export const DUMP_PATHS = Object.freeze({
  metadata: 'metadata.json',
  instanceUid: 'instance_uid.uuid',
  keys: 'keys.jsonl',
  features: 'experimental-features.json',
  network: 'network.json',
  webhooks: 'webhooks.json',
  chatDir: 'chat-completions-settings/',
  indexesDir: 'indexes/',
  tasksDir: 'tasks/',
  taskQueue: 'tasks/queue.jsonl',
  updateFilesDir: 'tasks/update_files/',
  batchesDir: 'batches/',
  batchQueue: 'batches/queue.jsonl',
});

export function indexPath(uid: string, file: 'metadata.json' | 'settings.json' | 'documents.jsonl' | ''): string {
  return `indexes/${uid}/${file}`;
}

export function updateFilePath(taskUid: number): string {
  return `tasks/update_files/${taskUid}.jsonl`;
}

/** metadata.json. */
export interface DumpMetadata {
  dumpVersion: string;
  dbVersion: string;
  /** RFC 3339. */
  dumpDate: string;
}

/** indexes/{uid}/metadata.json (the uid in it, not the directory name, names the index). */
export interface DumpIndexMetadata {
  uid: string;
  primaryKey: string | null;
  createdAt: string;
  updatedAt: string;
}

/** One keys.jsonl line, as Meilisearch's `Key` serializes (snake_case dates; name/description left out when null). */
export interface DumpKey {
  description?: string;
  name?: string;
  uid: string;
  actions: string[];
  indexes: string[];
  expires_at: string | null;
  created_at: string;
  updated_at: string;
}

export type Document = Record<string, unknown>;

/** A malformed or truncated dump: Meilisearch's `malformed_payload` (400) wherever it reaches a client. */
export function invalidDump(detail: string): MeiliError {
  return new MeiliError('malformed_payload', `The dump is invalid: ${detail}`);
}

const RFC3339_RE = /^\d{4}-\d{2}-\d{2}[Tt ]\d{2}:\d{2}:\d{2}(\.\d{1,9})?([Zz]|[+-]\d{2}:\d{2})$/;
const UUID_RE = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
const INDEX_UID_RE = /^[A-Za-z0-9_-]{1,400}$/;

export function isRfc3339(v: unknown): v is string {
  return typeof v === 'string' && RFC3339_RE.test(v) && !Number.isNaN(Date.parse(v.replace(/\.(\d{3})\d+/, '.$1')));
}

export function isUuid(v: unknown): v is string {
  return typeof v === 'string' && UUID_RE.test(v);
}

export function isIndexUid(v: unknown): v is string {
  return typeof v === 'string' && INDEX_UID_RE.test(v);
}

/** Meilisearch's dump uid: the UTC start time as `YYYYMMDD-HHMMSSmmm` (e.g. `20240101-123456789`). */
export function dumpUidAt(date: Date): string {
  const p = (n: number, w = 2) => String(n).padStart(w, '0');
  return `${date.getUTCFullYear()}${p(date.getUTCMonth() + 1)}${p(date.getUTCDate())}-${p(date.getUTCHours())}${p(date.getUTCMinutes())}${p(date.getUTCSeconds())}${p(date.getUTCMilliseconds(), 3)}`;
}

export function dumpMetadata(dumpDate: Date, dbVersion = DUMP_DB_VERSION): DumpMetadata {
  return { dumpVersion: 'V6', dbVersion, dumpDate: dumpDate.toISOString() };
}

export function parseDumpMetadata(v: unknown): DumpMetadata {
  if (!isObject(v)) throw invalidDump('`metadata.json` is not a JSON object.');
  if (v.dumpVersion !== 'V6') {
    throw invalidDump(
      `\`metadata.json\` has dumpVersion ${JSON.stringify(v.dumpVersion ?? null)}; only \`V6\` dumps (Meilisearch 1.0 and later) can be read.`,
    );
  }
  if (typeof v.dbVersion !== 'string') throw invalidDump('`metadata.json` has no `dbVersion` string.');
  if (!isRfc3339(v.dumpDate)) throw invalidDump('`metadata.json` has no RFC 3339 `dumpDate`.');
  return { dumpVersion: 'V6', dbVersion: v.dbVersion, dumpDate: v.dumpDate };
}

export function parseIndexMetadata(v: unknown, where: string): DumpIndexMetadata {
  if (!isObject(v)) throw invalidDump(`\`${where}\` is not a JSON object.`);
  if (!isIndexUid(v.uid))
    throw invalidDump(`\`${where}\` has an invalid index \`uid\` ${JSON.stringify(v.uid ?? null)}.`);
  if (v.primaryKey !== null && v.primaryKey !== undefined && typeof v.primaryKey !== 'string')
    throw invalidDump(`\`${where}\` has a \`primaryKey\` that is not a string.`);
  if (!isRfc3339(v.createdAt) || !isRfc3339(v.updatedAt))
    throw invalidDump(`\`${where}\` needs RFC 3339 \`createdAt\` and \`updatedAt\`.`);
  return {
    uid: v.uid,
    primaryKey: stringOf(v.primaryKey) ?? null,
    createdAt: v.createdAt,
    updatedAt: v.updatedAt,
  };
}

export function keyToDump(k: ApiKeyRecord): DumpKey {
  const out: Partial<DumpKey> = {};
  if (k.description !== null) out.description = k.description;
  if (k.name !== null) out.name = k.name;
  return {
    ...out,
    uid: k.uid,
    actions: [...k.actions],
    indexes: [...k.indexes],
    expires_at: k.expiresAt,
    created_at: k.createdAt,
    updated_at: k.updatedAt,
  };
}

function stringList(v: unknown): v is string[] {
  return Array.isArray(v) && v.every((x) => typeof x === 'string');
}

/** One keys.jsonl line → the key record Miroir and the dev node keep (its value derives from uid + master key). */
export function keyFromDump(v: unknown, where: string): ApiKeyRecord {
  if (!isObject(v)) throw invalidDump(`${where}: an API key must be a JSON object.`);
  if (!isUuid(v.uid))
    throw invalidDump(`${where}: the API key \`uid\` ${JSON.stringify(v.uid ?? null)} is not a UUID.`);
  if (!stringList(v.actions) || !stringList(v.indexes))
    throw invalidDump(`${where}: API key \`${v.uid}\` needs \`actions\` and \`indexes\` string arrays.`);
  for (const f of ['name', 'description'] as const) {
    if (v[f] !== undefined && v[f] !== null && typeof v[f] !== 'string')
      throw invalidDump(`${where}: API key \`${v.uid}\` has a \`${f}\` that is not a string.`);
  }
  if (v.expires_at !== null && v.expires_at !== undefined && !isRfc3339(v.expires_at))
    throw invalidDump(`${where}: API key \`${v.uid}\` has an invalid \`expires_at\`.`);
  if (!isRfc3339(v.created_at) || !isRfc3339(v.updated_at))
    throw invalidDump(`${where}: API key \`${v.uid}\` needs RFC 3339 \`created_at\` and \`updated_at\`.`);
  return {
    uid: v.uid.toLowerCase(),
    name: stringOf(v.name) ?? null,
    description: stringOf(v.description) ?? null,
    actions: v.actions,
    indexes: v.indexes,
    expiresAt: stringOf(v.expires_at) ?? null,
    createdAt: v.created_at,
    updatedAt: v.updated_at,
  };
}

/**
 * settings.json → the settings patch that recreates them elsewhere: the settings Meilisearch's defaults know whose
 * value is not the default (unknown, null and default values left out, so a dump of a newer Meilisearch imports).
 */
export function settingsPatch(raw: Record<string, unknown>): Settings {
  const defaults = defaultSettings();
  const out: Settings = {};
  for (const [k, v] of Object.entries(raw)) {
    if (!(k in defaults) || v === null || v === undefined) continue;
    if (canonicalJson(v) === canonicalJson(defaults[k])) continue;
    out[k] = v;
  }
  return out;
}
