import {
  JOB_STATES,
  QueueDepths,
  SERVICE_RUNTIME,
  ServiceMetrics,
  ServiceRuntime,
} from '@alerta-rosa/runtime';
import { Inject, Injectable, OnApplicationShutdown, OnModuleInit } from '@nestjs/common';
import { DataSource } from 'typeorm';
import { CoordinationConfig } from '../coordination.config';
import { QUEUES } from '../jobs/queue.names';

/**
 * Coordination's figures for /metrics, read at scrape time from its own tables and from BullMQ (never
 * from the task code's hot path): queue depths, mail outcomes, escalations, tasks.
 */
@Injectable()
export class CoordinationMetrics implements OnModuleInit, OnApplicationShutdown {
  private readonly queues: QueueDepths;

  constructor(
    private readonly metrics: ServiceMetrics,
    private readonly dataSource: DataSource,
    @Inject(SERVICE_RUNTIME) runtime: ServiceRuntime<CoordinationConfig>,
  ) {
    this.queues = new QueueDepths(runtime.config);
  }

  onModuleInit(): void {
    const m = this.metrics;
    m.gauge(
      'queue_jobs',
      'Jobs in each coordination BullMQ queue, by state.',
      ['queue', 'state'],
      async (set) => {
        await Promise.all(
          Object.values(QUEUES).map(async (name) => {
            const counts = await this.queues.counts(name);
            for (const state of JOB_STATES) set({ queue: name, state }, counts[state]);
          }),
        );
      },
    );
    m.gauge(
      'mails',
      'E-mails to areas by kind and outcome (queued, sent, failed).',
      ['kind', 'status'],
      async (set) => {
        const rows: { kind: string; status: string; n: number }[] = await this.dataSource.query(
          `SELECT kind, status, count(*)::int AS n FROM coordination.mails GROUP BY 1, 2`,
        );
        for (const r of rows) set({ kind: r.kind, status: r.status }, r.n);
      },
    );
    m.gauge('escalations', 'Escalations recorded, by level and target.', ['level', 'target'], async (set) => {
      const rows: { level: number; target: string; n: number }[] = await this.dataSource.query(
        `SELECT level, target, count(*)::int AS n FROM coordination.escalations GROUP BY 1, 2`,
      );
      for (const r of rows) set({ level: r.level, target: r.target }, r.n);
    });
    m.gauge('tasks', 'PSO tasks by state.', ['state'], async (set) => {
      const rows: { state: string; n: number }[] = await this.dataSource.query(
        `SELECT state, count(*)::int AS n FROM coordination.tasks GROUP BY 1`,
      );
      for (const r of rows) set({ state: r.state }, r.n);
    });
  }

  onApplicationShutdown(): Promise<void> {
    return this.queues.close();
  }
}
