import { physicalTopic, redriveTopic } from '@alerta-rosa/contracts';
import { Kafka } from 'kafkajs';
import { Client } from 'pg';
import { REDRIVE_TOPIC_HEADER } from '../inbox/kafka-inbox.server';

export interface RedriveOptions {
  databaseUrl: string;
  kafka: Kafka;
  topicPrefix: string;
  /** The service's schema, where its dead_letters table is. */
  schema: string;
  /** The consumer whose dead letters are put back (its group id, e.g. alerta-rosa.dissemination). */
  consumer: string;
  /** Only this event (by eventId); otherwise every dead letter not yet redriven. */
  eventId?: string;
  /** Also those redriven before (e.g. the fix needed a second try). */
  again?: boolean;
}

export interface RedriveResult {
  redriven: { id: string; eventId: string | null; topic: string; error: string }[];
  /** Rows recorded before dead letters kept their message: they cannot be put back from the table. */
  withoutMessage: string[];
}

/**
 * Puts a consumer's dead letters back on its own redrive topic, in the order they were dead-lettered,
 * keeping key (so partition and per-alert order), value and headers. Only that consumer reads them
 * again (the other consumers already handled those events); its inbox makes a second redrive of the
 * same event harmless. Rows are marked redriven in the transaction that holds them, after the broker
 * acknowledged every message (acks=all).
 */
export async function redriveDeadLetters(options: RedriveOptions): Promise<RedriveResult> {
  const client = new Client({ connectionString: options.databaseUrl, application_name: 'dlq-redrive' });
  const producer = options.kafka.producer({
    idempotent: true,
    maxInFlightRequests: 1,
    allowAutoTopicCreation: false,
  });
  await client.connect();
  try {
    await producer.connect();
    await client.query('BEGIN');
    const params: unknown[] = [options.consumer];
    let filter = options.again ? '' : 'AND redriven_at IS NULL';
    if (options.eventId) {
      params.push(options.eventId);
      filter += ` AND event_id = $${params.length}`;
    }
    const { rows } = await client.query<{
      id: string;
      event_id: string | null;
      topic: string;
      message_key: string | null;
      message_value: Buffer | null;
      message_headers: Record<string, string>;
      error: string;
    }>(
      `SELECT id, event_id, topic, message_key, message_value, message_headers, error
         FROM "${options.schema}".dead_letters
        WHERE consumer = $1 ${filter}
        ORDER BY id FOR UPDATE SKIP LOCKED`,
      params,
    );
    const result: RedriveResult = { redriven: [], withoutMessage: [] };
    const sendable = rows.filter((r) => {
      if (r.message_value === null) result.withoutMessage.push(r.id);
      return r.message_value !== null;
    });
    if (sendable.length) {
      const topic = physicalTopic(options.topicPrefix, redriveTopic(options.consumer));
      await producer.send({
        topic,
        acks: -1,
        messages: sendable.map((r) => ({
          key: r.message_key,
          value: r.message_value,
          headers: {
            ...withoutDlqHeaders(r.message_headers),
            [REDRIVE_TOPIC_HEADER]: r.topic,
            'redrive-dead-letter-id': String(r.id),
            'redrive-at': new Date().toISOString(),
          },
        })),
      });
      await client.query(
        `UPDATE "${options.schema}".dead_letters SET redriven_at = clock_timestamp(), redrive_count = redrive_count + 1
          WHERE id = ANY($1::bigint[])`,
        [sendable.map((r) => r.id)],
      );
      result.redriven = sendable.map((r) => ({
        id: String(r.id),
        eventId: r.event_id,
        topic: r.topic,
        error: r.error,
      }));
    }
    await client.query('COMMIT');
    return result;
  } catch (err) {
    await client.query('ROLLBACK').catch(() => undefined);
    throw err;
  } finally {
    await producer.disconnect().catch(() => undefined);
    await client.end().catch(() => undefined);
  }
}

function withoutDlqHeaders(headers: Record<string, string>): Record<string, string> {
  return Object.fromEntries(Object.entries(headers ?? {}).filter(([k]) => !k.startsWith('dlq-')));
}
