import { MessagingRetention, RetentionTask } from '@alerta-rosa/messaging';
import {
  Inject,
  Injectable,
  OnApplicationBootstrap,
  OnApplicationShutdown,
  OnModuleInit,
} from '@nestjs/common';
import { Counter } from 'prom-client';
import { DataSource } from 'typeorm';
import { ServiceMetrics } from './metrics/service.metrics';
import { PeriodicJob } from './periodic.job';
import { SERVICE_RUNTIME, ServiceRuntime } from './service-runtime';

/**
 * The scheduled retention job every service runs: every RETENTION_SWEEP_INTERVAL_SECONDS (and once
 * shortly after start) it purges old outbox, inbox and dead-letter rows (libs/messaging) and then runs
 * the purges the service registered (e.g. intake's private part of closed alerts). A failed sweep is
 * logged and tried again at the next interval.
 */
@Injectable()
export class RetentionScheduler implements OnModuleInit, OnApplicationBootstrap, OnApplicationShutdown {
  private readonly tasks = new Map<string, RetentionTask>();
  private retention!: MessagingRetention;
  private deleted!: Counter<'table'>;
  private job?: PeriodicJob<Record<string, number>>;

  constructor(
    private readonly dataSource: DataSource,
    private readonly metrics: ServiceMetrics,
    @Inject(SERVICE_RUNTIME) private readonly runtime: ServiceRuntime,
  ) {}

  /** Adds a purge to the schedule; it returns what it deleted per kind (counted in the metrics). */
  register(name: string, task: RetentionTask): void {
    this.tasks.set(name, task);
  }

  onModuleInit(): void {
    const c = this.runtime.config;
    this.retention = new MessagingRetention({
      schema: this.runtime.schema,
      dataSource: this.dataSource,
      logger: this.runtime.logger,
      outboxHours: c.RETENTION_OUTBOX_HOURS,
      inboxHours: c.RETENTION_INBOX_HOURS,
      deadLettersHours: c.RETENTION_DEAD_LETTERS_HOURS,
    });
    this.deleted = this.metrics.counter(
      'retention_deleted_rows_total',
      'Rows the retention job deleted (or, for private parts, emptied) since the process started.',
      ['table'],
    );
  }

  onApplicationBootstrap(): void {
    const intervalMs = this.runtime.config.RETENTION_SWEEP_INTERVAL_SECONDS * 1000;
    this.job = new PeriodicJob(
      'retention sweep',
      intervalMs,
      () => this.sweep(),
      this.runtime.logger,
      (counts) => {
        const purged = Object.fromEntries(Object.entries(counts).filter(([, n]) => n > 0));
        if (Object.keys(purged).length) this.runtime.logger.info({ purged }, 'retention: old rows purged');
      },
    );
    // First sweep soon after start (not during it: start-up work comes first), then on the interval.
    this.job.start(Math.min(intervalMs, 5_000));
  }

  async onApplicationShutdown(): Promise<void> {
    await this.job?.stop();
  }

  /** Runs one sweep now (the schedule calls this; so can a test or an operator's script). */
  async sweep(): Promise<Record<string, number>> {
    const counts: Record<string, number> = { ...(await this.retention.sweep()) };
    for (const [name, task] of this.tasks) {
      for (const [kind, n] of Object.entries(await task())) counts[`${name}.${kind}`] = n;
    }
    for (const [table, n] of Object.entries(counts)) if (n > 0) this.deleted.inc({ table }, n);
    return counts;
  }
}
