import { MigrationInterface, QueryRunner } from 'typeorm';

/** When the retention job emptied an alert's private part (the row stays, its data becomes {}). */
export class IntakePrivatePurge1764600000400 implements MigrationInterface {
  name = 'IntakePrivatePurge1764600000400';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`ALTER TABLE intake.alert_private ADD COLUMN purged_at timestamptz`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`ALTER TABLE intake.alert_private DROP COLUMN purged_at`);
  }
}
