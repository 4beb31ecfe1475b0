import { Envelope, encodeEvent, physicalTopic } from '@alerta-rosa/contracts';
import { EntityManager } from 'typeorm';
import { CommitNotifier } from '../notify/commit-notifier';

/**
 * Appends events to the service's outbox inside the caller's transaction: the state change and its
 * events commit together or not at all. The relay is woken once the transaction has committed (this
 * process's relay at once, the leader elsewhere by a NOTIFY sent after the commit: CommitNotifier).
 *
 * Order: the relay publishes in id order, and ids are drawn at insert time, not at commit. Two
 * transactions writing events of the same alert could commit in the other order and leave the service
 * reversed (e.g. a withdrawal's completion before a late post's success). So each transaction first
 * takes a per-alert lock (held to its commit) before drawing ids: for one alert, id order is commit
 * order. Call `append` as the transaction's last write, so the lock is held only for the commit.
 *
 * Lanes: events about one part of an alert that is independent of its other parts (one account's
 * publication) may name that part as their lane. They take the alert's lock shared and the lane's
 * exclusively: one lane's events stay in commit order among themselves and with the alert's own events
 * (appended without a lane, which wait for every lane in flight and hold the others back), while
 * different lanes' transactions commit side by side — the 30 accounts' outcomes of one alert are not
 * made to commit one after the other. Events of two lanes may then leave in either order. A transaction
 * appends either with a lane or without one (taking the alert's lock shared and then exclusively could
 * deadlock with another transaction doing the same).
 */
export class OutboxWriter {
  constructor(
    private readonly schema: string,
    private readonly topicPrefix: string,
    private readonly notifier: CommitNotifier,
  ) {}

  async append(
    manager: EntityManager,
    topic: string,
    events: Envelope[],
    options: { lane?: string } = {},
  ): Promise<void> {
    if (!manager.queryRunner?.isTransactionActive) {
      throw new Error('OutboxWriter.append must run inside a transaction');
    }
    if (!events.length) return;
    // One round trip: the per-alert advisory locks (in a fixed order, all of them taken before any row
    // is written; held to commit, so one alert's rows commit in order) and the rows.
    const part = this.appendCtes(topic, events, { lane: options.lane, firstParam: 1 });
    await manager.query(`WITH ${part.sql} SELECT count(*) FROM ${part.written}`, part.params);
    this.notifier.afterCommit(manager, outboxChannel(this.schema));
  }

  /**
   * The append as common table expressions, for a caller's own statement that changes its state and
   * appends the events in one round trip and commits on its own (no transaction: the statement is
   * one). With `gate` (the name of one of the caller's CTEs), the locks are taken and the rows written
   * only if that CTE returns a row — the events of a change that did not happen are not written.
   * Parameters are numbered from `firstParam`. Put the caller's CTEs first: `WITH <yours>, ${sql}`;
   * `written` names the CTE that returns one row per event written. Once the statement has returned,
   * call `committed()`.
   */
  appendCtes(
    topic: string,
    events: Envelope[],
    options: { lane?: string; gate?: string; firstParam: number },
  ): { sql: string; params: unknown[]; written: string } {
    if (!events.length) throw new Error('OutboxWriter.appendCtes needs at least one event');
    const n = (i: number) => `$${options.firstParam + i}`;
    const alertIds = [...new Set(events.map((e) => e.alertId))].sort();
    const lock =
      options.lane === undefined
        ? `pg_advisory_xact_lock(hashtext(${n(0)}), hashtext(k))`
        : `pg_advisory_xact_lock_shared(hashtext(${n(0)}), hashtext(k)),
                  pg_advisory_xact_lock(hashtext(${n(0)} || ':lane'), hashtext(k || ':' || ${n(7)}::text))`;
    const gate = options.gate;
    return {
      sql: `outbox_locked AS (
         SELECT ${lock} FROM ${gate ? `(SELECT 1 FROM ${gate} LIMIT 1) AS g, ` : ''}unnest(${n(1)}::text[]) AS k),
       outbox_written AS (
         INSERT INTO "${this.schema}".outbox (event_id, topic, message_key, event_type, payload)
         SELECT e.event_id, e.topic, e.message_key, e.event_type, e.payload
           FROM (SELECT count(*) AS locks FROM outbox_locked) AS l,
                unnest(${n(2)}::uuid[], ${n(3)}::text[], ${n(4)}::text[], ${n(5)}::text[], ${n(6)}::text[])
                  WITH ORDINALITY AS e(event_id, topic, message_key, event_type, payload, n)
          ${gate ? 'WHERE l.locks > 0' : ''}
          ORDER BY e.n
         RETURNING 1)`,
      params: [
        `outbox:${this.schema}`,
        alertIds,
        events.map((e) => e.eventId),
        events.map(() => physicalTopic(this.topicPrefix, topic)),
        events.map((e) => e.alertId),
        events.map((e) => e.type),
        events.map((e) => encodeEvent(e)),
        ...(options.lane === undefined ? [] : [options.lane]),
      ],
      written: 'outbox_written',
    };
  }

  /** After a statement built with `appendCtes` has returned (committed): the relay is woken. */
  committed(): void {
    this.notifier.notify(outboxChannel(this.schema));
  }
}

export function outboxChannel(schema: string): string {
  return `outbox_${schema}`;
}
