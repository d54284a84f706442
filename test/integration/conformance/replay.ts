// Replays the golden fixtures of test/fixtures/meili (requests and the answers Meilisearch gives, taken from its own
// integration tests) against any Meilisearch-compatible endpoint, and names the first difference of each case.
// Fields that vary by run (uids, dates, durations, request uids, sizes) are matched by shape.
import { randomBytes } from 'node:crypto';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

export interface FixtureRequest {
  method: string;
  path: string;
  body?: unknown;
  raw?: string;
  headers?: Record<string, string>;
}

export interface Expectation {
  /** Where in the answer (keys and array indexes); empty = the whole answer. */
  path: Array<string | number>;
  value?: unknown;
  /** Expected array length at `path` instead of a value. */
  len?: number;
  /** Only whether a key exists at `path`. */
  present?: boolean;
}

export interface FixtureStep {
  req?: FixtureRequest;
  /** Also replay a POST search as GET with the body as query parameters. */
  both?: boolean;
  status?: number;
  /** Wait for the task enqueued by step `wait` (index in steps) and check its view. */
  wait?: number;
  waitStatus?: 'succeeded' | 'failed';
  expect?: Expectation[];
}

export interface FixtureCase {
  name: string;
  /** Meilisearch test this case comes from: `<file under crates/meilisearch/tests>::<test function>`. */
  source: string;
  /** Runs alone (touches node-wide state: experimental features, the task list, global stats). */
  global?: boolean;
  /** Comes from a test on a fresh Meilisearch (task uids from 0, whole-node listings): replayed on a fresh target. */
  fresh?: boolean;
  steps: FixtureStep[];
}

export interface FixtureFile {
  area: string;
  description: string;
  cases: FixtureCase[];
}

/** Data sets Meilisearch's tests share between cases (created once per target, read-only). */
export interface SharedDataset {
  documents: unknown[] | null;
  settings: Record<string, unknown> | null;
}

export function fixturesDir(): string {
  const here = fileURLToPath(import.meta.url);
  const root = here.includes('/dist/') ? here.slice(0, here.indexOf('/dist/')) : join(here, '../../../..');
  return join(root, 'test', 'fixtures', 'meili');
}

export function loadFixtures(): FixtureFile[] {
  const dir = fixturesDir();
  return readdirSync(dir)
    .filter((f) => f.endsWith('.json') && !f.startsWith('_') && f !== 'known-failures.json')
    .sort()
    .map((f) => JSON.parse(readFileSync(join(dir, f), 'utf8')) as FixtureFile);
}

export function loadDatasets(): Record<string, SharedDataset> {
  return JSON.parse(readFileSync(join(fixturesDir(), '_datasets.json'), 'utf8')) as Record<string, SharedDataset>;
}

export interface KnownFailures {
  devnode: Record<string, string>;
  miroir: Record<string, string>;
}

export function loadKnownFailures(): KnownFailures {
  return JSON.parse(readFileSync(join(fixturesDir(), 'known-failures.json'), 'utf8')) as KnownFailures;
}

export interface Target {
  url: string;
  apiKey: string | null;
}

// ------------------------------------------------------------------ matching

const WILDCARD = /^\[[a-z0-9_]+\]$/;
/** Keys whose value differs from run to run: compared by type only. */
const BY_SHAPE = new Set([
  'taskUid',
  'batchUid',
  'canceledBy',
  'enqueuedAt',
  'startedAt',
  'finishedAt',
  'duration',
  'processingTimeMs',
  'requestUid',
  'createdAt',
  'updatedAt',
  'lastUpdate',
  'databaseSize',
  'usedDatabaseSize',
  'rawDocumentDbSize',
  'avgDocumentSize',
  'dumpUid',
]);

function show(v: unknown): string {
  const s = JSON.stringify(v);
  return s === undefined ? 'undefined' : s.length > 160 ? `${s.slice(0, 157)}...` : s;
}

function escapeRe(s: string): string {
  return s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}

/** An expected string with placeholders (`[uuid]`, `[date]`, …) inside it matches any text in their place. */
function textMatches(expected: string, actual: string): boolean {
  if (!/\[[a-z0-9_]+\]/.test(expected)) return expected === actual;
  const re = new RegExp(
    '^' +
      expected
        .split(/\[[a-z0-9_]+\]/)
        .map(escapeRe)
        .join('[\\s\\S]*?') +
      '$',
  );
  return re.test(actual);
}

