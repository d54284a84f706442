// The search UI's HTTP side without a browser: C13 dispatch (a bad JWT-shaped token is 401 miroir_jwt_invalid with no
// fallthrough, tenant tokens keep Meilisearch's rules), shared_key sessions, CORS per allowed_origins, admin routes
// (config validation, rotation auth), the locale route, and a page for a missing index.
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { generateTenantToken } from 'meilisearch/token';
import { startCluster, type TestCluster } from '../../support/cluster.js';
import { startUiCluster, type UiCluster } from '../../support/search-ui.js';

let ui: UiCluster;
before(async () => {
  process.env.SEARCH_UI_SHARED_KEY = 'intranet-key';
  ui = await startUiCluster(
    { auth: { mode: 'shared_key' }, allowed_origins: ['https://intranet.example'] },
    { nodes: 1 },
  );
});
after(async () => {
  await ui?.close();
  delete process.env.SEARCH_UI_SHARED_KEY;
});

const post = (path: string, token: string, body: unknown) =>
  fetch(`${ui.url}${path}`, {
    method: 'POST',
    headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
    body: JSON.stringify(body),
  });

test('shared_key sessions need X-Search-UI-Key; a bad JWT-shaped token is 401 miroir_jwt_invalid, a tenant token stays a tenant token', async () => {
  const denied = await fetch(`${ui.url}/ui/search/movies/session`, { headers: { 'x-search-ui-key': 'wrong' } });
  assert.equal(denied.status, 401);
  assert.equal(((await denied.json()) as { code: string }).code, 'miroir_invalid_auth');
  const ok = await fetch(`${ui.url}/_miroir/ui/search/movies/session`, {
    headers: { 'x-search-ui-key': 'intranet-key' },
  });
  assert.equal(ok.status, 200);
  const s = (await ok.json()) as {
    token: string;
    expires_at: string;
    index: string;
    rate_limit: { limit: number; window_s: number };
  };
  assert.equal(s.index, 'movies');
  assert.deepEqual(s.rate_limit, { limit: 60, window_s: 60 });
  assert.ok(Date.parse(s.expires_at) > Date.now());

  const query = { queries: [{ indexUid: 'movies', q: 'heat' }] };
  assert.equal((await post('/multi-search', s.token, query)).status, 200);
  const tampered = `${s.token.slice(0, -4)}AAAA`;
  const bad = await post('/multi-search', tampered, query);
  assert.equal(bad.status, 401);
  const badBody = (await bad.json()) as { code: string; type: string };
  assert.deepEqual(Object.keys(badBody), ['message', 'code', 'type', 'link']);
  assert.deepEqual([badBody.code, badBody.type], ['miroir_jwt_invalid', 'auth'], 'no fallthrough to API-key checks');
  const other = await post('/multi-search', s.token, {
    queries: [
      { indexUid: 'movies', q: 'x' },
      { indexUid: 'books', q: 'x' },
    ],
  });
  assert.equal(other.status, 403);
  assert.equal(((await other.json()) as { code: string }).code, 'miroir_jwt_scope_denied');

  // A Meilisearch tenant token is judged by Meilisearch's rules, not as a session token.
  const key = (await ui.client.getKeys()).results.find((k) => k.name === 'Default Search API Key')!;
  const tenant = await generateTenantToken({
    apiKey: key.key,
    apiKeyUid: key.uid,
    searchRules: { movies: { filter: 'tenant = acme' } },
  });
  const res = await post('/indexes/movies/search', tenant, { q: '', limit: 100 });
  assert.equal(res.status, 200);
  assert.ok(((await res.json()) as { hits: Array<{ tenant: string }> }).hits.every((h) => h.tenant === 'acme'));
});

test('CORS: allowed origins get preflights and headers, others none', async () => {
  const pre = await fetch(`${ui.url}/multi-search`, {
    method: 'OPTIONS',
    headers: {
      origin: 'https://intranet.example',
      'access-control-request-method': 'POST',
      'access-control-request-headers': 'authorization,content-type,x-meilisearch-client',
    },
  });
  assert.equal(pre.status, 204);
  assert.equal(pre.headers.get('access-control-allow-origin'), 'https://intranet.example');
  assert.match(pre.headers.get('access-control-allow-headers') ?? '', /x-meilisearch-client/);
  const foreign = await fetch(`${ui.url}/ui/search/movies/session`, {
    headers: { origin: 'https://evil.example', 'x-search-ui-key': 'intranet-key' },
  });
  assert.equal(foreign.headers.get('access-control-allow-origin'), null);
});

test('admin routes: config is validated, rotation needs the admin key; locale; unknown index', async () => {
  const admin = { 'x-admin-key': ui.cluster.adminKey, 'content-type': 'application/json' };
  const bad = await fetch(`${ui.url}/_miroir/ui/search/movies/config`, {
    method: 'POST',
    headers: admin,
    body: JSON.stringify({ title: 'x', colour: 'red' }),
  });
  assert.equal(bad.status, 400);
  assert.match(((await bad.json()) as { message: string }).message, /colour/);
  const good = await fetch(`${ui.url}/_miroir/ui/search/movies/config`, {
    method: 'POST',
    headers: admin,
    body: JSON.stringify({ title: 'Films' }),
  });
  assert.deepEqual(await good.json(), { title: 'Films' });
  assert.deepEqual(await (await fetch(`${ui.url}/_miroir/ui/search/movies/config`, { headers: admin })).json(), {
    title: 'Films',
  });
  const noKey = await fetch(`${ui.url}/_miroir/ui/search/movies/rotate-scoped-key`, { method: 'POST' });
  assert.equal(noKey.status, 401);
  const locale = await fetch(`${ui.url}/_miroir/ui/search/locale/en.json`);
  assert.equal(((await locale.json()) as { searchLabel: string }).searchLabel, 'Search');
  assert.equal((await fetch(`${ui.url}/_miroir/ui/search/locale/xx.json`)).status, 404);
  const page = await fetch(`${ui.url}/ui/search/nope`);
  assert.equal(page.status, 404);
  assert.equal(((await page.json()) as { code: string }).code, 'index_not_found');
  const html = await fetch(`${ui.url}/ui/search/movies`);
  assert.match(html.headers.get('content-security-policy') ?? '', /script-src 'self'/);
  assert.match(await html.text(), /<title>Films<\/title>/);
});

test('with search_ui off (the default) there is no page and JWT-shaped tokens are API keys as before', async () => {
  let plain: TestCluster | null = null;
  try {
    plain = await startCluster({ nodes: 1, shards: 4 });
    assert.equal((await fetch(`${plain.app.url}/ui/search/movies`)).status, 404);
    const res = await fetch(`${plain.app.url}/multi-search`, {
      method: 'POST',
      headers: { authorization: 'Bearer a.b.c', 'content-type': 'application/json' },
      body: '{"queries":[]}',
    });
    assert.equal(((await res.json()) as { code: string }).code, 'invalid_api_key');
  } finally {
    await plain?.close();
  }
});
