import { SERVICE_RUNTIME, ServiceRuntime } from '@alerta-rosa/runtime';
import { randomUUID } from 'crypto';
import { Inject, Injectable } from '@nestjs/common';
import { CoordinationConfig } from '../coordination.config';
import { MailRepository, MailRow } from './mail.repository';
import { PHOTO_CID } from './mail.templates';
import { MailTransport, isPermanentSmtpError } from './mail.transport';
import { RecordMailOutcome } from './record-mail-outcome.use-case';

const MAX_PHOTO_BYTES = 5 * 1024 * 1024;

export type SendOutcome =
  | { outcome: 'sent' | 'missing' | 'queued' | 'failed' }
  /** Another send of this mail holds its claim: look again in `retryInMs`. */
  | { outcome: 'busy'; retryInMs: number };

/** The relay refused the mail for good (SMTP 5xx): retrying cannot help. */
export class MailRefusedError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'MailRefusedError';
  }
}

/**
 * Sends one recorded mail through the relay and records what became of it. The send first claims the
 * mail (a lease in its row); a mail already sent or given up is skipped and one claimed by a send in
 * flight is left to it, so a job that runs twice, or twice at once, sends nothing twice — unless the
 * relay accepted it and the worker died before recording it: delivery is at-least-once, same
 * Message-ID. Throws on a transient failure (the caller retries, without limit) and MailRefusedError
 * on a permanent refusal.
 */
@Injectable()
export class SendMail {
  constructor(
    private readonly mails: MailRepository,
    private readonly transport: MailTransport,
    private readonly outcome: RecordMailOutcome,
    @Inject(SERVICE_RUNTIME) private readonly runtime: ServiceRuntime<CoordinationConfig>,
  ) {}

  async execute(mailId: string): Promise<SendOutcome> {
    const token = randomUUID();
    const leaseMs = this.runtime.config.MAIL_SEND_LEASE_MS;
    const claim = await this.mails.claimForSending(mailId, token, leaseMs);
    if ('missing' in claim) return { outcome: 'missing' };
    if ('settled' in claim) return { outcome: claim.settled };
    if ('busyForMs' in claim) return { outcome: 'busy', retryInMs: claim.busyForMs };
    // The lease is renewed while the send is in flight: a worker that dies leaves it to lapse within leaseMs.
    const renew = setInterval(() => {
      this.mails.extendClaim(mailId, token, leaseMs).catch(() => undefined);
    }, leaseMs / 3);
    try {
      return await this.send(claim.claimed, token);
    } finally {
      clearInterval(renew);
    }
  }

  private async send(mail: MailRow & { folio: string | null }, token: string): Promise<SendOutcome> {
    const log = this.runtime.logger;
    let messageId: string | undefined;
    try {
      const image = mail.photo_url ? await fetchPhoto(mail.photo_url) : undefined;
      const html = image || !mail.photo_url ? mail.html_body : stripInlinePhoto(mail.html_body);
      messageId = await this.transport.send({
        to: mail.recipients,
        subject: mail.subject,
        text: mail.text_body,
        html,
        messageId: `<${mail.id}@alerta-rosa.coordination>`,
        headers: {
          'X-Alerta-Rosa-Kind': mail.kind,
          'X-Alerta-Rosa-Mail-Id': mail.id,
          'X-Alerta-Rosa-Folio': mail.folio ?? '',
          'X-Alerta-Rosa-Area': mail.area_id,
          ...(mail.task_id ? { 'X-Alerta-Rosa-Task': mail.task_id } : {}),
        },
        inlineImage: image ? { cid: PHOTO_CID, ...image } : undefined,
      });
    } catch (err) {
      const message = (err as Error).message ?? String(err);
      const ref = { mailId: mail.id, alertId: mail.alert_id, kind: mail.kind };
      if (isPermanentSmtpError(err)) {
        await this.outcome.refused(mail.id, message);
        log.warn(
          { ...ref, attempts: mail.attempts + 1, err: message },
          'mail refused by the relay; given up',
        );
        throw new MailRefusedError(message);
      }
      const counted = await this.outcome.transientFailure(mail.id, token, message);
      log.warn(
        { ...ref, attempts: counted?.attempts, delayed: counted?.delayed ?? false, err: message },
        'mail not sent; retried',
      );
      throw err;
    }
    // Outside the try: a database error here is not a failure of the relay (the job is retried).
    await this.outcome.sent(mail.id, messageId);
    log.info({ mailId: mail.id, alertId: mail.alert_id, kind: mail.kind }, 'mail accepted by SMTP');
    return { outcome: 'sent' };
  }
}

async function fetchPhoto(url: string): Promise<{ content: Buffer; contentType: string } | undefined> {
  try {
    const res = await fetch(url, { signal: AbortSignal.timeout(5_000) });
    const type = res.headers.get('content-type') ?? '';
    if (!res.ok || !type.startsWith('image/')) return undefined;
    const content = Buffer.from(await res.arrayBuffer());
    return content.length <= MAX_PHOTO_BYTES ? { content, contentType: type } : undefined;
  } catch {
    return undefined; // the mail goes without the photo rather than not at all
  }
}

function stripInlinePhoto(html: string): string {
  return html.replace(new RegExp(`<p><img src="cid:${PHOTO_CID.replace(/[.@]/g, '\\$&')}"[^>]*></p>`), '');
}
