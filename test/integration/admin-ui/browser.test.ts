// The admin console in a real browser (Debian's chromium driven by playwright-core), as an operator uses it: log in,
// see 3 healthy nodes, follow a task, create a key and use it from the official client, get 403 for a state change
// without the CSRF token, drain a node with its name retyped and follow the progress to done, stop a node and see it
// turn unhealthy, log out, and 6 bad logins → backoff. axe-core checks every view for serious WCAG 2.2 AA violations,
// and the page never reaches anything but Miroir. With MIROIR_SCREENSHOTS=<dir> each view is saved there as PNG
// (`npm run docs:screenshots` → docs/images).
import assert from 'node:assert/strict';
import { existsSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import axe from 'axe-core';
import { Meilisearch } from 'meilisearch';
import { chromium, type BrowserContext, type Page } from 'playwright-core';
import { startCluster, type TestCluster } from '../../support/cluster.js';
import { tempDir } from '../../support/devnode.js';

const CHROMIUM = process.env['CHROMIUM_BIN'] ?? '/usr/bin/chromium';
const haveChromium = existsSync(CHROMIUM);
const skip = !haveChromium && process.env['CI'] === undefined ? `no ${CHROMIUM}: install the Debian package chromium (apt-get install chromium) to run the admin console browser tests` : false;
const SHOTS = process.env['MIROIR_SCREENSHOTS'];

describe('admin console in chromium', { skip }, () => {
  let cluster: TestCluster;
  let context: BrowserContext;
  let page: Page;
  let base: string;
  const profile = tempDir('miroir-chromium-');
  const requested: string[] = [];

  before(async () => {
    assert.ok(haveChromium, `CI=true and ${CHROMIUM} is missing: .ci/run installs the Debian package chromium`);
    cluster = await startCluster({
      nodes: 3,
      shards: 16,
      rf: 1,
      config: { admin_ui: { enabled: true }, health: { interval_ms: 200, timeout_ms: 500, unhealthy_threshold: 1, recovery_threshold: 1 } },
    });
    base = cluster.app.url;
    const admin = new Meilisearch({ host: base, apiKey: cluster.masterKey });
    await admin.createIndex('movies', { primaryKey: 'id' }).waitTask();
    await admin.index('movies').addDocuments(Array.from({ length: 300 }, (_, i) => ({ id: i, title: `movie ${i}`, year: 1950 + (i % 70) }))).waitTask();
    context = await chromium.launchPersistentContext(profile.dir, {
      executablePath: CHROMIUM,
      headless: true,
      args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'],
      viewport: { width: 1280, height: 860 },
    });
    page = context.pages()[0] ?? (await context.newPage());
    page.setDefaultTimeout(20_000);
    page.on('request', (r) => requested.push(r.url()));
    if (SHOTS !== undefined) mkdirSync(SHOTS, { recursive: true });
  });

  after(async () => {
    await context?.close();
    await cluster?.close();
    profile.cleanup();
  });

  /** axe-core over the page as it is now: no serious or critical violation of WCAG 2.0–2.2 A/AA. */
  async function noSeriousViolations(what: string): Promise<void> {
    if (!(await page.evaluate(() => 'axe' in globalThis))) await page.evaluate(axe.source);
    const found = await page.evaluate(async () => {
      // Runs in the page (this file is compiled without DOM types).
      const w = globalThis as unknown as { axe: typeof axe; document: axe.ElementContext };
      const res = await w.axe.run(w.document, { runOnly: { type: 'tag', values: ['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa', 'wcag22aa'] } });
      return res.violations.map((v) => ({ id: v.id, impact: v.impact, nodes: v.nodes.map((n) => n.target.join(' ')).slice(0, 3) }));
    });
    const serious = found.filter((v) => v.impact === 'serious' || v.impact === 'critical');
    assert.deepEqual(serious, [], `${what}: ${JSON.stringify(serious)}`);
  }

  async function shot(name: string): Promise<void> {
    if (SHOTS !== undefined) await page.screenshot({ path: join(SHOTS, `admin-${name}.png`), fullPage: true });
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
    await page.getByRole('button', { name: /^Follow task/ }).first().click();
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
    await page.locator('tr[data-operation="node_drain"][data-target="node-2"][data-phase="done"]').waitFor({ timeout: 60_000 });
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
    await page.getByRole('alert').getByText('Too many failed logins from this address; try again in 10 minutes.').waitFor();
    await noSeriousViolations('login backoff');
    await shot('login-backoff');
  });

  test('the page reached nothing but Miroir', () => {
    assert.ok(requested.length > 10);
    assert.deepEqual(requested.filter((u) => !u.startsWith(`${base}/`)), []);
  });
});
