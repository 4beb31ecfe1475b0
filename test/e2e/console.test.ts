import { readFileSync } from 'fs';
import type { Page } from 'playwright-core';
import { isoToWallTime } from '../../apps/console/src/lib/time';
import {
  DESKTOP,
  HeadlessBrowser,
  PHONE,
  launchBrowser,
  newPage,
  screenshot,
  scrollsHorizontally,
  seriousViolations,
  signIn,
} from '../support/browser';
import { resetSandboxFaults, setFaults, startDisseminationStack } from '../support/dissemination';
import { smallJpeg } from '../support/images';
import { SmtpSink } from '../support/smtp-sink';
import { TestStack, freePort, minimalFicha, waitFor } from '../support/stack';

declare const document: any;
declare const window: any;

const PASSWORD = 'contrasena-de-prueba-e2e';
const LONG = 120_000;

/**
 * The console in headless Chromium against the real running stack: intake, dissemination (with the
 * X/Facebook/partner sandboxes), coordination (mails to a real SMTP server), the tracker and the
 * gateway, every one a process. Issue 10 «What must be shown».
 */
describe('console (headless Chromium, real stack)', () => {
  let stack: TestStack;
  let smtp: SmtpSink;
  let browser: HeadlessBrowser;
  let gw: string;
  let operator: Page;
  let alertId: string;
  let folio: string;

  beforeAll(async () => {
    stack = await TestStack.create({ env: { LOGIN_MAX_ATTEMPTS_PER_IP: '1000', TRUST_PROXY: '1' } });
    smtp = new SmtpSink(await freePort());
    await smtp.start();
    const gatewayPort = await stack.portOf('gateway');
    // Photo URLs in the ficha go through the gateway, as in `npm run up` (the console's CSP: img-src 'self').
    await stack.start('intake', { PUBLIC_BASE_URL: `http://127.0.0.1:${gatewayPort}` });
    await startDisseminationStack(stack, { services: ['dissemination', 'tracker'] });
    await stack.start('coordination', {
      SMTP_URL: smtp.url,
      MAIL_BACKOFF_MS: '200',
      DISPATCH_POLL_MS: '1000',
      ACK_LINK_PAGE_URL: `http://127.0.0.1:${gatewayPort}/acuse`,
    });
    await stack.startGateway();
    gw = stack.url('gateway');
    for (const [username, role, areaId] of [
      ['operadora.e2e', 'operadora'],
      ['c4.e2e', 'area', 'c4'],
      ['comite.e2e', 'comite'],
      ['admin.e2e', 'admin'],
    ]) {
      const res = await stack.http(
        'gateway',
        'POST',
        '/api/v1/users',
        { username, displayName: `Prueba ${role}`, role, ...(areaId ? { areaId } : {}), password: PASSWORD },
        stack.bearer('admin'),
      );
      expect(res.status).toBe(201);
    }
    browser = await launchBrowser();
  }, 240_000);

  afterAll(async () => {
    await browser?.close();
    await stack?.teardown();
    await smtp?.stop();
  });

  /** Waits for `count` tiles in `state`; on timeout says what every tile showed (and the API said). */
  async function waitForTiles(page: Page, state: string, count: number, id: string): Promise<void> {
    try {
      await page.waitForFunction(
        ([s, n]) => document.querySelectorAll(`.tile[data-state="${s}"]`).length === n,
        [state, count] as const,
        { timeout: LONG },
      );
    } catch (err) {
      const shown: string[] = await page.evaluate(() =>
        [...document.querySelectorAll('.tile')].map((t: any) => `${t.dataset.account}:${t.dataset.state}`),
      );
      const api = await stack.http(
        'gateway',
        'GET',
        `/api/v1/alerts/${id}/publications`,
        undefined,
        stack.bearer('operadora'),
      );
      const served = (api.body?.publications ?? []).map((p: any) => `${p.accountId}:${p.status}`);
      throw new Error(
        `${(err as Error).message}\nthe page showed: ${shown.join(' ')}\nthe API serves: ${served.join(' ')}`,
      );
    }
  }

  async function expectAccessible(page: Page, screen: string) {
    const violations = await seriousViolations(page);
    expect({ screen, violations }).toEqual({ screen, violations: [] });
  }

  it('an operator signs in, fills and activates an alert with a photo, and watches the 30 tiles turn «publicada» and the tasks appear without reloading', async () => {
    ({ page: operator } = await newPage(browser, DESKTOP));
    await operator.goto(`${gw}/ingresar`);
    await expectAccessible(operator, 'login');
    await screenshot(operator, 'login-desktop');
    await signIn(operator, gw, 'operadora.e2e', PASSWORD);
    expect(new URL(operator.url()).pathname).toBe('/alertas');
    await operator.getByRole('link', { name: 'Nueva alerta' }).first().click();
    await operator.getByRole('heading', { name: 'Nueva alerta' }).waitFor();

    // An invalid name is refused by the API; its message shows beside the field.
    await operator.getByLabel('Nombre completo').fill('Lucía <b>Pérez</b>');
    await operator.getByLabel(/^Edad/).fill('16');
    await operator.getByText('Menor de edad: también es un caso de Alerta Amber.').waitFor();
    await operator.getByLabel('Folio Alerta Amber (si existe)').fill('AMBER-OAX-12');
    await operator
      .getByLabel('Vestimenta cuando se le vio por última vez')
      .fill('Sudadera rosa, pantalón de mezclilla');
    const municipality = operator.getByRole('combobox', { name: /Municipio donde/ });
    await municipality.fill('santa lucia del camino');
    await operator.getByRole('option', { name: /Santa Lucía del Camino/ }).waitFor();
    await municipality.press('Enter');
    await operator.getByText('Seleccionado: Santa Lucía del Camino').waitFor();
    await operator
      .getByLabel(/Última vez vista/)
      .fill(isoToWallTime(new Date(Date.now() - 5 * 3600_000).toISOString()));
    await operator.getByLabel('Lengua indígena que habla').fill('zapoteco');
    await operator.getByLabel('La familia autorizó publicar la fotografía').check();
    await operator.getByLabel(/Archivo de la fotografía/).setInputFiles({
      name: 'foto.jpg',
      mimeType: 'image/jpeg',
      buffer: await smallJpeg(480, 600),
    });
    await operator.getByRole('img', { name: 'Vista previa de la fotografía elegida' }).waitFor();
    await operator.getByLabel('Persona que reporta').fill('María López Santiago');
    await operator.getByLabel('Carpeta de investigación').fill('FGEO/CI/123/2026');
    await expectAccessible(operator, 'new alert form');
    await screenshot(operator, 'new-alert-desktop');
    await operator.getByRole('button', { name: 'Activar alerta' }).click();
    await operator.locator('#f-fullName-error').waitFor();
    expect(await operator.locator('#f-fullName-error').textContent()).toBe(
      'Solo letras, espacios, apóstrofos, guiones y puntos',
    );
    expect(await operator.getByLabel('Nombre completo').getAttribute('aria-invalid')).toBe('true');

    await operator.getByLabel('Nombre completo').fill('Lucía Pérez Ramírez');
    await operator.getByRole('button', { name: 'Activar alerta' }).click();
    await operator.waitForURL(/\/alertas\/[0-9a-f-]{36}$/, { timeout: 60_000 });
    alertId = new URL(operator.url()).pathname.split('/').pop()!;
    await operator.evaluate(() => (window.__notReloaded = true));

    await waitForTiles(operator, 'posted', 30, alertId);
    await operator.waitForFunction(
      () => document.querySelectorAll('.task[data-area]').length >= 6,
      undefined,
      {
        timeout: LONG,
      },
    );
    expect(await operator.evaluate(() => window.__notReloaded)).toBe(true);
    const alert = (
      await stack.http('gateway', 'GET', `/api/v1/alerts/${alertId}`, undefined, stack.bearer('operadora'))
    ).body;
    folio = alert.folio;
    expect(alert).toMatchObject({ status: 'active', ficha: { isMinor: true, amberFolio: 'AMBER-OAX-12' } });
    expect(alert.ficha.photoUrl).toMatch(/\/public\/photos\//);
    await operator.getByRole('heading', { name: new RegExp(folio) }).waitFor();
    const link = operator.locator('.tile[data-state="posted"] a').first();
    expect(await link.getAttribute('href')).toMatch(/^https?:\/\//);
    await expectAccessible(operator, 'alert page');
    await screenshot(operator, 'alert-live-desktop');
  }, 300_000);

  it(
    'an area user opens the acknowledge link from the e-mail, confirms, and the task turns «enterada» on the operator’s open page',
    async () => {
      const mail = await waitFor(
        async () =>
          smtp.received.find((m) => m.kind === 'assignment' && m.areaId === 'c4' && m.folio === folio),
        { timeoutMs: 60_000, what: 'the assignment mail to C4' },
      );
      const link = /(http:\/\/127\.0\.0\.1:\d+\/acuse\?token=[^\s"<>]+)/.exec(String(mail.parsed.text))?.[1];
      expect(link).toBeDefined();
      const { page: phone } = await newPage(browser, PHONE);
      await phone.goto(link!);
      await phone.getByText(`Alerta Rosa ${folio}`).waitFor();
      await expectAccessible(phone, 'acknowledge link page');
      await screenshot(phone, 'acknowledge-link-phone');
      await phone.getByRole('button', { name: 'Confirmar recepción' }).click();
      await phone.getByText(/Recepción confirmada/).waitFor();

      await operator.waitForFunction(
        () => document.querySelector('.task[data-area="c4"]')?.getAttribute('data-state') === 'acknowledged',
        undefined,
        { timeout: LONG },
      );
      expect(await operator.locator('.task[data-area="c4"] .badge').textContent()).toBe('enterada');
      expect(await operator.evaluate(() => window.__notReloaded)).toBe(true);
      await phone.context().close();
    },
    LONG + 60_000,
  );

  it(
    'deactivation «localizada con vida» turns every photo tile «retirada» and takes the alert to its closure',
    async () => {
      await operator.getByLabel('localizada con vida').check();
      await operator.getByRole('button', { name: 'Desactivar…' }).click();
      await operator.getByRole('alertdialog').waitFor();
      await expectAccessible(operator, 'deactivation confirmation');
      await operator.getByRole('button', { name: 'Confirmar desactivación' }).click();
      await waitForTiles(operator, 'withdrawn', 30, alertId);
      await operator.waitForFunction(
        () => document.querySelectorAll('.task[data-state="cancelled"]').length >= 6,
        undefined,
        {
          timeout: LONG,
        },
      );
      await operator.locator('[data-withdrawal="30/30"]').waitFor({ timeout: LONG });
      // Closure is the tracker's decision (AlertClosed on tracking.v1, which intake applies): the open page
      // follows it to «cerrada».
      await operator.locator('article[data-status="closed"]').waitFor({ timeout: LONG });
      await operator.locator('[data-closed="true"]').waitFor();
      const closure = await stack.http(
        'gateway',
        'GET',
        `/api/v1/alerts/${alertId}/closure`,
        undefined,
        stack.bearer('operadora'),
      );
      expect(closure.status).toBe(200);
      expect(await operator.evaluate(() => window.__notReloaded)).toBe(true);
      await expectAccessible(operator, 'alert page after deactivation');
      await screenshot(operator, 'alert-deactivated-desktop');
    },
    LONG * 2,
  );

  it(
    'a failing account (sandbox refusing its credentials) shows «fallida» with its reason on the operator’s page',
    async () => {
      await setFaults(stack, 'ssp-fb', { revoked: true });
      const created = await stack.http(
        'gateway',
        'POST',
        '/api/v1/alerts',
        minimalFicha({ age: 27 }),
        stack.bearer('operadora'),
      );
      expect(created.status).toBe(201);
      await operator.goto(`${gw}/alertas/${created.body.id}`);
      const tile = operator.locator('.tile[data-account="ssp-fb"][data-state="failed"]');
      await tile.waitFor({ timeout: LONG });
      expect(await tile.locator('.tile-reason').textContent()).toContain('credenciales revocadas');
      await waitForTiles(operator, 'posted', 29, created.body.id);
      await resetSandboxFaults(stack);
    },
    LONG + 60_000,
  );

  it(
    'the committee sees the timeline as swimlanes and the dashboard, and downloads the CSV and the PDF',
    async () => {
      const { page } = await newPage(browser, DESKTOP);
      await signIn(page, gw, 'comite.e2e', PASSWORD);
      expect(new URL(page.url()).pathname).toBe('/comite');
      await page.getByRole('link', { name: folio }).waitFor({ timeout: 60_000 });
      await expectAccessible(page, 'committee alert list');
      await page.getByRole('link', { name: folio }).click();
      await page.locator('.chart svg').first().waitFor({ timeout: 60_000 });
      const lanes = await page.locator('.chart').getAttribute('data-lanes');
      expect(Number(lanes)).toBeGreaterThanOrEqual(6);
      // The lane names are the Y axis' ticks (drawn once the chart has measured its box).
      await page.locator('.chart svg text', { hasText: 'Retiro' }).first().waitFor({ timeout: 60_000 });
      // Recharts wraps long ticks into lines (tspans): compare without whitespace.
      const ticks = (await page.locator('.chart svg text').allTextContents()).join('|').replace(/\s+/g, '');
      for (const lane of [
        'Publicaciones X',
        'Publicaciones Facebook',
        'Tarea: C4',
        'Localización',
        'Retiro',
      ]) {
        expect(ticks).toContain(lane.replace(/\s+/g, ''));
      }
      await expectAccessible(page, 'committee swimlanes');
      await screenshot(page, 'committee-swimlanes-desktop');

      await page.getByRole('link', { name: 'Periodo' }).click();
      await page.getByRole('heading', { name: 'Comité Estatal: periodo' }).waitFor();
      const period = await stack.http(
        'gateway',
        'GET',
        '/api/v1/committee/period',
        undefined,
        stack.bearer('comite'),
      );
      expect(period.status).toBe(200);
      await page.locator('[data-committee="available"] .chart svg').first().waitFor({ timeout: 60_000 });
      // The page shows the API's figures: the period's count and the located-with-life count.
      expect(await page.locator('#counts-title').textContent()).toContain(String(period.body.counts.total));
      expect(await page.locator('[data-outcome="localizada_con_vida"] strong').textContent()).toBe(
        String(period.body.counts.byOutcome.localizada_con_vida),
      );
      expect(await page.locator('tr[data-area="c4"]').count()).toBe(1);
      for (const [label, check] of [
        ['Alertas (CSV)', (b: Buffer) => expect(b.toString('utf8')).toContain(folio)],
        ['Informe (PDF)', (b: Buffer) => expect(b.subarray(0, 5).toString()).toBe('%PDF-')],
      ] as const) {
        const [download] = await Promise.all([
          page.waitForEvent('download'),
          page.getByRole('button', { name: label }).click(),
        ]);
        check(readFileSync((await download.path())!));
      }
      await expectAccessible(page, 'committee period');
      await screenshot(page, 'committee-period-desktop');
      await page.context().close();
    },
    LONG + 60_000,
  );

  it('a role cannot reach another role’s screens, and the API refuses it too', async () => {
    const { page: anon } = await newPage(browser, DESKTOP);
    await anon.goto(`${gw}/alertas`);
    await anon.waitForURL((u) => u.pathname === '/ingresar');
    await anon.context().close();

    const cases: [string, string, string, () => Promise<{ status: number }>][] = [
      [
        'c4.e2e',
        '/alertas/nueva',
        '/bandeja',
        () => stack.http('gateway', 'POST', '/api/v1/alerts', minimalFicha(), stack.bearer('area')),
      ],
      [
        'operadora.e2e',
        '/admin/usuarios',
        '/alertas',
        () => stack.http('gateway', 'GET', '/api/v1/users', undefined, stack.bearer('operadora')),
      ],
      [
        'comite.e2e',
        '/alertas',
        '/comite',
        () =>
          stack.http(
            'gateway',
            'POST',
            `/api/v1/alerts/${alertId}/deactivate`,
            { outcome: 'cancelada' },
            stack.bearer('comite'),
          ),
      ],
    ];
    for (const [username, forbidden, home, api] of cases) {
      const { page } = await newPage(browser, DESKTOP);
      await signIn(page, gw, username, PASSWORD);
      expect(new URL(page.url()).pathname).toBe(home);
      await page.goto(`${gw}${forbidden}`);
      await page.getByRole('heading', { name: 'Sin permiso' }).waitFor();
      expect((await api()).status).toBe(403);
      await page.context().close();
    }
  }, 180_000);

  it('the area’s inbox and the administrator’s screens work and pass axe; the operator’s screens fit a 390 px phone', async () => {
    const { page: area } = await newPage(browser, PHONE);
    await signIn(area, gw, 'c4.e2e', PASSWORD);
    await area.locator('.task[data-task]').first().waitFor({ timeout: 60_000 });
    await expectAccessible(area, 'area inbox');
    expect(await scrollsHorizontally(area)).toBe(false);
    await screenshot(area, 'area-inbox-phone');
    await area.locator('.task a').first().click();
    await area.getByRole('heading', { name: 'Instrucciones' }).waitFor();
    await expectAccessible(area, 'area task');
    expect(await scrollsHorizontally(area)).toBe(false);
    await area.context().close();

    const { page: admin } = await newPage(browser, DESKTOP);
    await signIn(admin, gw, 'admin.e2e', PASSWORD);
    expect(new URL(admin.url()).pathname).toBe('/admin/usuarios');
    await admin.getByLabel('Usuario', { exact: true }).fill('nueva.operadora');
    await admin.getByLabel('Nombre', { exact: true }).fill('Nueva Operadora');
    await admin.getByLabel(/Contraseña inicial/).fill('otra-contrasena-segura');
    await admin.getByRole('button', { name: 'Crear usuario' }).click();
    await admin.locator('tr[data-user="nueva.operadora"]').waitFor();
    await expectAccessible(admin, 'admin users');
    for (const [path, ready, screen] of [
      ['/admin/cuentas', 'tr[data-account="ssp-fb"]', 'admin accounts'],
      ['/admin/directorio', 'li[data-area="c4"]', 'admin directory'],
      ['/admin/pso', 'table', 'admin PSO'],
      ['/admin/mensajes-fallidos', 'section[data-service="tracker"] h2', 'admin dead letters'],
    ]) {
      await admin.goto(`${gw}${path}`);
      await admin.locator(ready).first().waitFor({ timeout: 60_000 });
      await expectAccessible(admin, screen);
      await screenshot(admin, screen.replace(/\s+/g, '-'));
    }
    await admin.goto(`${gw}/admin/cuentas`);
    await admin.locator('tr[data-account="ssp-fb"]').waitFor();
    expect(await admin.locator('tr[data-account]').count()).toBe(30);
    expect(await admin.locator('tr[data-account="ssp-fb"]').textContent()).toContain(
      'credenciales revocadas',
    );
    await admin.context().close();

    const { page: phone } = await newPage(browser, PHONE);
    await signIn(phone, gw, 'operadora.e2e', PASSWORD);
    for (const [path, ready, name] of [
      ['/alertas', '.alert-row', 'alert-list-phone'],
      ['/alertas/nueva', '#f-fullName', 'new-alert-phone'],
      [`/alertas/${alertId}`, 'article[data-loaded="true"] .tile', 'alert-page-phone'],
    ]) {
      await phone.goto(`${gw}${path}`);
      await phone.locator(ready).first().waitFor({ timeout: 60_000 });
      expect({ path, scrolls: await scrollsHorizontally(phone) }).toEqual({ path, scrolls: false });
      await expectAccessible(phone, `${path} on a phone`);
      await screenshot(phone, name);
    }
    await phone.context().close();
    await operator.goto(`${gw}/alertas`);
    await operator.locator('.alert-row').first().waitFor();
    await expectAccessible(operator, 'alert list');
    await screenshot(operator, 'alert-list-desktop');
  }, 240_000);
});
