import {
  ALERT_EVENT_TYPES,
  AlertActivated,
  AlertDeactivated,
  AlertUpdated,
  Envelope,
  PUBLICATION_EVENT_TYPES,
  PublicFicha,
  PublicationKind,
  TOPICS,
  createEnvelope,
} from '@alerta-rosa/contracts';
import { CommitNotifier, OutboxWriter } from '@alerta-rosa/messaging';
import { Injectable } from '@nestjs/common';
import { EntityManager } from 'typeorm';
import { updateReturning } from './sql';
import { outcomeNeedsNotice, publicationMarker } from '../content/post.templates';

/** Channel on which committed fan-outs wake the dispatcher (after commit: CommitNotifier). */
export const PENDING_CHANNEL = 'dissemination_pending';

/**
 * Turns alert events into publication rows (and withdrawal rows), inside the inbox transaction. Jobs
 * are enqueued only after commit, by the PendingDispatcher; the unique (alert, version, account)
 * constraint is the guard that makes a redelivered event harmless.
 */
@Injectable()
export class FanOutService {
  constructor(
    private readonly outbox: OutboxWriter,
    private readonly notifier: CommitNotifier,
  ) {}

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
    await this.recordVersion(m, e.alertId, p.version, p.ficha);
    await this.createPublications(m, e, p.folio, p.version, 'activation', true);
  }

  private async updated(m: EntityManager, e: Envelope<AlertUpdated>): Promise<void> {
    const p = e.payload;
    const [before] = await m.query(
      `SELECT ficha->>'photoUrl' AS photo_url FROM dissemination.alerts WHERE alert_id = $1 FOR UPDATE`,
      [e.alertId],
    );
    const rows = await updateReturning(
      m,
      `UPDATE dissemination.alerts SET version = $2, ficha = $3, updated_at = clock_timestamp()
        WHERE alert_id = $1 AND version < $2 AND status = 'active' RETURNING alert_id`,
      [e.alertId, p.version, JSON.stringify(p.ficha)],
    );
    if (!rows.length) return; // unknown alert, stale or already deactivated
    await this.recordVersion(m, e.alertId, p.version, p.ficha);
    const photo = p.ficha.photoUrl ?? null;
    if (before.photo_url && before.photo_url !== photo) {
      await this.retractEarlierPhotos(m, e, p.version, photo, before.photo_url);
    }
    await this.createPublications(m, e, p.folio, p.version, 'update', true);
  }

  private async recordVersion(m: EntityManager, alertId: string, version: number, ficha: PublicFicha) {
    await m.query(
      `INSERT INTO dissemination.alert_versions (alert_id, version, ficha, photo_url)
       VALUES ($1, $2, $3, $4) ON CONFLICT (alert_id, version) DO NOTHING`,
      [alertId, version, JSON.stringify(ficha), ficha.photoUrl ?? null],
    );
  }

  /**
   * Consent withdrawn, photo deleted or replaced: every earlier post that carried another photo comes
   * down on every account (a withdrawal round per account, while the alert stays active), and this
   * version is posted on its own (updates never thread under a post being withdrawn).
   */
  private async retractEarlierPhotos(
    m: EntityManager,
    e: Envelope,
    version: number,
    photo: string | null,
    previous: string,
  ): Promise<void> {
    const retracted: { account_id: string }[] = await updateReturning(
      m,
      `UPDATE dissemination.publications p SET retract = true
        WHERE p.alert_id = $1 AND p.alert_version < $2 AND p.with_image AND p.kind <> 'located_notice'
          AND NOT p.retract AND p.withdrawal_status = 'none' AND p.status IN ('pending', 'posted', 'may_exist')
          AND COALESCE((SELECT v.photo_url FROM dissemination.alert_versions v
                         WHERE v.alert_id = p.alert_id AND v.version = p.alert_version), $4) IS DISTINCT FROM $3
          AND COALESCE((SELECT v.photo_url FROM dissemination.alert_versions v
                         WHERE v.alert_id = p.alert_id AND v.version = p.alert_version), $4) IS NOT NULL
        RETURNING p.account_id`,
      [e.alertId, version, photo, previous],
    );
    await this.openWithdrawalRounds(m, e, [...new Set(retracted.map((r) => r.account_id))]);
  }

  /** A withdrawal round per account (a finished earlier round is opened again, with this cause). */
  private async openWithdrawalRounds(m: EntityManager, e: Envelope, accounts: string[]): Promise<string[]> {
    if (!accounts.length) return [];
    const rows: { account_id: string }[] = await m.query(
      `INSERT INTO dissemination.withdrawals AS w (alert_id, account_id, cause_event_id, correlation_id)
       SELECT $1, a, $3, $4 FROM unnest($2::text[]) AS a
       ON CONFLICT (alert_id, account_id) DO UPDATE SET
         status = 'pending', completed_at = NULL,
         enqueued_at = CASE WHEN w.status = 'done' THEN NULL ELSE w.enqueued_at END,
         attempts = CASE WHEN w.status = 'done' THEN 0 ELSE w.attempts END,
         last_error = CASE WHEN w.status = 'done' THEN NULL ELSE w.last_error END,
         delayed_reported_at = CASE WHEN w.status = 'done' THEN NULL ELSE w.delayed_reported_at END,
         cause_event_id = EXCLUDED.cause_event_id, correlation_id = EXCLUDED.correlation_id
       RETURNING account_id`,
      [e.alertId, accounts, e.eventId, e.correlationId],
    );
    this.notifier.afterCommit(m, PENDING_CHANNEL);
    return rows.map((r) => r.account_id);
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
    // Every post carrying the ficha comes down; every account that has (or may yet have) one must
    // confirm its withdrawal.
    const withAlert: { account_id: string }[] = await m.query(
      `WITH marked AS (
         UPDATE dissemination.publications SET retract = true
          WHERE alert_id = $1 AND with_image AND kind <> 'located_notice' RETURNING account_id)
       SELECT DISTINCT account_id FROM dissemination.publications
        WHERE alert_id = $1 AND kind <> 'located_notice'`,
      [e.alertId],
    );
    const accounts = await this.openWithdrawalRounds(
      m,
      e,
      withAlert.map((r) => r.account_id),
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
    this.notifier.afterCommit(m, PENDING_CHANNEL);
  }

  private async createPublications(
    m: EntityManager,
    e: Envelope,
    folio: string,
    version: number,
    kind: PublicationKind,
    withImage: boolean,
  ): Promise<void> {
    // One statement: a row per enabled account that has credentials (one without cannot post; the
    // admin API shows it as hasCredentials: false); the dispatcher is woken once this commits.
    await m.query(
      `INSERT INTO dissemination.publications
         (id, alert_id, alert_version, account_id, kind, folio, marker, with_image, cause_event_id, correlation_id)
       SELECT gen_random_uuid(), $1, $2, a.id, $3, $4, $5, $6, $7, $8
         FROM dissemination.accounts a WHERE a.enabled AND a.credentials_ciphertext IS NOT NULL
       ON CONFLICT ON CONSTRAINT publications_once_per_version DO NOTHING`,
      [
        e.alertId,
        version,
        kind,
        folio,
        publicationMarker(folio, version),
        withImage,
        e.eventId,
        e.correlationId,
      ],
    );
    this.notifier.afterCommit(m, PENDING_CHANNEL);
  }
}
