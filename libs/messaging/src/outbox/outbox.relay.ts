import { Kafka, Producer } from 'kafkajs';
import { Client } from 'pg';
import type { Logger } from 'pino';
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
}

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
 * advisory lock), which with a single in-flight request keeps each alert's events in
 * commit order. When Kafka is away the rows simply wait; they are marked only after the broker
 * acknowledged them (acks=all), so a crash between send and mark re-sends: consumers deduplicate.
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

  constructor(private readonly options: OutboxRelayOptions) {
    this.batchSize = options.batchSize ?? 500;
    this.pollIntervalMs = options.pollIntervalMs ?? 1_000;
    this.leaderRetryMs = options.leaderRetryMs ?? 2_000;
  }

  get isLeader(): boolean {
    return this.leader;
  }

  start(): void {
    if (this.running) return;
    this.running = true;
    this.loopDone = this.loop();
  }

  /** Finishes the batch in flight, then releases the lock and connections. */
  async stop(): Promise<void> {
    this.running = false;
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
      });
      client.on('error', (err) => {
        this.options.logger.warn({ err: err.message }, 'outbox relay: database connection lost');
        if (this.client === client) {
          this.client = null;
          this.leader = false;
        }
      });
      client.on('notification', () => this.wakeUp());
      await client.connect();
      await client.query(`LISTEN "${outboxChannel(this.options.schema)}"`);
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
    this.leader = false;
    await client?.end().catch(() => undefined);
  }

  private async ensureProducer(): Promise<void> {
    if (this.producer) return;
    // One request in flight keeps per-partition order across retries; duplicates from a retried
    // request are harmless because every consumer deduplicates by eventId.
    const producer = this.options.kafka.producer({
      maxInFlightRequests: 1,
      allowAutoTopicCreation: false,
    });
    await producer.connect();
    this.producer = producer;
  }

  private async publishBatch(): Promise<number> {
    const client = this.client!;
    const { rows } = await client.query<OutboxRow>(
      `SELECT id, topic, message_key, event_type, event_id, payload FROM "${this.options.schema}".outbox
       WHERE published_at IS NULL ORDER BY id LIMIT $1`,
      [this.batchSize],
    );
    if (rows.length === 0) return 0;
    const byTopic = new Map<string, OutboxRow[]>();
    for (const row of rows) {
      const list = byTopic.get(row.topic) ?? [];
      list.push(row);
      byTopic.set(row.topic, list);
    }
    const ids = rows.map((r) => r.id);
    try {
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
    } catch (err) {
      await client
        .query(
          `UPDATE "${this.options.schema}".outbox SET attempts = attempts + 1, last_error = $2 WHERE id = ANY($1::bigint[])`,
          [ids, String((err as Error).message).slice(0, 1000)],
        )
        .catch(() => undefined);
      throw err;
    }
    await client.query(
      `UPDATE "${this.options.schema}".outbox SET published_at = clock_timestamp(), attempts = attempts + 1
       WHERE id = ANY($1::bigint[])`,
      [ids],
    );
    this.options.logger.debug({ count: rows.length, schema: this.options.schema }, 'outbox relay: published');
    return rows.length;
  }
}

function isPgConnectionError(err: unknown): boolean {
  const code = (err as { code?: string }).code ?? '';
  const message = (err as Error).message ?? '';
  return (
    code.startsWith('08') ||
    code === '57P01' ||
    code === 'ECONNREFUSED' ||
    /Connection terminated|not queryable|Client has encountered a connection error/i.test(message)
  );
}
