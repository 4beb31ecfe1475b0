import {
  Envelope,
  EventDecodeError,
  decodeEvent,
  dlqTopic,
  logicalTopic,
  physicalTopic,
  redriveTopic,
} from '@alerta-rosa/contracts';
import { CustomTransportStrategy, MessageHandler, Server } from '@nestjs/microservices';
import { Consumer, EachBatchPayload, IHeaders, Kafka, KafkaMessage, Producer } from 'kafkajs';
import type { Logger } from 'pino';
import { lastValueFrom } from 'rxjs';
import { DataSource, EntityManager } from 'typeorm';
import { isTransientInfrastructureError } from '../errors/transient-error';
import { ConsumedMessageMeta, DeferredWork, InboxContext } from './inbox.context';

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
  /**
   * Backoff while the infrastructure is away (database, Kafka): the partition is paused and retried
   * without limit, first after `transientBackoffMs`, doubling up to `transientBackoffMaxMs`.
   */
  transientBackoffMs?: number;
  transientBackoffMaxMs?: number;
  /**
   * Also consume this consumer's redrive topic (`redriveTopic(groupId)`, which must exist), where
   * `npm run dlq:redrive` puts its dead letters back.
   */
  redrive?: boolean;
}

/** Header naming the logical topic a redriven message was dead-lettered from. */
export const REDRIVE_TOPIC_HEADER = 'redrive-topic';

/** A partition waiting for the infrastructure to come back (shown in /health). */
export interface RetryingPartition {
  topic: string;
  partition: number;
  /** Consecutive infrastructure failures at this partition's head. */
  attempts: number;
  since: string;
  retryAt: string;
  lastError: string;
}

export interface InboxConsumerStatus {
  state: 'starting' | 'running' | 'recovering' | 'closed';
  since: string;
  retrying: RetryingPartition[];
}

/** How one step of a batch ended: done, or stopped by an infrastructure error (retry later, no attempt spent). */
type Step = { transient: null } | { transient: Error };
const OK: Step = { transient: null };

