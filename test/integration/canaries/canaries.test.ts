// Canaries (SPEC A18, issue 30) through a real proxy over dev nodes: validation errors named like Meilisearch's,
// CRUD and status, capture of recent real searches into golden assertions that pass, and a top_hit_id canary that
// fails on its first run after the top document changed, reporting the observed id; metrics for a failing canary;
// `miroir ctl canary status`.
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { after, before, describe, test } from 'node:test';
import { promisify } from 'node:util';
import { Meilisearch } from 'meilisearch';
import { startCluster, type TestCluster } from '../../support/cluster.js';
import { cliPath } from '../../support/devnode.js';
import { until } from '../../support/wait.js';

interface Status {
  name: string;
  state: 'passing' | 'failing' | 'unknown';
  last_run: string | null;
  failures: Array<{ type: string; expected: unknown; observed: unknown }>;
}

describe('canaries', () => {
  let c: TestCluster;
  let ms: Meilisearch;
  const admin = async (method: string, path: string, body?: unknown, key?: string) => {
    const res = await fetch(`${c.app.url}${path}`, {
      method,
      headers: {
        authorization: `Bearer ${key ?? c.adminKey}`,
        ...(body === undefined ? {} : { 'content-type': 'application/json' }),
      },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    const text = await res.text();
    return { status: res.status, body: text === '' ? null : (JSON.parse(text) as Record<string, unknown>) };
  };
  const status = async () => (await admin('GET', '/_miroir/canaries/status')).body as unknown as Status[];

  before(async () => {
    c = await startCluster({ nodes: 2, shards: 4, config: { canary_runner: { enabled: true } } });
    ms = new Meilisearch({ host: c.app.url, apiKey: c.masterKey });
    const task = await ms
      .index('movies')
      .addDocuments([
        { id: 1, title: 'Alien', overview: 'space horror aboard a ship' },
        { id: 2, title: 'Aliens', overview: 'marines return to the alien planet' },
        { id: 3, title: 'Heat', overview: 'a crew of thieves in los angeles' },
        { id: 4, title: 'Carol', overview: 'a love story in new york' },
        { id: 5, title: 'Solaris', overview: 'a psychologist on a space station' },
      ])
      .waitTask();
    assert.equal(task.status, 'succeeded');
  });
  after(async () => {
    await c?.close();
  });

  test('bad definitions answer 400 miroir_invalid_canary naming the field; the admin key is required', async () => {
    const base = { name: 'c1', index: 'movies', interval_s: 1, query: { q: 'alien' } };
    const cases: Array<[unknown, RegExp]> = [
      [{ ...base, assertions: [] }, /`assertions`/],
      [{ ...base, interval_s: 0, assertions: [{ type: 'min_hits', n: 1 }] }, /`interval_s`/],
      [{ ...base, name: 'a b', assertions: [{ type: 'min_hits', n: 1 }] }, /`name`/],
      [{ ...base, assertions: [{ type: 'top_hit', id: 1 }] }, /`assertions\[0\]\.type`/],
      [{ ...base, assertions: [{ type: 'top_k_contains', k: 1, ids: [1, 2] }] }, /`assertions\[0\]\.ids`/],
      [{ ...base, query: { q: 'x', limit: 'many' }, assertions: [{ type: 'min_hits', n: 1 }] }, /`query`/],
      [{ ...base, extra: 1, assertions: [{ type: 'min_hits', n: 1 }] }, /`extra`/],
    ];
    for (const [body, field] of cases) {
      const res = await admin('POST', '/_miroir/canaries', body);
      assert.equal(res.status, 400, JSON.stringify(res.body));
      assert.equal(res.body!.code, 'miroir_invalid_canary');
      assert.equal(res.body!.type, 'invalid_request');
      assert.match(String(res.body!.link), /#miroir_invalid_canary$/);
      assert.match(String(res.body!.message), field);
    }
    const unauth = await admin('POST', '/_miroir/canaries', { ...base, assertions: [] }, 'wrong');
    assert.equal(unauth.status, 401);
    assert.equal(unauth.body!.code, 'miroir_invalid_auth');
    const missing = await admin('GET', '/_miroir/canaries/nope');
    assert.equal(missing.status, 404);
    assert.equal(missing.body!.code, 'miroir_canary_not_found');
  });

  test('every assertion type is checked and reports what it observed; GET and DELETE', async () => {
    const def = {
      name: 'all-types',
      index: 'movies',
      interval_s: 1,
      query: { q: 'alien' },
      assertions: [
        { type: 'top_k_contains', k: 2, ids: [1, 2] },
        { type: 'min_hits', n: 2 },
        { type: 'max_p95_ms', ms: 60000 },
        { type: 'settings_version_at_least', version: 999 },
        { type: 'must_not_contain_id', id: 2 },
      ],
    };
    assert.equal((await admin('POST', '/_miroir/canaries', def)).status, 201);
    await until(async () => (await status()).some((s) => s.name === 'all-types' && s.state !== 'unknown'), 'a run');
    const s = (await status()).find((x) => x.name === 'all-types')!;
    assert.equal(s.state, 'failing');
    assert.deepEqual(
      s.failures.map((f) => f.type),
      ['settings_version_at_least', 'must_not_contain_id'],
    );
    assert.equal(s.failures[0]!.expected, 999);
    assert.equal(typeof s.failures[0]!.observed, 'number');
    assert.deepEqual(s.failures[1]!.observed, { rank: 2 });
    const one = await admin('GET', '/_miroir/canaries/all-types');
    assert.equal(one.status, 200);
    assert.equal(one.body!.state, 'failing');
    assert.ok((one.body!.history as unknown[]).length >= 1);
    const metrics = await (await fetch(`http://127.0.0.1:${c.app.metricsPort}/metrics`)).text();
    assert.match(metrics, /miroir_canary_failing\{canary="all-types"\} 1/);
    assert.match(
      metrics,
      /miroir_canary_assertion_failures_total\{canary="all-types",assertion_type="must_not_contain_id"\} \d/,
    );
    assert.match(metrics, /miroir_canary_runs_total\{canary="all-types",result="fail"\} \d/);
    assert.equal((await admin('DELETE', '/_miroir/canaries/all-types')).status, 204);
    assert.equal((await admin('DELETE', '/_miroir/canaries/all-types')).status, 404);
    assert.ok(!(await status()).some((x) => x.name === 'all-types'));
  });

  test('captured canaries pass; after the top document changes, the top_hit_id canary fails on its next run with the observed id', async (t) => {
    const idx = ms.index('movies');
    for (const q of ['alien', 'alien', 'space', 'crew thieves']) await idx.search(q);
    const cap = await admin('POST', '/_miroir/canaries/capture', {
      index: 'movies',
      count: 3,
      name_prefix: 'golden-',
      interval_s: 1,
    });
    assert.equal(cap.status, 201, JSON.stringify(cap.body));
    const created = cap.body!.canaries as Array<{ name: string; query: { q: string }; assertions: unknown[] }>;
    assert.equal(created.length, 3);
    assert.equal(created[0]!.query.q, 'alien', 'the most frequent recent search comes first');
    await until(
      async () => {
        const all = (await status()).filter((s) => s.name.startsWith('golden-'));
        return all.length === 3 && all.every((s) => s.state === 'passing');
      },
      'every captured canary passing',
      15_000,
    );
    const space = created.find((d) => d.query.q === 'space')!;
    const before = (await admin('GET', `/_miroir/canaries/${space.name}`)).body!;
    const top = (before.assertions as Array<{ type: string; id?: number }>).find((a) => a.type === 'top_hit_id')!.id!;
    // The top hit for "space" no longer mentions it: the other space movie becomes the top hit.
    const task = await idx.updateDocuments([{ id: top, overview: 'a quiet film about nothing' }]).waitTask();
    assert.equal(task.status, 'succeeded');
    const changedAt = Date.now();
    let failing: Status | undefined;
    await until(
      async () => {
        const s = (await status()).find((x) => x.name === space.name)!;
        if (s.last_run === null || Date.parse(s.last_run) < changedAt) return false;
        failing = s;
        return true;
      },
      'a run after the change',
      15_000,
    );
    const failedAfterMs = Date.parse(failing!.last_run!) - changedAt;
    assert.equal(failing!.state, 'failing', 'the first run after the change fails');
    // Order, not time: every run that started after the change was acknowledged failed, none passed.
    const history = (await admin('GET', `/_miroir/canaries/${space.name}`)).body!.history as Array<{
      at: string;
      passed: boolean;
    }>;
    const afterChange = history.filter((r) => Date.parse(r.at) >= changedAt);
    assert.ok(afterChange.length >= 1, 'a run after the change is in the history');
    assert.ok(
      afterChange.every((r) => !r.passed),
      'no run after the change passes',
    );
    const f = failing!.failures.find((x) => x.type === 'top_hit_id')!;
    assert.equal(f.expected, top);
    assert.equal(f.observed, top === 1 ? 5 : 1);
    // How soon is reported, not asserted (a shared box stretches any bound); the order above is the contract.
    t.diagnostic(`top_hit_id failed ${failedAfterMs} ms after the change (interval_s 1)`);
    // The other captured canaries keep passing.
    for (const s of (await status()).filter((x) => x.name.startsWith('golden-') && x.name !== space.name))
      assert.equal(s.state, 'passing', s.name);
  });

  test('miroir ctl canary status shows the failure with what was observed', async () => {
    const run = promisify(execFile);
    const env = { ...process.env, MIROIR_ADMIN_API_KEY: c.adminKey };
    const ctl = (args: string[]) => run(process.execPath, [cliPath(), 'ctl', '--url', c.app.url, ...args], { env });
    const table = (await ctl(['canary', 'status'])).stdout;
    assert.match(table, /golden-\d+ .*failing.*top_hit_id: \d+ → \d+/);
    const json = JSON.parse((await ctl(['--json', 'canary', 'status'])).stdout) as Status[];
    assert.equal(json.filter((s) => s.state === 'failing').length, 1);
  });
});
