import { PublicFicha } from '@alerta-rosa/contracts';
import { Injectable } from '@nestjs/common';
import { DataSource, EntityManager } from 'typeorm';
import { CapMsgType, CapReference } from './cap-message.builder';

export type CapReason = 'activation' | 'update' | 'renewal' | 'deactivation';

export interface CapAlertState {
  alertId: string;
  folio: string;
  status: 'active' | 'cancelled';
  version: number;
  ficha: PublicFicha | null;
  messageCount: number;
  expiresAt: Date;
}

export interface NewCapMessage {
  identifier: string;
  alertId: string;
  seq: number;
  msgType: CapMsgType;
  reason: CapReason;
  alertVersion: number;
  sender: string;
  sent: Date;
  expires: Date;
  headline: string;
  summary: string;
  xml: string;
  causeEventId: string | null;
}

export interface FeedEntryRow {
  identifier: string;
  folio: string;
  status: 'active' | 'cancelled';
  msg_type: CapMsgType;
  sent: Date;
  first_sent: Date;
  headline: string;
  summary: string;
}

export interface StoredCapMessage {
  identifier: string;
  sent: Date;
  xml: string | null;
  withdrawn_at: Date | null;
}

/** The SQL of the CAP projection (tracker.cap_alerts, tracker.cap_messages). */
@Injectable()
export class CapRepository {
  constructor(private readonly dataSource: DataSource) {}

  /** The alert's CAP state, locked for the rest of the transaction (one message at a time per alert). */
  async lock(m: EntityManager, alertId: string): Promise<CapAlertState | null> {
    const [row] = await m.query(
      `SELECT alert_id, folio, status, version, ficha, message_count, expires_at
       FROM tracker.cap_alerts WHERE alert_id = $1 FOR UPDATE`,
      [alertId],
    );
    return row
      ? {
          alertId: row.alert_id,
          folio: row.folio,
          status: row.status,
          version: row.version,
          ficha: row.ficha,
          messageCount: row.message_count,
          expiresAt: new Date(row.expires_at),
        }
      : null;
  }

  /** Every message issued for the alert so far, oldest first (what the next one references). */
  async references(m: EntityManager, alertId: string): Promise<CapReference[]> {
    const rows: { sender: string; identifier: string; sent: Date }[] = await m.query(
      `SELECT sender, identifier, sent FROM tracker.cap_messages WHERE alert_id = $1 ORDER BY seq`,
      [alertId],
    );
    return rows.map((r) => ({ sender: r.sender, identifier: r.identifier, sent: new Date(r.sent) }));
  }

  async record(
    m: EntityManager,
    msg: NewCapMessage,
    state: { folio: string; status: 'active' | 'cancelled'; ficha: PublicFicha; outcome: string | null },
  ): Promise<void> {
    await m.query(
      `INSERT INTO tracker.cap_alerts
         (alert_id, folio, status, version, ficha, outcome, message_count, latest_identifier, expires_at, cancelled_at)
       VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, CASE WHEN $3 = 'cancelled' THEN $10::timestamptz END)
       ON CONFLICT (alert_id) DO UPDATE SET
         status = EXCLUDED.status, version = EXCLUDED.version, ficha = EXCLUDED.ficha, outcome = EXCLUDED.outcome,
         message_count = EXCLUDED.message_count, latest_identifier = EXCLUDED.latest_identifier,
         expires_at = EXCLUDED.expires_at, cancelled_at = EXCLUDED.cancelled_at`,
      [
        msg.alertId,
        state.folio,
        state.status,
        msg.alertVersion,
        JSON.stringify(state.ficha),
        state.outcome,
        msg.seq,
        msg.identifier,
        msg.expires,
        msg.sent,
      ],
    );
    await m.query(
      `INSERT INTO tracker.cap_messages
         (identifier, alert_id, seq, msg_type, reason, alert_version, sender, sent, expires, headline, summary, xml, cause_event_id)
       VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13)`,
      [
        msg.identifier,
        msg.alertId,
        msg.seq,
        msg.msgType,
        msg.reason,
        msg.alertVersion,
        msg.sender,
        msg.sent,
        msg.expires,
        msg.headline,
        msg.summary,
        msg.xml,
        msg.causeEventId,
      ],
    );
  }

