import { CommitNotifier } from '@alerta-rosa/messaging';
import { MailKind } from '@alerta-rosa/contracts';
import { Injectable } from '@nestjs/common';
import { DataSource, EntityManager } from 'typeorm';
import { notifyDispatch, rows, rowsOnce } from '../tasks/sql';

export interface MailRow {
  id: string;
  kind: MailKind;
  alert_id: string;
  task_id: string | null;
  area_id: string;
  recipients: string[];
  subject: string;
  text_body: string;
  html_body: string;
  photo_url: string | null;
  status: 'queued' | 'sent' | 'failed';
  attempts: number;
  last_error: string | null;
  message_id: string | null;
  enqueued_at: Date | null;
  delayed_at: Date | null;
  claim_token: string | null;
  claimed_until: Date | null;
  created_at: Date;
  sent_at: Date | null;
  failed_at: Date | null;
}

/** The SQL of `coordination.mails`: every mail decided, and what became of it. */
@Injectable()
export class MailRepository {
  constructor(
    private readonly dataSource: DataSource,
    private readonly notifier: CommitNotifier,
  ) {}

  transaction<T>(work: (m: EntityManager) => Promise<T>): Promise<T> {
    return this.dataSource.transaction(work);
  }

  /**
   * Claims a queued mail for one send: a lease under `token` until `leaseMs` from now. BullMQ can hand
   * one job to two workers (a lapsed lock, a Redis that came back and replayed commands), so the job
   * id alone does not make a send single; the lease does. Refused while another live lease holds it.
   */
  async claimForSending(
    mailId: string,
    token: string,
    leaseMs: number,
  ): Promise<
    | { claimed: MailRow & { folio: string | null } }
    | { missing: true }
    | { settled: MailRow['status'] }
    | { busyForMs: number }
  > {
    const [claimed] = await rowsOnce<MailRow & { folio: string | null }>(
      this.dataSource,
      `UPDATE coordination.mails m SET claim_token = $2,
              claimed_until = clock_timestamp() + make_interval(secs => $3::float / 1000)
       WHERE id = $1 AND status = 'queued' AND (claimed_until IS NULL OR claimed_until <= clock_timestamp())
       RETURNING m.*, (SELECT folio FROM coordination.alerts a WHERE a.alert_id = m.alert_id) AS folio`,
      [mailId, token, leaseMs],
    );
    if (claimed) return { claimed };
    const [row] = await this.dataSource.query(
      `SELECT status, GREATEST(0, extract(epoch FROM claimed_until - clock_timestamp()) * 1000)::int AS busy_ms
       FROM coordination.mails WHERE id = $1`,
      [mailId],
    );
    if (!row) return { missing: true };
    if (row.status !== 'queued') return { settled: row.status };
    return { busyForMs: Number(row.busy_ms ?? 0) };
  }

  /** Extends a live claim (a send still in flight); false when the claim is no longer this token's. */
  async extendClaim(mailId: string, token: string, leaseMs: number): Promise<boolean> {
    const updated = await rowsOnce(
      this.dataSource,
      `UPDATE coordination.mails SET claimed_until = clock_timestamp() + make_interval(secs => $3::float / 1000)
       WHERE id = $1 AND claim_token = $2 AND status = 'queued' RETURNING id`,
      [mailId, token, leaseMs],
    );
    return updated.length === 1;
  }

  /** Accepted by the relay (the task's assignment mail status with it); null when already recorded. */
  async markSent(
    m: EntityManager,
    mailId: string,
    messageId: string | undefined,
  ): Promise<(MailRow & { folio: string | null }) | null> {
    const [mail] = await rows<MailRow & { folio: string | null }>(
      m,
      `WITH sent AS (
         UPDATE coordination.mails SET status = 'sent', sent_at = clock_timestamp(), message_id = $2,
                attempts = attempts + 1, last_error = NULL, claim_token = NULL, claimed_until = NULL
         WHERE id = $1 AND status <> 'sent' RETURNING *
       ), task AS (
         UPDATE coordination.tasks SET mail_status = 'sent', mail_error = NULL, updated_at = clock_timestamp()
         WHERE id = (SELECT task_id FROM sent WHERE kind = 'assignment') RETURNING id
       )
       SELECT sent.*, a.folio FROM sent LEFT JOIN coordination.alerts a USING (alert_id)`,
      [mailId, messageId ?? null],
    );
    return mail ?? null;
  }

