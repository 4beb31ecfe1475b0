import { SERVICE_RUNTIME, ServiceRuntime, createRedisConnection } from '@alerta-rosa/runtime';
import { Inject, Injectable, OnApplicationShutdown, OnModuleInit } from '@nestjs/common';
import { DelayedError, Job, Queue, UnrecoverableError, Worker } from 'bullmq';
import type IORedis from 'ioredis';
import { CoordinationConfig } from '../coordination.config';
import { MailTransport } from '../mail/mail.transport';
import { MailRefusedError, SendMail } from '../mail/send-mail.use-case';
import { EscalateTask } from '../tasks/escalate-task.use-case';
import { RemindProgress } from '../tasks/remind-progress.use-case';
import { EscalationJob, MailJob, ProgressJob, QUEUES } from './queue.names';

/** Transient mail failures are retried without limit (at the capped back-off, years of retries). */
const UNLIMITED_ATTEMPTS = 1_000_000;

/**
 * The three BullMQ queues and their workers. Processors are thin: they call a use case, which
 * re-checks the state in the database, so a job that runs twice (stall, redelivery, re-added by the
 * reconciler) changes nothing twice.
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
    private readonly escalate: EscalateTask,
    private readonly remind: RemindProgress,
    private readonly sendMails: SendMail,
    private readonly transport: MailTransport,
  ) {
    this.config = runtime.config;
    this.connection = createRedisConnection(this.config);
    const base = { connection: this.connection, prefix: this.config.QUEUE_PREFIX };
    const keep = { removeOnComplete: { age: 7 * 86_400 }, removeOnFail: { age: 30 * 86_400 } };
    this.mail = new Queue(QUEUES.mail, {
      ...base,
      defaultJobOptions: { ...keep, attempts: UNLIMITED_ATTEMPTS, backoff: { type: 'capped' } },
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
          Math.min(
            this.config.MAIL_BACKOFF_MS * 2 ** Math.min(30, Math.max(0, attemptsMade - 1)),
            this.config.MAIL_BACKOFF_MAX_MS,
          ),
      },
    };
    const log = this.runtime.logger.child({ component: 'queues' });
    this.workers.push(
      new Worker<MailJob>(QUEUES.mail, (job, token) => this.sendMail(job, token), {
        ...settings,
        concurrency: this.config.MAIL_CONCURRENCY,
      }),
      new Worker<EscalationJob>(QUEUES.escalation, (job, token) => this.checkEscalation(job, token), {
        ...settings,
        concurrency: 20,
      }),
      new Worker<ProgressJob>(QUEUES.progress, (job) => this.remind.execute(job.data.alertId, job.data.seq), {
        ...settings,
        concurrency: 2,
      }),
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

  private async checkEscalation(job: Job<EscalationJob>, token?: string): Promise<string> {
    const result = await this.escalate.execute(job.data.taskId, job.data.level, new Date());
    if (result.outcome === 'not_due') {
      // An earlier level fired late (or not yet): this one waits its turn (escalation.rule), without
      // spending an attempt.
      await job.moveToDelayed(Date.now() + Math.max(10, result.inMs), token);
      throw new DelayedError();
    }
    if (result.outcome === 'fired') {
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
    return result.outcome;
  }

  private async sendMail(job: Job<MailJob>, token?: string): Promise<string> {
    let result;
    try {
      result = await this.sendMails.execute(job.data.mailId);
    } catch (err) {
      if (err instanceof MailRefusedError) throw new UnrecoverableError(err.message);
      throw err;
    }
    if (result.outcome === 'busy') {
      // Another run of this job holds the mail's claim: look again once it is settled or has lapsed.
      await job.moveToDelayed(Date.now() + Math.max(100, result.retryInMs), token);
      throw new DelayedError();
    }
    return result.outcome;
  }
}