/** The first difference between an expected and an actual value, or null when they match. */
export function difference(expected: unknown, actual: unknown, at = '', key = ''): string | null {
  const where = at === '' ? '(root)' : at;
  if (typeof expected === 'string' && WILDCARD.test(expected))
    return actual === undefined ? `${where}: missing, expected ${expected}` : null;
  if (BY_SHAPE.has(key) && expected !== null && actual !== undefined) {
    if (typeof expected === typeof actual || actual === null) return null;
    return `${where}: expected a ${typeof expected}, got ${show(actual)}`;
  }
  if (key === 'uid' && typeof expected === 'number' && typeof actual === 'number') return null;
  if (typeof expected === 'number' && typeof actual === 'number') {
    if (
      expected === actual ||
      (!Number.isInteger(expected) && Math.abs(expected - actual) <= 1e-12 * Math.max(1, Math.abs(expected)))
    )
      return null;
    return `${where}: expected ${expected}, got ${actual}`;
  }
  if (typeof expected === 'string' && typeof actual === 'string') {
    if (textMatches(expected, actual)) return null;
    // Show both from a little before the first differing character.
    let i = 0;
    while (i < expected.length && i < actual.length && expected[i] === actual[i]) i++;
    const from = Math.max(0, i - 30);
    return `${where}: strings differ at ${i}: expected ${show(expected.slice(from))}, got ${show(actual.slice(from))}`;
  }
  if (Array.isArray(expected)) {
    if (!Array.isArray(actual)) return `${where}: expected an array, got ${show(actual)}`;
    for (let i = 0; i < Math.min(expected.length, actual.length); i++) {
      const d = difference(expected[i], actual[i], `${at}[${i}]`);
      if (d !== null) return d;
    }
    if (expected.length !== actual.length)
      return `${where}: expected ${expected.length} items, got ${actual.length}: ${show(actual)}`;
    return null;
  }
  if (expected !== null && typeof expected === 'object') {
    if (actual === null || typeof actual !== 'object' || Array.isArray(actual))
      return `${where}: expected an object, got ${show(actual)}`;
    const e = expected as Record<string, unknown>;
    const a = actual as Record<string, unknown>;
    for (const k of Object.keys(e)) {
      if (!(k in a)) return `${at}.${k}: missing (expected ${show(e[k])})`;
      const d = difference(e[k], a[k], `${at}.${k}`, k);
      if (d !== null) return d;
    }
    const extra = Object.keys(a).filter((k) => !(k in e));
    if (extra.length > 0) return `${where}: unexpected key(s) ${extra.map((k) => `${k}=${show(a[k])}`).join(', ')}`;
    return null;
  }
  return Object.is(expected, actual) ? null : `${where}: expected ${show(expected)}, got ${show(actual)}`;
}

// ------------------------------------------------------------------ running

/** Query string of a search body as Meilisearch's tests build it for GET (arrays comma-joined); null if nested. */
export function queryOf(body: Record<string, unknown>): string | null {
  const parts: string[] = [];
  for (const [k, v] of Object.entries(body)) {
    if (v === null) continue;
    let s: string;
    if (Array.isArray(v)) {
      if (v.some((x) => x !== null && typeof x === 'object')) return null;
      s = v.map(String).join(',');
    } else if (typeof v === 'object') return null;
    else s = String(v);
    parts.push(`${encodeURIComponent(k)}=${encodeURIComponent(s)}`);
  }
  return parts.length === 0 ? '' : `?${parts.join('&')}`;
}

interface Answer {
  status: number;
  body: unknown;
}

async function call(
  target: Target,
  method: string,
  path: string,
  body: unknown,
  raw: string | undefined,
  headers: Record<string, string> = {},
): Promise<Answer> {
  const h: Record<string, string> = { ...headers };
  if (target.apiKey !== null) h.authorization = `Bearer ${target.apiKey}`;
  let payload: string | Buffer | undefined;
  // Bytes, not a string: a string body would get a `text/plain` content type the case did not send.
  if (raw !== undefined) payload = Buffer.from(raw);
  else if (body !== undefined) {
    payload = JSON.stringify(body);
    if (!Object.keys(h).some((k) => k.toLowerCase() === 'content-type')) h['content-type'] = 'application/json';
  }
  const res = await fetch(target.url + path, { method, headers: h, body: payload });
  const text = await res.text();
  let parsed: unknown = text;
  try {
    parsed = text === '' ? null : JSON.parse(text);
  } catch {
    /* not JSON: compared as text */
  }
  return { status: res.status, body: parsed };
}

/** Polls a task until it is finished (no fixed sleep: a growing pause between reads, bounded by a deadline). */
async function waitTask(target: Target, uid: number): Promise<Answer> {
  const deadline = Date.now() + 20000;
  let pause = 1;
  for (;;) {
    const a = await call(target, 'GET', `/tasks/${uid}`, undefined, undefined);
    const st = (a.body as { status?: string } | null)?.status;
    if (a.status !== 200 || st === 'succeeded' || st === 'failed' || st === 'canceled') return a;
    if (Date.now() > deadline) throw new Error(`task ${uid} still ${st} after 20 s`);
    await new Promise((r) => setTimeout(r, pause));
    pause = Math.min(pause * 2, 20);
  }
}

