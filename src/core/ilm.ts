// ILM rollover (SPEC A17): the pure rules of a rollover policy — its validation, the trigger check, the next index's
// uid and the retention decision. No I/O: src/main/ilm runs the leader loop and the index/alias changes.
import { MeiliError } from './errors.js';
import { checkIndexUid } from './index-requests.js';
import { isObject, numberOf, stringOf } from './types.js';

export interface IlmIndexEntry {
  uid: string;
  /** Wall-clock ms the index was created by the policy. */
  createdAt: number;
}

export interface IlmPolicyRecord {
  name: string;
  write_alias: string;
  read_alias: string;
  index_template: { uid_prefix: string; primaryKey: string | null; settings: Record<string, unknown> | null };
  triggers: { max_docs: number | null; max_age: string | null; max_size_gb: number | null };
  retention: { keep_indexes: number };
  /** The policy's indexes, oldest first (the last one takes writes). */
  indexes: IlmIndexEntry[];
  /** The number of the next index (`{uid_prefix}-{000001}`). */
  next_generation: number;
  created_at: number;
  last_action_at: number | null;
}

export const ILM_DEFAULT_TRIGGERS = Object.freeze({ max_docs: 10_000_000, max_age: '7d', max_size_gb: 50 });
export const ILM_DEFAULT_KEEP = 30;

function invalid(message: string): MeiliError {
  return new MeiliError('miroir_invalid_ilm_policy', message);
}

/** `30s`, `15m`, `12h`, `7d`, `2w` → ms. */
export function parseAge(s: string): number | null {
  const m = /^(\d+)\s*(ms|s|m|h|d|w)$/.exec(s.trim());
  if (m === null) return null;
  const unit = { ms: 1, s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000, w: 604_800_000 }[m[2]!]!;
  return Number(m[1]) * unit;
}

/** A new policy from `POST /_miroir/ilm/policies` (its state starts empty). */
export function parsePolicy(body: unknown, nowMs: number): IlmPolicyRecord {
  if (!isObject(body)) throw invalid('The policy must be a JSON object.');
  const known = new Set(['name', 'write_alias', 'read_alias', 'index_template', 'triggers', 'retention']);
  for (const k of Object.keys(body)) if (!known.has(k)) throw invalid(`Unknown field \`${k}\` in the policy.`);
  const str = (v: unknown, what: string) => {
    const s = stringOf(v);
    if (s === undefined) throw invalid(`\`${what}\` must be a string.`);
    return checkIndexUid(s, `${what}: `);
  };
  const name = str(body.name, 'name');
  const write_alias = str(body.write_alias, 'write_alias');
  const read_alias = str(body.read_alias, 'read_alias');
  if (write_alias === read_alias) throw invalid('`write_alias` and `read_alias` must differ.');
  const tpl = body.index_template;
  if (!isObject(tpl)) throw invalid('`index_template` must be an object with `uid_prefix`.');
  const uid_prefix = str(tpl.uid_prefix, 'index_template.uid_prefix');
  const pk = tpl.primaryKey;
  if (pk !== undefined && pk !== null && typeof pk !== 'string')
    throw invalid('`index_template.primaryKey` must be a string or null.');
  const settings = tpl.settings;
  if (settings !== undefined && settings !== null && !isObject(settings))
    throw invalid('`index_template.settings` must be an object.');
  const trig = body.triggers ?? {};
  if (!isObject(trig)) throw invalid('`triggers` must be an object.');
  const posNum = (v: unknown, what: string, dflt: number | null): number | null => {
    if (v === undefined) return dflt;
    if (v === null) return null;
    const n = numberOf(v);
    if (n === undefined || !(n > 0)) throw invalid(`\`${what}\` must be a positive number or null.`);
    return n;
  };
  const max_docs = posNum(trig.max_docs, 'triggers.max_docs', ILM_DEFAULT_TRIGGERS.max_docs);
  const max_size_gb = posNum(trig.max_size_gb, 'triggers.max_size_gb', ILM_DEFAULT_TRIGGERS.max_size_gb);
  let max_age: string | null = ILM_DEFAULT_TRIGGERS.max_age;
  if (trig.max_age === null) max_age = null;
  else if (trig.max_age !== undefined) {
    const a = stringOf(trig.max_age);
    if (a === undefined || parseAge(a) === null)
      throw invalid('`triggers.max_age` must be a duration such as `7d`, `12h`, `30m` or null.');
    max_age = a;
  }
  const ret = body.retention ?? {};
  if (!isObject(ret)) throw invalid('`retention` must be an object.');
  const keep = ret.keep_indexes === undefined ? ILM_DEFAULT_KEEP : numberOf(ret.keep_indexes);
  if (keep === undefined || !Number.isInteger(keep) || keep < 1)
    throw invalid('`retention.keep_indexes` must be a positive integer.');
  return {
    name,
    write_alias,
    read_alias,
    index_template: {
      uid_prefix,
      primaryKey: typeof pk === 'string' ? pk : null,
      settings: isObject(settings) ? settings : null,
    },
    triggers: { max_docs, max_age, max_size_gb },
    retention: { keep_indexes: keep },
    indexes: [],
    next_generation: 1,
    created_at: nowMs,
    last_action_at: null,
  };
}

export function generationUid(prefix: string, generation: number): string {
  return `${prefix}-${String(generation).padStart(6, '0')}`;
}

/** The trigger that fires for the write index, or null. */
export function firedTrigger(
  policy: IlmPolicyRecord,
  current: { documents: number; sizeBytes: number; createdAt: number },
  nowMs: number,
): 'max_docs' | 'max_age' | 'max_size_gb' | null {
  const t = policy.triggers;
  if (t.max_docs !== null && current.documents >= t.max_docs) return 'max_docs';
  if (t.max_size_gb !== null && current.sizeBytes >= t.max_size_gb * 1024 ** 3) return 'max_size_gb';
  const age = t.max_age === null ? null : parseAge(t.max_age);
  if (age !== null && nowMs - current.createdAt >= age) return 'max_age';
  return null;
}

/**
 * Which indexes a rollover keeps and which it deletes: the newest `keep_indexes` are kept; an older one is deleted
 * unless it is younger than the safety lock (then it is kept, and still read).
 */
export function retentionPlan(
  indexes: readonly IlmIndexEntry[],
  keep: number,
  safetyLockMs: number,
  nowMs: number,
): { kept: IlmIndexEntry[]; deleted: IlmIndexEntry[] } {
  const cut = Math.max(0, indexes.length - keep);
  const kept: IlmIndexEntry[] = [];
  const deleted: IlmIndexEntry[] = [];
  indexes.forEach((e, i) => {
    if (i >= cut || nowMs - e.createdAt < safetyLockMs) kept.push(e);
    else deleted.push(e);
  });
  return { kept, deleted };
}

/** A stored policy read back. */
export function isPolicyRecord(v: unknown): v is IlmPolicyRecord {
  return isObject(v) && typeof v.name === 'string' && Array.isArray(v.indexes) && isObject(v.index_template);
}
