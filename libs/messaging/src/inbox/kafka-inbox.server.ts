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
import { DataSource, EntityManager } from 'typeorm';
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
  /**
   * Consecutive messages of a partition handled in one database transaction (1 = one transaction per
   * message). A group also closes after `groupMaxMs` of handling, so the first event of a group is
   * never held back long for the sake of the others.
   */
  groupMaxMessages?: number;
  groupMaxMs?: number;
}

/**
 * Kafka transport for Nest microservices with the guarantees the stock one lacks:
 * - the event is recorded in the inbox (consumer, eventId) and handled in ONE database transaction,
 *   so a redelivery is recognised and skipped;
 * - offsets are committed only after those transactions (once per fetched batch), in partition order;
 * - consecutive messages of a partition share one transaction (a "group", bounded in size and time):
 *   under load this saves a commit (and its WAL flush) per event. If anything in a group fails, the
 *   whole group rolls back and its messages are handled again one transaction each, so one bad event
 *   never takes its neighbours' effects with it;
 * - a handler that keeps failing is retried a bounded number of times, then the message goes to
 *   `<topic>.dlq` with the error and the partition moves on. Undecodable messages go there at once.
 */
export class KafkaInboxServer extends Server implements CustomTransportStrategy {
  private consumer: Consumer | null = null;
  private dlqProducer: Producer | null = null;
  private committedInbox = 0;
  private closing = false;
  private recreateTimer: NodeJS.Timeout | null = null;
  private recreateDelayMs = 0;
  private state: { state: 'starting' | 'running' | 'recovering' | 'closed'; since: string } = {
    state: 'starting',
    since: new Date().toISOString(),
  };

  constructor(private readonly options: KafkaInboxServerOptions) {
    super();
  }

  listen(callback: (err?: unknown) => void): void {
    this.start().then(
      () => callback(),
      (err) => callback(err),
    );
  }

  /** What the consumer is doing now: running, or being replaced after kafkajs gave up on it. */
  consumerStatus(): { state: 'starting' | 'running' | 'recovering' | 'closed'; since: string } {
    return { ...this.state };
  }

  private setState(state: 'starting' | 'running' | 'recovering' | 'closed'): void {
    if (this.state.state !== state) this.state = { state, since: new Date().toISOString() };
  }

  async close(): Promise<void> {
    this.closing = true;
    this.setState('closed');
    if (this.recreateTimer) clearTimeout(this.recreateTimer);
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
    const { kafka, topics } = this.options;
    for (const t of topics) {
      if (!this.getHandlerByPattern(t)) throw new Error(`no @EventPattern handler for topic ${t}`);
    }
    this.dlqProducer = kafka.producer({
      allowAutoTopicCreation: false,
      idempotent: false,
      maxInFlightRequests: 1,
    });
    await this.dlqProducer.connect();
    await this.startConsumer();
  }

  private async startConsumer(): Promise<void> {
    const { kafka, groupId, topicPrefix, topics, logger } = this.options;
    const consumer = kafka.consumer({
      groupId: physicalTopic(topicPrefix, groupId),
      allowAutoTopicCreation: false,
      sessionTimeout: this.options.sessionTimeoutMs ?? 10_000,
      heartbeatInterval: Math.floor((this.options.sessionTimeoutMs ?? 10_000) / 10),
      maxWaitTimeInMs: 100,
    });
    this.consumer = consumer;
    consumer.on(consumer.events.CRASH, (e) => {
      logger.error({ err: String(e.payload.error), restart: e.payload.restart }, 'kafka consumer crashed');
      // kafkajs restarts by itself only after retriable errors. Some it deems final happen in a
      // plain broker restart (e.g. "Failed to find group coordinator" while the broker shuts down);
      // a worker must never stop consuming silently, so a new consumer takes over.
      if (!e.payload.restart) this.recreateConsumer(consumer);
    });
    await consumer.connect();
    await consumer.subscribe({
      topics: topics.map((t) => physicalTopic(topicPrefix, t)),
      fromBeginning: true,
    });
    await consumer.run({
      autoCommit: false,
      eachBatchAutoResolve: false,
      partitionsConsumedConcurrently: this.options.partitionsConsumedConcurrently ?? 8,
      eachBatch: (payload) => this.onBatch(payload),
    });
    this.setState('running');
    logger.info({ groupId, topics }, 'kafka consumer running');
  }

