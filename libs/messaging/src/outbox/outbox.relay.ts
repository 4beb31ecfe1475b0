import { Kafka, Producer } from 'kafkajs';
import { Client } from 'pg';
import type { Logger } from 'pino';
import { isTransientInfrastructureError } from '../errors/transient-error';
import { CommitNotifier } from '../notify/commit-notifier';
import { outboxChannel } from './outbox.writer';

export interface OutboxRelayOptions {
  schema: string;
  databaseUrl: string;
  kafka: Kafka;
  logger: Logger;
  batchSize?: number;
  /** Fallback poll when no NOTIFY arrives (missed notifications, rows written by hand). */
  pollIntervalMs?: number;
  /** How often a standby replica tries to become the relay. */
  leaderRetryMs?: number;
  /**
   * Bound on every statement and on the client's wait for an answer: a half-open connection (the
   * network dropped, no RST) fails within this time instead of hanging the relay.
   */
  queryTimeoutMs?: number;
  /**
   * The server ends the relay's session after this long without a statement (PostgreSQL 14+
   * `idle_session_timeout`), which releases the leader lock of a relay whose connection went half-open,
   * so that another replica takes over within seconds. The relay keeps its own session busy while it
   * waits on Kafka.
   */
  sessionIdleTimeoutMs?: number;
  /** A row whose topic the broker does not know is parked after it has waited this long. */
  unknownTopicGraceMs?: number;
  /** This process's writers: their commits wake the relay at once, without a round trip to the database. */
  notifier?: CommitNotifier;
}

/** Kafka errors that no retry can cure for that row: it is parked, and the rows behind it go on. */
const PERMANENT_KAFKA_ERRORS = new Set([
  'MESSAGE_TOO_LARGE',
  'RECORD_LIST_TOO_LARGE',
  'INVALID_RECORD',
  'CORRUPT_MESSAGE',
  'INVALID_TOPIC_EXCEPTION',
  'TOPIC_AUTHORIZATION_FAILED',
  'POLICY_VIOLATION',
  'INVALID_REQUIRED_ACKS',
  'UNSUPPORTED_FOR_MESSAGE_FORMAT',
]);

interface OutboxRow {
  id: string;
  topic: string;
  message_key: string;
  event_type: string;
  event_id: string;
  payload: string;
}

/**
 * Publishes the outbox to Kafka in id order. Only one replica relays at a time (a session-level
 * advisory lock), which with a single in-flight request keeps each alert's events in commit order
 * (OutboxWriter makes id order follow commit order per alert). When Kafka is away the rows simply
 * wait; they are marked only after the broker acknowledged them (acks=all, idempotent producer), so a
 * crash between send and mark re-sends: consumers deduplicate. A row Kafka refuses for good (too
 * large, unknown topic) is parked with its error and the rows behind it go on; every statement is
 * bounded, so a half-open connection cannot hang the relay or keep the leader lock.
 */
export class OutboxRelay {
  private readonly batchSize: number;
  private readonly pollIntervalMs: number;
  private readonly leaderRetryMs: number;
  private client: Client | null = null;
  private producer: Producer | null = null;
  private leader = false;
  private running = false;
  private wakeRequested = false;
  private wake: (() => void) | null = null;
  private loopDone: Promise<void> = Promise.resolve();
  private readonly queryTimeoutMs: number;
  private readonly sessionIdleTimeoutMs: number;
  private readonly unknownTopicGraceMs: number;
  private knownTopics: { names: Set<string>; at: number } | null = null;
  private parkedSinceStart = 0;

  constructor(private readonly options: OutboxRelayOptions) {
    this.batchSize = options.batchSize ?? 500;
    this.pollIntervalMs = options.pollIntervalMs ?? 1_000;
    this.leaderRetryMs = options.leaderRetryMs ?? 2_000;
    this.queryTimeoutMs = options.queryTimeoutMs ?? 5_000;
    this.sessionIdleTimeoutMs = Math.max(
      options.sessionIdleTimeoutMs ?? 10_000,
      2 * Math.max(this.pollIntervalMs, this.leaderRetryMs),
    );
    this.unknownTopicGraceMs = options.unknownTopicGraceMs ?? 30_000;
  }

