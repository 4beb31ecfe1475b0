import { QueryRunner } from 'typeorm';

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

export async function dropMessagingTables(runner: QueryRunner, schema: string): Promise<void> {
  await runner.query(`DROP TABLE IF EXISTS "${schema}".dead_letters`);
  await runner.query(`DROP TABLE IF EXISTS "${schema}".inbox`);
  await runner.query(`DROP TABLE IF EXISTS "${schema}".outbox`);
}
