// The search page in Debian's chromium (playwright-core) against real dev nodes behind Miroir: a typo finds the right
// first hit, a facet refines, pages and sort work; the page's network traffic never carries a key that can write;
// an expired session is renewed; the rate limit shows a friendly message; `oauth_proxy` hides other tenants'
// documents; axe-core finds no WCAG 2.2 A/AA violation. Skips with one line when chromium is missing outside CI.
import assert from 'node:assert/strict';
import { mkdirSync, copyFileSync } from 'node:fs';
import { after, before, describe, test } from 'node:test';
import { SignJWT } from 'jose';
import type { Page } from 'playwright-core';
import { deriveKeyValue } from '../../../src/core/auth/keys.js';
import { keyId } from '../../../src/main/search-ui/jwt.js';
import { axeViolations, chromiumSkip, launchChromium, type LaunchedBrowser } from '../../support/browser.js';
import { MOVIES, startUiCluster, type UiCluster } from '../../support/search-ui.js';

// Callbacks passed to page.evaluate / waitForFunction run in the browser.
declare const document: any, localStorage: any, sessionStorage: any;

const skip = chromiumSkip();
if (skip !== false) console.log(`# ${skip}`);

const firstHit = (page: Page) => page.locator('.hit h3').first();
const payloadOf = (jwt: string) =>
  JSON.parse(Buffer.from(jwt.split('.')[1]!, 'base64url').toString('utf8')) as Record<string, unknown>;

async function typeQuery(page: Page, q: string): Promise<void> {
  await page.fill('#search-input', q);
  await page.waitForFunction((want) => {
    const text: string = document.getElementById('stats')?.textContent ?? '';
    return want === '' ? /^\d+ results?$/.test(text) : text.includes(`“${want}”`);
  }, q);
}

