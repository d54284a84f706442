// Browser tests drive Debian's chromium (/usr/bin/chromium, package `chromium`) through playwright-core, each run in
// a fresh profile directory. Without chromium a browser test skips with one line naming the package, unless CI is
// set: then a missing browser is a failure. `axeViolations` runs axe-core's WCAG 2.x A/AA rules on a page.
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { chromium, type BrowserContext, type Page } from 'playwright-core';

export const CHROMIUM = '/usr/bin/chromium';

/** `skip` option for node:test: a reason when chromium is missing outside CI, else false (under CI=true a missing
 * chromium is reported by `launchChromium` as a failure). */
export function chromiumSkip(): string | false {
  if (existsSync(CHROMIUM) || process.env.CI === 'true') return false;
  return `browser test skipped: ${CHROMIUM} not found (install the Debian package \`chromium\`)`;
}

export interface LaunchedBrowser {
  context: BrowserContext;
  close(): Promise<void>;
}

export async function launchChromium(
  opts: { extraHTTPHeaders?: Record<string, string> } = {},
): Promise<LaunchedBrowser> {
  if (!existsSync(CHROMIUM))
    throw new Error(`${CHROMIUM} is missing: install the Debian package \`chromium\` (CI installs it in .ci/run)`);
  const profile = mkdtempSync(join(tmpdir(), 'miroir-chromium-'));
  const context = await chromium.launchPersistentContext(profile, {
    executablePath: CHROMIUM,
    headless: true,
    args: [
      '--headless',
      '--no-sandbox',
      '--disable-gpu',
      '--disable-quic',
      '--no-first-run',
      '--disable-background-networking',
      '--disable-component-update',
      '--disable-sync',
    ],
    viewport: { width: 1200, height: 900 },
    extraHTTPHeaders: opts.extraHTTPHeaders,
  });
  return {
    context,
    async close() {
      await context.close();
      rmSync(profile, { recursive: true, force: true });
    },
  };
}

const axeSource = (createRequire(import.meta.url)('axe-core') as { source: string }).source;

export interface AxeViolation {
  id: string;
  impact: string | null;
  help: string;
  nodes: Array<{ target: string[]; failureSummary?: string }>;
}

/** axe-core's violations of WCAG 2.0/2.1/2.2 A and AA (and its best practices) on the page as it is now. */
export async function axeViolations(page: Page): Promise<AxeViolation[]> {
  // Evaluated through the DevTools protocol, so the page's CSP (script-src 'self') does not block it.
  await page.evaluate(axeSource);
  return page.evaluate(async () => {
    const axe = (
      globalThis as unknown as { axe: { run(ctx: unknown, opts: unknown): Promise<{ violations: AxeViolation[] }> } }
    ).axe;
    const res = await axe.run((globalThis as unknown as { document: unknown }).document, {
      runOnly: { type: 'tag', values: ['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa', 'wcag22aa', 'best-practice'] },
    });
    return res.violations.map((v) => ({
      id: v.id,
      impact: v.impact,
      help: v.help,
      nodes: v.nodes.map((n) => ({ target: n.target, failureSummary: n.failureSummary })),
    }));
  });
}
