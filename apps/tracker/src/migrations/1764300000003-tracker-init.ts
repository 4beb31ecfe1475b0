import { createMessagingTables, dropMessagingTables } from '@alerta-rosa/messaging';
import { MigrationInterface, QueryRunner } from 'typeorm';

export class TrackerInit1764300000003 implements MigrationInterface {
  name = 'TrackerInit1764300000003';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`
      CREATE TABLE tracker.timeline_entries (
        seq            bigserial PRIMARY KEY,
        alert_id       uuid NOT NULL,
        event_id       uuid NOT NULL UNIQUE,
        event_type     text NOT NULL,
        source         text NOT NULL,
        alert_version  integer,
        occurred_at    timestamptz NOT NULL,
        recorded_at    timestamptz NOT NULL DEFAULT clock_timestamp(),
        correlation_id uuid NOT NULL,
        details        jsonb NOT NULL
      )`);
    await q.query(`CREATE INDEX timeline_entries_alert_idx ON tracker.timeline_entries (alert_id, seq)`);
    await q.query(`
      CREATE TABLE tracker.alerts (
        alert_id        uuid PRIMARY KEY,
        folio           text NOT NULL,
        status          text NOT NULL,
        version         integer NOT NULL,
        activated_at    timestamptz,
        deactivated_at  timestamptz,
        outcome         text
      )`);
    await createMessagingTables(q, 'tracker');
  }

  async down(q: QueryRunner): Promise<void> {
    await dropMessagingTables(q, 'tracker');
    await q.query(`DROP TABLE tracker.alerts`);
    await q.query(`DROP TABLE tracker.timeline_entries`);
  }
}
