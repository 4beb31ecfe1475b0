import { SERVICE_RUNTIME, ServiceRuntime, createRedisConnection } from '@alerta-rosa/runtime';
import { Inject, Injectable, OnApplicationShutdown, OnModuleInit } from '@nestjs/common';
import { Job, Queue, UnrecoverableError, Worker } from 'bullmq';
import type IORedis from 'ioredis';
import { DataSource } from 'typeorm';
import { CoordinationConfig } from '../coordination.config';
import { PHOTO_CID } from '../mail/mail.templates';
import { MailTransport, isPermanentSmtpError } from '../mail/mail.transport';
import { TaskService } from '../tasks/task.service';
import { EscalationJob, MailJob, ProgressJob, QUEUES } from './queue.names';

const MAX_PHOTO_BYTES = 5 * 1024 * 1024;

/**
 * The three BullMQ queues and their workers. Processors are thin: they call TaskService, which
 * re-checks the state in the database, so a job that runs twice (stall, redelivery) changes nothing twice.
 */
@Injectable()
export class CoordinationQueues implements OnModuleInit, OnApplicationShutdown {
  readonly mail: Queue<MailJob>;
  readonly escalation: Queue<EscalationJob>;
  readonly progress: Queue<ProgressJob>;
  private readonly workers: Worker[] = [];
  private readonly connection: IORedis;
  private readonly config: CoordinationConfig;
  private escalationCommits = 0;

  constructor(
    @Inject(SERVICE_RUNTIME) private readonly runtime: ServiceRuntime<CoordinationConfig>,
    private readonly tasks: TaskService,
    private readonly transport: MailTransport,
    private readonly dataSource: DataSource,
  ) {
    this.config = runtime.config;
    this.connection = createRedisConnection(this.config);
    const base = { connection: this.connection, prefix: this.config.QUEUE_PREFIX };
    const keep = { removeOnComplete: { age: 7 * 86_400 }, removeOnFail: { age: 30 * 86_400 } };
    this.mail = new Queue(QUEUES.mail, {
      ...base,
      defaultJobOptions: { ...keep, attempts: this.config.MAIL_MAX_ATTEMPTS, backoff: { type: 'capped' } },
    });
    this.escalation = new Queue(QUEUES.escalation, {
      ...base,
      defaultJobOptions: { ...keep, attempts: 10, backoff: { type: 'capped' } },
    });
    this.progress = new Queue(QUEUES.progress, {
      ...base,
      defaultJobOptions: { ...keep, attempts: 10, backoff: { type: 'capped' } },
    });
  }

  onModuleInit(): void {
    const settings = {
      connection: createRedisConnection(this.config),
      prefix: this.config.QUEUE_PREFIX,
      lockDuration: this.config.QUEUE_LOCK_MS,
      stalledInterval: this.config.QUEUE_LOCK_MS,
      maxStalledCount: 10,
      settings: {
        backoffStrategy: (attemptsMade: number) =>
          Math.min(this.config.MAIL_BACKOFF_MS * 2 ** Math.max(0, attemptsMade - 1), 60_000),
      },
    };
    const log = this.runtime.logger.child({ component: 'queues' });
    this.workers.push(
      new Worker<MailJob>(QUEUES.mail, (job) => this.sendMail(job), {
        ...settings,
        concurrency: this.config.MAIL_CONCURRENCY,
      }),
      new Worker<EscalationJob>(QUEUES.escalation, (job) => this.checkEscalation(job), {
        ...settings,
        concurrency: 20,
      }),
      new Worker<ProgressJob>(
        QUEUES.progress,
        (job) => this.tasks.progressReminder(job.data.alertId, job.data.seq),
        {
          ...settings,
          concurrency: 2,
        },
      ),
    );
    for (const w of this.workers) {
      w.on('error', (err) => log.error({ queue: w.name, err: err.message }, 'queue worker error'));
      w.on('failed', (job, err) =>
        log.warn(
          { queue: w.name, jobId: job?.id, attemptsMade: job?.attemptsMade, err: err.message },
          'job attempt failed',
        ),
      );
    }
  }

  async onApplicationShutdown(): Promise<void> {
    await Promise.all(this.workers.map((w) => w.close().catch(() => undefined)));
    await Promise.all(
      [this.mail, this.escalation, this.progress].map((q) => q.close().catch(() => undefined)),
    );
    this.transport.close();
    this.connection.disconnect();
  }

  private async checkEscalation(job: Job<EscalationJob>): Promise<string> {
    const outcome = await this.tasks.escalate(job.data.taskId, job.data.level, new Date());
    if (outcome === 'fired') {
      this.runtime.logger.info(
        { taskId: job.data.taskId, level: job.data.level, lateMs: Date.now() - Date.parse(job.data.dueAt) },
        'escalation timer fired',
      );
      this.escalationCommits++;
      const killAfter = this.config.FAULT_KILL_AFTER_ESCALATION_COMMIT;
      if (killAfter && this.escalationCommits >= killAfter) {
        this.runtime.logger.warn(
          { taskId: job.data.taskId, level: job.data.level },
          'fault injection: SIGKILL after escalation commit',
        );
        process.kill(process.pid, 'SIGKILL');
        await new Promise(() => undefined);
      }
    }
    return outcome;
  }

  private async sendMail(job: Job<MailJob>): Promise<string> {
    const [mail] = await this.dataSource.query(
      `SELECT m.*, a.folio FROM coordination.mails m LEFT JOIN coordination.alerts a USING (alert_id) WHERE m.id = $1`,
      [job.data.mailId],
    );
    if (!mail) return 'missing';
    if (mail.status !== 'queued') return mail.status;
    const attempt = job.attemptsMade + 1;
    try {
      const image = mail.photo_url ? await fetchPhoto(mail.photo_url) : undefined;
      const html = image || !mail.photo_url ? mail.html_body : stripInlinePhoto(mail.html_body);
      const messageId = await this.transport.send({
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
      await this.tasks.mailSent(mail.id, messageId, attempt);
      this.runtime.logger.info(
        { mailId: mail.id, alertId: mail.alert_id, kind: mail.kind, attempt },
        'mail accepted by SMTP',
      );
      return 'sent';
    } catch (err) {
      const permanent = isPermanentSmtpError(err);
      const final = permanent || attempt >= (job.opts.attempts ?? 1);
      const message = (err as Error).message ?? String(err);
      await this.tasks.mailAttemptFailed(mail.id, message, attempt, final);
      this.runtime.logger.warn(
        { mailId: mail.id, alertId: mail.alert_id, attempt, final, err: message },
        'mail not sent',
      );
      if (permanent) throw new UnrecoverableError(message);
      throw err;
    }
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
