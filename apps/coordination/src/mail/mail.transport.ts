import { createTransport, Transporter } from 'nodemailer';
import { CoordinationConfig } from '../coordination.config';

export interface OutgoingMail {
  to: string[];
  subject: string;
  text: string;
  html: string;
  messageId: string;
  headers: Record<string, string>;
  inlineImage?: { cid: string; content: Buffer; contentType: string };
}

/** SMTP reply codes 5xx are permanent: retrying cannot help (bad recipient, policy refusal). */
export function isPermanentSmtpError(err: unknown): boolean {
  const code = (err as { responseCode?: number })?.responseCode;
  return typeof code === 'number' && code >= 500 && code < 600;
}

/** The one pooled SMTP transport of the service (nodemailer), with optional DKIM signing. */
export class MailTransport {
  private readonly transporter: Transporter;

  constructor(private readonly config: CoordinationConfig) {
    this.transporter = createTransport({
      url: config.SMTP_URL,
      pool: true,
      maxConnections: config.SMTP_POOL_MAX_CONNECTIONS,
      maxMessages: 100,
      connectionTimeout: 5_000,
      greetingTimeout: 5_000,
      socketTimeout: 20_000,
      tls: { rejectUnauthorized: config.SMTP_TLS_REJECT_UNAUTHORIZED },
      ...(config.DKIM_DOMAIN
        ? {
            dkim: {
              domainName: config.DKIM_DOMAIN,
              keySelector: config.DKIM_SELECTOR!,
              privateKey: config.DKIM_PRIVATE_KEY!.replace(/\\n/g, '\n'),
            },
          }
        : {}),
    } as Parameters<typeof createTransport>[0]);
  }

  async send(mail: OutgoingMail): Promise<string | undefined> {
    const info = await this.transporter.sendMail({
      from: this.config.MAIL_FROM,
      to: mail.to,
      subject: mail.subject,
      text: mail.text,
      html: mail.html,
      messageId: mail.messageId,
      headers: mail.headers,
      attachments: mail.inlineImage
        ? [
            {
              filename: 'ficha.jpg',
              content: mail.inlineImage.content,
              contentType: mail.inlineImage.contentType,
              cid: mail.inlineImage.cid,
            },
          ]
        : [],
    });
    return (info as { messageId?: string }).messageId;
  }

  close(): void {
    this.transporter.close();
  }
}