describe('search page', { skip }, () => {
  let ui: UiCluster;
  let browser: LaunchedBrowser;
  before(async () => {
    ui = await startUiCluster({ rate_limit: { per_ip: '10000/minute' }, auth: { session_rate_limit: '10000/minute' } });
    // Per-index page config (admin API): title and page size.
    const res = await fetch(`${ui.url}/_miroir/ui/search/movies/config`, {
      method: 'POST',
      headers: { 'x-admin-key': ui.cluster.adminKey, 'content-type': 'application/json' },
      body: JSON.stringify({
        title: 'Movie night',
        hits_per_page: 5,
        displayed_attributes: ['genre', 'year', 'overview'],
      }),
    });
    assert.equal(res.status, 200);
    browser = await launchChromium();
  });
  after(async () => {
    await browser?.close();
    await ui?.close();
  });

  test('typo query finds the right first hit; a facet refines, pages, sort; the traffic never holds a key that can write', async () => {
    const page = await browser.context.newPage();
    const requests: Array<{ url: string; method: string; auth: string | undefined }> = [];
    const bodies: string[] = [];
    page.on('request', (r) => requests.push({ url: r.url(), method: r.method(), auth: r.headers()['authorization'] }));
    page.on('response', async (r) => bodies.push(await r.text().catch(() => '')));
    await page.goto(`${ui.url}/ui/search/movies`);
    await page.waitForFunction(() => (document.getElementById('stats')?.textContent ?? '').includes('24 results'));

    await typeQuery(page, 'intersteller');
    assert.equal(await firstHit(page).textContent(), 'Interstellar');
    assert.equal(
      await page.locator('.hit h3 mark').first().textContent(),
      'Interstellar',
      'the matched title is highlighted',
    );

    await typeQuery(page, '');
    const dramas = MOVIES.filter((m) => m.genre === 'Drama');
    await page.getByRole('group', { name: 'genre' }).getByLabel(/Drama/).check();
    await page.waitForFunction(
      (n) => (document.getElementById('stats')?.textContent ?? '') === `${n} results`,
      dramas.length,
    );
    assert.equal(await page.locator('.hit').count(), 5);
    assert.equal(await page.locator('h1').textContent(), 'Movie night');

    await page.getByRole('button', { name: 'Page 2' }).click();
    await page.waitForFunction(() => document.querySelector('#pagination [aria-current="page"]')?.textContent === '2');
    assert.equal(await page.locator('.hit').count(), dramas.length - 5);
    assert.equal(
      await page.evaluate(() => document.activeElement?.id),
      'results',
      'focus moves to the results after paging',
    );

    await page.selectOption('#sort-select', { label: 'year (descending)' });
    const newest = [...dramas].sort((a, b) => b.year - a.year)[0]!;
    await page.waitForFunction((title) => document.querySelector('.hit h3')?.textContent === title, newest.title);
    await page.selectOption('#sort-select', { label: 'year (ascending)' });
    const oldest = [...dramas].sort((a, b) => a.year - b.year)[0]!;
    await page.waitForFunction((title) => document.querySelector('.hit h3')?.textContent === title, oldest.title);

    // Every credential the page sent is a session token: search scopes on `movies` only, nothing that can write.
    const tokens = new Set(requests.filter((r) => r.auth !== undefined).map((r) => r.auth!.replace(/^Bearer /, '')));
    assert.ok(tokens.size >= 1);
    for (const token of tokens) {
      const claims = payloadOf(token);
      assert.deepEqual(claims.scope, ['search', 'multi_search', 'beacon']);
      assert.equal(claims.idx, 'movies');
      for (const [method, path, body] of [
        ['POST', '/indexes/movies/documents', '[{"id":99,"title":"x"}]'],
        ['DELETE', '/indexes/movies', undefined],
        ['PATCH', '/indexes/movies/settings', '{"filterableAttributes":[]}'],
        ['GET', '/keys', undefined],
        ['POST', '/indexes/other/search', '{}'],
      ] as const) {
        const res = await fetch(`${ui.url}${path}`, {
          method,
          headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
          body,
        });
        assert.equal(res.status, 403, `${method} ${path} with the page's token`);
        assert.equal(((await res.json()) as { code: string }).code, 'miroir_jwt_scope_denied');
      }
    }
    // No secret reached the page: not the master or admin key, not any API key's value (the scoped key included).
    const keys = await ui.client.getKeys({ limit: 100 });
    const secrets = [
      ui.cluster.masterKey,
      ui.cluster.adminKey,
      ui.cluster.nodeKey,
      ...keys.results.map((k) => k.key),
      ...keys.results.map((k) => deriveKeyValue(ui.cluster.masterKey, k.uid)),
    ];
    assert.ok(
      keys.results.some(
        (k) => k.name === 'Search UI: movies' && k.actions.join() === 'search' && k.indexes.join() === 'movies',
      ),
      'Miroir made a scoped search key',
    );
    const seen = [
      ...bodies,
      ...requests.map((r) => `${r.url} ${r.auth ?? ''}`),
      await page.content(),
      await page.evaluate(() => JSON.stringify({ ...localStorage }) + JSON.stringify({ ...sessionStorage })),
    ].join('\n');
    for (const s of secrets) assert.ok(!seen.includes(s), 'a key value appeared in the page or its traffic');
    assert.ok(
      requests.every((r) => r.url.startsWith(ui.url)),
      'every request goes to Miroir (no CDN)',
    );
    await page.close();
  });

  test('an expired session token is renewed and the search succeeds', async () => {
    const page = await browser.context.newPage();
    const now = Math.floor(Date.now() / 1000);
    const claims = {
      iss: 'miroir',
      sub: 'search-ui-session',
      idx: 'movies',
      scope: ['search', 'multi_search', 'beacon'],
      exp: now - 60,
      iat: now - 960,
      kid: keyId(ui.secret),
    };
    const expired = await new SignJWT(claims)
      .setProtectedHeader({ alg: 'HS256', typ: 'JWT', kid: claims.kid })
      .sign(new TextEncoder().encode(ui.secret));
    let sessions = 0;
    await page.route('**/ui/search/movies/session', async (route) => {
      sessions++;
      // The first session answer hands out a token Miroir already considers expired (the page's clock thinks not).
      if (sessions === 1)
        await route.fulfill({
          status: 200,
          contentType: 'application/json',
          body: JSON.stringify({
            token: expired,
            expires_at: new Date(Date.now() + 600_000).toISOString(),
            index: 'movies',
            rate_limit: { limit: 1, window_s: 60 },
          }),
        });
      else await route.continue();
    });
    const statuses: number[] = [];
    page.on('response', (r) => {
      if (r.url().endsWith('/multi-search')) statuses.push(r.status());
    });
    await page.goto(`${ui.url}/ui/search/movies`);
    await typeQuery(page, 'dunkirk');
    assert.equal(await firstHit(page).textContent(), 'Dunkirk');
    assert.equal(sessions, 2, 'one renewal');
    assert.equal(statuses[0], 401, 'Miroir refused the expired token');
    assert.ok(
      statuses.slice(1).every((s) => s === 200),
      `statuses ${statuses}`,
    );
    assert.equal(await page.locator('#notice').textContent(), '', 'no error shown');
    await page.close();
  });

  test('axe-core finds no WCAG 2.2 A/AA (or best-practice) violation with results, facets, pages, and when empty', async () => {
    const page = await browser.context.newPage();
    await page.goto(`${ui.url}/ui/search/movies`);
    await page.waitForFunction(
      () => document.querySelectorAll('.hit').length > 0 && document.querySelector('#pagination nav') !== null,
    );
    assert.deepEqual(await axeViolations(page), []);
    await page.screenshot({ path: screenshotPath('search-ui.png') });
    // Keyboard: `/` returns to the box from anywhere, Escape clears it.
    await page.locator('#facets input[type=checkbox]').first().focus();
    await page.keyboard.press('/');
    assert.equal(await page.evaluate(() => document.activeElement?.id), 'search-input');
    await typeQuery(page, 'zzzzqqqq');
    assert.match((await page.locator('.empty').textContent()) ?? '', /Nothing matches/);
    assert.deepEqual(await axeViolations(page), []);
    await page.locator('#search-input').focus();
    await page.keyboard.press('Escape');
    await page.waitForFunction(() => (document.getElementById('stats')?.textContent ?? '') === '24 results');
    await page.close();
  });
});

