import { Inject, Injectable, OnModuleInit } from '@nestjs/common';
import { DataSource } from 'typeorm';
import { deadLetterCounts } from '../health/dead-letters.summary';
import { DependencyProbes } from '../health/dependency.probes';
import { KafkaOps } from '../health/kafka.ops';
import { SERVICE_RUNTIME, ServiceRuntime } from '../service-runtime';
import { ServiceMetrics } from './service.metrics';

/**
 * The metrics every service has, read at scrape time: consumer lag of every consumer group of the
 * deployment (so a stopped service's lag is visible on the others), the outbox backlog and the age of
 * its oldest unpublished row, dead letters, the consumer's state and whether each dependency answers.
 */
@Injectable()
export class RuntimeMetrics implements OnModuleInit {
  constructor(
    private readonly metrics: ServiceMetrics,
    private readonly dataSource: DataSource,
    private readonly kafka: KafkaOps,
    private readonly probes: DependencyProbes,
    @Inject(SERVICE_RUNTIME) private readonly runtime: ServiceRuntime,
  ) {}

  onModuleInit(): void {
    const m = this.metrics;
    const schema = this.runtime.schema;
    m.gauge(
      'kafka_consumer_lag',
      'Messages on a partition that the consumer group has not committed yet (every group of this deployment).',
      ['group', 'topic', 'partition'],
      async (set) => {
        for (const l of await this.kafka.consumerLag())
          set({ group: l.group, topic: l.topic, partition: l.partition }, l.lag);
      },
    );
    m.gauge('outbox_backlog', 'Outbox rows of this service not yet published to Kafka.', [], async (set) => {
      const [row] = await this.dataSource.query(
        `SELECT count(*)::int AS n FROM "${schema}".outbox WHERE published_at IS NULL`,
      );
      set({}, row.n);
    });
    m.gauge(
      'outbox_oldest_unpublished_age_seconds',
      'Age of the oldest outbox row not yet published (0 when the outbox is empty).',
      [],
      async (set) => {
        const [row] = await this.dataSource.query(
          `SELECT coalesce(extract(epoch FROM clock_timestamp() - min(created_at)), 0)::float8 AS age
           FROM "${schema}".outbox WHERE published_at IS NULL`,
        );
        set({}, row.age);
      },
    );
    m.gauge(
      'dead_letters',
      'Messages this service dead-lettered (rows in its dead_letters table), by consumer and topic.',
      ['consumer', 'topic'],
      async (set) => {
        for (const c of await deadLetterCounts(this.dataSource, schema)) {
          set({ consumer: c.consumer, topic: c.topic }, c.count);
        }
      },
    );
    m.gauge(
      'dead_letter_last_timestamp_seconds',
      'When the most recent dead letter of a consumer and topic was recorded (Unix seconds).',
      ['consumer', 'topic'],
      async (set) => {
        for (const c of await deadLetterCounts(this.dataSource, schema)) {
          set({ consumer: c.consumer, topic: c.topic }, c.latestAt);
        }
      },
    );
    m.gauge(
      'dependency_up',
      'Whether a dependency answered its probe during this scrape (1) or not (0).',
      ['dependency'],
      async (set) => {
        const report = await this.probes.check();
        for (const [dependency, result] of Object.entries(report)) {
          if (result) set({ dependency }, result.ok ? 1 : 0);
        }
      },
    );
    // The consumer starts after the modules initialise: its status is read at scrape time.
    m.gauge(
      'kafka_consumer_running',
      "Whether this service's Kafka consumer is running (1) or starting, recovering or closed (0); absent where the service consumes nothing.",
      [],
      async (set) => {
        const status = this.runtime.consumerStatus?.();
        if (status) set({}, status.state === 'running' ? 1 : 0);
      },
    );
  }
}
