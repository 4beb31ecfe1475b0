import { BaseConfig, loadConfigOrExit } from '@alerta-rosa/config';
import { Producer as ServiceName, redriveTopic } from '@alerta-rosa/contracts';
import {
  ensureDatabase,
  migrationsApplied,
  runMigrations,
  serviceDataSourceOptions,
} from '@alerta-rosa/database';
import {
  KafkaInboxServer,
  PreserveRpcErrorFilter,
  createKafka,
  ensureTopics,
  messagingMigrations,
} from '@alerta-rosa/messaging';
import { PinoNestLogger, createLogger } from '@alerta-rosa/observability';
import { DynamicModule, INestApplication, NestApplicationOptions } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { NestExpressApplication } from '@nestjs/platform-express';
import type { Logger } from 'pino';
import { DataSource } from 'typeorm';
import { z } from 'zod';
import { httpMetricsMiddleware } from './metrics/http-metrics.middleware';
import { ServiceMetrics } from './metrics/service.metrics';
import { RuntimeModuleOptions } from './runtime.module';
import { ServiceRuntime } from './service-runtime';

export interface BootstrapOptions<C extends BaseConfig & { PORT: number }> extends RuntimeModuleOptions {
  name: ServiceName;
  schema: string;
  configSchema: z.ZodType<C>;
  module: (runtime: ServiceRuntime<C>) => DynamicModule;
  /** Logical topics this service consumes, each with an @EventPattern handler. */
  consumes?: string[];
  /** Extra HTTP set-up (body limits, filters) before the app listens. */
  configureHttp?: (app: NestExpressApplication, runtime: ServiceRuntime<C>) => void;
  nestOptions?: NestApplicationOptions;
  /**
   * Listen (and log `<name> ready`) without waiting for the Kafka consumer to join its group. After a
   * crash the join waits until the dead member's session expires (CONSUMER_SESSION_TIMEOUT_MS after its
   * last heartbeat); a service whose other work (queues, HTTP) should resume at once sets this. /health
   * shows the consumer `starting` until it has joined.
   */
  readyBeforeConsumerJoins?: boolean;
}

/**
 * Starts one service: validate config, create the database/schema and run migrations, make sure the
 * topics exist, start HTTP, the outbox relay and (if any) the Kafka consumer; stop all of it on SIGTERM.
 */
