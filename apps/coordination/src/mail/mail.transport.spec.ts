import { generateKeyPairSync } from 'crypto';
import { SmtpSink } from '../../../../test/support/smtp-sink';
import { freePort, waitFor } from '../../../../test/support/stack';
import { coordinationConfigSchema } from '../coordination.config';
import { MailTransport, isPermanentSmtpError } from './mail.transport';

describe('MailTransport (pooled SMTP, real in-process SMTP server)', () => {
  let smtp: SmtpSink;

  beforeAll(async () => {
    smtp = new SmtpSink(await freePort());
    await smtp.start();
  });

  afterAll(() => smtp.stop());

  const config = (extra: Record<string, string> = {}) =>
    coordinationConfigSchema.parse({ NODE_ENV: 'test', SMTP_URL: smtp.url, ...extra });

  it('signs with DKIM when configured', async () => {
    const { privateKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
    const pem = privateKey.export({ type: 'pkcs8', format: 'pem' }).toString();
    const transport = new MailTransport(
      config({ DKIM_DOMAIN: 'ssp-oaxaca.example', DKIM_SELECTOR: 'alerta2026', DKIM_PRIVATE_KEY: pem }),
    );
    try {
      await transport.send({
        to: ['c4.guardia@ssp-oaxaca.example'],
        subject: 'Prueba DKIM',
        text: 'Texto',
        html: '<p>Texto</p>',
        messageId: '<dkim-test@alerta-rosa.coordination>',
        headers: { 'X-Alerta-Rosa-Mail-Id': 'dkim-test' },
      });
    } finally {
      transport.close();
    }
    const [mail] = await waitFor(async () => {
      const m = smtp.received.filter((r) => r.mailId === 'dkim-test');
      return m.length ? m : undefined;
    });
    const signature = mail.parsed.headerLines.find((l) => l.key === 'dkim-signature')?.line ?? '';
    expect(signature).toContain('d=ssp-oaxaca.example');
    expect(signature).toContain('s=alerta2026');
    expect(mail.parsed.messageId).toBe('<dkim-test@alerta-rosa.coordination>');
  });

  it('does not sign without DKIM settings, and refuses half a DKIM configuration', async () => {
    const transport = new MailTransport(config());
    try {
      await transport.send({
        to: ['c4.guardia@ssp-oaxaca.example'],
        subject: 'Sin DKIM',
        text: 'Texto',
        html: '<p>Texto</p>',
        messageId: '<plain-test@alerta-rosa.coordination>',
        headers: { 'X-Alerta-Rosa-Mail-Id': 'plain-test' },
      });
    } finally {
      transport.close();
    }
    const [mail] = await waitFor(async () => {
      const m = smtp.received.filter((r) => r.mailId === 'plain-test');
      return m.length ? m : undefined;
    });
    expect(mail.parsed.headers.has('dkim-signature')).toBe(false);
    expect(() => config({ DKIM_DOMAIN: 'ssp-oaxaca.example' })).toThrow(
      /DKIM_SELECTOR and DKIM_PRIVATE_KEY together/,
    );
  });

  it('classifies 5xx replies as permanent and connection errors as transient', async () => {
    smtp.rejectRecipients.add('nadie@ssp-oaxaca.example');
    const transport = new MailTransport(config());
    try {
      const refused = await transport
        .send({
          to: ['nadie@ssp-oaxaca.example'],
          subject: 'x',
          text: 'x',
          html: 'x',
          messageId: '<refused@alerta-rosa.coordination>',
          headers: {},
        })
        .catch((e) => e);
      expect(isPermanentSmtpError(refused)).toBe(true);
    } finally {
      transport.close();
      smtp.rejectRecipients.clear();
    }
    const down = new MailTransport(
      coordinationConfigSchema.parse({ NODE_ENV: 'test', SMTP_URL: `smtp://127.0.0.1:${await freePort()}` }),
    );
    try {
      const err = await down
        .send({
          to: ['a@ssp-oaxaca.example'],
          subject: 'x',
          text: 'x',
          html: 'x',
          messageId: '<d@x>',
          headers: {},
        })
        .catch((e) => e);
      expect(String(err?.message)).toMatch(/ECONNREFUSED|connect/i);
      expect(isPermanentSmtpError(err)).toBe(false);
    } finally {
      down.close();
    }
  });
});
