import { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * What closure and the committee's figures need, kept from events: the alert's facts (times, place, counts),
 * one row per publication and per task, accounts whose withdrawal is delayed, and the closure decisions
 * the tracker took (live only; a rebuilt projection reads them back from tracking.v1).
 * Every projected column merges commutatively (first/last time, sums, highest version wins), so the
 * projection does not depend on how events of different topics interleave: a rebuild gives the same rows.
 */
export class TrackerClosureCommittee1764600000300 implements MigrationInterface {
  name = 'TrackerClosureCommittee1764600000300';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`ALTER TABLE tracker.alerts ALTER COLUMN folio DROP NOT NULL`);
    await q.query(`ALTER TABLE tracker.alerts ALTER COLUMN version SET DEFAULT 0`);
    await q.query(`
      ALTER TABLE tracker.alerts
        ADD COLUMN reported_at timestamptz,
        ADD COLUMN ficha_version integer NOT NULL DEFAULT 0,
        ADD COLUMN municipality_code text,
        ADD COLUMN municipality_name text,
        ADD COLUMN region_id text,
        ADD COLUMN avgm boolean,
        ADD COLUMN minor boolean,
        ADD COLUMN activating_body text,
        ADD COLUMN photo_consent boolean,
        ADD COLUMN updates integer NOT NULL DEFAULT 0,
        ADD COLUMN first_post_at timestamptz,
        ADD COLUMN last_post_at timestamptz,
        ADD COLUMN first_post_x timestamptz,
        ADD COLUMN last_post_x timestamptz,
        ADD COLUMN first_post_facebook timestamptz,
        ADD COLUMN last_post_facebook timestamptz,
        ADD COLUMN first_post_webhook timestamptz,
        ADD COLUMN last_post_webhook timestamptz,
        ADD COLUMN photo_posts integer NOT NULL DEFAULT 0,
        ADD COLUMN posts_withdrawn integer NOT NULL DEFAULT 0,
        ADD COLUMN last_withdrawn_at timestamptz,
        ADD COLUMN withdrawal_requested_at timestamptz,
        ADD COLUMN withdrawal_completed_at timestamptz,
        ADD COLUMN coordination_stood_down_at timestamptz,
        ADD COLUMN escalations integer NOT NULL DEFAULT 0,
        ADD COLUMN max_escalation_level integer NOT NULL DEFAULT 0,
        ADD COLUMN tasks_total integer NOT NULL DEFAULT 0,
        ADD COLUMN tasks_closed integer NOT NULL DEFAULT 0,
        ADD COLUMN last_task_closed_at timestamptz,
        ADD COLUMN closed_at timestamptz,
        ADD COLUMN closed_by text,
        ADD COLUMN closure_overdue_at timestamptz`);
    await q.query(`CREATE INDEX alerts_activated_idx ON tracker.alerts (activated_at)`);
    await q.query(
      `CREATE INDEX alerts_awaiting_closure_idx ON tracker.alerts (deactivated_at) WHERE status = 'deactivated'`,
    );
    await q.query(`
      CREATE TABLE tracker.publications (
        publication_id  uuid PRIMARY KEY,
        alert_id        uuid NOT NULL,
        account_id      text NOT NULL,
        platform        text NOT NULL,
        handle          text NOT NULL,
        kind            text NOT NULL,
        alert_version   integer NOT NULL,
        with_image      boolean,
        posted_at       timestamptz,
        recovered       boolean,
        failed_at       timestamptz,
        failure_reason  text,
        may_exist_since timestamptz,
        withdrawn_at    timestamptz
      )`);
    await q.query(`CREATE INDEX publications_alert_idx ON tracker.publications (alert_id)`);
    await q.query(`
      CREATE INDEX publications_photo_up_idx ON tracker.publications (alert_id)
        WHERE withdrawn_at IS NULL AND (may_exist_since IS NOT NULL OR (with_image AND posted_at IS NOT NULL))`);
    await q.query(`
      CREATE TABLE tracker.tasks (
        task_id               uuid PRIMARY KEY,
        alert_id              uuid NOT NULL,
        step_id               text NOT NULL,
        area_id               text NOT NULL,
        area_name             text,
        assigned_at           timestamptz,
        ack_due_at            timestamptz,
        complete_due_at       timestamptz,
        acknowledged_at       timestamptz,
        progress_reported_at  timestamptz,
        completed_at          timestamptz,
        cancelled_at          timestamptz,
        escalations           integer NOT NULL DEFAULT 0,
        max_escalation_level  integer NOT NULL DEFAULT 0
      )`);
    await q.query(`CREATE INDEX tasks_alert_idx ON tracker.tasks (alert_id)`);
    await q.query(`
      CREATE TABLE tracker.withdrawal_delays (
        alert_id    uuid NOT NULL,
        account_id  text NOT NULL,
        platform    text NOT NULL,
        handle      text NOT NULL,
        reported_at timestamptz NOT NULL,
        attempts    integer NOT NULL,
        PRIMARY KEY (alert_id, account_id)
      )`);
    // Live only (not part of the projection a rebuild compares): what the tracker itself decided, once.
    await q.query(`
      CREATE TABLE tracker.closure_decisions (
        alert_id    uuid NOT NULL,
        kind        text NOT NULL CHECK (kind IN ('closed', 'overdue')),
        event_id    uuid NOT NULL,
        decided_at  timestamptz NOT NULL DEFAULT clock_timestamp(),
        PRIMARY KEY (alert_id, kind)
      )`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`DROP TABLE tracker.closure_decisions`);
    await q.query(`DROP TABLE tracker.withdrawal_delays`);
    await q.query(`DROP TABLE tracker.tasks`);
    await q.query(`DROP TABLE tracker.publications`);
    await q.query(`DROP INDEX tracker.alerts_awaiting_closure_idx`);
    await q.query(`DROP INDEX tracker.alerts_activated_idx`);
    await q.query(`
      ALTER TABLE tracker.alerts
        DROP COLUMN reported_at, DROP COLUMN ficha_version, DROP COLUMN municipality_code,
        DROP COLUMN municipality_name, DROP COLUMN region_id, DROP COLUMN avgm, DROP COLUMN minor,
        DROP COLUMN activating_body, DROP COLUMN photo_consent, DROP COLUMN updates, DROP COLUMN first_post_at,
        DROP COLUMN last_post_at, DROP COLUMN first_post_x, DROP COLUMN last_post_x,
        DROP COLUMN first_post_facebook, DROP COLUMN last_post_facebook, DROP COLUMN first_post_webhook,
        DROP COLUMN last_post_webhook, DROP COLUMN photo_posts, DROP COLUMN posts_withdrawn,
        DROP COLUMN last_withdrawn_at, DROP COLUMN withdrawal_requested_at, DROP COLUMN withdrawal_completed_at,
        DROP COLUMN coordination_stood_down_at, DROP COLUMN escalations, DROP COLUMN max_escalation_level,
        DROP COLUMN tasks_total, DROP COLUMN tasks_closed, DROP COLUMN last_task_closed_at,
        DROP COLUMN closed_at, DROP COLUMN closed_by, DROP COLUMN closure_overdue_at`);
  }
}