  get isLeader(): boolean {
    return this.leader;
  }

  /** Rows parked by this process since it started (the table holds them all: parked_at IS NOT NULL). */
  get parkedCount(): number {
    return this.parkedSinceStart;
  }

  private unsubscribe: (() => void) | null = null;

  start(): void {
    if (this.running) return;
    this.running = true;
    this.unsubscribe =
      this.options.notifier?.onNotify(outboxChannel(this.options.schema), () => this.wakeUp()) ?? null;
    this.loopDone = this.loop();
  }

  /** Finishes the batch in flight, then releases the lock and connections. */
  async stop(): Promise<void> {
    this.running = false;
    this.unsubscribe?.();
    this.unsubscribe = null;
    this.wakeUp();
    await this.loopDone;
    await this.producer?.disconnect().catch(() => undefined);
    this.producer = null;
    await this.resetClient();
  }

  private wakeUp(): void {
    this.wakeRequested = true;
    this.wake?.();
  }

  private sleep(ms: number): Promise<void> {
    if (this.wakeRequested || !this.running) return Promise.resolve();
    return new Promise((resolve) => {
      const timer = setTimeout(done, ms);
      function done() {
        clearTimeout(timer);
        resolve();
      }
      this.wake = () => {
        this.wake = null;
        done();
      };
    });
  }

  private async loop(): Promise<void> {
    let backoff = 0;
    while (this.running) {
      try {
        await this.ensureClient();
        if (!this.leader) {
          await this.sleep(this.leaderRetryMs);
          continue;
        }
        await this.ensureProducer();
        this.wakeRequested = false;
        const published = await this.publishBatch();
        backoff = 0;
        // Published rows are purged by the retention sweep (libs/messaging/src/retention).
        if (published < this.batchSize) await this.sleep(this.pollIntervalMs);
      } catch (err) {
        backoff = Math.min(Math.max(200, backoff * 2), 5_000);
        this.options.logger.warn(
          { err: (err as Error).message, retryInMs: backoff, schema: this.options.schema },
          'outbox relay: publish failed, events stay in the outbox',
        );
        await this.producer?.disconnect().catch(() => undefined);
        this.producer = null;
        if (isPgConnectionError(err)) await this.resetClient();
        this.wakeRequested = false;
        await this.sleep(backoff + Math.floor(Math.random() * 100));
      }
    }
  }

  private async ensureClient(): Promise<void> {
    if (!this.client) {
      const client = new Client({
        connectionString: this.options.databaseUrl,
        application_name: 'outbox-relay',
        keepAlive: true,
        keepAliveInitialDelayMillis: 5_000,
        connectionTimeoutMillis: this.queryTimeoutMs,
        query_timeout: this.queryTimeoutMs,
        statement_timeout: this.queryTimeoutMs,
        idle_in_transaction_session_timeout: this.queryTimeoutMs,
      });
      client.on('error', (err) => {
        this.options.logger.warn({ err: err.message }, 'outbox relay: database connection lost');
        if (this.client === client) {
          this.client = null;
          this.leader = false;
        }
      });
      // This process's own commits already woke the relay locally (onNotify): their NOTIFYs are skipped.
      client.on('notification', (n) => {
        if (!this.options.notifier?.sentByThis(n.payload)) this.wakeUp();
      });
      try {
        await client.connect();
        // PostgreSQL 14+: the server ends a session that stays silent (its client gone half-open),
        // releasing the leader lock; older servers refuse the setting, and keep only the timeouts.
        await client
          .query(`SET idle_session_timeout = ${Math.round(this.sessionIdleTimeoutMs)}`)
          .catch(() => undefined);
        await client.query(`LISTEN "${outboxChannel(this.options.schema)}"`);
      } catch (err) {
        void endWithin(client, 1_000);
        throw err;
      }
      this.client = client;
    }
    if (!this.leader) {
      const res = await this.client.query<{ locked: boolean }>(
        'SELECT pg_try_advisory_lock(hashtext($1)) AS locked',
        [`outbox-relay:${this.options.schema}`],
      );
      this.leader = res.rows[0].locked;
      if (this.leader) this.options.logger.info({ schema: this.options.schema }, 'outbox relay: leading');
    }
  }