describe('search page rate limit', { skip }, () => {
  let ui: UiCluster;
  let browser: LaunchedBrowser;
  before(async () => {
    ui = await startUiCluster({ rate_limit: { per_ip: '6/minute' } }, { nodes: 1 });
    browser = await launchChromium();
  });
  after(async () => {
    await browser?.close();
    await ui?.close();
  });

  test('going over the per-IP limit shows a friendly message, not an error dump', async () => {
    const page = await browser.context.newPage();
    const limited: number[] = [];
    page.on('response', (r) => {
      if (r.status() === 429) limited.push(Number(r.headers()['retry-after']));
    });
    await page.goto(`${ui.url}/ui/search/movies`);
    for (let i = 0; i < 10 && limited.length === 0; i++) {
      await page.fill('#search-input', `query${i}`);
      await page.waitForFunction(
        (q) =>
          (document.getElementById('stats')?.textContent ?? '').includes(q) ||
          (document.getElementById('notice')?.textContent ?? '') !== '',
        `query${i}`,
      );
    }
    assert.ok(limited.length > 0 && limited[0]! >= 1, 'Miroir answered 429 with Retry-After');
    const notice = page.locator('#notice');
    await notice.filter({ hasText: 'searching faster than this page allows' }).waitFor();
    assert.equal(await notice.getAttribute('role'), 'alert');
    assert.ok(!((await notice.textContent()) ?? '').includes('miroir_rate_limited'), 'no error code shown to people');
    assert.deepEqual(await axeViolations(page), []);
    await page.screenshot({ path: screenshotPath('search-ui-rate-limited.png') });
    await page.close();
  });
});

describe('search page behind an oauth proxy', { skip }, () => {
  let ui: UiCluster;
  let browser: LaunchedBrowser;
  before(async () => {
    ui = await startUiCluster(
      { auth: { mode: 'oauth_proxy', oauth_proxy: { groups_filter_attribute: 'tenant' } } },
      { nodes: 1 },
    );
    browser = await launchChromium();
  });
  after(async () => {
    await browser?.close();
    await ui?.close();
  });

  test("the group filter is ANDed in: other tenants' documents never show; no proxy headers → sign-in message", async () => {
    const page = await browser.context.newPage();
    await page.setExtraHTTPHeaders({ 'x-forwarded-user': 'alice@example.com', 'x-forwarded-groups': 'acme' });
    await page.goto(`${ui.url}/ui/search/movies`);
    const acme = MOVIES.filter((m) => m.tenant === 'acme').length;
    await page.waitForFunction((n) => (document.getElementById('stats')?.textContent ?? '') === `${n} results`, acme);
    await typeQuery(page, 'dune');
    assert.equal(await page.locator('.hit').count(), 0, 'Dune belongs to globex');
    await page.getByRole('button', { name: 'Page 2' }).waitFor({ state: 'detached' });
    // Even a filter the page did not choose cannot widen the session: the tenant rule is part of the token.
    const session = (await (
      await fetch(`${ui.url}/ui/search/movies/session`, {
        headers: { 'x-forwarded-user': 'alice@example.com', 'x-forwarded-groups': 'acme' },
      })
    ).json()) as { token: string };
    assert.equal(payloadOf(session.token).injected_filter, 'tenant IN ["acme"]');
    const res = await fetch(`${ui.url}/multi-search`, {
      method: 'POST',
      headers: { authorization: `Bearer ${session.token}`, 'content-type': 'application/json' },
      body: JSON.stringify({
        queries: [{ indexUid: 'movies', q: '', filter: 'tenant = globex OR tenant = acme', limit: 100 }],
      }),
    });
    const body = (await res.json()) as { results: Array<{ hits: Array<{ tenant: string }> }> };
    assert.ok(body.results[0]!.hits.length > 0 && body.results[0]!.hits.every((h) => h.tenant === 'acme'));
    await page.close();

    const anonymous = await browser.context.newPage();
    await anonymous.goto(`${ui.url}/ui/search/movies`);
    await anonymous.locator('#notice').filter({ hasText: 'sign-in' }).waitFor();
    await anonymous.close();
  });
});

/** Screenshots go to dist/screenshots/; with UPDATE_SCREENSHOTS=1 they are also copied to docs/images/ (README). */
function screenshotPath(name: string): string {
  mkdirSync('dist/screenshots', { recursive: true });
  const path = `dist/screenshots/${name}`;
  if (process.env.UPDATE_SCREENSHOTS === '1') {
    mkdirSync('docs/images', { recursive: true });
    process.nextTick(() => undefined);
    screenshotCopies.push([path, `docs/images/${name}`]);
  }
  return path;
}
const screenshotCopies: Array<[string, string]> = [];
after(() => {
  for (const [from, to] of screenshotCopies) copyFileSync(from, to);
});
