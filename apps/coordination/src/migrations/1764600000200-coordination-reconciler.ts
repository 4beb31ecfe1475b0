import { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * The reconciler's reads (unacknowledged tasks, mails not yet settled), the «delayed» mail state (a
 * mail the relay has not taken after several attempts is reported once, delayed_at, and retried on)
 * and the send lease of a mail.
 */
export class CoordinationReconciler1764600000200 implements MigrationInterface {
  name = 'CoordinationReconciler1764600000200';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`ALTER TABLE coordination.mails ADD COLUMN delayed_at timestamptz`);
    // A send's lease on its mail (BullMQ can run one job twice at once; the lease keeps the send single).
    await q.query(
      `ALTER TABLE coordination.mails ADD COLUMN claim_token uuid, ADD COLUMN claimed_until timestamptz`,
    );
    await q.query(`ALTER TABLE coordination.tasks DROP CONSTRAINT tasks_mail_status_check`);
    await q.query(
      `ALTER TABLE coordination.tasks ADD CONSTRAINT tasks_mail_status_check
       CHECK (mail_status IN ('pending', 'sent', 'delayed', 'failed'))`,
    );
    await q.query(
      `CREATE INDEX tasks_unacknowledged_idx ON coordination.tasks (ack_due_at) WHERE state = 'assigned'`,
    );
    await q.query(
      `CREATE INDEX mails_unsettled_idx ON coordination.mails (created_at) WHERE status = 'queued'`,
    );
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`DROP INDEX IF EXISTS coordination.mails_unsettled_idx`);
    await q.query(`DROP INDEX IF EXISTS coordination.tasks_unacknowledged_idx`);
    await q.query(`UPDATE coordination.tasks SET mail_status = 'pending' WHERE mail_status = 'delayed'`);
    await q.query(`ALTER TABLE coordination.tasks DROP CONSTRAINT tasks_mail_status_check`);
    await q.query(
      `ALTER TABLE coordination.tasks ADD CONSTRAINT tasks_mail_status_check
       CHECK (mail_status IN ('pending', 'sent', 'failed'))`,
    );
    await q.query(
      `ALTER TABLE coordination.mails DROP COLUMN delayed_at, DROP COLUMN claim_token, DROP COLUMN claimed_until`,
    );
  }
}