  private async resetClient(): Promise<void> {
    const client = this.client;
    this.client = null;
    if (this.leader)
      this.options.logger.warn({ schema: this.options.schema }, 'outbox relay: leadership dropped');
    this.leader = false;
    if (client) await endWithin(client, 1_000);
  }

  private async ensureProducer(): Promise<void> {
    if (this.producer) return;
    // One request in flight keeps per-partition order across retries; duplicates from a retried
    // request are harmless because every consumer deduplicates by eventId.
    const producer = this.options.kafka.producer({
      maxInFlightRequests: 1,
      idempotent: true,
      allowAutoTopicCreation: false,
    });
    await producer.connect();
    this.producer = producer;
  }

  private async publishBatch(): Promise<number> {
    const client = this.client!;
    const { rows } = await client.query<OutboxRow & { created_at: Date }>(
      `SELECT id, topic, message_key, event_type, event_id, payload, created_at FROM "${this.options.schema}".outbox
       WHERE published_at IS NULL AND parked_at IS NULL ORDER BY id LIMIT $1`,
      [this.batchSize],
    );
    if (rows.length === 0) return 0;

    // A row for a topic the broker does not have waits (a topic being created), holding back the rows
    // of its key behind it; after the grace period it is parked and they go on.
    const known = await this.topicsKnown(rows.map((r) => r.topic));
    const held = new Set<string>();
    const ready: OutboxRow[] = [];
    for (const row of rows) {
      if (held.has(row.message_key)) continue;
      if (!known.has(row.topic)) {
        if (Date.now() - new Date(row.created_at).getTime() >= this.unknownTopicGraceMs) {
          await this.park(row, `UNKNOWN_TOPIC_OR_PARTITION: topic ${row.topic} does not exist`);
        } else held.add(row.message_key);
        continue;
      }
      ready.push(row);
    }
    if (ready.length === 0) return 0;

    try {
      await this.keepingSessionBusy(() => this.send(ready));
      await this.markPublished(ready);
    } catch (err) {
      await client
        .query(
          `UPDATE "${this.options.schema}".outbox SET attempts = attempts + 1, last_error = $2 WHERE id = ANY($1::bigint[])`,
          [ready.map((r) => r.id), String((err as Error).message).slice(0, 1000)],
        )
        .catch(() => undefined);
      if (!isPermanentKafkaError(err)) throw err;
      // Someone in the batch is refused for good: one row at a time, in order, to find it.
      await this.publishOneByOne(ready);
    }
    this.options.logger.debug(
      { count: ready.length, schema: this.options.schema },
      'outbox relay: published',
    );
    return rows.length;
  }

  private async publishOneByOne(rows: OutboxRow[]): Promise<void> {
    for (const row of rows) {
      try {
        await this.keepingSessionBusy(() => this.send([row]));
      } catch (err) {
        if (!isPermanentKafkaError(err)) throw err;
        await this.park(row, describeKafkaError(err));
        continue;
      }
      await this.markPublished([row]);
    }
  }

  private async send(rows: OutboxRow[]): Promise<void> {
    const byTopic = new Map<string, OutboxRow[]>();
    for (const row of rows) {
      const list = byTopic.get(row.topic) ?? [];
      list.push(row);
      byTopic.set(row.topic, list);
    }
    await this.producer!.sendBatch({
      acks: -1,
      topicMessages: [...byTopic].map(([topic, list]) => ({
        topic,
        messages: list.map((r) => ({
          key: r.message_key,
          value: r.payload,
          headers: { 'event-id': r.event_id, 'event-type': r.event_type },
        })),
      })),
    });
  }

