import { serviceDataSourceOptions } from '@alerta-rosa/database';
import { CommitNotifier, OutboxRelay, OutboxWriter } from '@alerta-rosa/messaging';
import {
  BeforeApplicationShutdown,
  DynamicModule,
  Global,
  Inject,
  Injectable,
  Module,
  OnApplicationBootstrap,
  OnApplicationShutdown,
} from '@nestjs/common';
import { TypeOrmModule } from '@nestjs/typeorm';
import { DataSource, EntitySchema, MixedList } from 'typeorm';
import { DeadLetterController } from './dead-letter.controller';
import { HealthController } from './health.controller';
import { DependencyProbes } from './health/dependency.probes';
import { KafkaOps } from './health/kafka.ops';
import { MetricsController } from './metrics/metrics.controller';
import { RuntimeMetrics } from './metrics/runtime.metrics';
import { ServiceMetrics } from './metrics/service.metrics';
import { RetentionScheduler } from './retention.scheduler';
import { SERVICE_RUNTIME, ServiceRuntime } from './service-runtime';

@Injectable()
class OutboxRelayLifecycle
  implements OnApplicationBootstrap, BeforeApplicationShutdown, OnApplicationShutdown
{
  constructor(
    @Inject(OutboxRelay) private readonly relay: OutboxRelay,
    @Inject(SERVICE_RUNTIME) private readonly runtime: ServiceRuntime,
  ) {}
  onApplicationBootstrap(): void {
    this.relay.start();
  }
  async beforeApplicationShutdown(signal?: string): Promise<void> {
    this.runtime.logger.info({ signal }, `${this.runtime.name} stopping`);
    await this.relay.stop();
  }
  onApplicationShutdown(): void {
    // By now the consumer has finished its in-flight message and committed, and connections are closed.
    this.runtime.logger.info(`${this.runtime.name} stopped`);
  }
}

@Injectable()
class OperationsLifecycle implements OnApplicationShutdown {
  constructor(
    private readonly kafka: KafkaOps,
    private readonly probes: DependencyProbes,
    private readonly notifier: CommitNotifier,
  ) {}
  async onApplicationShutdown(): Promise<void> {
    await this.kafka.close();
    await this.probes.close();
    await this.notifier.close();
  }
}

export interface RuntimeModuleOptions {
  entities: MixedList<Function | string | EntitySchema>;
  migrations: MixedList<Function | string>;
}

/**
 * Everything a service shares with the others: its database (own schema), the outbox writer and
 * relay, the health endpoints (/health, /health/live, /health/ready), Prometheus metrics (/metrics),
 * the retention job and the administrator's list of dead letters.
 */
@Global()
@Module({})
export class RuntimeModule {
  static forRoot(runtime: ServiceRuntime, options: RuntimeModuleOptions): DynamicModule {
    const metrics = (runtime.metrics ??= new ServiceMetrics(
      runtime.name,
      runtime.config.METRICS_COLLECT_TIMEOUT_MS,
    ));
    const notifier = new CommitNotifier({
      databaseUrl: runtime.config.DATABASE_URL,
      logger: runtime.logger.child({ component: 'commit-notifier' }),
    });
    return {
      module: RuntimeModule,
      imports: [
        TypeOrmModule.forRoot(
          serviceDataSourceOptions({
            url: runtime.config.DATABASE_URL,
            schema: runtime.schema,
            entities: options.entities,
            migrations: options.migrations,
            poolSize: runtime.config.DATABASE_POOL_SIZE,
            poolIdleMs: runtime.config.DATABASE_POOL_IDLE_MS,
            prepareStatements: runtime.config.DATABASE_PREPARED_STATEMENTS,
            applicationName: runtime.name,
          }),
        ),
      ],
      controllers: [HealthController, MetricsController, DeadLetterController],
      providers: [
        { provide: SERVICE_RUNTIME, useValue: runtime },
        { provide: CommitNotifier, useValue: notifier },
        {
          provide: OutboxWriter,
          useValue: new OutboxWriter(runtime.schema, runtime.config.KAFKA_TOPIC_PREFIX, notifier),
        },
        {
          provide: OutboxRelay,
          useValue: new OutboxRelay({
            notifier,
            schema: runtime.schema,
            databaseUrl: runtime.config.DATABASE_URL,
            kafka: runtime.kafka,
            logger: runtime.logger.child({ component: 'outbox-relay' }),
            queryTimeoutMs: runtime.config.RELAY_QUERY_TIMEOUT_MS,
            sessionIdleTimeoutMs: runtime.config.RELAY_SESSION_IDLE_TIMEOUT_MS,
          }),
        },
        OutboxRelayLifecycle,
        { provide: ServiceMetrics, useValue: metrics },
        {
          provide: KafkaOps,
          useValue: new KafkaOps(
            `alerta-rosa-${runtime.name}-ops`,
            runtime.config.KAFKA_BROKERS,
            runtime.logger,
            runtime.config.KAFKA_TOPIC_PREFIX,
            runtime.config.HEALTH_PROBE_TIMEOUT_MS,
          ),
        },
        {
          provide: DependencyProbes,
          inject: [DataSource, KafkaOps],
          useFactory: (dataSource: DataSource, kafka: KafkaOps) =>
            new DependencyProbes(dataSource, kafka, runtime.config.HEALTH_PROBE_TIMEOUT_MS),
        },
        RuntimeMetrics,
        RetentionScheduler,
        OperationsLifecycle,
      ],
      exports: [
        SERVICE_RUNTIME,
        CommitNotifier,
        OutboxWriter,
        OutboxRelay,
        TypeOrmModule,
        ServiceMetrics,
        KafkaOps,
        DependencyProbes,
        RetentionScheduler,
      ],
    };
  }
}