export async function bootstrapService<C extends BaseConfig & { PORT: number }>(
  options: BootstrapOptions<C>,
): Promise<INestApplication> {
  const config = loadConfigOrExit(options.name, options.configSchema);
  const logger = createLogger(options.name, config.LOG_LEVEL);
  const kafka = createKafka(`alerta-rosa-${options.name}`, config.KAFKA_BROKERS, logger);
  const metrics = new ServiceMetrics(options.name, config.METRICS_COLLECT_TIMEOUT_MS);
  const runtime: ServiceRuntime<C> = {
    name: options.name,
    schema: options.schema,
    config,
    logger,
    kafka,
    metrics,
  };

  const t0 = Date.now();
  const phases: Record<string, number> = {};
  const mark = (phase: string) => (phases[phase] = Date.now() - t0);
  process.on('unhandledRejection', (err) => logger.error({ err: String(err) }, 'unhandled rejection'));

  // Independent steps, side by side: the schema (skipped at once when every migration is recorded) and
  // the topics (created, or checked and corrected).
  await Promise.all([
    migrate(options, config, logger).then(() => mark('migrations')),
    ensureTopics(
      kafka,
      {
        prefix: config.KAFKA_TOPIC_PREFIX,
        partitions: config.KAFKA_TOPIC_PARTITIONS,
        replicationFactor: config.KAFKA_REPLICATION_FACTOR,
        extraTopics: options.consumes?.length ? [redriveTopic(consumerGroupOf(options.name))] : [],
      },
      60_000,
      (msg, detail) => logger.warn(detail, msg),
    ).then((created) => {
      if (created.length) logger.info({ created }, 'kafka topics created');
      mark('topics');
    }),
  ]);

  const app = await NestFactory.create<NestExpressApplication>(options.module(runtime), {
    logger: new PinoNestLogger(logger),
    bufferLogs: false,
    ...options.nestOptions,
  });
  app.enableShutdownHooks();
  // First middleware: the latency histogram sees every request, refused ones included.
  app.use(httpMetricsMiddleware(metrics));
  options.configureHttp?.(app, runtime);
  // Module hooks (relay, dispatchers, data loaded from the database) run before the first event is
  // consumed: a hybrid app would otherwise start its consumers first and initialise only in listen().
  mark('nestCreate');
  await app.init();
  mark('nestInit');

  let consumerJoined: Promise<void> | null = null;
  if (options.consumes?.length) {
    const server = new KafkaInboxServer({
      kafka,
      groupId: consumerGroupOf(options.name),
      redrive: true,
      topicPrefix: config.KAFKA_TOPIC_PREFIX,
      topics: options.consumes,
      dataSource: app.get(DataSource),
      schema: options.schema,
      logger: logger.child({ component: 'kafka-consumer' }),
      maxAttempts: config.CONSUMER_MAX_ATTEMPTS,
      retryBackoffMs: config.CONSUMER_RETRY_BACKOFF_MS,
      sessionTimeoutMs: config.CONSUMER_SESSION_TIMEOUT_MS,
      groupMaxMessages: config.CONSUMER_GROUP_MAX_EVENTS,
      groupMaxMs: config.CONSUMER_GROUP_MAX_MS,
      killAfterInboxCommit: config.FAULT_KILL_AFTER_INBOX_COMMIT,
      transientBackoffMs: config.CONSUMER_TRANSIENT_BACKOFF_MS,
      transientBackoffMaxMs: config.CONSUMER_TRANSIENT_BACKOFF_MAX_MS,
    });
    runtime.consumerStatus = () => server.consumerStatus();
    const microservice = app.connectMicroservice({ strategy: server }, { inheritAppConfig: true });
    microservice.useGlobalFilters(new PreserveRpcErrorFilter());
    consumerJoined = app.startAllMicroservices().then(() => {
      mark('consumer');
    });
    // Joining the group can wait for a dead member's session to expire (a restart after a crash):
    // a service that does not need its consumer to serve starts serving meanwhile.
    if (!options.readyBeforeConsumerJoins) await consumerJoined;
  }
  await app.listen(config.PORT, process.env.HOST ?? '127.0.0.1');
  mark('listen');
  logger.info(
    {
      url: `http://127.0.0.1:${config.PORT}`,
      pid: process.pid,
      startupMs: phases,
      processUptimeMs: Math.round(process.uptime() * 1000),
    },
    `${options.name} ready`,
  );
  if (options.readyBeforeConsumerJoins && consumerJoined) {
    consumerJoined.then(
      () => logger.info({ startupMs: phases }, 'kafka consumer joined its group'),
      (err: Error) => {
        logger.error({ err: err.message }, 'kafka consumer failed to start');
        process.stderr.write(`${options.name}: failed to start: ${err.message}\n`);
        process.exit(1);
      },
    );
  }
  return app;
}

/**
 * The service's schema at its latest migration: nothing to do when every migration is already recorded
 * (one query); otherwise the database is created if missing (outside production) and the migrations
 * run under the advisory lock.
 */
async function migrate<C extends BaseConfig & { PORT: number }>(
  options: BootstrapOptions<C>,
  config: C,
  logger: Logger,
): Promise<void> {
  const migrations = [...(options.migrations as Function[]), ...messagingMigrations(options.schema)];
  if (await migrationsApplied(config.DATABASE_URL, options.schema, migrations)) return;
  if (config.NODE_ENV !== 'production') await ensureDatabase(config.DATABASE_URL);
  const migrator = new DataSource(
    serviceDataSourceOptions({
      url: config.DATABASE_URL,
      schema: options.schema,
      entities: options.entities,
      migrations,
      poolSize: 2, // one holds the advisory lock, one runs the migrations
      prepareStatements: false, // the schema changes under them
      applicationName: `${options.name}-migrations`,
    }),
  );
  await migrator.initialize();
  try {
    const applied = await runMigrations(migrator, options.schema);
    if (applied.length) logger.info({ applied }, 'migrations applied');
  } finally {
    await migrator.destroy();
  }
}

/** The consumer group (and inbox consumer name) of a service. */
export function consumerGroupOf(service: string): string {
  return `alerta-rosa.${service}`;
}

/** Entry-point wrapper: any start-up failure is one log line and exit code 1. */
export function runService<C extends BaseConfig & { PORT: number }>(options: BootstrapOptions<C>): void {
  bootstrapService(options).catch((err: Error) => {
    process.stderr.write(`${options.name}: failed to start: ${err.message}\n`);
    process.exit(1);
  });
}
