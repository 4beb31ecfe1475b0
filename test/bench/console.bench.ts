/**
 * Console benchmark (not a test), on the real stack with the gateway and headless Chromium:
 *  1. the SPA's first screen: bytes of JS + CSS the login page loads, gzip (as the gateway serves them);
 *  2. first load of the alert page (30 tiles, tasks, timeline): navigation start → everything shown,
 *     in a fresh browser context (cold cache) and on reloads (warm cache);
 *  3. event committed in a service → message received by an open page over SSE, and → the change
 *     rendered, p50/p95 over BENCH_EVENTS (default 200) updates of the ficha at BENCH_RATE/s (default 5).
 *     «Committed» is the event's occurredAt, stamped inside intake's transaction (a few ms before the
 *     commit: the figure errs on the slow side). Dissemination and coordination are stopped for this
 *     phase so that 200 updates do not become 6,000 posts; the gateway, intake and the tracker run.
 * Prints the load average before each phase. Run: npm run bench:console
 */
import { readFileSync } from 'fs';
import { loadavg } from 'os';
import { join } from 'path';
import { gzipSync } from 'zlib';
import { launchBrowser, newPage } from '../support/browser';
import { startDisseminationStack } from '../support/dissemination';
import { SmtpSink } from '../support/smtp-sink';
import { TestStack, freePort, minimalFicha, sleep, waitFor } from '../support/stack';

declare const window: any;
declare const document: any;
declare const MutationObserver: any;
declare const performance: { now(): number };

const EVENTS = Number(process.env.BENCH_EVENTS ?? 200);
const RATE = Number(process.env.BENCH_RATE ?? 5);
const LOADS = Number(process.env.BENCH_LOADS ?? 10);
const PASSWORD = 'contrasena-del-benchmark';

const pct = (xs: number[], p: number) => {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.max(0, Math.ceil((p / 100) * s.length) - 1))];
};
const ms = (v: number) => `${v.toFixed(0)} ms`;
const load = (what: string) =>
  console.log(
    `\n[${what}] load average: ${loadavg()
      .map((l) => l.toFixed(2))
      .join(' ')}`,
  );

function firstScreenBytes(): { files: [string, number, number][]; raw: number; gzip: number } {
  const dir = join(__dirname, '../../console');
  const manifest = JSON.parse(readFileSync(join(dir, '.vite/manifest.json'), 'utf8')) as Record<
    string,
    { file: string; imports?: string[]; css?: string[]; isEntry?: boolean }
  >;
  const seen = new Set<string>();
  const files: string[] = [];
  const visit = (key: string) => {
    if (seen.has(key)) return;
    seen.add(key);
    const chunk = manifest[key];
    files.push(chunk.file, ...(chunk.css ?? []));
    for (const i of chunk.imports ?? []) visit(i); // static imports only: lazy chunks load later
  };
  visit('index.html');
  const rows = files.map((f) => {
    const body = readFileSync(join(dir, f));
    return [f, body.length, gzipSync(body, { level: 9 }).length] as [string, number, number];
  });
  const html = readFileSync(join(dir, 'index.html'));
  rows.unshift(['index.html', html.length, gzipSync(html, { level: 9 }).length]);
  return { files: rows, raw: rows.reduce((a, r) => a + r[1], 0), gzip: rows.reduce((a, r) => a + r[2], 0) };
}

