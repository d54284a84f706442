// Aliases (SPEC A7 + Round 2 decisions "Aliases"): the pure rules of the one alias table. The table is stored whole
// and changed by one compare-and-set on its version, so a flip — or an ILM rollover moving a write alias and a read
// alias together — is atomic for every pod. Aliases share the index-uid namespace; a multi-target alias is
// read-only. No I/O here: the store keeps the table, src/main/state/aliases.ts owns its changes.
import { authAllowsIndex, searchRuleFor, type AuthResult, type SearchRules } from './auth/authorize.js';
import { MeiliError } from './errors.js';
import { checkIndexUid } from './index-requests.js';
import { isObject, stringOf } from './types.js';

export interface AliasHistoryEntry {
  targets: string[];
  /** RFC 3339 time the alias stopped pointing at `targets`. */
  at: string;
}

export interface AliasRecord {
  name: string;
  /** One target: reads and writes go there. Several: read-only, searches merged like one index. */
  targets: string[];
  /** Made by Miroir itself (the reshard flip): the client-facing uid keeps serving, listings show the uid. */
  internal?: boolean;
  createdAt: string;
  updatedAt: string;
  /** Earlier target lists, newest first, at most `aliases.history_retention` of them. */
  history: AliasHistoryEntry[];
}

export interface AliasTable {
  /** 0 = nothing stored yet; every compare-and-set writes version + 1. */
  version: number;
  aliases: Record<string, AliasRecord>;
}

export const EMPTY_ALIAS_TABLE: AliasTable = Object.freeze({ version: 0, aliases: Object.freeze({}) });

/** What a request resolved a client-given index name to (kept for the whole request). */
export interface AliasResolution {
  /** The indexes to serve from (the name itself when it is no alias). */
  uids: string[];
  /** The alias the client named, or null. */
  alias: string | null;
  internal: boolean;
}

export function resolveName(table: AliasTable, name: string): AliasResolution {
  const a = Object.hasOwn(table.aliases, name) ? table.aliases[name] : undefined;
  if (a === undefined) return { uids: [name], alias: null, internal: false };
  return { uids: a.targets, alias: name, internal: a.internal === true };
}

export function aliasConflict(name: string, what: 'index' | 'alias'): MeiliError {
  return new MeiliError(
    'miroir_alias_conflict',
    what === 'index'
      ? `\`${name}\` is already an index uid; an alias cannot take the name of an index.`
      : `\`${name}\` is already an alias; an index cannot take the name of an alias.`,
  );
}

export function aliasNotFound(name: string): MeiliError {
  return new MeiliError('miroir_alias_not_found', `Alias \`${name}\` not found.`);
}

export function multiAliasNotWritable(name: string): MeiliError {
  return new MeiliError(
    'miroir_multi_alias_not_writable',
    `\`${name}\` is an alias over several indexes; it is read-only. Write to one of its indexes or to a single-target alias.`,
  );
}

function invalid(message: string): MeiliError {
  return new MeiliError('miroir_invalid_alias', message);
}

/** Reads `{"target"}` or `{"targets": [..]}` (with `name` when `withName`), as POST and PUT take them. */
export function parseAliasBody(body: unknown, withName: boolean): { name: string | null; targets: string[] } {
  if (!isObject(body)) throw invalid('The alias body must be a JSON object.');
  for (const k of Object.keys(body))
    if (k !== 'target' && k !== 'targets' && !(withName && k === 'name'))
      throw invalid(
        `Unknown field \`${k}\` in the alias body: expected ${withName ? '`name`, ' : ''}\`target\` or \`targets\`.`,
      );
  let name: string | null = null;
  if (withName) {
    name = stringOf(body.name) ?? null;
    if (name === null) throw invalid('Missing field `name` (a string).');
    checkIndexUid(name);
  }
  const hasOne = body.target !== undefined;
  const hasMany = body.targets !== undefined;
  if (hasOne === hasMany) throw invalid('Give exactly one of `target` (a string) and `targets` (an array of strings).');
  let targets: string[];
  if (hasOne) {
    const t = stringOf(body.target);
    if (t === undefined) throw invalid('`target` must be a string.');
    targets = [t];
  } else {
    const raw = body.targets;
    if (!Array.isArray(raw) || raw.length === 0 || !raw.every((t): t is string => typeof t === 'string'))
      throw invalid('`targets` must be a non-empty array of strings.');
    targets = [...raw];
  }
  return { name, targets: checkTargets(name, targets) };
}

