import { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * CAP 1.2 messages issued for each alert version (and the renewals of their rolling expiry), and the
 * state of each alert's CAP feed entry. An issued document (`xml`) is never changed: a later message
 * supersedes it; once the alert has left the feed the documents that named her are withdrawn (NULL).
 */
export class TrackerCap1764600000401 implements MigrationInterface {
  name = 'TrackerCap1764600000401';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`
      CREATE TABLE tracker.cap_alerts (
        alert_id          uuid PRIMARY KEY,
        folio             text NOT NULL,
        status            text NOT NULL CHECK (status IN ('active', 'cancelled')),
        version           integer NOT NULL,
        -- latest public ficha (renewals repeat it); NULL once the alert has left the feed
        ficha             jsonb,
        outcome           text,
        message_count     integer NOT NULL,
        latest_identifier text NOT NULL,
        -- expires of the latest message: a renewal is due before it
        expires_at        timestamptz NOT NULL,
        cancelled_at      timestamptz,
        left_feed_at      timestamptz
      )`);
    await q.query(
      `CREATE INDEX cap_alerts_renewal_idx ON tracker.cap_alerts (expires_at) WHERE status = 'active'`,
    );
    await q.query(
      `CREATE INDEX cap_alerts_retire_idx ON tracker.cap_alerts (cancelled_at) WHERE status = 'cancelled' AND left_feed_at IS NULL`,
    );
    await q.query(`
      CREATE TABLE tracker.cap_messages (
        identifier     text PRIMARY KEY CHECK (identifier ~ '^[A-Za-z0-9-]+$'),
        alert_id       uuid NOT NULL REFERENCES tracker.cap_alerts (alert_id),
        seq            integer NOT NULL,
        msg_type       text NOT NULL CHECK (msg_type IN ('Alert', 'Update', 'Cancel')),
        reason         text NOT NULL CHECK (reason IN ('activation', 'update', 'renewal', 'deactivation')),
        alert_version  integer NOT NULL,
        sender         text NOT NULL,
        sent           timestamptz NOT NULL,
        expires        timestamptz NOT NULL,
        headline       text NOT NULL,
        summary        text NOT NULL,
        xml            text,
        cause_event_id uuid,
        withdrawn_at   timestamptz,
        CONSTRAINT cap_messages_seq UNIQUE (alert_id, seq)
      )`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`DROP TABLE tracker.cap_messages`);
    await q.query(`DROP TABLE tracker.cap_alerts`);
  }
}
