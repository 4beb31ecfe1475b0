import { createMessagingTables, dropMessagingTables } from '@alerta-rosa/messaging';
import { MigrationInterface, QueryRunner } from 'typeorm';

export class IntakeInit1764300000000 implements MigrationInterface {
  name = 'IntakeInit1764300000000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`
      CREATE TABLE intake.alerts (
        id              uuid PRIMARY KEY,
        folio           text NOT NULL UNIQUE,
        status          text NOT NULL CHECK (status IN ('draft','active','deactivated','closed','discarded')),
        version         integer NOT NULL CHECK (version >= 1),
        ficha           jsonb NOT NULL,
        reported_at     timestamptz NOT NULL,
        activated_at    timestamptz,
        deactivated_at  timestamptz,
        outcome         text CHECK (outcome IN ('localizada_con_vida','localizada_sin_vida','cancelada')),
        created_at      timestamptz NOT NULL,
        updated_at      timestamptz NOT NULL
      )`);
    await q.query(`CREATE INDEX alerts_status_idx ON intake.alerts (status)`);
    await q.query(`
      CREATE TABLE intake.folio_counters (
        year        integer PRIMARY KEY,
        last_value  integer NOT NULL
      )`);
    await createMessagingTables(q, 'intake');
  }

  async down(q: QueryRunner): Promise<void> {
    await dropMessagingTables(q, 'intake');
    await q.query(`DROP TABLE intake.folio_counters`);
    await q.query(`DROP TABLE intake.alerts`);
  }
}
