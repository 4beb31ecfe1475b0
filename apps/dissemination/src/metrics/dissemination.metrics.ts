import {
  JOB_STATES,
  QueueDepths,
  SERVICE_RUNTIME,
  ServiceMetrics,
  ServiceRuntime,
} from '@alerta-rosa/runtime';
import { Inject, Injectable, OnApplicationShutdown, OnModuleInit } from '@nestjs/common';
import { DataSource } from 'typeorm';
import { DisseminationConfig } from '../dissemination.config';
import { accountQueueName, withdrawalQueueName } from '../publishing/account-queues';

/**
 * Dissemination's figures for /metrics, read at scrape time from its own tables and from BullMQ (never
 * from the publishing code's hot path): per-account queue depths, publication outcomes, withdrawals.
 */
@Injectable()
export class DisseminationMetrics implements OnModuleInit, OnApplicationShutdown {
  private readonly queues: QueueDepths;

  constructor(
    private readonly metrics: ServiceMetrics,
    private readonly dataSource: DataSource,
    @Inject(SERVICE_RUNTIME) runtime: ServiceRuntime<DisseminationConfig>,
  ) {
    this.queues = new QueueDepths(runtime.config);
  }

  onModuleInit(): void {
    const m = this.metrics;
    m.gauge(
      'account_queue_jobs',
      "Jobs in each account's BullMQ queues (posts and withdrawals), by state.",
      ['account', 'platform', 'state'],
      async (set) => {
        const accounts: { id: string; platform: string }[] = await this.dataSource.query(
          `SELECT id, platform FROM dissemination.accounts ORDER BY id`,
        );
        await Promise.all(
          accounts.map(async (a) => {
            const [posts, withdrawals] = await Promise.all(
              [accountQueueName(a.id), withdrawalQueueName(a.id)].map((q) => this.queues.counts(q)),
            );
            for (const state of JOB_STATES)
              set({ account: a.id, platform: a.platform, state }, posts[state] + withdrawals[state]);
          }),
        );
      },
    );
    m.gauge(
      'publications',
      'Publications (one per alert version and account) by platform, kind and outcome.',
      ['platform', 'kind', 'status'],
      async (set) => {
        const rows: { platform: string; kind: string; status: string; n: number }[] =
          await this.dataSource.query(
            `SELECT a.platform, p.kind, p.status, count(*)::int AS n
           FROM dissemination.publications p JOIN dissemination.accounts a ON a.id = p.account_id
           GROUP BY a.platform, p.kind, p.status`,
          );
        for (const r of rows) set({ platform: r.platform, kind: r.kind, status: r.status }, r.n);
      },
    );
    m.gauge(
      'publication_failures',
      'Failed publications by platform and reason.',
      ['platform', 'reason'],
      async (set) => {
        const rows: { platform: string; reason: string; n: number }[] = await this.dataSource.query(
          `SELECT a.platform, coalesce(p.failure_reason, 'unknown') AS reason, count(*)::int AS n
           FROM dissemination.publications p JOIN dissemination.accounts a ON a.id = p.account_id
           WHERE p.status = 'failed' GROUP BY 1, 2`,
        );
        for (const r of rows) set({ platform: r.platform, reason: r.reason }, r.n);
      },
    );
    m.gauge(
      'withdrawals',
      'Per-account withdrawals of deactivated alerts (every post with her photo deleted), by status.',
      ['platform', 'status'],
      async (set) => {
        const rows: { platform: string; status: string; n: number }[] = await this.dataSource.query(
          `SELECT a.platform, w.status, count(*)::int AS n
           FROM dissemination.withdrawals w JOIN dissemination.accounts a ON a.id = w.account_id
           GROUP BY 1, 2`,
        );
        for (const r of rows) set({ platform: r.platform, status: r.status }, r.n);
      },
    );
    m.gauge(
      'withdrawals_oldest_pending_age_seconds',
      'Age of the oldest per-account withdrawal still pending (0 when none is).',
      [],
      async (set) => {
        const [row]: { age: number }[] = await this.dataSource.query(
          `SELECT coalesce(extract(epoch FROM clock_timestamp() - min(created_at)), 0)::float8 AS age
           FROM dissemination.withdrawals WHERE status = 'pending'`,
        );
        set({}, row.age);
      },
    );
    m.gauge(
      'accounts',
      'Accounts by platform, credential status and whether they are enabled.',
      ['platform', 'status', 'enabled'],
      async (set) => {
        const rows: { platform: string; status: string; enabled: boolean; n: number }[] =
          await this.dataSource.query(
            `SELECT platform, status, enabled, count(*)::int AS n FROM dissemination.accounts GROUP BY 1, 2, 3`,
          );
        for (const r of rows)
          set({ platform: r.platform, status: r.status, enabled: String(r.enabled) }, r.n);
      },
    );
  }

  onApplicationShutdown(): Promise<void> {
    return this.queues.close();
  }
}
