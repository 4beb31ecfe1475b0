import { Envelope, EventDecodeError, decodeEvent, dlqTopic, logicalTopic, physicalTopic } from '@alerta-rosa/contracts';
import { CustomTransportStrategy, MessageHandler, Server } from '@nestjs/microservices';
import { Consumer, EachMessagePayload, IHeaders, Kafka, Producer } from 'kafkajs';
import type { Logger } from 'pino';
import { lastValueFrom } from 'rxjs';
import { DataSource } from 'typeorm';
import { ConsumedMessageMeta, InboxContext } from './inbox.context';

export interface KafkaInboxServerOptions {
  kafka: Kafka;
  /** Consumer group; also the inbox's consumer name. */
  groupId: string;
  topicPrefix: string;
  /** Logical topics to consume; each needs an `@EventPattern(topic)` handler. */
  topics: string[];
  dataSource: DataSource;
  schema: string;
  logger: Logger;
  maxAttempts: number;
  retryBackoffMs: number;
  partitionsConsumedConcurrently?: number;
  /** Test-only: SIGKILL the process right after the Nth inbox commit, before the offset commit. */
  killAfterInboxCommit?: number;
  /** Consumer-group session timeout (how long a crashed member holds its partitions); default 30 s. */
  sessionTimeoutMs?: number;
}

/**
 * Kafka transport for Nest microservices with the guarantees the stock one lacks:
 * - the event is recorded in the inbox (consumer, eventId) and handled in ONE database transaction,
 *   so a redelivery is recognised and skipped;
 * - the offset is committed only after that transaction;
 * - a handler that keeps failing is retried a bounded number of times, then the message goes to
 *   `<topic>.dlq` with the error and the partition moves on. Undecodable messages go there at once.
 */
export class KafkaInboxServer extends Server implements CustomTransportStrategy {
  private consumer: Consumer | null = null;
  private dlqProducer: Producer | null = null;
  private committedInbox = 0;

  constructor(private readonly options: KafkaInboxServerOptions) {
    super();
  }

  listen(callback: (err?: unknown) => void): void {
    this.start().then(
      () => callback(),
      (err) => callback(err),
    );
  }

  async close(): Promise<void> {
    // kafkajs lets the message in flight finish before the consumer leaves the group.
    await this.consumer?.disconnect().catch(() => undefined);
    await this.dlqProducer?.disconnect().catch(() => undefined);
    this.consumer = null;
    this.dlqProducer = null;
  }

  on(): void {
    // Transport-level events are logged by kafkajs' log creator.
  }

  unwrap<T>(): T {
    return this.consumer as T;
  }

  private async start(): Promise<void> {
    const { kafka, groupId, topicPrefix, topics, logger } = this.options;
    for (const t of topics) {
      if (!this.getHandlerByPattern(t)) throw new Error(`no @EventPattern handler for topic ${t}`);
    }
    this.dlqProducer = kafka.producer({ allowAutoTopicCreation: false, idempotent: false, maxInFlightRequests: 1 });
    await this.dlqProducer.connect();
    this.consumer = kafka.consumer({
      groupId: physicalTopic(topicPrefix, groupId),
      allowAutoTopicCreation: false,
      sessionTimeout: this.options.sessionTimeoutMs ?? 30_000,
      heartbeatInterval: Math.min(3_000, Math.floor((this.options.sessionTimeoutMs ?? 30_000) / 3)),
      maxWaitTimeInMs: 500,
    });
    this.consumer.on(this.consumer.events.CRASH, (e) =>
      logger.error({ err: String(e.payload.error), restart: e.payload.restart }, 'kafka consumer crashed'),
    );
    await this.consumer.connect();
    await this.consumer.subscribe({ topics: topics.map((t) => physicalTopic(topicPrefix, t)), fromBeginning: true });
    await this.consumer.run({
      autoCommit: false,
      partitionsConsumedConcurrently: this.options.partitionsConsumedConcurrently ?? 3,
      eachMessage: (payload) => this.onMessage(payload),
    });
    logger.info({ groupId, topics }, 'kafka consumer running');
  }

