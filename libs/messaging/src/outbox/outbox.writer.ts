import { Envelope, encodeEvent, physicalTopic } from '@alerta-rosa/contracts';
import { EntityManager } from 'typeorm';

/**
 * Appends events to the service's outbox inside the caller's transaction: the state change and its
 * events commit together or not at all. A NOTIFY wakes the relay as soon as the transaction commits.
 *
 * Order: the relay publishes in id order, and ids are drawn at insert time, not at commit. Two
 * transactions writing events of the same alert could commit in the other order and leave the service
 * reversed (e.g. a withdrawal's completion before a late post's success). So each transaction first
 * takes a per-alert lock (held to its commit) before drawing ids: for one alert, id order is commit
 * order. Call `append` as the transaction's last write, so the lock is held only for the commit.
 */
export class OutboxWriter {
  constructor(
    private readonly schema: string,
    private readonly topicPrefix: string,
  ) {}

  async append(manager: EntityManager, topic: string, events: Envelope[]): Promise<void> {
    if (!manager.queryRunner?.isTransactionActive) {
      throw new Error('OutboxWriter.append must run inside a transaction');
    }
    if (!events.length) return;
    const alertIds = [...new Set(events.map((e) => e.alertId))].sort();
    // One round trip: the per-alert advisory locks (in a fixed order, all of them taken before any row
    // is written; held to commit, so one alert's rows commit in order), the rows, the relay's wake-up.
    await manager.query(
      `WITH locked AS (
         SELECT pg_advisory_xact_lock(hashtext($1), hashtext(k)) FROM unnest($2::text[]) AS k),
       written AS (
         INSERT INTO "${this.schema}".outbox (event_id, topic, message_key, event_type, payload)
         SELECT e.event_id, e.topic, e.message_key, e.event_type, e.payload
           FROM (SELECT count(*) FROM locked) AS l,
                unnest($3::uuid[], $4::text[], $5::text[], $6::text[], $7::text[])
                  WITH ORDINALITY AS e(event_id, topic, message_key, event_type, payload, n)
          ORDER BY e.n
         RETURNING 1)
       SELECT pg_notify($8, '') FROM (SELECT count(*) FROM written) AS w`,
      [
        `outbox:${this.schema}`,
        alertIds,
        events.map((e) => e.eventId),
        events.map(() => physicalTopic(this.topicPrefix, topic)),
        events.map((e) => e.alertId),
        events.map((e) => e.type),
        events.map((e) => encodeEvent(e)),
        outboxChannel(this.schema),
      ],
    );
  }
}

export function outboxChannel(schema: string): string {
  return `outbox_${schema}`;
}
