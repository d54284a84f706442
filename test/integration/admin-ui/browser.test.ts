// The admin console in a real browser (Debian's chromium driven by playwright-core), as an operator uses it: log in,
// see 3 healthy nodes, follow a task, create a key and use it from the official client, get 403 for a state change
// without the CSRF token, drain a node with its name retyped and follow the progress to done, stop a node and see it
// turn unhealthy, log out, and 6 bad logins → backoff. axe-core checks every view for serious WCAG 2.2 AA violations,
// and the page never reaches anything but Miroir. Screenshots of each view go to dist/screenshots/; with
// UPDATE_SCREENSHOTS=1 also to docs/images/ (`npm run docs:screenshots`).
import assert from 'node:assert/strict';
import { copyFileSync, mkdirSync } from 'node:fs';
import { after, before, describe, test } from 'node:test';
import { Meilisearch } from 'meilisearch';
import type { Page } from 'playwright-core';
import { axeViolations, chromiumSkip, launchChromium, type LaunchedBrowser } from '../../support/browser.js';
import { startCluster, type TestCluster } from '../../support/cluster.js';

const skip = chromiumSkip();

describe('admin console in chromium', { skip }, () => {
  let cluster: TestCluster;
  let browser: LaunchedBrowser;
  let page: Page;
  let base: string;
  const requested: string[] = [];

  before(async () => {
    cluster = await startCluster({
      nodes: 3,
      shards: 16,
      rf: 1,
      config: {
        admin_ui: { enabled: true },
        health: { interval_ms: 200, timeout_ms: 500, unhealthy_threshold: 1, recovery_threshold: 1 },
      },
    });
    base = cluster.app.url;
    const admin = new Meilisearch({ host: base, apiKey: cluster.masterKey });
    await admin.createIndex('movies', { primaryKey: 'id' }).waitTask();
    await admin
      .index('movies')
      .addDocuments(Array.from({ length: 300 }, (_, i) => ({ id: i, title: `movie ${i}`, year: 1950 + (i % 70) })))
      .waitTask();
    browser = await launchChromium();
    page = browser.context.pages()[0] ?? (await browser.context.newPage());
    await page.setViewportSize({ width: 1280, height: 860 });
    page.setDefaultTimeout(20_000);
    page.on('request', (r) => requested.push(r.url()));
    mkdirSync('dist/screenshots', { recursive: true });
  });

  after(async () => {
    await browser?.close();
    await cluster?.close();
  });

  /** axe-core over the page as it is now: no serious or critical violation (WCAG 2.0–2.2 A/AA and best practices). */
  async function noSeriousViolations(what: string): Promise<void> {
    const serious = (await axeViolations(page)).filter((v) => v.impact === 'serious' || v.impact === 'critical');
    assert.deepEqual(
      serious.map((v) => ({ id: v.id, nodes: v.nodes.slice(0, 3).map((n) => n.target.join(' ')) })),
      [],
      what,
    );
  }

  /** Saves the page to dist/screenshots/admin-<name>.png (and docs/images/ with UPDATE_SCREENSHOTS=1). */
  async function shot(name: string): Promise<void> {
    const path = `dist/screenshots/admin-${name}.png`;
    await page.screenshot({ path, fullPage: true });
    if (process.env['UPDATE_SCREENSHOTS'] === '1') copyFileSync(path, `docs/images/admin-${name}.png`);
  }

  async function open(view: string, title: string): Promise<void> {
    await page.getByRole('navigation', { name: 'Views' }).getByRole('link', { name: title }).click();
    await page.getByRole('heading', { level: 1, name: title }).waitFor();
  }

  test('log in with the admin key and see 3 healthy nodes', async () => {
    await page.goto(`${base}/_miroir/admin`);
    await page.getByLabel('Admin API key').waitFor();
    await noSeriousViolations('login');
    await shot('login');
    await page.getByLabel('Admin API key').fill(cluster.adminKey);
    await page.getByRole('button', { name: 'Log in' }).click();
    await page.getByRole('heading', { level: 1, name: 'Overview' }).waitFor();
    await page.locator('tr[data-node][data-health="healthy"]').nth(2).waitFor();
    assert.equal(await page.locator('tr[data-node]').count(), 3);
    assert.equal(await page.locator('tr[data-node][data-health="healthy"]').count(), 3);
    // Keyboard: the first Tab reaches the skip link, which moves focus to the view's heading.
    await page.keyboard.press('Tab');
    assert.equal(
      await page.evaluate(
        () =>
          (globalThis as unknown as { document: { activeElement: { textContent: string } } }).document.activeElement
            .textContent,
      ),
      'Skip to content',
    );
    await page.keyboard.press('Enter');
    assert.equal(
      await page.evaluate(
        () =>
          (globalThis as unknown as { document: { activeElement: { tagName: string } } }).document.activeElement
            .tagName,
      ),
      'H1',
    );
    await noSeriousViolations('overview');
    await shot('overview');
  });

  test('shard map and indexes views', async () => {
    await open('shards', 'Shard map');
    await page.locator('table.map td.first').first().waitFor();
    assert.equal(await page.locator('table.map tbody tr').count(), 3);
    await noSeriousViolations('shard map');
    await shot('shards');
    await open('indexes', 'Indexes');
    const row = page.locator('tr[data-index="movies"]');
    await row.getByText('300').waitFor();
    assert.match(await row.innerText(), /in sync/);
    await noSeriousViolations('indexes');
    await shot('indexes');
  });

  test('tasks: filter and follow a task live to its end', async () => {
    await open('tasks', 'Tasks');
    await page.getByLabel('Type').selectOption('documentAdditionOrUpdate');
    const filtered = page.locator('table[data-query*="types=documentAdditionOrUpdate"] tr[data-task]');
    await filtered.first().waitFor();
    assert.equal(await filtered.count(), 1);
    await page
      .getByRole('button', { name: /^Follow task/ })
      .first()
      .click();
    await page.locator('[data-task-status="succeeded"]').waitFor();
    assert.match(await page.locator('pre.json').innerText(), /"receivedDocuments": 300/);
    await noSeriousViolations('tasks');
    await shot('tasks');
  });

  test('create a key (its value shown once) and use it from the official client', async () => {
    await open('keys', 'API keys');
    await page.getByLabel('Name').fill('browser-test');
    await page.getByLabel('Description').fill('made by the browser test');
    await page.getByRole('button', { name: 'Create key' }).click();
    const value = page.locator('#created-key-value');
    await value.waitFor();
    const key = await value.inputValue();
    assert.match(key, /^[0-9a-f]{64}$/);
    const client = new Meilisearch({ host: base, apiKey: key });
    assert.equal((await client.index('movies').search('movie', { limit: 1 })).estimatedTotalHits, 300);
    await noSeriousViolations('keys');
    await shot('keys');
    await page.getByRole('button', { name: 'Done' }).click();
    assert.equal(await page.locator('#created-key-value').count(), 0, 'the value is not shown again');
    assert.doesNotMatch(await page.locator('main').innerText(), new RegExp(key));
  });

  test('a state change with the session cookie but without the CSRF token is refused with 403', async () => {
    const res = await page.evaluate(async () => {
      const r = await fetch('/_miroir/rebalance', { method: 'POST', credentials: 'same-origin' });
      return { status: r.status, code: ((await r.json()) as { code: string }).code };
    });
    assert.deepEqual(res, { status: 403, code: 'miroir_csrf_token_invalid' });
  });

  test('drain a node with its name retyped and follow the progress to done', async () => {
    await open('rebalance', 'Topology changes');
    await page.getByLabel('Node', { exact: true }).selectOption('node-2');
    await page.getByRole('button', { name: 'Drain…' }).click();
    const dialog = page.getByRole('dialog', { name: 'Drain node node-2?' });
    await dialog.waitFor();
    const confirm = dialog.getByRole('button', { name: 'Drain node' });
    assert.equal(await confirm.isDisabled(), true);
    await dialog.getByLabel('Type node-2 to confirm').fill('node-');
    assert.equal(await confirm.isDisabled(), true, 'a partial name does not arm it');
    await noSeriousViolations('drain confirmation dialog');
    await shot('drain-confirm');
    await dialog.getByLabel('Type node-2 to confirm').fill('node-2');
    await confirm.click();
    await page.getByRole('status').getByText('Drain of node-2 queued').waitFor();
    const row = page.locator('tr[data-operation="node_drain"][data-target="node-2"]');
    await row.waitFor();
    await page
      .locator('tr[data-operation="node_drain"][data-target="node-2"][data-phase="done"]')
      .waitFor({ timeout: 60_000 });
    const progress = /(\d+) of (\d+) \(100%\)/.exec(await row.innerText());
    assert.ok(progress !== null && Number(progress[1]) > 0 && progress[1] === progress[2], await row.innerText());
    await noSeriousViolations('topology changes');
    await shot('rebalance');
    await open('overview', 'Overview');
    await page.locator('tr[data-node="node-2"]').getByText('removed').waitFor();
  });

  test('stop a dev node and see it turn unhealthy', async () => {
    await page.locator('tr[data-node="node-1"][data-health="healthy"]').waitFor();
    await cluster.stopNode(1);
    await page.locator('tr[data-node="node-1"][data-health="unhealthy"]').waitFor();
    await page.getByText('Some shards have no healthy copy').waitFor();
    await noSeriousViolations('overview with an unhealthy node');
    await shot('overview-unhealthy');
  });

  test('log out, then 6 bad logins: 5 refusals, then the backoff (429 + Retry-After) shown', async () => {
    await page.getByRole('button', { name: 'Log out' }).click();
    await page.getByText('You are logged out.').waitFor();
    const status = await page.evaluate(async () => (await fetch('/_miroir/topology')).status);
    assert.equal(status, 401, 'the revoked cookie is gone');
    for (let i = 1; i <= 5; i++) {
      await page.getByLabel('Admin API key').fill(`wrong-${i}`);
      const answer = page.waitForResponse((r) => r.url().endsWith('/_miroir/admin/login'));
      await page.getByRole('button', { name: 'Log in' }).click();
      assert.equal((await answer).status(), 401);
      await page.getByRole('alert').getByText('That is not the admin key.').waitFor();
    }
    await page.getByLabel('Admin API key').fill(cluster.adminKey);
    const answer = page.waitForResponse((r) => r.url().endsWith('/_miroir/admin/login'));
    await page.getByRole('button', { name: 'Log in' }).click();
    const res = await answer;
    assert.equal(res.status(), 429);
    assert.equal(res.headers()['retry-after'], '600');
    await page
      .getByRole('alert')
      .getByText('Too many failed logins from this address; try again in 10 minutes.')
      .waitFor();
    await noSeriousViolations('login backoff');
    await shot('login-backoff');
  });

  test('the page reached nothing but Miroir', () => {
    assert.ok(requested.length > 10);
    assert.deepEqual(
      requested.filter((u) => !u.startsWith(`${base}/`)),
      [],
    );
  });
});