  /** Active alerts whose latest message expires within `seconds`. */
  async dueForRenewal(seconds: number, limit = 100): Promise<string[]> {
    const rows: { alert_id: string }[] = await this.dataSource.query(
      `SELECT alert_id FROM tracker.cap_alerts
       WHERE status = 'active' AND expires_at <= clock_timestamp() + make_interval(secs => $1)
       ORDER BY expires_at LIMIT $2`,
      [seconds, limit],
    );
    return rows.map((r) => r.alert_id);
  }

  /**
   * Cancelled alerts out of the feed for good: the documents that named her (Alert, Updates) are
   * withdrawn and the stored ficha forgotten; the Cancel, which names no one, stays.
   */
  async retireLeft(visibleSeconds: number): Promise<number> {
    return this.dataSource.transaction(async (m) => {
      const due: { alert_id: string; folio: string }[] = await m.query(
        `SELECT alert_id, folio FROM tracker.cap_alerts
         WHERE status = 'cancelled' AND left_feed_at IS NULL
           AND cancelled_at <= clock_timestamp() - make_interval(secs => $1)
         LIMIT 100 FOR UPDATE SKIP LOCKED`,
        [visibleSeconds],
      );
      for (const a of due) {
        await m.query(
          `UPDATE tracker.cap_messages
           SET xml = NULL, withdrawn_at = clock_timestamp(), headline = $2, summary = ''
           WHERE alert_id = $1 AND msg_type <> 'Cancel' AND withdrawn_at IS NULL`,
          [a.alert_id, `Alerta Rosa ${a.folio}`],
        );
        await m.query(
          `UPDATE tracker.cap_alerts SET ficha = NULL, left_feed_at = clock_timestamp() WHERE alert_id = $1`,
          [a.alert_id],
        );
      }
      return due.length;
    });
  }

  /**
   * The feed as of one snapshot: each alert's latest message (active alerts, and cancelled ones for
   * `visibleSeconds` after their Cancel), and when the feed last changed — a new message, or a
   * cancelled alert leaving it.
   */
  async feed(visibleSeconds: number): Promise<{ entries: FeedEntryRow[]; lastChange: Date | null }> {
    return this.dataSource.transaction('REPEATABLE READ', async (m) => {
      const entries: FeedEntryRow[] = await m.query(
        `SELECT msg.identifier, a.folio, a.status, msg.msg_type, msg.sent, msg.headline, msg.summary,
                (SELECT min(f.sent) FROM tracker.cap_messages f WHERE f.alert_id = a.alert_id) AS first_sent
         FROM tracker.cap_alerts a JOIN tracker.cap_messages msg ON msg.identifier = a.latest_identifier
         WHERE a.status = 'active'
            OR (a.status = 'cancelled' AND a.cancelled_at > clock_timestamp() - make_interval(secs => $1))
         ORDER BY msg.sent DESC, msg.identifier`,
        [visibleSeconds],
      );
      const [departure]: { at: Date | null }[] = await m.query(
        `SELECT max(cancelled_at + make_interval(secs => $1)) AS at FROM tracker.cap_alerts
         WHERE status = 'cancelled' AND cancelled_at + make_interval(secs => $1) <= clock_timestamp()`,
        [visibleSeconds],
      );
      const times = [
        ...entries.map((e) => new Date(e.sent).getTime()),
        departure?.at ? new Date(departure.at).getTime() : Number.NaN,
      ].filter((t) => !Number.isNaN(t));
      return { entries, lastChange: times.length ? new Date(Math.max(...times)) : null };
    });
  }

  async message(identifier: string): Promise<StoredCapMessage | null> {
    const [row] = await this.dataSource.query(
      `SELECT identifier, sent, xml, withdrawn_at FROM tracker.cap_messages WHERE identifier = $1`,
      [identifier],
    );
    return row ?? null;
  }

  async counts(): Promise<{
    byType: { msg_type: string; reason: string; n: number }[];
    active: number;
    soonestExpiry: number | null;
  }> {
    const byType: { msg_type: string; reason: string; n: number }[] = await this.dataSource.query(
      `SELECT msg_type, reason, count(*)::int AS n FROM tracker.cap_messages GROUP BY 1, 2`,
    );
    const [row]: { active: number; soonest: number | null }[] = await this.dataSource.query(
      `SELECT count(*)::int AS active,
              extract(epoch FROM min(expires_at) - clock_timestamp())::float8 AS soonest
       FROM tracker.cap_alerts WHERE status = 'active'`,
    );
    return { byType, active: row.active, soonestExpiry: row.soonest };
  }
}
