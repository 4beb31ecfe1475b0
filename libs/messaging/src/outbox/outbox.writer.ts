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
    const alertIds = [...new Set(events.map((e) => e.alertId))].sort();
    for (const alertId of alertIds) {
      await manager.query('SELECT pg_advisory_xact_lock(hashtext($1), hashtext($2))', [
        `outbox:${this.schema}`,
        alertId,
      ]);
    }
    for (const event of events) {
      await manager.query(
        `INSERT INTO "${this.schema}".outbox (event_id, topic, message_key, event_type, payload)
         VALUES ($1, $2, $3, $4, $5)`,
        [
          event.eventId,
          physicalTopic(this.topicPrefix, topic),
          event.alertId,
          event.type,
          encodeEvent(event),
        ],
      );
    }
    await manager.query('SELECT pg_notify($1, $2)', [outboxChannel(this.schema), '']);
  }
}

export function outboxChannel(schema: string): string {
  return `outbox_${schema}`;
}
