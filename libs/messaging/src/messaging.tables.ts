import { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * DDL for the outbox and inbox tables every event-producing/consuming service keeps in its own schema.
 * Called from each service's first migration, so the tables are versioned with that service.
 */
export async function createMessagingTables(runner: QueryRunner, schema: string): Promise<void> {
  await runner.query(`
    CREATE TABLE "${schema}".outbox (
      id            bigserial PRIMARY KEY,
      event_id      uuid NOT NULL UNIQUE,
      topic         text NOT NULL,
      message_key   text NOT NULL,
      event_type    text NOT NULL,
      payload       text NOT NULL,
      created_at    timestamptz NOT NULL DEFAULT clock_timestamp(),
      published_at  timestamptz,
      attempts      integer NOT NULL DEFAULT 0,
      last_error    text
    )`);
  await runner.query(
    `CREATE INDEX outbox_unpublished_idx ON "${schema}".outbox (id) WHERE published_at IS NULL`,
  );
  await runner.query(`
    CREATE TABLE "${schema}".inbox (
      consumer      text NOT NULL,
      event_id      uuid NOT NULL,
      event_type    text NOT NULL,
      alert_id      uuid NOT NULL,
      topic         text NOT NULL,
      kafka_partition integer NOT NULL,
      kafka_offset  bigint NOT NULL,
      processed_at  timestamptz NOT NULL DEFAULT clock_timestamp(),
      PRIMARY KEY (consumer, event_id)
    )`);
  await runner.query(`
    CREATE TABLE "${schema}".dead_letters (
      id            bigserial PRIMARY KEY,
      consumer      text NOT NULL,
      topic         text NOT NULL,
      kafka_partition integer NOT NULL,
      kafka_offset  bigint NOT NULL,
      message_key   text,
      error         text NOT NULL,
      attempts      integer NOT NULL,
      dead_lettered_at timestamptz NOT NULL DEFAULT clock_timestamp()
    )`);
}

/**
 * Second version of the messaging tables: a dead letter keeps the original message (value, headers,
 * event id) so it can be redriven, is recorded once per (consumer, offset), and records redrives.
 */
export async function upgradeMessagingTablesV2(runner: QueryRunner, schema: string): Promise<void> {
  await runner.query(`
    ALTER TABLE "${schema}".dead_letters
      ADD COLUMN IF NOT EXISTS event_id uuid,
      ADD COLUMN IF NOT EXISTS message_value bytea,
      ADD COLUMN IF NOT EXISTS message_headers jsonb NOT NULL DEFAULT '{}',
      ADD COLUMN IF NOT EXISTS redriven_at timestamptz,
      ADD COLUMN IF NOT EXISTS redrive_count integer NOT NULL DEFAULT 0,
      ADD COLUMN IF NOT EXISTS source_topic text`);
  // The physical topic the message was read from (its own topic, or the consumer's redrive topic).
  await runner.query(`UPDATE "${schema}".dead_letters SET source_topic = topic WHERE source_topic IS NULL`);
  await runner.query(`ALTER TABLE "${schema}".dead_letters ALTER COLUMN source_topic SET NOT NULL`);
  await runner.query(`
    DELETE FROM "${schema}".dead_letters d USING "${schema}".dead_letters e
     WHERE d.consumer = e.consumer AND d.source_topic = e.source_topic AND d.kafka_partition = e.kafka_partition
       AND d.kafka_offset = e.kafka_offset AND d.id > e.id`);
  await runner.query(
    `CREATE UNIQUE INDEX IF NOT EXISTS dead_letters_once_idx
       ON "${schema}".dead_letters (consumer, source_topic, kafka_partition, kafka_offset)`,
  );
  // Outbox rows Kafka refuses for good (too large, unknown topic) are parked, not retried forever.
  await runner.query(`
    ALTER TABLE "${schema}".outbox
      ADD COLUMN IF NOT EXISTS parked_at timestamptz`);
  await runner.query(`DROP INDEX IF EXISTS "${schema}".outbox_unpublished_idx`);
  await runner.query(
    `CREATE INDEX IF NOT EXISTS outbox_unpublished_idx ON "${schema}".outbox (id)
       WHERE published_at IS NULL AND parked_at IS NULL`,
  );
}

/**
 * The messaging migrations every service runs after its own (bootstrapService adds them), one class
 * per schema so each service's migrations table records them.
 */
export function messagingMigrations(schema: string): (new () => MigrationInterface)[] {
  class MessagingV2 implements MigrationInterface {
    name = 'MessagingDeadLettersRedriveOutboxParking1764600000001';
    async up(q: QueryRunner): Promise<void> {
      await upgradeMessagingTablesV2(q, schema);
    }
    async down(q: QueryRunner): Promise<void> {
      await q.query(`DROP INDEX IF EXISTS "${schema}".dead_letters_once_idx`);
    }
  }
  return [MessagingV2];
}

export async function dropMessagingTables(runner: QueryRunner, schema: string): Promise<void> {
  await runner.query(`DROP TABLE IF EXISTS "${schema}".dead_letters`);
  await runner.query(`DROP TABLE IF EXISTS "${schema}".inbox`);
  await runner.query(`DROP TABLE IF EXISTS "${schema}".outbox`);
}