async function main(): Promise<void> {
  load('start');
  const bundle = firstScreenBytes();
  console.log('\n1. First screen (login) bundle, as served (gzip level 9):');
  for (const [f, raw, gz] of bundle.files)
    console.log(`   ${f.padEnd(34)} ${(raw / 1024).toFixed(1)} kB → ${(gz / 1024).toFixed(1)} kB`);
  console.log(
    `   total ${(bundle.raw / 1024).toFixed(1)} kB → gzip ${(bundle.gzip / 1024).toFixed(1)} kB (aim ≤ 300 kB)`,
  );

  const stack = await TestStack.create({ env: { LOGIN_MAX_ATTEMPTS_PER_IP: '10000', LOG_LEVEL: 'warn' } });
  const smtp = new SmtpSink(await freePort());
  await smtp.start();
  const browser = await launchBrowser();
  try {
    const gatewayPort = await stack.portOf('gateway');
    await stack.start('intake', { PUBLIC_BASE_URL: `http://127.0.0.1:${gatewayPort}` });
    await startDisseminationStack(stack, { services: ['dissemination', 'tracker'] });
    await stack.start('coordination', { SMTP_URL: smtp.url, LOG_LEVEL: 'warn' });
    await stack.startGateway({ LOG_LEVEL: 'warn' });
    const gw = stack.url('gateway');
    const created = await stack.http(
      'gateway',
      'POST',
      '/api/v1/users',
      { username: 'bench.operadora', displayName: 'Benchmark', role: 'operadora', password: PASSWORD },
      stack.bearer('admin'),
    );
    if (created.status !== 201) throw new Error(`user: ${created.status}`);
    const alert = await stack.http(
      'gateway',
      'POST',
      '/api/v1/alerts',
      minimalFicha(),
      stack.bearer('operadora'),
    );
    const id = alert.body.id as string;
    await waitFor(
      async () => {
        const pubs = await stack.http(
          'gateway',
          'GET',
          `/api/v1/alerts/${id}/publications`,
          undefined,
          stack.bearer('operadora'),
        );
        const tasks = await stack.http(
          'gateway',
          'GET',
          `/api/v1/tasks?alertId=${id}`,
          undefined,
          stack.bearer('operadora'),
        );
        return (
          pubs.body?.publications?.filter((p: any) => p.status === 'posted').length === 30 &&
          tasks.body.items.length >= 6
        );
      },
      { timeoutMs: 120_000, intervalMs: 500, what: '30 posts and the tasks' },
    );
    const loginSession = async () => {
      const res = await fetch(`${gw}/api/v1/auth/login`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ username: 'bench.operadora', password: PASSWORD }),
      });
      return (await res.json()) as { refreshToken: string; user: unknown };
    };
    // «Shown»: the alert page with its 30 tiles, the tasks and the timeline rendered.
    const shown = () =>
      document.querySelector('article[data-loaded="true"]') &&
      document.querySelectorAll('.tile').length === 30 &&
      document.querySelectorAll('.task').length >= 6 &&
      document.querySelectorAll('.timeline li').length > 0
        ? performance.now()
        : false;

    load('first load');
    const cold: number[] = [];
    const warm: number[] = [];
    for (let i = 0; i < LOADS; i++) {
      const s = await loginSession();
      const { context, page } = await newPage(browser);
      await context.addInitScript(
        ([refresh, user]: [string, string]) => {
          if (!window.sessionStorage.getItem('alerta-rosa.refresh')) {
            window.sessionStorage.setItem('alerta-rosa.refresh', refresh);
            window.sessionStorage.setItem('alerta-rosa.user', user);
          }
        },
        [s.refreshToken, JSON.stringify(s.user)] as [string, string],
      );
      await page.goto(`${gw}/alertas/${id}`);
      cold.push(
        (await (
          await page.waitForFunction(shown, undefined, { polling: 'raf', timeout: 30_000 })
        ).jsonValue()) as number,
      );
      await page.reload();
      warm.push(
        (await (
          await page.waitForFunction(shown, undefined, { polling: 'raf', timeout: 30_000 })
        ).jsonValue()) as number,
      );
      await context.close();
    }
    console.log('\n2. First load of the alert page (navigation start → 30 tiles, tasks and timeline shown):');
    console.log(
      `   cold cache (fresh context): p50 ${ms(pct(cold, 50))} · p95 ${ms(pct(cold, 95))} · max ${ms(Math.max(...cold))} (n=${cold.length}; aim ≤ 1 s)`,
    );
    console.log(
      `   warm cache (reload):        p50 ${ms(pct(warm, 50))} · p95 ${ms(pct(warm, 95))} · max ${ms(Math.max(...warm))} (n=${warm.length})`,
    );

    // 3. Live updates. Only intake, the tracker and the gateway from here on.
    await stack.service('dissemination').stop();
    await stack.service('coordination').stop();
    const s = await loginSession();
    const { context, page } = await newPage(browser);
    await context.addInitScript(
      ([refresh, user]: [string, string]) => {
        if (!window.sessionStorage.getItem('alerta-rosa.refresh')) {
          window.sessionStorage.setItem('alerta-rosa.refresh', refresh);
          window.sessionStorage.setItem('alerta-rosa.user', user);
        }
        window.__received = [];
        window.__rendered = {};
        window.__alertaRosaLive = (e: any, at: number) =>
          window.__received.push([e.type, e.data.version, e.occurredAt, at]);
        // The moment the page shows each version of the ficha.
        new MutationObserver(() => {
          const m = /versión (\d+)/.exec(document.querySelector('.alert-facts')?.textContent ?? '');
          if (m && !(m[1] in window.__rendered)) window.__rendered[m[1]] = Date.now();
        }).observe(document, { subtree: true, childList: true, characterData: true });
      },
      [s.refreshToken, JSON.stringify(s.user)] as [string, string],
    );
    await page.goto(`${gw}/alertas/${id}`);
    await page.locator('[data-live="live"]').waitFor({ timeout: 30_000 });
    load('live updates');
    const started = Date.now();
    for (let i = 0; i < EVENTS; i++) {
      const due = started + (i * 1000) / RATE;
      if (due > Date.now()) await sleep(due - Date.now());
      const res = await stack.http(
        'gateway',
        'PATCH',
        `/api/v1/alerts/${id}`,
        { description: `Actualización ${i + 1} del benchmark` },
        stack.bearer('operadora'),
      );
      if (res.status !== 200) throw new Error(`PATCH ${i}: ${res.status} ${JSON.stringify(res.body)}`);
    }
    await page.waitForFunction(
      (n: number) => window.__received.filter((r: any[]) => r[0] === 'AlertUpdated').length >= n,
      EVENTS,
      { timeout: 60_000 },
    );
    await sleep(1_500); // the last refetches render
    const received = (await page.evaluate(() => window.__received)) as [string, number, string, number][];
    const rendered = (await page.evaluate(() => window.__rendered)) as Record<string, number>;
    const updates = received.filter((r) => r[0] === 'AlertUpdated');
    const sse = updates.map((r) => r[3] - Date.parse(r[2]));
    const render = updates.filter((r) => rendered[r[1]]).map((r) => rendered[r[1]] - Date.parse(r[2]));
    console.log(`\n3. Event committed in intake → open page (${updates.length} AlertUpdated at ${RATE}/s):`);
    console.log(
      `   SSE message received by the page: p50 ${ms(pct(sse, 50))} · p95 ${ms(pct(sse, 95))} · max ${ms(Math.max(...sse))} (aim p95 ≤ 500 ms)`,
    );
    console.log(
      `   new version rendered on the page:  p50 ${ms(pct(render, 50))} · p95 ${ms(pct(render, 95))} · max ${ms(Math.max(...render))} (n=${render.length}; versions skipped when a refetch already showed a later one)`,
    );
    await context.close();
    load('end');
  } finally {
    await browser.close();
    await stack.teardown();
    await smtp.stop();
  }
}

main().then(
  () => process.exit(0),
  (err) => {
    console.error(err);
    process.exit(1);
  },
);
