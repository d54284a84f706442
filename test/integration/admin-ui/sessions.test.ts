// The admin console over HTTP (no browser): the page and its assets, login → cookie + CSRF token, the cookie standing
// in for the admin key on /_miroir/*, CSRF and Origin refusals, the console's admin routes (keys used from the
// official client), logout revocation, A19 metrics, per-address login limits (from other loopback addresses),
// read-only mode, and a config without admin_ui serving none of it.
import assert from 'node:assert/strict';
import { request } from 'node:http';
import { after, before, describe, test } from 'node:test';
import { Meilisearch } from 'meilisearch';
import { startCluster, type TestCluster } from '../../support/cluster.js';
import { waitRebalanced } from '../../support/topology.js';

type Json = any;

interface Res {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  text: string;
  body: Json;
}

function parsed(text: string): Json {
  try {
    return text === '' ? null : JSON.parse(text);
  } catch {
    return null;
  }
}

/** One HTTP request; `from` picks the loopback address it is sent from (each is its own client address). */
function call(
  base: string,
  method: string,
  path: string,
  opts: { headers?: Record<string, string>; body?: unknown; from?: string } = {},
): Promise<Res> {
  const url = new URL(path, base);
  const payload = opts.body === undefined ? undefined : JSON.stringify(opts.body);
  const headers = { ...(payload === undefined ? {} : { 'content-type': 'application/json' }), ...opts.headers };
  return new Promise((resolve, reject) => {
    const req = request(url, { method, headers, localAddress: opts.from }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => {
        const text = Buffer.concat(chunks).toString('utf8');
        resolve({ status: res.statusCode!, headers: res.headers, text, body: parsed(text) });
      });
    });
    req.on('error', reject);
    req.end(payload);
  });
}

function cookieOf(res: Res): string {
  const set = res.headers['set-cookie'];
  const line = Array.isArray(set) ? set[0]! : String(set);
  return line.split(';')[0]!;
}

