import { ServiceMetrics } from '@alerta-rosa/runtime';
import { Injectable, OnModuleInit } from '@nestjs/common';
import { DataSource } from 'typeorm';

/** Intake's own figures for /metrics, counted from its tables at scrape time. */
@Injectable()
export class IntakeMetrics implements OnModuleInit {
  constructor(
    private readonly metrics: ServiceMetrics,
    private readonly dataSource: DataSource,
  ) {}

  onModuleInit(): void {
    this.metrics.gauge('alerts', 'Alerts by lifecycle status.', ['status'], async (set) => {
      const rows: { status: string; n: number }[] = await this.dataSource.query(
        `SELECT status, count(*)::int AS n FROM intake.alerts GROUP BY status`,
      );
      for (const r of rows) set({ status: r.status }, r.n);
    });
    this.metrics.gauge(
      'private_parts',
      'Private parts of the ficha: kept, or emptied by the retention job (purged).',
      ['state'],
      async (set) => {
        const [row]: { kept: number; purged: number }[] = await this.dataSource.query(
          `SELECT count(*) FILTER (WHERE purged_at IS NULL)::int AS kept,
                  count(*) FILTER (WHERE purged_at IS NOT NULL)::int AS purged
           FROM intake.alert_private`,
        );
        set({ state: 'kept' }, row.kept);
        set({ state: 'purged' }, row.purged);
      },
    );
  }
}
