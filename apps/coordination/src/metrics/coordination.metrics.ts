import { ServiceMetrics, SERVICE_RUNTIME, ServiceRuntime, createRedisConnection } from '@alerta-rosa/runtime';
import { Inject, Injectable, OnApplicationShutdown, OnModuleInit } from '@nestjs/common';
import { Queue } from 'bullmq';
import IORedis from 'ioredis';
import { DataSource } from 'typeorm';
import { CoordinationConfig } from '../coordination.config';
import { QUEUES } from '../jobs/queue.names';

const JOB_STATES = ['waiting', 'active', 'delayed', 'prioritized', 'waiting-children', 'failed'] as const;

/**
 * Coordination's figures for /metrics, read at scrape time from its own tables and from BullMQ (never
 * from the task code's hot path): queue depths, mail outcomes, escalations, tasks.
 */
@Injectable()
export class CoordinationMetrics implements OnModuleInit, OnApplicationShutdown {
  private connection: IORedis | null = null;
  private readonly queues = new Map<string, Queue>();

  constructor(
    private readonly metrics: ServiceMetrics,
    private readonly dataSource: DataSource,
    @Inject(SERVICE_RUNTIME) private readonly runtime: ServiceRuntime<CoordinationConfig>,
  ) {}

  onModuleInit(): void {
    const m = this.metrics;
    m.gauge(
      'queue_jobs',
      'Jobs in each coordination BullMQ queue, by state.',
      ['queue', 'state'],
      async (set) => {
        await Promise.all(
          Object.values(QUEUES).map(async (name) => {
            const counts = await this.queue(name).getJobCounts(...JOB_STATES);
            for (const state of JOB_STATES) set({ queue: name, state }, counts[state] ?? 0);
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

  async onApplicationShutdown(): Promise<void> {
    await Promise.all([...this.queues.values()].map((q) => q.close().catch(() => undefined)));
    this.connection?.disconnect();
  }

  private queue(name: string): Queue {
    let queue = this.queues.get(name);
    if (!queue) {
      // Commands fail rather than wait while Redis is away, so a scrape never hangs on it.
      this.connection ??= createRedisConnection(this.runtime.config, { maxRetriesPerRequest: 1 });
      queue = new Queue(name, { connection: this.connection, prefix: this.runtime.config.QUEUE_PREFIX });
      this.queues.set(name, queue);
    }
    return queue;
  }
}