/**
 * Kafka transport for Nest microservices with the guarantees the stock one lacks:
 * - the event is recorded in the inbox (consumer, eventId) and handled in ONE database transaction,
 *   so a redelivery is recognised and skipped;
 * - offsets are committed only after those transactions (once per fetched batch), in partition order;
 * - consecutive messages of a partition share one transaction (a "group", bounded in size and time):
 *   under load this saves a commit (and its WAL flush) per event. If anything in a group fails, the
 *   whole group rolls back and its messages are handled again one transaction each, so one bad event
 *   never takes its neighbours' effects with it;
 * - a handler that keeps failing because of the event is retried a bounded number of times, then the
 *   message goes to `<topic>.dlq` with the error and the partition moves on. Undecodable messages go
 *   there at once;
 * - an infrastructure error (database or Kafka away, deadlock, serialization failure, too many
 *   connections: `isTransientInfrastructureError`) is never the event's fault: the partition is paused
 *   and retried without limit with capped backoff, spending none of the event's attempts (shown by
 *   `consumerStatus().retrying`, hence /health);
 * - nothing is ever thrown out of the batch handler (kafkajs would retry the batch and may run a second
 *   loop on the partition): the partition is paused and its unhandled messages fetched again.
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
  private readonly retrying = new Map<string, RetryingPartition>();
  /** Offset commits sent and not yet answered. */
  private readonly pendingCommits = new Set<Promise<void>>();
  private readonly resumeTimers = new Set<NodeJS.Timeout>();
  /** Event-caused failures so far, kept across pauses so an infrastructure hiccup does not reset them. */
  private readonly eventFailures = new Map<string, { attempts: number; error: Error }>();

  private readonly redrivePhysical: string | null;
  /** How many events the last group handled within its time (the inbox is recorded that many at a time). */
  private groupHint = 16;

  constructor(private readonly options: KafkaInboxServerOptions) {
    super();
    this.redrivePhysical = options.redrive
      ? physicalTopic(options.topicPrefix, redriveTopic(options.groupId))
      : null;
  }

  listen(callback: (err?: unknown) => void): void {
    this.start().then(
      () => callback(),
      (err) => callback(err),
    );
  }

  /** What the consumer is doing now: running, or being replaced after kafkajs gave up on it. */
  consumerStatus(): InboxConsumerStatus {
    return { ...this.state, retrying: [...this.retrying.values()].map((r) => ({ ...r })) };
  }

  private setState(state: 'starting' | 'running' | 'recovering' | 'closed'): void {
    if (this.state.state !== state) this.state = { state, since: new Date().toISOString() };
  }

  async close(): Promise<void> {
    this.closing = true;
    this.setState('closed');
    if (this.recreateTimer) clearTimeout(this.recreateTimer);
    for (const t of this.resumeTimers) clearTimeout(t);
    this.resumeTimers.clear();
    this.retrying.clear();
    // kafkajs lets the message in flight finish before the consumer leaves the group; a commit sent
    // before the stop is answered first (waited for at most 5 s: a broker away must not hold a stop).
    if (this.pendingCommits.size) {
      let timer: NodeJS.Timeout | undefined;
      await Promise.race([
        Promise.all(this.pendingCommits),
        new Promise((r) => (timer = setTimeout(r, 5_000))),
      ]);
      clearTimeout(timer);
    }
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
    const { topics } = this.options;
    for (const t of topics) {
      if (!this.getHandlerByPattern(t)) throw new Error(`no @EventPattern handler for topic ${t}`);
    }
    await this.dlq();
    await this.startConsumer();
  }

  /** The dead-letter producer (idempotent, acks=all), made again after a failed send. */
  private async dlq(): Promise<Producer> {
    if (!this.dlqProducer) {
      const producer = this.options.kafka.producer({
        allowAutoTopicCreation: false,
        idempotent: true,
        maxInFlightRequests: 1,
      });
      await producer.connect();
      this.dlqProducer = producer;
    }
    return this.dlqProducer;
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
      topics: [
        ...topics.map((t) => physicalTopic(topicPrefix, t)),
        ...(this.redrivePhysical ? [this.redrivePhysical] : []),
      ],
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
   * stopping, so a graceful stop leaves nothing to redeliver). Never throws: an infrastructure error
   * pauses the partition (its unhandled messages are fetched again on resume); anything unexpected is
   * treated the same way.
   */
  private async onBatch({
    batch,
    resolveOffset,
    heartbeat,
    commitOffsetsIfNecessary,
    isRunning,
    isStale,
    pause,
  }: EachBatchPayload): Promise<void> {
    const live = () => isRunning() && !isStale();
    const messages = batch.messages;
    const received = Date.now();
    const key = `${batch.topic}:${batch.partition}`;
    let processed: string | null = null;
    let stoppedBy: Error | null = null;
    const done = (message: KafkaMessage) => {
      resolveOffset(message.offset);
      processed = message.offset;
    };
    try {
      const maxGroup = this.options.groupMaxMessages ?? 100;
      // A message whose handler failed inside a group: the messages before it go in a group of their
      // own, then it is handled alone (its failed attempt counts), then grouping resumes after it.
      let failed = null as { index: number; error: Error } | null;
      // Messages handled alone, each in its own transaction with bounded retries and the DLQ: after a
      // group's deferred work failed (no one message to blame) its messages, so the one at fault retries
      // and is dead-lettered alone; an undecodable message; every message when grouping is disabled.
      let soloUntil = 0;
      let i = 0;
      while (i < messages.length && live() && !stoppedBy) {
        if (i < soloUntil || failed?.index === i) {
          const firstFailure = failed?.index === i ? failed.error : undefined;
          if (firstFailure) failed = null;
          const step = await this.onMessage(
            batch.topic,
            batch.partition,
            messages[i],
            heartbeat,
            firstFailure,
          );
          if (step.transient) {
            stoppedBy = step.transient;
            break;
          }
          done(messages[i++]);
          await heartbeat();
          continue;
        }
        const end = failed ? failed.index : Math.min(messages.length, i + maxGroup);
        const r = await this.processGroup(batch.topic, batch.partition, messages.slice(i, end), live);
        for (let k = 0; k < r.committed; k++) done(messages[i + k]);
        i += r.committed;
        if (r.transient) {
          stoppedBy = r.transient;
          break;
        }
        if (r.failure && r.failure.index >= 0) {
          failed = { index: i + r.failure.index, error: r.failure.error };
        } else if (r.failure?.span) {
          soloUntil = i + r.failure.span;
        } else if (r.failure || r.undecodable) {
          soloUntil = i + 1;
        }
        await heartbeat();
      }
    } catch (err) {
      // A heartbeat refused during a rebalance, or a bug here: stop this batch; what was handled is
      // committed below and the rest is fetched again (by this consumer or the partition's new owner).
      if (!isRebalanceError(err)) stoppedBy = err as Error;
      else
        this.options.logger.info(
          { topic: batch.topic, partition: batch.partition },
          'rebalance: batch stopped',
        );
    } finally {
      const handledAt = Date.now();
      // One commit per batch (also when stopping or failing midway): whatever was handled is committed;
      // a message handled but not committed (crash) is redelivered and recognised by the inbox. While
      // running, the batch does not wait for the commit's answer: the next fetch starts from the offsets
      // resolved above, not the committed ones, and a commit lost with the process only means events the
      // inbox recognises. Commits go in order on the coordinator's connection. When stopping, the commit
      // is awaited, so a graceful stop leaves nothing to redeliver.
      let commitMs = 0;
      if (processed !== null) {
        const commit = this.commit(
          commitOffsetsIfNecessary,
          batch.topic,
          batch.partition,
          (BigInt(processed) + 1n).toString(),
        );
        if (!live()) await commit;
        commitMs = Date.now() - handledAt;
      }
      if (this.options.logger.isLevelEnabled('debug')) {
        // Where a batch's time goes: from the first message's append to its fetch, handling, offset commit.
        this.options.logger.debug(
          {
            topic: batch.topic,
            partition: batch.partition,
            messages: messages.length,
            waitedMs: messages.length ? received - Number(messages[0].timestamp) : 0,
            handledMs: handledAt - received,
            commitMs,
          },
          'batch done',
        );
      }
    }
    if (stoppedBy && live()) this.pausePartition(key, batch.topic, batch.partition, pause, stoppedBy);
    else if (processed !== null && this.retrying.delete(key)) {
      this.options.logger.info(
        { topic: batch.topic, partition: batch.partition },
        'partition consuming again',
      );
    }
  }

  /** Commits one partition's offset; never throws (pending commits are awaited on close). */
  private commit(
    commitOffsets: EachBatchPayload['commitOffsetsIfNecessary'],
    topic: string,
    partition: number,
    offset: string,
  ): Promise<void> {
    const p = commitOffsets({ topics: [{ topic, partitions: [{ partition, offset }] }] })
      .catch((err: Error) => {
        this.options.logger.warn(
          { topic, partition, err: err.message },
          'offset commit failed; handled events are recognised by the inbox if delivered again',
        );
      })
      .finally(() => this.pendingCommits.delete(p));
    this.pendingCommits.add(p);
    return p;
  }

  /** Pauses a partition after an infrastructure error and resumes it after a capped, growing backoff. */
  private pausePartition(
    key: string,
    topic: string,
    partition: number,
    pause: () => () => void,
    error: Error,
  ): void {
    const base = this.options.transientBackoffMs ?? 200;
    const max = this.options.transientBackoffMaxMs ?? 10_000;
    const previous = this.retrying.get(key);
    const attempts = (previous?.attempts ?? 0) + 1;
    const delay = Math.min(max, base * 2 ** Math.min(20, attempts - 1));
    const jittered = Math.round(delay / 2 + (Math.random() * delay) / 2);
    const entry: RetryingPartition = {
      topic,
      partition,
      attempts,
      since: previous?.since ?? new Date().toISOString(),
      retryAt: new Date(Date.now() + jittered).toISOString(),
      lastError: describe(error),
    };
    this.retrying.set(key, entry);
    this.options.logger.warn(
      { topic, partition, attempts, retryInMs: jittered, err: entry.lastError },
      'infrastructure unavailable: partition paused, will retry (no attempt of the event spent)',
    );
    if (this.closing) return;
    const resume = pause();
    const timer = setTimeout(() => {
      this.resumeTimers.delete(timer);
      if (!this.closing) resume();
    }, jittered);
    this.resumeTimers.add(timer);
  }

  /**
   * Handles the longest prefix of `messages` that fits a group (size and time limits), in one
   * transaction, and says how many it committed. It stops before an undecodable message
   * (`undecodable`). If anything fails the whole group rolls back (`committed` 0) and `failure` says
   * which message's handler threw (`index`), or -1 when the failure was not a handler's (the deferred
   * work of the group, `span` messages).
   */
  private async processGroup(
    topic: string,
    partition: number,
    messages: KafkaMessage[],
    live: () => boolean,
  ): Promise<{
    committed: number;
    undecodable?: boolean;
    /** `span`: how many messages the group had handled when it failed. */
    failure?: { index: number; error: Error; span?: number };
    transient?: Error;
  }> {
    const maxMs = this.options.groupMaxMs ?? 20;
    if ((this.options.groupMaxMessages ?? 100) <= 1 || messages.length === 0) {
      return { committed: 0, failure: { index: -1, error: new Error('grouping disabled') } };
    }
    const started = Date.now();
    const handled: { envelope: Envelope; duplicate: boolean }[] = [];
    let undecodable = false;
    let failedAt = -1;
    const work = new DeferredWork();
    try {
      await this.options.dataSource.transaction(async (manager) => {
        // The messages are decoded and recorded in the inbox a chunk at a time (one statement per chunk;
        // an event already there was processed: a redelivery), up to the first that cannot be decoded or
        // routed. The chunk is about what fitted in the last group, so a consumer whose handlers are slow
        // does not record (and then remove) events its group will not reach.
        const candidates: { envelope: Envelope; handler: MessageHandler; meta: ConsumedMessageMeta }[] = [];
        const fresh = new Set<string>();
        let stopsAtUndecodable = false;
        let closedOnTime = false;
        const take = async (from: number) => {
          const chunk: typeof candidates = [];
          for (let j = from; j < messages.length && chunk.length < this.groupHint; j++) {
            const { logical, handler } = this.route(topic, messages[j]);
            try {
              if (!handler) throw new Error('unroutable');
              const envelope = decodeEvent(messages[j].value);
              chunk.push({ envelope, handler, meta: this.metaOf(topic, logical, partition, messages[j]) });
            } catch {
              stopsAtUndecodable = true; // dead-lettered (or, unroutable, skipped) on its own once this group has committed
              break;
            }
          }
          candidates.push(...chunk);
          for (const id of await this.recordInInbox(manager, chunk)) fresh.add(id);
        };
        for (let k = 0; k < messages.length; k++) {
          if (!live()) break;
          if (handled.length > 0 && Date.now() - started >= maxMs) {
            closedOnTime = true;
            break;
          }
          if (k >= candidates.length) {
            if (!stopsAtUndecodable) await take(k);
            if (k >= candidates.length) break;
          }
          const c = candidates[k];
          failedAt = handled.length;
          const isNew = fresh.delete(c.envelope.eventId.toLowerCase());
          const duplicate = await this.handleInTransaction(
            manager,
            c.envelope,
            c.handler,
            c.meta,
            work,
            isNew,
          );
          failedAt = -1;
          handled.push({ envelope: c.envelope, duplicate });
        }
        undecodable = stopsAtUndecodable && handled.length === candidates.length;
        this.groupHint = closedOnTime
          ? Math.max(1, handled.length)
          : Math.min(this.options.groupMaxMessages ?? 100, this.groupHint * 2);
        // Recorded but left for the next group (this one closed early): not processed, so not in the inbox.
        if (fresh.size) {
          await manager.query(
            `DELETE FROM "${this.options.schema}".inbox WHERE consumer = $1 AND event_id = ANY ($2::uuid[])`,
            [this.options.groupId, [...fresh]],
          );
        }
        // The work the handlers left for the group's end; a failure here is no one handler's.
        await work.flush();
      });
    } catch (err) {
      if (isTransientInfrastructureError(err)) return { committed: 0, transient: err as Error };
      this.options.logger.warn(
        { err: (err as Error).message, events: handled.length + 1, topic, partition },
        'event group rolled back; its events are handled again',
      );
      return { committed: 0, failure: { index: failedAt, error: err as Error, span: handled.length } };
    }
    for (const h of handled) await this.afterCommit(h.envelope, this.options.groupId, h.duplicate);
    return { committed: handled.length, undecodable };
  }

  /**
   * The logical topic and handler of a message. A message on this consumer's redrive topic (put back
   * by `npm run dlq:redrive`) is handled as if read from the topic it was dead-lettered from.
   */
  private route(topic: string, message: KafkaMessage): { logical: string; handler: MessageHandler | null } {
    if (this.redrivePhysical && topic === this.redrivePhysical) {
      const original = message.headers?.[REDRIVE_TOPIC_HEADER]?.toString() ?? '';
      return {
        logical: original,
        handler: this.options.topics.includes(original) ? this.getHandlerByPattern(original) : null,
      };
    }
    const logical = logicalTopic(this.options.topicPrefix, topic) ?? topic;
    return { logical, handler: this.getHandlerByPattern(logical) };
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

  /**
   * One message in its own transaction: bounded retries for failures the event causes, then the DLQ;
   * an infrastructure error stops here (`transient`) without spending an attempt.
   */
  private async onMessage(
    topic: string,
    partition: number,
    message: KafkaMessage,
    heartbeat: () => Promise<void>,
    /** The error of a first attempt already made (in a group that rolled back). */
    firstFailure?: Error,
  ): Promise<Step> {
    const { logger, maxAttempts, retryBackoffMs } = this.options;
    const { logical, handler } = this.route(topic, message);
    if (!handler) {
      // Only a redriven message can name a topic this consumer has no handler for (a wrong header).
      logger.error(
        { topic, partition, offset: message.offset, logical },
        'redriven message names no handled topic; skipped',
      );
      return OK;
    }
    const meta = this.metaOf(topic, logical, partition, message);
    let envelope: Envelope;
    try {
      envelope = decodeEvent(message.value);
    } catch (err) {
      return this.tryDeadLetter(meta, message, null, err as Error, 1);
    }
    const failures = this.eventFailures.get(envelope.eventId) ?? { attempts: 0, error: new Error('') };
    if (firstFailure) {
      failures.attempts++;
      failures.error = firstFailure;
      this.rememberFailure(envelope.eventId, failures);
    }
    while (failures.attempts < maxAttempts) {
      if (failures.attempts > 0) {
        const delay = retryBackoffMs * 2 ** (failures.attempts - 1);
        logger.warn(
          {
            eventId: envelope.eventId,
            alertId: envelope.alertId,
            attempt: failures.attempts,
            retryInMs: delay,
            err: failures.error.message,
          },
          'event handler failed; retrying',
        );
        await new Promise((r) => setTimeout(r, delay));
        await heartbeat();
      }
      try {
        await this.processOnce(envelope, handler, meta);
        this.eventFailures.delete(envelope.eventId);
        return OK;
      } catch (err) {
        if (isTransientInfrastructureError(err)) return { transient: err as Error };
        failures.attempts++;
        failures.error = err as Error;
        this.rememberFailure(envelope.eventId, failures);
      }
    }
    const step = await this.tryDeadLetter(meta, message, envelope.eventId, failures.error, failures.attempts);
    if (!step.transient) this.eventFailures.delete(envelope.eventId);
    return step;
  }

  private rememberFailure(eventId: string, failures: { attempts: number; error: Error }): void {
    this.eventFailures.set(eventId, failures);
    if (this.eventFailures.size > 10_000) {
      this.eventFailures.delete(this.eventFailures.keys().next().value!);
    }
  }

  /** Dead-letters a message; the database or Kafka being away is transient (the message is retried later). */
  private async tryDeadLetter(
    meta: ConsumedMessageMeta,
    message: KafkaMessage,
    eventId: string | null,
    error: Error,
    attempts: number,
  ): Promise<Step> {
    try {
      await this.deadLetter(meta, message, eventId, error, attempts);
      return OK;
    } catch (err) {
      // A failed send may have been written: a new idempotent producer (new id) for the next try.
      const dead = this.dlqProducer;
      this.dlqProducer = null;
      await dead?.disconnect().catch(() => undefined);
      return { transient: err as Error };
    }
  }

  private async processOnce(
    envelope: Envelope,
    handler: MessageHandler,
    meta: ConsumedMessageMeta,
  ): Promise<void> {
    let duplicate = false;
    await this.options.dataSource.transaction(async (manager) => {
      const work = new DeferredWork();
      duplicate = await this.handleInTransaction(manager, envelope, handler, meta, work);
      await work.flush();
    });
    await this.afterCommit(envelope, meta.consumer, duplicate);
  }

  /**
   * Records a group's events in the inbox in one statement, in the caller's transaction; returns the ids
   * (lower case) of those that were not there yet. An event twice in the group is recorded once.
   */
  private async recordInInbox(
    manager: EntityManager,
    events: { envelope: Envelope; meta: ConsumedMessageMeta }[],
  ): Promise<Set<string>> {
    if (!events.length) return new Set();
    const rows: { event_id: string }[] = await manager.query(
      `INSERT INTO "${this.options.schema}".inbox (consumer, event_id, event_type, alert_id, topic, kafka_partition, kafka_offset)
       SELECT $1, e.event_id, e.event_type, e.alert_id, e.topic, $2, e.kafka_offset
         FROM unnest($3::uuid[], $4::text[], $5::uuid[], $6::text[], $7::bigint[])
              AS e(event_id, event_type, alert_id, topic, kafka_offset)
       ON CONFLICT (consumer, event_id) DO NOTHING RETURNING event_id`,
      [
        this.options.groupId,
        events[0].meta.partition,
        events.map((e) => e.envelope.eventId),
        events.map((e) => e.envelope.type),
        events.map((e) => e.envelope.alertId),
        events.map((e) => e.meta.logicalTopic),
        events.map((e) => e.meta.offset),
      ],
    );
    return new Set(rows.map((r) => r.event_id.toLowerCase()));
  }

  /**
   * Records the event in the inbox (unless the caller did: `recorded` says whether it was new) and runs
   * its handler, in the caller's transaction; true when the event had been processed already.
   */
  private async handleInTransaction(
    manager: EntityManager,
    envelope: Envelope,
    handler: MessageHandler,
    meta: ConsumedMessageMeta,
    work: DeferredWork,
    recorded?: boolean,
  ): Promise<boolean> {
    if (recorded !== undefined) {
      if (!recorded) return true;
      await this.runHandler(manager, envelope, handler, meta, work);
      return false;
    }
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
    await this.runHandler(manager, envelope, handler, meta, work);
    return false;
  }

  private async runHandler(
    manager: EntityManager,
    envelope: Envelope,
    handler: MessageHandler,
    meta: ConsumedMessageMeta,
    work: DeferredWork,
  ): Promise<void> {
    const result = await handler(envelope, new InboxContext([manager, meta, work]));
    await lastValueFrom(this.transformToObservable(result), { defaultValue: undefined });
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

  /**
   * Records the dead letter (idempotent: one row per consumer and offset, with the original message so
   * `npm run dlq:redrive` can put it back), then copies the message to `<topic>.dlq`.
   */
  private async deadLetter(
    meta: ConsumedMessageMeta,
    message: KafkaMessage,
    eventId: string | null,
    error: Error,
    attempts: number,
  ): Promise<void> {
    const { key, value, headers } = message;
    const reason = error instanceof EventDecodeError ? `${error.reason}: ${error.message}` : error.message;
    const target = physicalTopic(this.options.topicPrefix, dlqTopic(meta.logicalTopic));
    await this.options.dataSource.query(
      `INSERT INTO "${this.options.schema}".dead_letters
         (consumer, topic, kafka_partition, kafka_offset, message_key, error, attempts, event_id, message_value,
          message_headers, source_topic)
       VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)
       ON CONFLICT (consumer, source_topic, kafka_partition, kafka_offset) DO NOTHING`,
      [
        meta.consumer,
        meta.logicalTopic,
        meta.partition,
        meta.offset,
        key?.toString() ?? null,
        reason.slice(0, 4000),
        attempts,
        eventId,
        value,
        JSON.stringify(headersToJson(headers)),
        meta.topic,
      ],
    );
    const producer = await this.dlq();
    await producer.send({
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
        eventId,
        attempts,
        err: reason,
      },
      'message dead-lettered',
    );
  }
}

function describe(err: Error): string {
  const code = (err as { code?: string }).code;
  return `${err?.name ?? 'Error'}${code ? ` ${code}` : ''}: ${err?.message ?? String(err)}`.slice(0, 500);
}

function isRebalanceError(err: unknown): boolean {
  const e = err as { type?: string; name?: string };
  return (
    e?.type === 'REBALANCE_IN_PROGRESS' ||
    e?.type === 'UNKNOWN_MEMBER_ID' ||
    e?.type === 'ILLEGAL_GENERATION' ||
    e?.name === 'KafkaJSStaleTopicMetadataAssignment'
  );
}

/** Kafka headers as JSON (values as UTF-8 strings), to keep them with the dead letter. */
export function headersToJson(headers: IHeaders | undefined): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries(headers ?? {})) {
    if (v === undefined) continue;
    out[k] = Array.isArray(v) ? v.map((x) => x.toString()).join(',') : v.toString();
  }
  return out;
}