  /** Replaces a consumer kafkajs gave up on, retrying with capped backoff until it runs again. */
  private recreateConsumer(dead: Consumer): void {
    if (this.closing || this.consumer !== dead || this.recreateTimer) return;
    this.setState('recovering');
    this.recreateDelayMs = Math.min(Math.max(500, this.recreateDelayMs * 2), 5_000);
    const delay = this.recreateDelayMs;
    this.options.logger.warn({ retryInMs: delay }, 'kafka consumer stopped for good; starting a new one');
    this.recreateTimer = setTimeout(() => {
      this.recreateTimer = null;
      if (this.closing) return;
      void (async () => {
        await dead.disconnect().catch(() => undefined);
        try {
          await this.startConsumer();
          this.recreateDelayMs = 0;
        } catch (err) {
          this.options.logger.warn({ err: (err as Error).message }, 'new kafka consumer failed to start');
          const failed = this.consumer;
          if (failed) {
            await failed.disconnect().catch(() => undefined);
            this.recreateConsumer(failed);
          }
        }
      })();
    }, delay);
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
    const live = () => isRunning() && !isStale();
    const messages = batch.messages;
    let processed: string | null = null;
    const done = (message: KafkaMessage) => {
      resolveOffset(message.offset);
      processed = message.offset;
    };
    try {
      const maxGroup = this.options.groupMaxMessages ?? 100;
      // A message whose handler failed inside a group: the messages before it go in a group of their
      // own, then it is handled alone (its failed attempt counts), then grouping resumes after it.
      let failed = null as { index: number; error: Error } | null;
      let i = 0;
      while (i < messages.length && live()) {
        if (failed?.index === i) {
          await this.onMessage(batch.topic, batch.partition, messages[i], heartbeat, failed.error);
          done(messages[i++]);
          failed = null;
          continue;
        }
        const end = failed ? failed.index : Math.min(messages.length, i + maxGroup);
        const r = await this.processGroup(batch.topic, batch.partition, messages.slice(i, end), live);
        for (let k = 0; k < r.committed; k++) done(messages[i + k]);
        i += r.committed;
        if (r.failure && r.failure.index >= 0) {
          failed = { index: i + r.failure.index, error: r.failure.error };
        } else if ((r.failure || r.undecodable) && i < messages.length && live()) {
          // Undecodable (dead-lettered at once), or a group that failed outside any handler (the
          // database, the commit): this message alone, with bounded retries and the DLQ.
          await this.onMessage(batch.topic, batch.partition, messages[i], heartbeat);
          done(messages[i++]);
        }
        await heartbeat();
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

  /**
   * Handles the longest prefix of `messages` that fits a group (size and time limits), in one
   * transaction, and says how many it committed. It stops before an undecodable message
   * (`undecodable`). If anything fails the whole group rolls back (`committed` 0) and `failure` says
   * which message's handler threw (`index`), or -1 when the failure was not a handler's.
   */
  private async processGroup(
    topic: string,
    partition: number,
    messages: KafkaMessage[],
    live: () => boolean,
  ): Promise<{ committed: number; undecodable?: boolean; failure?: { index: number; error: Error } }> {
    const maxMs = this.options.groupMaxMs ?? 20;
    if ((this.options.groupMaxMessages ?? 100) <= 1 || messages.length === 0) {
      return { committed: 0, failure: { index: -1, error: new Error('grouping disabled') } };
    }
    const logical = logicalTopic(this.options.topicPrefix, topic) ?? topic;
    const handler = this.getHandlerByPattern(logical);
    if (!handler) throw new Error(`no handler for ${logical}`);
    const started = Date.now();
    const handled: { envelope: Envelope; duplicate: boolean }[] = [];
    let undecodable = false;
    let failedAt = -1;
    try {
      await this.options.dataSource.transaction(async (manager) => {
        for (const message of messages) {
          if (!live() || (handled.length > 0 && Date.now() - started >= maxMs)) break;
          let envelope: Envelope;
          try {
            envelope = decodeEvent(message.value);
          } catch {
            undecodable = true; // dead-lettered on its own once this group has committed
            break;
          }
          const meta = this.metaOf(topic, logical, partition, message);
          failedAt = handled.length;
          const duplicate = await this.handleInTransaction(manager, envelope, handler, meta);
          failedAt = -1;
          handled.push({ envelope, duplicate });
        }
      });
    } catch (err) {
      this.options.logger.warn(
        { err: (err as Error).message, events: handled.length + 1, topic, partition },
        'event group rolled back; its events are handled again',
      );
      return { committed: 0, failure: { index: failedAt, error: err as Error } };
    }
    for (const h of handled) await this.afterCommit(h.envelope, this.options.groupId, h.duplicate);
    return { committed: handled.length, undecodable };
  }

  private metaOf(
    topic: string,
    logical: string,
    partition: number,
    message: KafkaMessage,
  ): ConsumedMessageMeta {
    return {
      topic,
      logicalTopic: logical,
      partition,
      offset: message.offset,
      consumer: this.options.groupId,
    };
  }

  private async onMessage(
    topic: string,
    partition: number,
    message: KafkaMessage,
    heartbeat: () => Promise<void>,
    /** The error of a first attempt already made (in a group that rolled back). */
    firstFailure?: Error,
  ): Promise<void> {
    const { logger, maxAttempts, retryBackoffMs } = this.options;
    const logical = logicalTopic(this.options.topicPrefix, topic) ?? topic;
    const meta = this.metaOf(topic, logical, partition, message);
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
        if (attempt === 1 && firstFailure) throw firstFailure;
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
    let duplicate = false;
    await this.options.dataSource.transaction(async (manager) => {
      duplicate = await this.handleInTransaction(manager, envelope, handler, meta);
    });
    await this.afterCommit(envelope, meta.consumer, duplicate);
  }

  /** Records the event in the inbox and runs its handler, in the caller's transaction. */
  private async handleInTransaction(
    manager: EntityManager,
    envelope: Envelope,
    handler: MessageHandler,
    meta: ConsumedMessageMeta,
  ): Promise<boolean> {
    const inserted: unknown[] = await manager.query(
      `INSERT INTO "${this.options.schema}".inbox (consumer, event_id, event_type, alert_id, topic, kafka_partition, kafka_offset)
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
    if (inserted.length === 0) return true;
    const result = await handler(envelope, new InboxContext([manager, meta]));
    await lastValueFrom(this.transformToObservable(result), { defaultValue: undefined });
    return false;
  }

  private async afterCommit(envelope: Envelope, consumer: string, duplicate: boolean): Promise<void> {
    const { logger } = this.options;
    const log = {
      eventId: envelope.eventId,
      alertId: envelope.alertId,
      type: envelope.type,
      consumer,
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