describe('admin console over HTTP', () => {
  let cluster: TestCluster;
  let base: string;
  before(async () => {
    cluster = await startCluster({ nodes: 1, shards: 4, config: { admin_ui: { enabled: true } } });
    base = cluster.app.url;
  });
  after(() => cluster.close());

  const login = async (from?: string) => {
    const res = await call(base, 'POST', '/_miroir/admin/login', { body: { admin_key: cluster.adminKey }, from });
    assert.equal(res.status, 200, res.text);
    return { cookie: cookieOf(res), csrf: res.body.csrf_token as string, res };
  };

  test('the page and its hashed assets are served from memory, gzipped on request, with a CSP allowing only this origin', async () => {
    const page = await call(base, 'GET', '/_miroir/admin');
    assert.equal(page.status, 200);
    assert.match(String(page.headers['content-type']), /^text\/html/);
    assert.match(String(page.headers['content-security-policy']), /default-src 'none'; script-src 'self'/);
    assert.equal(page.headers['x-frame-options'], 'DENY');
    const assets = [...page.text.matchAll(/"\/_miroir\/admin\/assets\/([^"]+)"/g)].map((m) => m[1]!);
    assert.equal(assets.length, 2, page.text);
    for (const a of assets) {
      const plain = await call(base, 'GET', `/_miroir/admin/assets/${a}`);
      assert.equal(plain.status, 200);
      assert.match(String(plain.headers['cache-control']), /immutable/);
      assert.match(String(plain.headers['content-type']), a.endsWith('.js') ? /^text\/javascript/ : /^text\/css/);
      const zipped = await call(base, 'GET', `/_miroir/admin/assets/${a}`, { headers: { 'accept-encoding': 'gzip' } });
      assert.equal(zipped.headers['content-encoding'], 'gzip');
    }
    assert.equal((await call(base, 'GET', '/_miroir/admin/assets/nope.js')).status, 404);
    assert.equal((await call(base, 'HEAD', '/_miroir/admin/')).status, 200, 'trailing slash and HEAD');
  });

  test('login: a session cookie (Path /_miroir, HttpOnly, SameSite=Strict, not Secure on loopback http) and a CSRF token', async () => {
    const bad = await call(base, 'POST', '/_miroir/admin/login', { body: { key: 'x' } });
    assert.equal(bad.status, 400);
    assert.equal(bad.body.code, 'bad_request');
    const { res, csrf } = await login();
    assert.match(csrf, /^[A-Za-z0-9_-]{43}$/);
    assert.equal(res.body.read_only, false);
    assert.deepEqual(res.body.capabilities, []);
    assert.ok(Date.parse(res.body.expires_at) > Date.now() + 3500_000);
    const set = String(res.headers['set-cookie']);
    assert.match(
      set,
      /^miroir_admin_session=[A-Za-z0-9_-]{80}; Path=\/_miroir; Max-Age=3600; HttpOnly; SameSite=Strict$/,
    );
    const behindTls = await call(base, 'POST', '/_miroir/admin/login', {
      body: { admin_key: cluster.adminKey },
      headers: { 'x-forwarded-proto': 'https' },
    });
    assert.match(String(behindTls.headers['set-cookie']), /; Secure$/);
    assert.equal(res.headers['cache-control'], 'no-store');
  });

  test('the cookie stands in for the admin key on /_miroir/*; state changes need the CSRF token and an allowed Origin', async () => {
    const { cookie, csrf } = await login();
    const topo = await call(base, 'GET', '/_miroir/topology', { headers: { cookie } });
    assert.equal(topo.status, 200);
    assert.equal(topo.body.nodes.length, 1);
    const session = await call(base, 'GET', '/_miroir/admin/session', { headers: { cookie } });
    assert.equal(session.body.csrf_token, csrf, 'a reloaded page gets its token back');
    const noToken = await call(base, 'POST', '/_miroir/rebalance', { headers: { cookie } });
    assert.equal(noToken.status, 403);
    assert.equal(noToken.body.code, 'miroir_csrf_token_invalid');
    assert.equal(noToken.body.type, 'auth');
    assert.equal(
      (await call(base, 'POST', '/_miroir/rebalance', { headers: { cookie, 'x-csrf-token': `${csrf}x` } })).body.code,
      'miroir_csrf_token_invalid',
    );
    const evil = await call(base, 'POST', '/_miroir/rebalance', {
      headers: { cookie, 'x-csrf-token': csrf, origin: 'http://evil.example' },
    });
    assert.equal(evil.status, 403);
    assert.equal(evil.body.code, 'miroir_origin_not_allowed');
    const ok = await call(base, 'POST', '/_miroir/rebalance', {
      headers: { cookie, 'x-csrf-token': csrf, origin: base },
    });
    assert.equal(ok.status, 202, ok.text);
    await waitRebalanced(base, cluster.adminKey);
    // The admin key needs no CSRF token; a forged cookie is refused; Meilisearch routes ignore the cookie.
    assert.equal(
      (await call(base, 'POST', '/_miroir/rebalance', { headers: { authorization: `Bearer ${cluster.adminKey}` } }))
        .status,
      202,
    );
    await waitRebalanced(base, cluster.adminKey);
    const forged = await call(base, 'GET', '/_miroir/topology', {
      headers: { cookie: `miroir_admin_session=${'A'.repeat(80)}` },
    });
    assert.equal(forged.status, 401);
    assert.equal(forged.body.code, 'miroir_invalid_auth');
    assert.equal((await call(base, 'GET', '/indexes', { headers: { cookie } })).status, 401);
    assert.equal((await call(base, 'GET', '/_miroir/topology')).status, 401, 'neither key nor cookie');
  });

  test('console routes: keys listed without values, created (value shown once, usable from the official client) and deleted; indexes and tasks', async () => {
    const { cookie, csrf } = await login();
    const h = { cookie, 'x-csrf-token': csrf };
    const created = await call(base, 'POST', '/_miroir/keys', {
      headers: h,
      body: { name: 'reader', actions: ['search', 'indexes.get'], indexes: ['*'], expiresAt: null },
    });
    assert.equal(created.status, 201, created.text);
    assert.match(created.body.key, /^[0-9a-f]{64}$/);
    const listed = await call(base, 'GET', '/_miroir/keys', { headers: { cookie } });
    const row = listed.body.results.find((k: Json) => k.uid === created.body.uid);
    assert.equal(row.name, 'reader');
    assert.equal(row.key, undefined, 'values are never listed');
    const admin = new Meilisearch({ host: base, apiKey: cluster.masterKey });
    await admin.createIndex('movies', { primaryKey: 'id' }).waitTask();
    await admin
      .index('movies')
      .addDocuments(Array.from({ length: 30 }, (_, i) => ({ id: i, title: `movie ${i}` })))
      .waitTask();
    const client = new Meilisearch({ host: base, apiKey: created.body.key });
    assert.equal((await client.index('movies').search('movie', { limit: 1 })).estimatedTotalHits, 30);
    const indexes = await call(base, 'GET', '/_miroir/indexes', { headers: { cookie } });
    assert.equal(indexes.status, 200);
    assert.deepEqual(
      indexes.body.results.map((i: Json) => [i.uid, i.numberOfDocuments, i.shards, i.nodes_behind]),
      [['movies', 30, 4, []]],
    );
    const tasks = await call(base, 'GET', '/_miroir/tasks?limit=2&types=documentAdditionOrUpdate', {
      headers: { cookie },
    });
    assert.equal(tasks.body.results.length, 1);
    assert.equal(tasks.body.results[0].status, 'succeeded');
    const one = await call(base, 'GET', `/_miroir/tasks/${tasks.body.results[0].uid}`, { headers: { cookie } });
    assert.equal(one.body.details.receivedDocuments, 30);
    const deleted = await call(base, 'DELETE', `/_miroir/keys/${created.body.uid}`, { headers: h });
    assert.equal(deleted.status, 204);
    await assert.rejects(client.index('movies').search('movie'), (err: Json) => err.cause?.code === 'invalid_api_key');
  });

  test('logout revokes the session in the store and announces it; the cookie no longer works', async () => {
    const { cookie, csrf } = await login();
    const heard: string[] = [];
    const unsubscribe = await cluster.app.store.subscribe('admin_session_revoked', (id) => heard.push(id));
    const out = await call(base, 'POST', '/_miroir/admin/logout', { headers: { cookie, 'x-csrf-token': csrf } });
    assert.equal(out.status, 204);
    assert.match(String(out.headers['set-cookie']), /^miroir_admin_session=; Path=\/_miroir; Max-Age=0/);
    assert.equal(heard.length, 1);
    const stored = await cluster.app.store.getAdminSession(heard[0]!);
    assert.equal(stored?.revoked, true);
    const after = await call(base, 'GET', '/_miroir/topology', { headers: { cookie } });
    assert.equal(after.status, 401);
    assert.match(after.body.message, /session is missing, expired or revoked/);
    await unsubscribe();
  });

  test('metrics: sessions opened, console actions and destructive ones by action', async () => {
    const text = (
      await call(base, 'GET', '/_miroir/metrics', { headers: { authorization: `Bearer ${cluster.adminKey}` } })
    ).text;
    const value = (name: string) =>
      Number(new RegExp(`^${name.replace(/[{}"]/g, (c) => `\\${c}`)} (\\d+)`, 'm').exec(text)?.[1] ?? NaN);
    assert.ok(value('miroir_admin_ui_sessions_total') >= 5);
    assert.equal(
      value('miroir_admin_ui_action_total{action="rebalance_start"}'),
      1,
      'the admin-key rebalance is not a console action',
    );
    assert.equal(value('miroir_admin_ui_action_total{action="key_create"}'), 1);
    assert.equal(value('miroir_admin_ui_destructive_action_total{action="key_delete"}'), 1);
    assert.ok(Number.isNaN(value('miroir_admin_ui_destructive_action_total{action="key_create"}')));
  });

  test('login limits per address: the 6th login after 5 failures → 429 + Retry-After even with the right key; 11 attempts a minute → 429', async () => {
    for (let i = 1; i <= 5; i++) {
      const res = await call(base, 'POST', '/_miroir/admin/login', { body: { admin_key: 'wrong' }, from: '127.0.0.2' });
      assert.equal(res.status, 401, `failure ${i}`);
      assert.equal(res.body.code, 'miroir_invalid_auth');
    }
    const sixth = await call(base, 'POST', '/_miroir/admin/login', {
      body: { admin_key: cluster.adminKey },
      from: '127.0.0.2',
    });
    assert.equal(sixth.status, 429);
    assert.equal(sixth.body.code, 'miroir_rate_limited');
    assert.equal(sixth.headers['retry-after'], '600');
    await login('127.0.0.3'); // another address is not affected
    for (let i = 2; i <= 10; i++) await login('127.0.0.3');
    const eleventh = await call(base, 'POST', '/_miroir/admin/login', {
      body: { admin_key: cluster.adminKey },
      from: '127.0.0.3',
    });
    assert.equal(eleventh.status, 429);
    const wait = Number(eleventh.headers['retry-after']);
    assert.ok(wait >= 1 && wait <= 60, String(wait));
  });
});

