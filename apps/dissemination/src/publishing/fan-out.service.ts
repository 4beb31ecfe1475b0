import {
  ALERT_EVENT_TYPES,
  AlertActivated,
  AlertDeactivated,
  AlertUpdated,
  Envelope,
  PUBLICATION_EVENT_TYPES,
  PublicationKind,
  TOPICS,
  createEnvelope,
} from '@alerta-rosa/contracts';
import { OutboxWriter } from '@alerta-rosa/messaging';
import { Injectable } from '@nestjs/common';
import { EntityManager } from 'typeorm';
import { updateReturning } from './sql';
import { outcomeNeedsNotice, publicationMarker } from '../content/post.templates';

/** Channel on which committed fan-outs wake the dispatcher (NOTIFY is delivered only on commit). */
export const PENDING_CHANNEL = 'dissemination_pending';

/**
 * Turns alert events into publication rows (and withdrawal rows), inside the inbox transaction. Jobs
 * are enqueued only after commit, by the PendingDispatcher; the unique (alert, version, account)
 * constraint is the guard that makes a redelivered event harmless.
 */
@Injectable()
export class FanOutService {
  constructor(private readonly outbox: OutboxWriter) {}

  async handle(m: EntityManager, event: Envelope): Promise<void> {
    switch (event.type) {
      case ALERT_EVENT_TYPES.activated:
        return this.activated(m, event as Envelope<AlertActivated>);
      case ALERT_EVENT_TYPES.updated:
        return this.updated(m, event as Envelope<AlertUpdated>);
      case ALERT_EVENT_TYPES.deactivated:
        return this.deactivated(m, event as Envelope<AlertDeactivated>);
    }
  }

  private async activated(m: EntityManager, e: Envelope<AlertActivated>): Promise<void> {
    const p = e.payload;
    await m.query(
      `INSERT INTO dissemination.alerts (alert_id, folio, version, ficha, status, activated_at)
       VALUES ($1, $2, $3, $4, 'active', $5)
       ON CONFLICT (alert_id) DO UPDATE SET folio = EXCLUDED.folio, version = EXCLUDED.version, ficha = EXCLUDED.ficha,
              updated_at = clock_timestamp()
        WHERE dissemination.alerts.version < EXCLUDED.version`,
      [e.alertId, p.folio, p.version, JSON.stringify(p.ficha), p.activatedAt],
    );
    await this.createPublications(m, e, p.folio, p.version, 'activation', true);
  }

  private async updated(m: EntityManager, e: Envelope<AlertUpdated>): Promise<void> {
    const p = e.payload;
    const rows = await updateReturning(
      m,
      `UPDATE dissemination.alerts SET version = $2, ficha = $3, updated_at = clock_timestamp()
        WHERE alert_id = $1 AND version < $2 AND status = 'active' RETURNING alert_id`,
      [e.alertId, p.version, JSON.stringify(p.ficha)],
    );
    if (!rows.length) return; // unknown alert, stale or already deactivated
    await this.createPublications(m, e, p.folio, p.version, 'update', true);
  }

  private async deactivated(m: EntityManager, e: Envelope<AlertDeactivated>): Promise<void> {
    const p = e.payload;
    const rows = await updateReturning(
      m,
      `UPDATE dissemination.alerts SET status = 'deactivated', outcome = $2, version = GREATEST(version, $3),
              deactivated_at = $4, updated_at = clock_timestamp()
        WHERE alert_id = $1 AND status = 'active' RETURNING folio`,
      [e.alertId, p.outcome, p.version, p.deactivatedAt],
    );
    if (!rows.length) return;
    await m.query(
      `INSERT INTO dissemination.alert_withdrawals (alert_id, outcome, cause_event_id, correlation_id)
       VALUES ($1, $2, $3, $4) ON CONFLICT DO NOTHING`,
      [e.alertId, p.outcome, e.eventId, e.correlationId],
    );
    // Every account that has (or may yet have) a post of this alert must confirm its withdrawal.
    const accounts = await m.query(
      `INSERT INTO dissemination.withdrawals (alert_id, account_id)
       SELECT DISTINCT alert_id, account_id FROM dissemination.publications
        WHERE alert_id = $1 AND kind <> 'located_notice'
       ON CONFLICT DO NOTHING RETURNING account_id`,
      [e.alertId],
    );
    if (outcomeNeedsNotice(p.outcome)) {
      await this.createPublications(m, e, p.folio, p.version, 'located_notice', false);
    }
    if (!accounts.length) {
      await m.query(
        `UPDATE dissemination.alert_withdrawals SET completed_at = clock_timestamp() WHERE alert_id = $1`,
        [e.alertId],
      );
      await this.outbox.append(m, TOPICS.publications, [
        createEnvelope({
          type: PUBLICATION_EVENT_TYPES.withdrawalCompleted,
          alertId: e.alertId,
          producer: 'dissemination',
          cause: e,
          payload: {
            folio: p.folio,
            outcome: p.outcome,
            accounts: 0,
            postsWithdrawn: 0,
            requestedAt: new Date().toISOString(),
            completedAt: new Date().toISOString(),
          },
        }),
      ]);
    }
    await m.query(`SELECT pg_notify($1, '')`, [PENDING_CHANNEL]);
  }

  private async createPublications(
    m: EntityManager,
    e: Envelope,
    folio: string,
    version: number,
    kind: PublicationKind,
    withImage: boolean,
  ): Promise<void> {
    // One round trip: a row per enabled account that has credentials (one without cannot post; the
    // admin API shows it as hasCredentials: false), then the dispatcher's wake-up (sent on commit).
    await m.query(
      `WITH created AS (
         INSERT INTO dissemination.publications
           (id, alert_id, alert_version, account_id, kind, folio, marker, with_image, cause_event_id, correlation_id)
         SELECT gen_random_uuid(), $1, $2, a.id, $3, $4, $5, $6, $7, $8
           FROM dissemination.accounts a WHERE a.enabled AND a.credentials_ciphertext IS NOT NULL
         ON CONFLICT ON CONSTRAINT publications_once_per_version DO NOTHING
         RETURNING 1)
       SELECT pg_notify($9, '') FROM (SELECT count(*) FROM created) c`,
      [
        e.alertId,
        version,
        kind,
        folio,
        publicationMarker(folio, version),
        withImage,
        e.eventId,
        e.correlationId,
        PENDING_CHANNEL,
      ],
    );
  }
}