/** The value at `path`, null where it does not exist (as indexing a JSON value in Meilisearch's tests gives). */
function at(v: unknown, path: ReadonlyArray<string | number>): unknown {
  let cur = v;
  for (const p of path) {
    if (cur === null || typeof cur !== 'object') return null;
    cur = (cur as Record<string | number, unknown>)[p];
    if (cur === undefined) return null;
  }
  return cur;
}

/**
 * Names the indexes of a case: `{index}`, `{index2}`, `{idx:name}`, `{prefixed:p}` → fresh uids; shared data sets keep
 * theirs.
 */
class Names {
  private readonly map = new Map<string, string>();
  /** `keepLiterals`: a case on a fresh target keeps the literal names its test used. */
  constructor(
    private readonly prefix: string,
    private readonly keepLiterals = false,
  ) {}

  uid(token: string): string {
    let u = this.map.get(token);
    if (u === undefined) {
      if (token.startsWith('{prefixed:')) {
        // unique_index_with_prefix("x"): Meilisearch's answers show it as `x-[uuid]`.
        u = `${token.slice(10, -1)}-${this.prefix}`;
      } else if (token.startsWith('{idx:')) {
        // A literal name that is no valid index uid stays as it is (the case is about that error).
        const literal = token.slice(5, -1);
        u = !this.keepLiterals && /^[A-Za-z0-9_-]{1,300}$/.test(literal) ? `${this.prefix}-${literal}` : literal;
      } else u = `${this.prefix}-${token.slice(1, -1)}`;
      this.map.set(token, u);
    }
    return u;
  }

  /** Literal names the case used (server.index("test")) → their fresh uid, for expected values. */
  literals(): Array<[string, string]> {
    return [...this.map]
      .filter(([k, v]) => k.startsWith('{idx:') && k.slice(5, -1) !== v)
      .map(([k, v]) => [k.slice(5, -1), v]);
  }
}

function substitute(v: unknown, fn: (s: string) => string): unknown {
  if (typeof v === 'string') return fn(v);
  if (Array.isArray(v)) return v.map((x) => substitute(x, fn));
  if (v !== null && typeof v === 'object') {
    const out: Record<string, unknown> = {};
    for (const [k, x] of Object.entries(v as Record<string, unknown>)) out[fn(k)] = substitute(x, fn);
    return out;
  }
  return v;
}

/** Replays one case; resolves to null when it passes, else the first difference (naming the step). */
export async function runCase(
  target: Target,
  c: FixtureCase,
  prefix = `m${randomBytes(4).toString('hex')}`,
): Promise<string | null> {
  const names = new Names(prefix, c.fresh === true);
  const tasks: Array<number | undefined> = [];
  const answers: Answer[] = [];
  const place = (s: string, inPath = false): string =>
    s
      .replace(/\{(index\d*|idx:[^}]+|prefixed:[^}]*)\}/g, (m) =>
        inPath ? encodeURIComponent(names.uid(m)) : names.uid(m),
      )
      .replace(/\{task:(\d+)\}/g, (_, i: string) => String(tasks[Number(i)] ?? 'missing-task'));
  /** A string that is exactly a literal index name of the case (e.g. in a swap body) → its fresh uid. */
  const literal = (x: string): string => names.literals().find(([lit]) => lit === x)?.[1] ?? x;
  const expected = (v: unknown): unknown =>
    substitute(v, (s) => {
      let out = place(s, false);
      for (const [lit, uid] of names.literals()) {
        if (out === lit) out = uid;
        out = out.split(`\`${lit}\``).join(`\`${uid}\``);
      }
      return out;
    });
  for (let i = 0; i < c.steps.length; i++) {
    const step = c.steps[i]!;
    let answers2: Array<{ label: string; a: Answer }>;
    if (step.req !== undefined) {
      const r = step.req;
      const path = place(r.path, true);
      const body = r.body === undefined ? undefined : substitute(r.body, (x) => literal(place(x)));
      const a = await call(target, r.method, path, body, r.raw === undefined ? undefined : place(r.raw), r.headers);
      answers[i] = a;
      const uid = (a.body as { taskUid?: unknown } | null)?.taskUid;
      tasks[i] = typeof uid === 'number' ? uid : undefined;
      answers2 = [{ label: `${r.method} ${path}`, a }];
      if (step.both === true && r.method === 'POST' && body !== null && typeof body === 'object') {
        const q = queryOf(body as Record<string, unknown>);
        if (q !== null)
          answers2.push({
            label: `GET ${path}${q}`,
            a: await call(target, 'GET', `${path}${q}`, undefined, undefined),
          });
      }
    } else if (step.wait !== undefined) {
      const uid = tasks[step.wait];
      if (uid === undefined)
        return `step ${i} (wait for step ${step.wait}): that step enqueued no task (answer ${show(answers[step.wait]?.body)})`;
      const a = await waitTask(target, uid);
      answers[i] = a;
      tasks[i] = uid;
      answers2 = [{ label: `wait task of step ${step.wait}`, a }];
      if (step.waitStatus !== undefined) {
        const st = (a.body as { status?: string } | null)?.status;
        if (st !== step.waitStatus)
          return `step ${i} (${answers2[0]!.label}): expected task ${step.waitStatus}, got ${st}: ${show(a.body)}`;
      }
    } else continue;
    for (const { label, a } of answers2) {
      if (step.status !== undefined && a.status !== step.status)
        return `step ${i} (${label}): expected HTTP ${step.status}, got ${a.status}: ${show(a.body)}`;
      for (const e of step.expect ?? []) {
        const got = at(a.body, e.path);
        const where = e.path.map((p) => (typeof p === 'number' ? `[${p}]` : `.${p}`)).join('');
        if (e.present !== undefined) {
          const parent = at(a.body, e.path.slice(0, -1));
          const has =
            parent !== null &&
            typeof parent === 'object' &&
            Object.prototype.hasOwnProperty.call(parent, e.path[e.path.length - 1]!);
          if (has !== e.present) return `step ${i} (${label}): ${where} expected ${e.present ? 'present' : 'absent'}`;
          continue;
        }
        if (e.len !== undefined) {
          const n = Array.isArray(got) ? got.length : -1;
          if (n !== e.len)
            return `step ${i} (${label}): ${where || '(root)'} expected ${e.len} items, got ${show(got)}`;
          continue;
        }
        const d = difference(expected(e.value), got, where, String(e.path[e.path.length - 1] ?? ''));
        if (d !== null) return `step ${i} (${label}): ${d}`;
      }
    }
  }
  return null;
}

