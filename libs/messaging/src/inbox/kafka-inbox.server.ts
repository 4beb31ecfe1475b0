import {
  Envelope,
  EventDecodeError,
  decodeEvent,
  dlqTopic,
  logicalTopic,
  physicalTopic,
} from '@alerta-rosa/contracts';
import { CustomTransportStrategy, MessageHandler, Server } from '@nestjs/microservices';
import { Consumer, EachBatchPayload, IHeaders, Kafka, KafkaMessage, Producer } from 'kafkajs';
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
  sessionTimeoutMs?: number;
  /** Test-only: SIGKILL the process right after the Nth inbox commit, before the offset commit. */
  killAfterInboxCommit?: number;
}

/**
 * Kafka transport for Nest microservices with the guarantees the stock one lacks:
 * - the event is recorded in the inbox (consumer, eventId) and handled in ONE database transaction,
 *   so a redelivery is recognised and skipped;
 * - offsets are committed only after those transactions (once per fetched batch), in partition order;
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
    this.dlqProducer = kafka.producer({
      allowAutoTopicCreation: false,
      idempotent: false,
      maxInFlightRequests: 1,
    });
    await this.dlqProducer.connect();
    this.consumer = kafka.consumer({
      groupId: physicalTopic(topicPrefix, groupId),
      allowAutoTopicCreation: false,
      sessionTimeout: this.options.sessionTimeoutMs ?? 10_000,
      heartbeatInterval: Math.floor((this.options.sessionTimeoutMs ?? 10_000) / 10),
      maxWaitTimeInMs: 100,
    });
    this.consumer.on(this.consumer.events.CRASH, (e) =>
      logger.error({ err: String(e.payload.error), restart: e.payload.restart }, 'kafka consumer crashed'),
    );
    await this.consumer.connect();
    await this.consumer.subscribe({
      topics: topics.map((t) => physicalTopic(topicPrefix, t)),
      fromBeginning: true,
    });
    await this.consumer.run({
      autoCommit: false,
      eachBatchAutoResolve: false,
      partitionsConsumedConcurrently: this.options.partitionsConsumedConcurrently ?? 8,
      eachBatch: (payload) => this.onBatch(payload),
    });
    logger.info({ groupId, topics }, 'kafka consumer running');
  }

  /**
   * Messages of a partition one after the other, then one offset commit for what was handled, through
   * the batch's own commit (which, unlike consumer.commitOffsets, still commits while the consumer is
   * stopping, so a graceful stop leaves nothing to redeliver).
   */
  private async onBatch({
    batch,
    resolveOffset,
    heartbeat,
    commitOffsetsIfNecessary,
    isRunning,
    isStale,
  }: EachBatchPayload): Promise<void> {
    let processed: string | null = null;
    try {
      for (const message of batch.messages) {
        if (!isRunning() || isStale()) break;
        await this.onMessage(batch.topic, batch.partition, message, heartbeat);
        resolveOffset(message.offset);
        processed = message.offset;
      }
    } finally {
      // One commit per batch (also when stopping or failing midway): whatever was handled is committed;
      // a message handled but not committed (crash) is redelivered and recognised by the inbox.
      if (processed !== null) {
        await commitOffsetsIfNecessary({
          topics: [
            {
              topic: batch.topic,
              partitions: [{ partition: batch.partition, offset: (BigInt(processed) + 1n).toString() }],
            },
          ],
        });
      }
    }
  }

  private async onMessage(
    topic: string,
    partition: number,
    message: KafkaMessage,
    heartbeat: () => Promise<void>,
  ): Promise<void> {
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
          {
            eventId: envelope.eventId,
            alertId: envelope.alertId,
            attempt,
            retryInMs: delay,
            err: (err as Error).message,
          },
          'event handler failed; retrying',
        );
        await new Promise((r) => setTimeout(r, delay));
        await heartbeat();
      }
    }
  }

  private async processOnce(
    envelope: Envelope,
    handler: MessageHandler,
    meta: ConsumedMessageMeta,
  ): Promise<void> {
    const { dataSource, schema, logger } = this.options;
    let duplicate = false;
    await dataSource.transaction(async (manager) => {
      const inserted: unknown[] = await manager.query(
        `INSERT INTO "${schema}".inbox (consumer, event_id, event_type, alert_id, topic, kafka_partition, kafka_offset)
         VALUES ($1, $2, $3, $4, $5, $6, $7) ON CONFLICT (consumer, event_id) DO NOTHING RETURNING event_id`,
        [
          meta.consumer,
          envelope.eventId,
          envelope.type,
          envelope.alertId,
          meta.logicalTopic,
          meta.partition,
          meta.offset,
        ],
      );
      if (inserted.length === 0) {
        duplicate = true;
        return;
      }
      const result = await handler(envelope, new InboxContext([manager, meta]));
      await lastValueFrom(this.transformToObservable(result), { defaultValue: undefined });
    });
    const log = {
      eventId: envelope.eventId,
      alertId: envelope.alertId,
      type: envelope.type,
      consumer: meta.consumer,
    };
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
      [
        meta.consumer,
        meta.logicalTopic,
        meta.partition,
        meta.offset,
        key?.toString() ?? null,
        reason.slice(0, 4000),
        attempts,
      ],
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
      {
        topic: meta.topic,
        partition: meta.partition,
        offset: meta.offset,
        consumer: meta.consumer,
        attempts,
        err: reason,
      },
      'message dead-lettered',
    );
  }
}