  /**
   * A transient failure: counted, the mail stays queued (retried). `newlyDelayed` is true on the
   * attempt that reaches `delayedAfter` (the mail is reported delayed once).
   */
  async recordTransientFailure(
    m: EntityManager,
    mailId: string,
    token: string,
    error: string,
    delayedAfter: number,
  ): Promise<(MailRow & { newly_delayed: boolean }) | null> {
    const [mail] = await rows<MailRow & { newly_delayed: boolean }>(
      m,
      `WITH old AS (SELECT id, delayed_at FROM coordination.mails WHERE id = $1 AND status = 'queued' FOR UPDATE)
       UPDATE coordination.mails m SET attempts = m.attempts + 1, last_error = $3,
              delayed_at = CASE WHEN m.delayed_at IS NULL AND m.attempts + 1 >= $4 THEN clock_timestamp() ELSE m.delayed_at END,
              claimed_until = CASE WHEN m.claim_token = $2 THEN NULL ELSE m.claimed_until END,
              claim_token = CASE WHEN m.claim_token = $2 THEN NULL ELSE m.claim_token END
       FROM old WHERE m.id = old.id
       RETURNING m.*, (old.delayed_at IS NULL AND m.attempts >= $4) AS newly_delayed`,
      [mailId, token, error.slice(0, 1000), delayedAfter],
    );
    return mail ?? null;
  }

  /** The relay refused the mail for good: it is given up. */
  async markRefused(m: EntityManager, mailId: string, error: string): Promise<MailRow | null> {
    const [mail] = await rows<MailRow>(
      m,
      `UPDATE coordination.mails SET attempts = attempts + 1, last_error = $2, status = 'failed', failed_at = clock_timestamp(),
              claim_token = NULL, claimed_until = NULL
       WHERE id = $1 AND status = 'queued' RETURNING *`,
      [mailId, error.slice(0, 1000)],
    );
    return mail ?? null;
  }

  /** What the task shows of its assignment mail. */
  async setTaskMailStatus(
    m: EntityManager,
    taskId: string,
    status: 'delayed' | 'failed',
    error: string,
  ): Promise<void> {
    await m.query(
      `UPDATE coordination.tasks SET mail_status = $2, mail_error = $3, updated_at = clock_timestamp()
       WHERE id = $1 AND mail_status <> 'sent'`,
      [taskId, status, error.slice(0, 1000)],
    );
  }

  /** Mails handed to BullMQ at least `graceMs` ago and not yet settled (sent or given up), oldest first. */
  handedOverUnsettled(graceMs: number, limit = 1_000): Promise<{ id: string; handed_over: string }[]> {
    // `handed_over`: enqueued_at in microseconds, exact (a JS Date would drop the microseconds).
    return this.dataSource.query(
      `SELECT id, (extract(epoch FROM enqueued_at) * 1000000)::bigint::text AS handed_over FROM coordination.mails
       WHERE status = 'queued' AND enqueued_at IS NOT NULL
         AND enqueued_at <= clock_timestamp() - make_interval(secs => $1::float / 1000)
       ORDER BY created_at LIMIT $2`,
      [graceMs, limit],
    );
  }

  /**
   * The mail's job is gone or dead: back to "to hand over" for the dispatcher, unless it was settled
   * or handed over again meanwhile (compared on `enqueued_at`). Wakes the dispatcher on commit.
   */
  async handOverAgain(mailId: string, handedOver: string): Promise<boolean> {
    return this.transaction(async (m) => {
      const updated = await rows(
        m,
        `UPDATE coordination.mails SET enqueued_at = NULL
         WHERE id = $1 AND status = 'queued' AND (extract(epoch FROM enqueued_at) * 1000000)::bigint = $2::bigint
         RETURNING id`,
        [mailId, handedOver],
      );
      if (updated.length) notifyDispatch(this.notifier, m);
      return updated.length === 1;
    });
  }
}
