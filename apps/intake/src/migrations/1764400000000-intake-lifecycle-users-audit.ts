import { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * Full ficha and lifecycle (drafts get their folio on activation), the private part in its own table,
 * photos, users and refresh tokens, login attempts, idempotency keys and the append-only audit log.
 */
export class IntakeLifecycleUsersAudit1764400000000 implements MigrationInterface {
  name = 'IntakeLifecycleUsersAudit1764400000000';

  async up(q: QueryRunner): Promise<void> {
    // A draft has no folio yet: folios number activated alerts only, without gaps from discarded drafts.
    await q.query(`ALTER TABLE intake.alerts ALTER COLUMN folio DROP NOT NULL`);
    await q.query(`
      ALTER TABLE intake.alerts
        ADD COLUMN revision        integer NOT NULL DEFAULT 1 CHECK (revision >= 1),
        ADD COLUMN activating_body text NOT NULL DEFAULT 'SSP',
        ADD COLUMN duplicate_key   text,
        ADD COLUMN discarded_at    timestamptz,
        ADD COLUMN closed_at       timestamptz,
        ADD COLUMN created_by      text,
        ADD COLUMN updated_by      text`);
    await q.query(`
      ALTER TABLE intake.alerts ADD CONSTRAINT alerts_folio_when_activated
        CHECK (status IN ('draft','discarded') OR folio IS NOT NULL)`);
    await q.query(`
      ALTER TABLE intake.alerts ADD CONSTRAINT alerts_outcome_when_deactivated
        CHECK (status NOT IN ('deactivated','closed') OR outcome IS NOT NULL)`);
    await q.query(
      `CREATE INDEX alerts_duplicate_idx ON intake.alerts (duplicate_key) WHERE status = 'active'`,
    );

    // Private part of the ficha: never published, never in events or logs.
    await q.query(`
      CREATE TABLE intake.alert_private (
        alert_id    uuid PRIMARY KEY REFERENCES intake.alerts(id),
        data        jsonb NOT NULL,
        updated_at  timestamptz NOT NULL
      )`);

    await q.query(`
      CREATE TABLE intake.photos (
        id              uuid PRIMARY KEY,
        alert_id        uuid NOT NULL REFERENCES intake.alerts(id),
        status          text NOT NULL CHECK (status IN ('stored','withdrawn')),
        alt_text        text,
        source_format   text NOT NULL,
        source_bytes    integer NOT NULL,
        variants        jsonb NOT NULL,
        created_by      text,
        created_at      timestamptz NOT NULL,
        withdrawn_at    timestamptz
      )`);
    await q.query(`CREATE INDEX photos_alert_idx ON intake.photos (alert_id, created_at)`);

    await q.query(`
      CREATE TABLE intake.users (
        id             uuid PRIMARY KEY,
        username       text NOT NULL,
        display_name   text NOT NULL,
        role           text NOT NULL CHECK (role IN ('operadora','area','comite','admin')),
        area_id        text,
        password_hash  text NOT NULL,
        active         boolean NOT NULL DEFAULT true,
        created_at     timestamptz NOT NULL,
        updated_at     timestamptz NOT NULL,
        CHECK ((role = 'area') = (area_id IS NOT NULL))
      )`);
    await q.query(`CREATE UNIQUE INDEX users_username_idx ON intake.users (lower(username))`);

    await q.query(`
      CREATE TABLE intake.refresh_tokens (
        id           uuid PRIMARY KEY,
        family_id    uuid NOT NULL,
        user_id      uuid NOT NULL REFERENCES intake.users(id),
        token_hash   text NOT NULL UNIQUE,
        created_at   timestamptz NOT NULL,
        expires_at   timestamptz NOT NULL,
        used_at      timestamptz,
        revoked_at   timestamptz
      )`);
    await q.query(`CREATE INDEX refresh_tokens_family_idx ON intake.refresh_tokens (family_id)`);
    await q.query(`CREATE INDEX refresh_tokens_user_idx ON intake.refresh_tokens (user_id)`);

    await q.query(`
      CREATE TABLE intake.login_attempts (
        id         bigserial PRIMARY KEY,
        ip         text NOT NULL,
        username   text NOT NULL,
        succeeded  boolean NOT NULL,
        at         timestamptz NOT NULL DEFAULT clock_timestamp()
      )`);
    await q.query(`CREATE INDEX login_attempts_ip_idx ON intake.login_attempts (ip, at)`);
    await q.query(`CREATE INDEX login_attempts_user_idx ON intake.login_attempts (username, at)`);

    // One row per (actor, key): the unique key is what makes a concurrent double submission wait
    // for the first and then replay its answer.
    await q.query(`
      CREATE TABLE intake.idempotency_keys (
        actor_id         text NOT NULL,
        key              text NOT NULL,
        scope            text NOT NULL,
        request_hash     text NOT NULL,
        response_status  integer,
        response_body    jsonb,
        created_at       timestamptz NOT NULL DEFAULT clock_timestamp(),
        PRIMARY KEY (actor_id, key)
      )`);

    await q.query(`
      CREATE TABLE intake.audit_log (
        id          bigserial PRIMARY KEY,
        at          timestamptz NOT NULL DEFAULT clock_timestamp(),
        actor_id    text,
        actor_role  text,
        ip          text,
        action      text NOT NULL,
        alert_id    uuid,
        target_id   text,
        details     jsonb NOT NULL DEFAULT '{}'::jsonb
      )`);
    await q.query(`CREATE INDEX audit_log_alert_idx ON intake.audit_log (alert_id, id)`);
    await q.query(`CREATE INDEX audit_log_actor_idx ON intake.audit_log (actor_id, id)`);
    // Append-only: rows can be inserted and read, never changed or removed (even by the service's own role).
    await q.query(`
      CREATE FUNCTION intake.audit_log_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
      BEGIN
        RAISE EXCEPTION 'audit_log is append-only (% refused)', TG_OP USING ERRCODE = 'insufficient_privilege';
      END $$`);
    await q.query(`
      CREATE TRIGGER audit_log_no_update_delete BEFORE UPDATE OR DELETE ON intake.audit_log
        FOR EACH ROW EXECUTE FUNCTION intake.audit_log_append_only()`);
    await q.query(`
      CREATE TRIGGER audit_log_no_truncate BEFORE TRUNCATE ON intake.audit_log
        FOR EACH STATEMENT EXECUTE FUNCTION intake.audit_log_append_only()`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`DROP TABLE intake.audit_log`);
    await q.query(`DROP FUNCTION intake.audit_log_append_only()`);
    await q.query(`DROP TABLE intake.idempotency_keys`);
    await q.query(`DROP TABLE intake.login_attempts`);
    await q.query(`DROP TABLE intake.refresh_tokens`);
    await q.query(`DROP TABLE intake.users`);
    await q.query(`DROP TABLE intake.photos`);
    await q.query(`DROP TABLE intake.alert_private`);
    await q.query(`ALTER TABLE intake.alerts DROP CONSTRAINT alerts_outcome_when_deactivated`);
    await q.query(`ALTER TABLE intake.alerts DROP CONSTRAINT alerts_folio_when_activated`);
    await q.query(`
      ALTER TABLE intake.alerts DROP COLUMN revision, DROP COLUMN activating_body, DROP COLUMN duplicate_key,
        DROP COLUMN discarded_at, DROP COLUMN closed_at, DROP COLUMN created_by, DROP COLUMN updated_by`);
    await q.query(`ALTER TABLE intake.alerts ALTER COLUMN folio SET NOT NULL`);
  }
}