  /** One instant for the whole batch (clock_timestamp() would differ row by row, in no particular order). */
  private async markPublished(rows: OutboxRow[]): Promise<void> {
    await this.client!.query(
      `UPDATE "${this.options.schema}".outbox SET published_at = statement_timestamp(), attempts = attempts + 1
       WHERE id = ANY($1::bigint[])`,
      [rows.map((r) => r.id)],
    );
  }

  /** Sets a row aside with its error: it is reported (log, /health, metrics) and never retried by itself. */
  private async park(row: OutboxRow, error: string): Promise<void> {
    await this.client!.query(
      `UPDATE "${this.options.schema}".outbox SET parked_at = clock_timestamp(), last_error = $2, attempts = attempts + 1
       WHERE id = $1`,
      [row.id, error.slice(0, 1000)],
    );
    this.parkedSinceStart++;
    this.options.logger.error(
      {
        schema: this.options.schema,
        outboxId: row.id,
        eventId: row.event_id,
        eventType: row.event_type,
        alertId: row.message_key,
        topic: row.topic,
        err: error,
      },
      'outbox relay: event refused by Kafka for good; parked (the events behind it go on)',
    );
  }

  /** Topics the broker has, refreshed when a row names one not seen yet (at most every 5 s). */
  private async topicsKnown(wanted: string[]): Promise<Set<string>> {
    const stale = !this.knownTopics || wanted.some((t) => !this.knownTopics!.names.has(t));
    if (stale && (!this.knownTopics || Date.now() - this.knownTopics.at > 5_000)) {
      const admin = this.options.kafka.admin();
      try {
        await admin.connect();
        this.knownTopics = { names: new Set(await admin.listTopics()), at: Date.now() };
      } finally {
        await admin.disconnect().catch(() => undefined);
      }
    }
    return this.knownTopics!.names;
  }

  /** While Kafka is slow, a statement every few seconds keeps the session (and the lock) alive. */
  private async keepingSessionBusy<T>(work: () => Promise<T>): Promise<T> {
    const client = this.client!;
    const timer = setInterval(
      () => void client.query('SELECT 1').catch(() => undefined),
      Math.max(500, Math.floor(this.sessionIdleTimeoutMs / 3)),
    );
    try {
      return await work();
    } finally {
      clearInterval(timer);
    }
  }
}

/** Ends a client, without waiting more than `ms` (a half-open socket never answers the goodbye). */
async function endWithin(client: Client, ms: number): Promise<void> {
  let timer: NodeJS.Timeout | undefined;
  await Promise.race([
    client.end().catch(() => undefined),
    new Promise<void>((resolve) => {
      timer = setTimeout(() => {
        (
          client as unknown as { connection?: { stream?: { destroy(): void } } }
        ).connection?.stream?.destroy();
        resolve();
      }, ms);
    }),
  ]);
  clearTimeout(timer);
}

function kafkaErrorTypes(err: unknown, depth = 0): string[] {
  if (!err || typeof err !== 'object' || depth > 5) return [];
  const e = err as { type?: string; cause?: unknown; originalError?: unknown };
  return [
    ...(e.type ? [e.type] : []),
    ...kafkaErrorTypes(e.cause, depth + 1),
    ...kafkaErrorTypes(e.originalError, depth + 1),
  ];
}

function isPermanentKafkaError(err: unknown): boolean {
  return kafkaErrorTypes(err).some((t) => PERMANENT_KAFKA_ERRORS.has(t));
}

function describeKafkaError(err: unknown): string {
  const types = kafkaErrorTypes(err);
  return `${types[0] ?? 'KAFKA_ERROR'}: ${(err as Error).message}`;
}

function isPgConnectionError(err: unknown): boolean {
  const code = (err as { code?: string }).code ?? '';
  const message = (err as Error).message ?? '';
  if (String((err as Error).name ?? '').startsWith('KafkaJS')) return false;
  return (
    code.startsWith('08') ||
    code === '57P01' ||
    code === 'ECONNREFUSED' ||
    /Connection terminated|not queryable|Client has encountered a connection error|Query read timeout|timeout/i.test(
      message,
    ) ||
    isTransientInfrastructureError(err)
  );
}
