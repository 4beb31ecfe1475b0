import { mkdirSync, mkdtempSync, readFileSync, rmSync } from 'fs';
import { tmpdir } from 'os';
import { join } from 'path';
import { Browser, BrowserContext, Page, chromium } from 'playwright-core';

// Functions passed to page.evaluate run in the browser, where these exist (the project's lib has no DOM).
declare const window: any;
declare const document: any;

/** Debian's chromium (installed by .ci/run), headless, as the brief fixes it. */
export const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';

export interface HeadlessBrowser {
  browser: Browser;
  close(): Promise<void>;
}

export async function launchBrowser(): Promise<HeadlessBrowser> {
  // Playwright gives every launch a fresh --user-data-dir of its own (it refuses one in args), and
  // removes it on close; temporary files go to a directory of ours, removed too.
  const profile = mkdtempSync(join(tmpdir(), 'ar-chromium-'));
  const browser = await chromium.launch({
    env: { ...process.env, TMPDIR: profile },
    executablePath: CHROMIUM,
    headless: true,
    args: [
      '--headless',
      '--no-sandbox',
      '--disable-gpu',
      '--disable-background-networking',
      '--disable-component-update',
      '--no-first-run',
      '--disable-dev-shm-usage',
    ],
    timeout: 60_000,
  });
  return {
    browser,
    close: async () => {
      await browser.close().catch(() => undefined);
      rmSync(profile, { recursive: true, force: true });
    },
  };
}

export const DESKTOP = { width: 1280, height: 900 };
export const PHONE = { width: 390, height: 844 };

export async function newPage(
  b: HeadlessBrowser,
  viewport = DESKTOP,
  options: { acceptDownloads?: boolean } = {},
): Promise<{ context: BrowserContext; page: Page }> {
  const context = await b.browser.newContext({
    viewport,
    locale: 'es-MX',
    timezoneId: 'America/Mexico_City',
    acceptDownloads: options.acceptDownloads ?? true,
    deviceScaleFactor: 1,
    isMobile: viewport.width < 500,
    hasTouch: viewport.width < 500,
  });
  context.setDefaultTimeout(30_000);
  const page = await context.newPage();
  return { context, page };
}

/** Signs in through the console's login form. */
export async function signIn(page: Page, baseUrl: string, username: string, password: string): Promise<void> {
  await page.goto(`${baseUrl}/ingresar`);
  await page.getByLabel('Usuario').fill(username);
  await page.getByLabel('Contraseña').fill(password);
  await page.getByRole('button', { name: 'Entrar' }).click();
  await page.waitForURL((u) => !u.pathname.startsWith('/ingresar'), { timeout: 30_000 });
}

const AXE = readFileSync(require.resolve('axe-core/axe.min.js'), 'utf8');

export interface AxeViolation {
  id: string;
  impact: string | null;
  help: string;
  nodes: { target: string[]; failureSummary?: string }[];
}

/** axe-core in the page: the serious and critical violations (none is the bar). */
export async function seriousViolations(page: Page): Promise<AxeViolation[]> {
  // Evaluated through the DevTools protocol: the console's CSP (script-src 'self') forbids inline tags.
  if (!(await page.evaluate(() => 'axe' in window))) await page.evaluate(AXE);
  const result = await page.evaluate(async () => {
    const axe = (window as unknown as { axe: { run: (ctx: unknown, o: unknown) => Promise<any> } }).axe;
    return axe.run(document, { resultTypes: ['violations'] });
  });
  return (result.violations as AxeViolation[])
    .filter((v) => v.impact === 'serious' || v.impact === 'critical')
    .map((v) => ({
      ...v,
      nodes: v.nodes.slice(0, 5).map((n) => ({ target: n.target, failureSummary: n.failureSummary })),
    }));
}

/** True when the page scrolls sideways (something is wider than the viewport). */
export function scrollsHorizontally(page: Page): Promise<boolean> {
  return page.evaluate(() => document.documentElement.scrollWidth > window.innerWidth + 1);
}

/** Screenshots for docs/screenshots/ when CONSOLE_SCREENSHOTS_DIR is set (npm run screenshots:console). */
export async function screenshot(page: Page, name: string): Promise<void> {
  const dir = process.env.CONSOLE_SCREENSHOTS_DIR;
  if (!dir) return;
  mkdirSync(dir, { recursive: true });
  await page.screenshot({ path: join(dir, `${name}.png`), fullPage: true });
}
