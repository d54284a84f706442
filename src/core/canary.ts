// Canaries (SPEC A18): a canary's definition and its validation (Meilisearch-shaped 400s naming the bad field),
// golden assertions checked against one run's observation (every failure reports what was expected and what was
// observed), the p95 of a canary's recent latencies, and the assertions `capture` makes from a current answer. Pure.
import { MeiliError } from './errors.js';
import { checkIndexUid } from './index-requests.js';
import { parseSearchQuery } from './search-params.js';
import { isObject, membersOf } from './types.js';

export type DocumentIdValue = string | number;

export type CanaryAssertion =
  | { type: 'top_hit_id'; id: DocumentIdValue }
  | { type: 'top_k_contains'; k: number; ids: DocumentIdValue[] }
  | { type: 'min_hits'; n: number }
  | { type: 'max_p95_ms'; ms: number }
  | { type: 'settings_version_at_least'; version: number }
  | { type: 'must_not_contain_id'; id: DocumentIdValue };

export type CanaryAssertionType = CanaryAssertion['type'];

export const CANARY_ASSERTION_TYPES: readonly CanaryAssertionType[] = [
  'top_hit_id',
  'top_k_contains',
  'min_hits',
  'max_p95_ms',
  'settings_version_at_least',
  'must_not_contain_id',
];

export interface CanaryDefinition {
  name: string;
  index: string;
  interval_s: number;
  /** A search body, as a client would POST it to /indexes/{index}/search. */
  query: Record<string, unknown>;
  assertions: CanaryAssertion[];
  created_at: string;
}

/** What one run of a canary saw. */
export interface CanaryObservation {
  /** Primary keys of the returned hits, in rank order. */
  hitIds: DocumentIdValue[];
  /** `totalHits` (pages) or `estimatedTotalHits` of the answer. */
  totalHits: number;
  latencyMs: number;
  /** p95 over the canary's recent runs, this one included. */
  p95Ms: number;
  settingsVersion: number;
}

/** One failed assertion (or `query_error` when the search itself failed). */
export interface CanaryFailure {
  type: CanaryAssertionType | 'query_error';
  expected: unknown;
  observed: unknown;
}

/** One run as kept in the canary's bounded history. */
export interface CanaryRun {
  at: string;
  passed: boolean;
  latency_ms: number;
  settings_version: number | null;
  failures: CanaryFailure[];
}

export const CANARY_NAME_RE = /^[A-Za-z0-9_-]{1,100}$/;
/** Names the canary routes take (`/_miroir/canaries/status`, `…/capture`). */
const RESERVED_NAMES: readonly string[] = ['status', 'capture'];
const MAX_ASSERTIONS = 50;
const MAX_IDS = 100;
const MAX_INTERVAL_S = 86_400;

function invalid(message: string): MeiliError {
  return new MeiliError('miroir_invalid_canary', message);
}

function isId(v: unknown): v is DocumentIdValue {
  return (typeof v === 'string' && v.length > 0 && v.length <= 511) || (typeof v === 'number' && Number.isInteger(v));
}

function intField(a: Record<string, unknown>, key: string, at: string, min: number): number {
  const v = a[key];
  if (typeof v !== 'number' || !Number.isInteger(v) || v < min)
    throw invalid(`Invalid value at \`${at}.${key}\`: expected an integer ≥ ${min}, got \`${JSON.stringify(v)}\`.`);
  return v;
}

function idField(a: Record<string, unknown>, key: string, at: string): DocumentIdValue {
  const v = a[key];
  if (!isId(v))
    throw invalid(
      `Invalid value at \`${at}.${key}\`: expected a document id (string or integer), got \`${JSON.stringify(v)}\`.`,
    );
  return v;
}

function onlyKeys(a: Record<string, unknown>, keys: readonly string[], at: string): void {
  for (const k of Object.keys(a))
    if (!keys.includes(k))
      throw invalid(`Unknown field \`${k}\` at \`${at}\`: expected one of ${keys.map((x) => `\`${x}\``).join(', ')}.`);
}

/** Checks one assertion; `at` names it in messages (e.g. `assertions[2]`). */
export function parseAssertion(raw: unknown, at: string): CanaryAssertion {
  if (!isObject(raw)) throw invalid(`Invalid value at \`${at}\`: expected an object with a \`type\`.`);
  const a = raw;
  switch (a.type) {
    case 'top_hit_id':
      onlyKeys(a, ['type', 'id'], at);
      return { type: 'top_hit_id', id: idField(a, 'id', at) };
    case 'must_not_contain_id':
      onlyKeys(a, ['type', 'id'], at);
      return { type: 'must_not_contain_id', id: idField(a, 'id', at) };
    case 'top_k_contains': {
      onlyKeys(a, ['type', 'k', 'ids'], at);
      const k = intField(a, 'k', at, 1);
      const ids = a.ids;
      if (!Array.isArray(ids) || ids.length === 0 || ids.length > MAX_IDS || !ids.every(isId))
        throw invalid(`Invalid value at \`${at}.ids\`: expected 1 to ${MAX_IDS} document ids (strings or integers).`);
      if (ids.length > k)
        throw invalid(`Invalid value at \`${at}.ids\`: ${ids.length} ids can never all be in the top ${k}.`);
      return { type: 'top_k_contains', k, ids };
    }
    case 'min_hits':
      onlyKeys(a, ['type', 'n'], at);
      return { type: 'min_hits', n: intField(a, 'n', at, 0) };
    case 'max_p95_ms':
      onlyKeys(a, ['type', 'ms'], at);
      return { type: 'max_p95_ms', ms: intField(a, 'ms', at, 1) };
    case 'settings_version_at_least':
      onlyKeys(a, ['type', 'version'], at);
      return { type: 'settings_version_at_least', version: intField(a, 'version', at, 0) };
    default:
      throw invalid(
        `Invalid value at \`${at}.type\`: expected one of ${CANARY_ASSERTION_TYPES.map((t) => `\`${t}\``).join(', ')}, got \`${JSON.stringify(a.type)}\`.`,
      );
  }
}

