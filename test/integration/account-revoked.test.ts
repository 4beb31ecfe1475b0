import { SmtpSink } from '../support/smtp-sink';
import { TestStack, freePort, minimalFicha, waitFor } from '../support/stack';
import {
  bearer,
  livePostsByAccount,
  sandboxPosts,
  setFaults,
  startDisseminationStack,
} from '../support/dissemination';

const marker = (folio: string, version: number) => `Folio ${folio} (v${version})`;

/**
 * Issue 4: «auth revoked → account marked and Comunicación Social alerted», end to end: the sandbox
 * refuses an account's token, dissemination marks the account and reports it on publications.v1,
 * coordination e-mails the owner area through a real SMTP server, the tracker shows both.
 */
describe('an official account whose credentials are revoked (dissemination → coordination → SMTP)', () => {
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

  it('e-mails the owner area once per revocation, shows it on the timeline, and again after a rotation and a new refusal', async () => {
    await setFaults(stack, 'ssp-fb', { revoked: true });
    const first = await activate(31);
    await waitFor(
      async () => livePostsByAccount(await sandboxPosts(stack), marker(first.folio, 1)).size === 29,
      {
        timeoutMs: 30_000,
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

    // New credentials clear the mark; a later refusal is a new revocation and a new mail.
    const rotated = await stack.http(
      'dissemination',
      'PUT',
      '/api/v1/accounts/ssp-fb/credentials',
      { credentials: credentials['ssp-fb'] },
      bearer('admin'),
    );
    expect(rotated.body).toMatchObject({ status: 'ok' });
    const third = await activate(33);
    await waitFor(async () => (revokedMails().length === 2 ? revokedMails() : undefined), {
      timeoutMs: 30_000,
      what: 'a second mail after a new refusal',
    });
    expect(revokedMails()[1].parsed.subject).toContain(`[Alerta Rosa ${third.folio}]`);
  });
});
