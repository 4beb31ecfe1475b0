/**
 * Development mailbox for `npm run up`: an SMTP server on 127.0.0.1:1025 (what coordination sends to by
 * default) that keeps the mails in memory and lists them at http://127.0.0.1:8025 (newest first).
 */
import { createServer } from 'http';
import { SmtpSink } from './smtp-sink';

const SMTP_PORT = Number(process.env.DEV_SMTP_PORT ?? 1025);
const HTTP_PORT = Number(process.env.DEV_MAILBOX_PORT ?? 8025);

const escape = (s: string) => s.replace(/[&<>"]/g, (c) => `&#${c.charCodeAt(0)};`);

async function main(): Promise<void> {
  const sink = new SmtpSink(SMTP_PORT);
  await sink.start();
  createServer((req, res) => {
    const mails = [...sink.received].reverse();
    if (req.url?.startsWith('/api/mails')) {
      res.writeHead(200, { 'content-type': 'application/json; charset=utf-8' });
      res.end(
        JSON.stringify(
          mails.map((m) => ({
            receivedAt: new Date(m.receivedAt).toISOString(),
            to: m.envelopeTo,
            subject: m.parsed.subject,
            kind: m.kind,
            folio: m.folio,
            area: m.areaId,
            text: m.parsed.text,
          })),
        ),
      );
      return;
    }
    const rows = mails
      .map(
        (m) =>
          `<article><h3>${escape(m.parsed.subject ?? '')}</h3><p><small>${new Date(m.receivedAt).toLocaleString('es-MX', { timeZone: 'America/Mexico_City' })} · para ${escape(m.envelopeTo.join(', '))}</small></p>${m.parsed.html || `<pre>${escape(m.parsed.text ?? '')}</pre>`}</article><hr>`,
      )
      .join('\n');
    res.writeHead(200, { 'content-type': 'text/html; charset=utf-8' });
    res.end(
      `<!doctype html><html lang="es-MX"><meta charset="utf-8"><title>Buzón de desarrollo — Alerta Rosa</title><body style="font-family:sans-serif;max-width:60rem;margin:auto"><h1>Buzón de desarrollo (${mails.length} correos)</h1>${rows || '<p>Sin correos todavía.</p>'}</body></html>`,
    );
  }).listen(HTTP_PORT, '127.0.0.1', () => {
    process.stdout.write(
      JSON.stringify({
        msg: 'dev-mailbox ready',
        smtp: `smtp://127.0.0.1:${SMTP_PORT}`,
        http: `http://127.0.0.1:${HTTP_PORT}`,
      }) + '\n',
    );
  });
}

main().catch((err) => {
  process.stderr.write(`dev-mailbox: ${(err as Error).message}\n`);
  process.exit(1);
});
