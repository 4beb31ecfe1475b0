import { SmtpSink } from '../support/smtp-sink';
import { TestStack, freePort, minimalFicha, sleep, waitFor } from '../support/stack';
import {
  bearer,
  livePostsByAccount,
  resetSandboxFaults,
  sandboxPosts,
  setFaults,
  startDisseminationStack,
  waitForPosts,
} from '../support/dissemination';

const marker = (folio: string, version: number) => `Folio ${folio} (v${version})`;

/**
 * What needs people about the official accounts reaches their owner area by e-mail, end to end:
 * the sandboxes refuse, dissemination reports on publications.v1, coordination mails through a real
 * SMTP server, the tracker shows both. Issue 4: «auth revoked → account marked and Comunicación Social
 * alerted»; withdrawal «stragglers reported».
 */
describe('account alerts to the owner area (dissemination → coordination → SMTP)', () => {
  let stack: TestStack;
  let smtp: SmtpSink;
  let credentials: Record<string, Record<string, string>>;

  beforeAll(async () => {
    stack = await TestStack.create();
    smtp = new SmtpSink(await freePort());
    await smtp.start();
    const started = await startDisseminationStack(stack, {
      services: ['intake', 'dissemination', 'tracker'],
    });
    credentials = started.credentials;
    await stack.start('coordination', {
      SMTP_URL: smtp.url,
      MAIL_BACKOFF_MS: '200',
      DISPATCH_POLL_MS: '1000',
    });
  });

  afterAll(async () => {
    await stack?.teardown();
    await smtp?.stop();
  });

  async function activate(age: number) {
    const res = await stack.http('intake', 'POST', '/api/v1/alerts', minimalFicha({ age }));
    expect(res.status).toBe(201);
    return res.body as { id: string; folio: string };
  }

  const revokedMails = () => smtp.received.filter((m) => m.kind === 'account_revoked');
  // On a loaded machine another account's withdrawal can also time out a few times and be reported:
  // these tests look at the account they break on purpose.
  const delayedMails = (handle = '@C4Oaxaca') =>
    smtp.received.filter((m) => m.kind === 'withdrawal_delayed' && m.parsed.subject?.includes(` ${handle} `));

  it('e-mails the owner area once per revocation, shows it on the timeline, and after renewed credentials posts the alerts still active there', async () => {
    await setFaults(stack, 'ssp-fb', { revoked: true });
    const first = await activate(31);
    await waitFor(
      async () => livePostsByAccount(await sandboxPosts(stack), marker(first.folio, 1)).size === 29,
      {
        // A send that times out on a loaded machine is looked up (spaced look-ups) before it is retried.
        timeoutMs: 60_000,
        what: 'the 29 accounts that still work to post',
      },
    );
    const [mail] = await waitFor(async () => (revokedMails().length ? revokedMails() : undefined), {
      timeoutMs: 30_000,
      what: 'the mail to Comunicación Social',
    });
    expect(mail.envelopeTo).toEqual(['comunicacion.social@ssp-oaxaca.example']);
    expect(mail.parsed.subject).toBe(
      `[Alerta Rosa ${first.folio}] Cuenta SSPOaxaca (Facebook) sin acceso: no se está publicando`,
    );
    expect(mail.parsed.text).toContain('cuenta «ssp-fb»');
    // No ficha data in a mail about an account.
    expect(mail.parsed.text).not.toContain('años');

    const timeline = await stack.timelineWhere(
      first.id,
      (e) =>
        e.some((x) => x.type === 'AccountAuthRevoked') &&
        e.some((x) => x.type === 'TaskMailSent' && x.details.kind === 'account_revoked'),
      30_000,
    );
    const revoked = timeline.entries.filter((e: any) => e.type === 'AccountAuthRevoked');
    expect(revoked).toHaveLength(1);
    expect(revoked[0].label).toBe(
      'Credenciales revocadas en SSPOaxaca: la cuenta deja de publicar hasta renovarlas; se avisa al área responsable (comunicacion-social)',
    );
    expect(revoked[0].details).toMatchObject({ accountId: 'ssp-fb', ownerArea: 'comunicacion-social' });
    const sent = timeline.entries.find(
      (e: any) => e.type === 'TaskMailSent' && e.details.kind === 'account_revoked',
    );
    expect(sent.label).toBe('Correo de aviso de cuenta sin acceso enviado a comunicacion-social');

    // A second alert while the account is still marked: its publication fails, nobody is mailed again.
    const second = await activate(32);
    await waitFor(
      async () =>
        (
          await stack.query(
            `SELECT 1 FROM dissemination.publications WHERE alert_id = $1 AND account_id = 'ssp-fb' AND status = 'failed'`,
            [second.id],
          )
        ).length === 1,
      { timeoutMs: 30_000, what: 'the second alert’s publication on ssp-fb to fail' },
    );
    await stack.timelineWhere(second.id, (e) => e.some((x) => x.type === 'PublicationFailed'), 30_000);
    expect(revokedMails()).toHaveLength(1);

    // New credentials clear the mark and the account catches up with the two alerts still active; the
    // platform still refuses them: a new revocation, a new mail.
    const rotate = () =>
      stack.http(
        'dissemination',
        'PUT',
        '/api/v1/accounts/ssp-fb/credentials',
        { credentials: credentials['ssp-fb'] },
        bearer('admin'),
      );
    expect((await rotate()).body).toMatchObject({ status: 'ok' });
    await waitFor(async () => (revokedMails().length === 2 ? revokedMails() : undefined), {
      timeoutMs: 30_000,
      what: 'a second mail after a new refusal',
    });
    expect([`[Alerta Rosa ${first.folio}]`, `[Alerta Rosa ${second.folio}]`]).toContain(
      revokedMails()[1].parsed.subject!.slice(0, `[Alerta Rosa ${first.folio}]`.length),
    );

    // Access really restored: both active alerts reach the account, once each, and nobody is mailed.
    await setFaults(stack, 'ssp-fb', { revoked: false });
    expect((await rotate()).body).toMatchObject({ status: 'ok' });
    for (const a of [first, second]) {
      await waitFor(
        async () =>
          livePostsByAccount(await sandboxPosts(stack), marker(a.folio, 1)).get('ssp-fb')?.length === 1,
        { timeoutMs: 30_000, what: `${a.folio} on ssp-fb after the renewal` },
      );
    }
    await sleep(1_000);
    for (const a of [first, second]) {
      const live = livePostsByAccount(await sandboxPosts(stack), marker(a.folio, 1));
      expect(live.size).toBe(30);
      expect([...live.values()].every((posts) => posts.length === 1)).toBe(true);
    }
    expect(revokedMails()).toHaveLength(2);
  });

  it('tells the owner area once when a ficha cannot be withdrawn from its account; the withdrawal completes once new credentials are loaded', async () => {
    await resetSandboxFaults(stack);
    const cleared = await stack.http(
      'dissemination',
      'PUT',
      '/api/v1/accounts/ssp-fb/credentials',
      { credentials: credentials['ssp-fb'] },
      bearer('admin'),
    );
    expect(cleared.body).toMatchObject({ status: 'ok' });
    const alert = await activate(34);
    await waitForPosts(stack, marker(alert.folio, 1), 30);

    await setFaults(stack, 'c4-x', { revoked: true });
    const res = await stack.http('intake', 'POST', `/api/v1/alerts/${alert.id}/deactivate`, {
      outcome: 'localizada_con_vida',
    });
    expect(res.status).toBe(200);
    const [mail] = await waitFor(async () => (delayedMails().length ? delayedMails() : undefined), {
      timeoutMs: 30_000,
      what: 'the mail about the pending withdrawal',
    });
    expect(mail.envelopeTo).toEqual(['c4.guardia@ssp-oaxaca.example']);
    expect(mail.parsed.subject).toBe(
      `[Alerta Rosa ${alert.folio}] Retiro pendiente en @C4Oaxaca (X): la ficha sigue publicada`,
    );
    expect(mail.parsed.text).toContain('sigue reintentando');

    // The «LOCALIZADA» notice was refused on that account too: the account is marked, C4 told so as well,
    // and withdrawal waits for new credentials — what the mails ask C4 to load.
    await waitFor(
      async () => revokedMails().some((m) => m.envelopeTo.includes('c4.guardia@ssp-oaxaca.example')),
      { timeoutMs: 30_000, what: 'the mail about C4’s revoked account' },
    );
    await setFaults(stack, 'c4-x', { revoked: false });
    const rotated = await stack.http(
      'dissemination',
      'PUT',
      '/api/v1/accounts/c4-x/credentials',
      { credentials: credentials['c4-x'] },
      bearer('admin'),
    );
    expect(rotated.body).toMatchObject({ status: 'ok' });
    const timeline = await stack.timelineWhere(
      alert.id,
      (e) =>
        e.some((x) => x.type === 'AlertWithdrawalCompleted') &&
        e.some((x) => x.type === 'TaskMailSent' && x.details.kind === 'withdrawal_delayed'),
      30_000,
    );
    expect(timeline.entries.filter((e: any) => e.type === 'PublicationWithdrawalDelayed')).toHaveLength(1);
    expect(livePostsByAccount(await sandboxPosts(stack), marker(alert.folio, 1)).size).toBe(0);
    expect(delayedMails()).toHaveLength(1);
  });
});
