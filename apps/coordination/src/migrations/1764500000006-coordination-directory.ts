import { MigrationInterface, QueryRunner } from 'typeorm';

/** Contacts changed through the admin API (laid over config/areas.yaml), and who changed what. */
export class CoordinationDirectory1764500000006 implements MigrationInterface {
  name = 'CoordinationDirectory1764500000006';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`
      CREATE TABLE coordination.directory_contacts (
        entry_id    text PRIMARY KEY,
        name        text,
        emails      text[] NOT NULL CHECK (cardinality(emails) > 0),
        supervisor  jsonb,
        members     jsonb,
        updated_at  timestamptz NOT NULL DEFAULT clock_timestamp(),
        updated_by  text NOT NULL
      )`);
    await q.query(`
      CREATE TABLE coordination.directory_changes (
        id          bigserial PRIMARY KEY,
        entry_id    text NOT NULL,
        changed_by  text NOT NULL,
        changed_at  timestamptz NOT NULL DEFAULT clock_timestamp(),
        before      jsonb NOT NULL,
        after       jsonb NOT NULL
      )`);
    await q.query(
      `CREATE INDEX directory_changes_entry_idx ON coordination.directory_changes (entry_id, id)`,
    );
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`DROP TABLE coordination.directory_changes`);
    await q.query(`DROP TABLE coordination.directory_contacts`);
  }
}
