import { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * Issue 8: a post that may exist is treated as existing; one send per publication under a lease; the
 * ficha of every version; withdrawals of earlier posts while the alert is still active (photo changed).
 */
export class DisseminationMayExistLeases1764600000100 implements MigrationInterface {
  name = 'DisseminationMayExistLeases1764600000100';

  async up(q: QueryRunner): Promise<void> {
    // The public ficha of each version, so a post of version N shows version N.
    await q.query(`
      CREATE TABLE dissemination.alert_versions (
        alert_id    uuid NOT NULL REFERENCES dissemination.alerts (alert_id),
        version     integer NOT NULL,
        ficha       jsonb NOT NULL,
        photo_url   text,
        created_at  timestamptz NOT NULL DEFAULT clock_timestamp(),
        PRIMARY KEY (alert_id, version)
      )`);
    await q.query(`
      INSERT INTO dissemination.alert_versions (alert_id, version, ficha, photo_url)
      SELECT alert_id, version, ficha, ficha->>'photoUrl' FROM dissemination.alerts
      ON CONFLICT DO NOTHING`);

    await q.query(
      `ALTER TABLE dissemination.publications DROP CONSTRAINT IF EXISTS publications_status_check`,
    );
    await q.query(`
      ALTER TABLE dissemination.publications
        ADD CONSTRAINT publications_status_check
          CHECK (status IN ('pending', 'posted', 'may_exist', 'failed', 'cancelled')),
        -- The lease: whoever holds the token may send and record; others are refused until it expires.
        ADD COLUMN claim_token uuid,
        ADD COLUMN claim_expires_at timestamptz,
        -- A create request was sent and its outcome is not known yet (set with send_started_at).
        ADD COLUMN send_ended_at timestamptz,
        -- Marker look-ups that found nothing since the last ambiguous send (absence needs several, spaced).
        ADD COLUMN marker_misses integer NOT NULL DEFAULT 0,
        ADD COLUMN last_marker_miss_at timestamptz,
        -- The platform refused a send as a duplicate of a post already there: the post exists.
        ADD COLUMN duplicate_refused boolean NOT NULL DEFAULT false,
        -- Further posts of this publication (a holder whose lease had lapsed); the withdrawal deletes them.
        ADD COLUMN other_remote_ids text[] NOT NULL DEFAULT '{}',
        ADD COLUMN may_exist_since timestamptz,
        -- This post must come down (alert deactivated, or the photo it carries was withdrawn/replaced).
        ADD COLUMN retract boolean NOT NULL DEFAULT false`);
    await q.query(
      `ALTER TABLE dissemination.publications DROP CONSTRAINT IF EXISTS publications_withdrawal_status_check`,
    );
    await q.query(`
      ALTER TABLE dissemination.publications ADD CONSTRAINT publications_withdrawal_status_check
        CHECK (withdrawal_status IN ('none', 'withdrawn', 'absent'))`);
    // Publications of deactivated alerts that carry the ficha were always to be withdrawn.
    await q.query(`
      UPDATE dissemination.publications p SET retract = true
        FROM dissemination.alert_withdrawals w
       WHERE w.alert_id = p.alert_id AND p.with_image AND p.kind <> 'located_notice'`);

    // Withdrawal rows also serve rounds requested while the alert is active (photo changed): they
    // belong to the alert, and each round records its own cause.
    await q.query(
      `ALTER TABLE dissemination.withdrawals DROP CONSTRAINT IF EXISTS withdrawals_alert_id_fkey`,
    );
    await q.query(`
      ALTER TABLE dissemination.withdrawals
        ADD CONSTRAINT withdrawals_alert_id_fkey FOREIGN KEY (alert_id) REFERENCES dissemination.alerts (alert_id),
        ADD COLUMN cause_event_id uuid,
        ADD COLUMN correlation_id uuid`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`DROP TABLE IF EXISTS dissemination.alert_versions`);
    await q.query(`
      ALTER TABLE dissemination.withdrawals DROP COLUMN cause_event_id, DROP COLUMN correlation_id,
        DROP CONSTRAINT withdrawals_alert_id_fkey,
        ADD CONSTRAINT withdrawals_alert_id_fkey FOREIGN KEY (alert_id) REFERENCES dissemination.alert_withdrawals (alert_id)`);
    await q.query(`
      ALTER TABLE dissemination.publications
        DROP COLUMN claim_token, DROP COLUMN claim_expires_at, DROP COLUMN send_ended_at,
        DROP COLUMN marker_misses, DROP COLUMN last_marker_miss_at, DROP COLUMN duplicate_refused,
        DROP COLUMN other_remote_ids, DROP COLUMN may_exist_since, DROP COLUMN retract`);
  }
}