  private async onMessage({ topic, partition, message, heartbeat }: EachMessagePayload): Promise<void> {
    const { logger, maxAttempts, retryBackoffMs } = this.options;
    const logical = logicalTopic(this.options.topicPrefix, topic) ?? topic;
    const meta: ConsumedMessageMeta = {
      topic,
      logicalTopic: logical,
      partition,
      offset: message.offset,
      consumer: this.options.groupId,
    };
    let envelope: Envelope;
    try {
      envelope = decodeEvent(message.value);
    } catch (err) {
      await this.deadLetter(meta, message.key, message.value, message.headers, err as Error, 1);
      await this.commit(meta);
      return;
    }
    const handler = this.getHandlerByPattern(logical);
    if (!handler) throw new Error(`no handler for ${logical}`);
    for (let attempt = 1; ; attempt++) {
      try {
        await this.processOnce(envelope, handler, meta);
        break;
      } catch (err) {
        if (attempt >= maxAttempts) {
          await this.deadLetter(meta, message.key, message.value, message.headers, err as Error, attempt);
          break;
        }
        const delay = retryBackoffMs * 2 ** (attempt - 1);
        logger.warn(
          { eventId: envelope.eventId, alertId: envelope.alertId, attempt, retryInMs: delay, err: (err as Error).message },
          'event handler failed; retrying',
        );
        await new Promise((r) => setTimeout(r, delay));
        await heartbeat();
      }
    }
    await this.commit(meta);
  }

  private async processOnce(envelope: Envelope, handler: MessageHandler, meta: ConsumedMessageMeta): Promise<void> {
    const { dataSource, schema, logger } = this.options;
    let duplicate = false;
    await dataSource.transaction(async (manager) => {
      const inserted: unknown[] = await manager.query(
        `INSERT INTO "${schema}".inbox (consumer, event_id, event_type, alert_id, topic, kafka_partition, kafka_offset)
         VALUES ($1, $2, $3, $4, $5, $6, $7) ON CONFLICT (consumer, event_id) DO NOTHING RETURNING event_id`,
        [meta.consumer, envelope.eventId, envelope.type, envelope.alertId, meta.logicalTopic, meta.partition, meta.offset],
      );
      if (inserted.length === 0) {
        duplicate = true;
        return;
      }
      const result = await handler(envelope, new InboxContext([manager, meta]));
      await lastValueFrom(this.transformToObservable(result), { defaultValue: undefined });
    });
    const log = { eventId: envelope.eventId, alertId: envelope.alertId, type: envelope.type, consumer: meta.consumer };
    if (duplicate) {
      logger.info(log, 'duplicate event skipped (already in inbox)');
      return;
    }
    logger.debug(log, 'event processed');
    this.committedInbox++;
    if (this.options.killAfterInboxCommit && this.committedInbox >= this.options.killAfterInboxCommit) {
      logger.warn(log, 'fault injection: SIGKILL after inbox commit, before offset commit');
      process.kill(process.pid, 'SIGKILL');
      await new Promise(() => undefined);
    }
  }

  private async commit(meta: ConsumedMessageMeta): Promise<void> {
    await this.consumer!.commitOffsets([
      { topic: meta.topic, partition: meta.partition, offset: (BigInt(meta.offset) + 1n).toString() },
    ]);
  }

  private async deadLetter(
    meta: ConsumedMessageMeta,
    key: Buffer | null,
    value: Buffer | null,
    headers: IHeaders | undefined,
    error: Error,
    attempts: number,
  ): Promise<void> {
    const reason = error instanceof EventDecodeError ? `${error.reason}: ${error.message}` : error.message;
    const target = physicalTopic(this.options.topicPrefix, dlqTopic(meta.logicalTopic));
    await this.options.dataSource.query(
      `INSERT INTO "${this.options.schema}".dead_letters (consumer, topic, kafka_partition, kafka_offset, message_key, error, attempts)
       VALUES ($1, $2, $3, $4, $5, $6, $7)`,
      [meta.consumer, meta.logicalTopic, meta.partition, meta.offset, key?.toString() ?? null, reason.slice(0, 4000), attempts],
    );
    await this.dlqProducer!.send({
      topic: target,
      acks: -1,
      messages: [
        {
          key,
          value,
          // Same partition as the original, so the dead letters of one alert stay together and in order.
          partition: meta.partition,
          headers: {
            ...(headers ?? {}),
            'dlq-error': reason.slice(0, 4000),
            'dlq-consumer': meta.consumer,
            'dlq-original-topic': meta.topic,
            'dlq-original-partition': String(meta.partition),
            'dlq-original-offset': meta.offset,
            'dlq-attempts': String(attempts),
            'dlq-failed-at': new Date().toISOString(),
          },
        },
      ],
    });
    this.options.logger.error(
      { topic: meta.topic, partition: meta.partition, offset: meta.offset, consumer: meta.consumer, attempts, err: reason },
      'message dead-lettered',
    );
  }
}
