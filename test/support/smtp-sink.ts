import { ParsedMail, simpleParser } from 'mailparser';
import { SMTPServer } from 'smtp-server';

export interface ReceivedMail {
  receivedAt: number;
  envelopeTo: string[];
  parsed: ParsedMail;
  kind: string;
  mailId: string;
  taskId?: string;
  areaId: string;
  folio: string;
}

/**
 * A real SMTP server in the test process (smtp-server), storing every accepted message parsed by
 * mailparser. Can be stopped and restarted on the same port to simulate a relay outage.
 */
export class SmtpSink {
  readonly received: ReceivedMail[] = [];
  private server: SMTPServer | null = null;
  /** Mailboxes the server refuses permanently (550), to provoke a hard failure. */
  readonly rejectRecipients = new Set<string>();
  /** How long the server holds a message before accepting it (a slow relay), in ms. */
  acceptDelayMs = 0;

  constructor(readonly port: number) {}

  get url(): string {
    return `smtp://127.0.0.1:${this.port}`;
  }

  async start(): Promise<void> {
    const server = new SMTPServer({
      authOptional: true,
      disabledCommands: ['STARTTLS', 'AUTH'],
      logger: false,
      closeTimeout: 200,
      onRcptTo: (address, _session, callback) => {
        if (this.rejectRecipients.has(address.address)) {
          const err = new Error('Mailbox unavailable') as Error & { responseCode: number };
          err.responseCode = 550;
          return callback(err);
        }
        callback();
      },
      onData: (stream, session, callback) => {
        // Accept as soon as the message is in (as a relay does), then parse it for the assertions.
        const chunks: Buffer[] = [];
        stream.on('data', (c: Buffer) => chunks.push(c));
        stream.on('end', () => {
          const receivedAt = Date.now();
          const envelopeTo = session.envelope.rcptTo.map((r) => r.address);
          if (this.acceptDelayMs > 0) setTimeout(() => callback(), this.acceptDelayMs);
          else callback();
          simpleParser(Buffer.concat(chunks))
            .then((parsed) => {
              const h = (name: string) => String(parsed.headers.get(name) ?? '');
              this.received.push({
                receivedAt,
                envelopeTo,
                parsed,
                kind: h('x-alerta-rosa-kind'),
                mailId: h('x-alerta-rosa-mail-id'),
                taskId: h('x-alerta-rosa-task') || undefined,
                areaId: h('x-alerta-rosa-area'),
                folio: h('x-alerta-rosa-folio'),
              });
              this.received.sort((a, b) => a.receivedAt - b.receivedAt);
            })
            .catch(() => undefined);
        });
      },
    });
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(this.port, '127.0.0.1', () => resolve());
    });
    server.on('error', () => undefined);
    this.server = server;
  }

  async stop(): Promise<void> {
    const server = this.server;
    this.server = null;
    if (server) await new Promise<void>((resolve) => server.close(() => resolve()));
  }

  forFolio(folio: string, kind?: string): ReceivedMail[] {
    return this.received.filter((m) => m.folio === folio && (!kind || m.kind === kind));
  }
}