/** Targets are index uids, distinct, and never the alias itself. */
export function checkTargets(name: string | null, targets: readonly string[]): string[] {
  if (targets.length === 0) throw invalid('An alias needs at least one target.');
  const seen = new Set<string>();
  for (const t of targets) {
    checkIndexUid(t);
    if (t === name) throw invalid(`Alias \`${t}\` cannot target itself.`);
    if (seen.has(t)) throw invalid(`Target \`${t}\` is listed twice.`);
    seen.add(t);
  }
  return [...targets];
}

/**
 * The table after setting `name` to `targets` (creating it when absent), the previous targets pushed onto the
 * history (trimmed to `retention`). Targets must be indexes, never aliases (no chains).
 */
export function withAlias(
  table: AliasTable,
  name: string,
  targets: readonly string[],
  now: Date,
  retention: number,
  internal = false,
): Omit<AliasTable, 'version'> {
  // A user alias may target an index resharded behind an internal alias (resolution follows it), never a user alias.
  for (const t of targets)
    if (Object.hasOwn(table.aliases, t) && table.aliases[t]?.internal !== true)
      throw invalid(`Target \`${t}\` is an alias; an alias targets indexes only.`);
  if (!internal)
    for (const a of Object.values(table.aliases))
      if (a.name !== name && a.targets.includes(name))
        throw invalid(`\`${name}\` is a target of alias \`${a.name}\`; it cannot become an alias.`);
  const at = now.toISOString();
  const prev = Object.hasOwn(table.aliases, name) ? table.aliases[name] : undefined;
  const record: AliasRecord =
    prev === undefined
      ? { name, targets: [...targets], createdAt: at, updatedAt: at, history: [] }
      : {
          ...prev,
          targets: [...targets],
          updatedAt: at,
          history: trimHistory([{ targets: prev.targets, at }, ...prev.history], retention),
        };
  if (internal) record.internal = true;
  else delete record.internal;
  return { aliases: { ...table.aliases, [name]: record } };
}

export function withoutAlias(table: AliasTable, name: string): Omit<AliasTable, 'version'> {
  const aliases = { ...table.aliases };
  delete aliases[name];
  return { aliases };
}

export function trimHistory(history: readonly AliasHistoryEntry[], retention: number): AliasHistoryEntry[] {
  return history.slice(0, Math.max(0, retention));
}

/** An alias as the admin API shows it. */
export function aliasView(a: AliasRecord): Record<string, unknown> {
  return {
    name: a.name,
    kind: a.targets.length === 1 ? 'single' : 'multi',
    target: a.targets.length === 1 ? a.targets[0] : null,
    targets: a.targets,
    ...(a.internal === true ? { internal: true } : {}),
    createdAt: a.createdAt,
    updatedAt: a.updatedAt,
    history: a.history,
  };
}

/** A stored table read back (tolerates a missing or partial record). */
export function normalizeAliasTable(raw: unknown): AliasTable {
  if (!isObject(raw)) return { version: 0, aliases: {} };
  const version = typeof raw.version === 'number' ? raw.version : 0;
  const aliases: Record<string, AliasRecord> = {};
  if (isObject(raw.aliases))
    for (const [name, rec] of Object.entries(raw.aliases)) {
      if (!isObject(rec) || !Array.isArray(rec.targets)) continue;
      const targets = rec.targets.filter((t): t is string => typeof t === 'string');
      const history = Array.isArray(rec.history)
        ? rec.history.flatMap((h): AliasHistoryEntry[] =>
            isObject(h) && Array.isArray(h.targets) && typeof h.at === 'string'
              ? [{ targets: h.targets.filter((t): t is string => typeof t === 'string'), at: h.at }]
              : [],
          )
        : [];
      aliases[name] = {
        name,
        targets,
        ...(rec.internal === true ? { internal: true } : {}),
        createdAt: stringOf(rec.createdAt) ?? '',
        updatedAt: stringOf(rec.updatedAt) ?? '',
        history,
      };
    }
  return { version, aliases };
}

/**
 * The caller's rights carried over from the name the client used to the targets it resolved to: API-key `indexes`
 * patterns and tenant-token search rules match the alias name (SPEC Round 2 "Aliases"), so the resolved request
 * may touch exactly the targets, with the rule (filter) the alias name matched. A caller not allowed on the name
 * keeps its rights unchanged (the route's own check refuses it).
 */
export function authForTargets(auth: AuthResult, name: string, targets: readonly string[]): AuthResult {
  if (auth.kind === 'open' || auth.kind === 'master' || !authAllowsIndex(auth, name)) return auth;
  const key = { ...auth.key, indexes: [...targets] };
  if (auth.kind === 'key') return { kind: 'key', key };
  const rule = searchRuleFor(auth.searchRules, name) ?? null;
  const searchRules: SearchRules = {};
  for (const t of targets) searchRules[t] = rule;
  return { kind: 'tenant', key, searchRules };
}