describe('admin console in read-only mode, and switched off', () => {
  let ro: TestCluster;
  let off: TestCluster;
  before(async () => {
    [ro, off] = await Promise.all([
      startCluster({
        nodes: 1,
        shards: 2,
        config: { admin_ui: { enabled: true, read_only_mode: true, path: '/_miroir/console' } },
      }),
      startCluster({ nodes: 1, shards: 2 }),
    ]);
  });
  after(async () => {
    await Promise.all([ro.close(), off.close()]);
  });

  test('read-only: the session says so, reads work, state changes by cookie are refused, logout and the admin key still work', async () => {
    const page = await call(ro.app.url, 'GET', '/_miroir/console');
    assert.equal(page.status, 200);
    assert.match(page.text, /"\/_miroir\/console\/assets\/admin-[A-Z0-9]+\.js"/);
    const res = await call(ro.app.url, 'POST', '/_miroir/admin/login', { body: { admin_key: ro.adminKey } });
    assert.equal(res.body.read_only, true);
    const h = { cookie: cookieOf(res), 'x-csrf-token': res.body.csrf_token };
    assert.equal((await call(ro.app.url, 'GET', '/_miroir/topology', { headers: h })).status, 200);
    const refused = await call(ro.app.url, 'POST', '/_miroir/keys', {
      headers: h,
      body: { actions: ['search'], indexes: ['*'], expiresAt: null },
    });
    assert.equal(refused.status, 403);
    assert.equal(refused.body.code, 'miroir_admin_read_only');
    assert.equal(
      (await call(ro.app.url, 'POST', '/_miroir/rebalance', { headers: { authorization: `Bearer ${ro.adminKey}` } }))
        .status,
      202,
    );
    await waitRebalanced(ro.app.url, ro.adminKey);
    assert.equal((await call(ro.app.url, 'POST', '/_miroir/admin/logout', { headers: h })).status, 204);
  });

  test('admin_ui off (the default): no page, no login, the cookie is no credential', async () => {
    assert.equal((await call(off.app.url, 'GET', '/_miroir/admin')).status, 404);
    assert.equal(
      (await call(off.app.url, 'POST', '/_miroir/admin/login', { body: { admin_key: off.adminKey } })).status,
      404,
    );
    const res = await call(off.app.url, 'GET', '/_miroir/topology', {
      headers: { cookie: `miroir_admin_session=${'A'.repeat(80)}` },
    });
    assert.equal(res.status, 401);
  });
});