/** Validates a `POST /_miroir/canaries` body into a definition (the query checked as a search body would be). */
export function parseCanary(raw: unknown, nowIso: string): CanaryDefinition {
  if (!isObject(raw))
    throw invalid('A canary must be an object `{"name", "index", "interval_s", "query", "assertions"}`.');
  const b = raw;
  onlyKeys(b, ['name', 'index', 'interval_s', 'query', 'assertions'], 'body');
  if (typeof b.name !== 'string' || !CANARY_NAME_RE.test(b.name))
    throw invalid(
      `Invalid value at \`name\`: a canary name is 1 to 100 characters of letters, digits, \`-\` and \`_\`, got \`${JSON.stringify(b.name)}\`.`,
    );
  if (RESERVED_NAMES.includes(b.name))
    throw invalid(
      `Invalid value at \`name\`: \`${b.name}\` is reserved (it names a canary route); choose another name.`,
    );
  if (typeof b.index !== 'string') throw invalid('Invalid value at `index`: expected an index uid (a string).');
  let index: string;
  try {
    index = checkIndexUid(b.index);
  } catch (err) {
    if (err instanceof MeiliError) throw invalid(`Invalid value at \`index\`: ${err.message}`);
    throw err;
  }
  const interval = b.interval_s;
  if (typeof interval !== 'number' || !Number.isInteger(interval) || interval < 1 || interval > MAX_INTERVAL_S)
    throw invalid(
      `Invalid value at \`interval_s\`: expected an integer from 1 to ${MAX_INTERVAL_S}, got \`${JSON.stringify(interval)}\`.`,
    );
  const query = b.query;
  if (!isObject(query))
    throw invalid('Invalid value at `query`: expected a search body (an object such as `{"q": "shoes"}`).');
  try {
    parseSearchQuery(query, 'json');
  } catch (err) {
    if (err instanceof MeiliError) throw invalid(`Invalid value at \`query\`: ${err.message}`);
    throw err;
  }
  if (!Array.isArray(b.assertions) || b.assertions.length === 0 || b.assertions.length > MAX_ASSERTIONS)
    throw invalid(`Invalid value at \`assertions\`: expected 1 to ${MAX_ASSERTIONS} assertions.`);
  const assertions = b.assertions.map((a, i) => parseAssertion(a, `assertions[${i}]`));
  return {
    name: b.name,
    index,
    interval_s: interval,
    query,
    assertions,
    created_at: nowIso,
  };
}

const same = (a: DocumentIdValue, b: DocumentIdValue) => String(a) === String(b);

/** Checks every assertion against one observation; the failures, in assertion order (empty: the canary passes). */
export function evaluateCanary(assertions: readonly CanaryAssertion[], obs: CanaryObservation): CanaryFailure[] {
  const out: CanaryFailure[] = [];
  for (const a of assertions) {
    switch (a.type) {
      case 'top_hit_id': {
        const top = obs.hitIds[0] ?? null;
        if (top === null || !same(top, a.id)) out.push({ type: a.type, expected: a.id, observed: top });
        break;
      }
      case 'top_k_contains': {
        const topK = obs.hitIds.slice(0, a.k);
        if (!a.ids.every((id) => topK.some((h) => same(h, id))))
          out.push({ type: a.type, expected: a.ids, observed: topK });
        break;
      }
      case 'min_hits':
        if (obs.totalHits < a.n) out.push({ type: a.type, expected: a.n, observed: obs.totalHits });
        break;
      case 'max_p95_ms':
        if (obs.p95Ms > a.ms) out.push({ type: a.type, expected: a.ms, observed: Math.round(obs.p95Ms * 100) / 100 });
        break;
      case 'settings_version_at_least':
        if (obs.settingsVersion < a.version)
          out.push({ type: a.type, expected: a.version, observed: obs.settingsVersion });
        break;
      case 'must_not_contain_id': {
        const at = obs.hitIds.findIndex((h) => same(h, a.id));
        // Observed: the 1-based rank at which the forbidden document came back.
        if (at >= 0) out.push({ type: a.type, expected: a.id, observed: { rank: at + 1 } });
        break;
      }
    }
  }
  return out;
}

/** Nearest-rank 95th percentile of latencies (ms); 0 when there are none. */
export function p95(latencies: readonly number[]): number {
  if (latencies.length === 0) return 0;
  const sorted = [...latencies].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil(0.95 * sorted.length) - 1))]!;
}

/**
 * Golden assertions from a current answer: its top hit, its top `k` (any order) and that it keeps finding
 * something. Null when the answer has no hits (nothing worth guarding).
 */
export function captureAssertions(hitIds: readonly DocumentIdValue[], k: number): CanaryAssertion[] | null {
  if (hitIds.length === 0) return null;
  const top = hitIds.slice(0, Math.max(1, k));
  return [
    { type: 'top_hit_id', id: hitIds[0]! },
    { type: 'top_k_contains', k: top.length, ids: [...top] },
    { type: 'min_hits', n: 1 },
  ];
}

/** Primary keys of an answer's hits in rank order (hits without the key are skipped). */
export function hitIdsOf(hits: unknown, primaryKey: string): DocumentIdValue[] {
  if (!Array.isArray(hits)) return [];
  const out: DocumentIdValue[] = [];
  for (const h of hits) {
    const v = membersOf(h)[primaryKey];
    if (typeof v === 'string' || typeof v === 'number') out.push(v);
  }
  return out;
}