/** Creates the shared data sets a set of cases refers to (by the literal uid they use), once. */
export async function createDatasets(
  target: Target,
  cases: readonly FixtureCase[],
  datasets: Record<string, SharedDataset>,
): Promise<void> {
  const used = new Set<string>();
  const text = JSON.stringify(cases);
  for (const name of Object.keys(datasets))
    if (text.includes(`/indexes/${name}`) || text.includes(`"${name}"`)) used.add(name);
  for (const name of used) {
    const ds = datasets[name]!;
    const uids: number[] = [];
    if (ds.documents === null && ds.settings === null) {
      if (name === 'DOES_NOT_EXISTS') continue;
      const a = await call(target, 'POST', '/indexes', { uid: name, primaryKey: null }, undefined);
      uids.push((a.body as { taskUid: number }).taskUid);
    }
    if (ds.documents !== null)
      uids.push(
        (
          (await call(target, 'POST', `/indexes/${name}/documents`, ds.documents, undefined)).body as {
            taskUid: number;
          }
        ).taskUid,
      );
    if (ds.settings !== null)
      uids.push(
        ((await call(target, 'PATCH', `/indexes/${name}/settings`, ds.settings, undefined)).body as { taskUid: number })
          .taskUid,
      );
    for (const uid of uids) await waitTask(target, uid);
  }
}

/** A target started for one case (fresh cases), stopped after it. */
export type FreshTarget = () => Promise<{ target: Target; stop(): Promise<void> }>;

/**
 * Runs cases with at most `concurrency` at once; global ones alone, after the others; fresh ones each on a target
 * of their own when `fresh` is given. Returns case source → difference (null when it passes).
 */
export async function runAll(
  target: Target,
  cases: readonly FixtureCase[],
  concurrency = 8,
  fresh?: FreshTarget,
): Promise<Map<string, string | null>> {
  const out = new Map<string, string | null>();
  const describe = (e: unknown): string => `threw: ${e instanceof Error ? e.message : String(e)}`;
  if (fresh !== undefined) {
    for (const c of cases.filter((x) => x.fresh === true)) {
      const t = await fresh();
      try {
        out.set(c.source, await runCase(t.target, c).catch(describe));
      } finally {
        await t.stop();
      }
    }
  }
  const parallel = cases.filter((c) => c.global !== true && !(fresh !== undefined && c.fresh === true));
  let next = 0;
  const worker = async (): Promise<void> => {
    while (next < parallel.length) {
      const c = parallel[next++]!;
      out.set(c.source, await runCase(target, c).catch(describe));
    }
  };
  await Promise.all(Array.from({ length: concurrency }, worker));
  for (const c of cases)
    if (c.global === true && !out.has(c.source)) out.set(c.source, await runCase(target, c).catch(describe));
  return out;
}
