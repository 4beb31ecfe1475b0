import { MigrationInterface, QueryRunner } from 'typeorm';
import { loadAccountsCatalog } from '../accounts/accounts.catalog';

/**
 * Account registry (seeded from config/accounts.yaml), the alert projection dissemination keeps from
 * alert events, one row per (alert, version, account) publication, and withdrawal tracking.
 */
export class DisseminationPublications1764400000001 implements MigrationInterface {
  name = 'DisseminationPublications1764400000001';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`
      CREATE TABLE dissemination.accounts (
        id                   text PRIMARY KEY CHECK (id ~ '^[a-z0-9][a-z0-9-]{1,62}$'),
        platform             text NOT NULL CHECK (platform IN ('x', 'facebook', 'webhook')),
        handle               text NOT NULL,
        display_name         text NOT NULL,
        owner_area           text NOT NULL,
        regions              text[] NOT NULL DEFAULT '{}',
        enabled              boolean NOT NULL DEFAULT true,
        rate_limit_max       integer NOT NULL CHECK (rate_limit_max > 0),
        rate_limit_duration_ms integer NOT NULL CHECK (rate_limit_duration_ms >= 100),
        concurrency          integer NOT NULL DEFAULT 1 CHECK (concurrency > 0),
        credentials_ciphertext text,
        credentials_key_id   text,
        credentials_updated_at timestamptz,
        status               text NOT NULL DEFAULT 'ok' CHECK (status IN ('ok', 'auth_revoked')),
        status_reason        text,
        status_changed_at    timestamptz,
        created_at           timestamptz NOT NULL DEFAULT clock_timestamp(),
        updated_at           timestamptz NOT NULL DEFAULT clock_timestamp()
      )`);
    await q.query(`
      CREATE TABLE dissemination.alerts (
        alert_id        uuid PRIMARY KEY,
        folio           text NOT NULL,
        version         integer NOT NULL,
        ficha           jsonb NOT NULL,
        status          text NOT NULL CHECK (status IN ('active', 'deactivated')),
        outcome         text,
        activated_at    timestamptz,
        deactivated_at  timestamptz,
        updated_at      timestamptz NOT NULL DEFAULT clock_timestamp()
      )`);
    await q.query(`
      CREATE TABLE dissemination.publications (
        id              uuid PRIMARY KEY,
        alert_id        uuid NOT NULL REFERENCES dissemination.alerts (alert_id),
        alert_version   integer NOT NULL,
        account_id      text NOT NULL REFERENCES dissemination.accounts (id),
        kind            text NOT NULL CHECK (kind IN ('activation', 'update', 'located_notice')),
        folio           text NOT NULL,
        marker          text NOT NULL,
        with_image      boolean NOT NULL,
        status          text NOT NULL DEFAULT 'pending' CHECK (status IN ('pending', 'posted', 'failed', 'cancelled')),
        send_started_at timestamptz,
        attempts        integer NOT NULL DEFAULT 0,
        remote_id       text,
        remote_url      text,
        reply_to_remote_id text,
        recovered       boolean NOT NULL DEFAULT false,
        failure_reason  text,
        last_error      text,
        cause_event_id  uuid NOT NULL,
        correlation_id  uuid NOT NULL,
        enqueued_at     timestamptz,
        posted_at       timestamptz,
        failed_at       timestamptz,
        withdrawal_status text NOT NULL DEFAULT 'none' CHECK (withdrawal_status IN ('none', 'withdrawn')),
        withdrawn_at    timestamptz,
        created_at      timestamptz NOT NULL DEFAULT clock_timestamp(),
        CONSTRAINT publications_once_per_version UNIQUE (alert_id, alert_version, account_id)
      )`);
    await q.query(
      `CREATE INDEX publications_pending_idx ON dissemination.publications (created_at) WHERE status = 'pending'`,
    );
    await q.query(
      `CREATE INDEX publications_account_idx ON dissemination.publications (alert_id, account_id)`,
    );
    await q.query(`
      CREATE TABLE dissemination.alert_withdrawals (
        alert_id        uuid PRIMARY KEY REFERENCES dissemination.alerts (alert_id),
        outcome         text NOT NULL,
        cause_event_id  uuid NOT NULL,
        correlation_id  uuid NOT NULL,
        requested_at    timestamptz NOT NULL DEFAULT clock_timestamp(),
        completed_at    timestamptz
      )`);
    await q.query(`
      CREATE TABLE dissemination.withdrawals (
        alert_id        uuid NOT NULL REFERENCES dissemination.alert_withdrawals (alert_id),
        account_id      text NOT NULL REFERENCES dissemination.accounts (id),
        status          text NOT NULL DEFAULT 'pending' CHECK (status IN ('pending', 'done')),
        attempts        integer NOT NULL DEFAULT 0,
        last_error      text,
        delayed_reported_at timestamptz,
        enqueued_at     timestamptz,
        completed_at    timestamptz,
        created_at      timestamptz NOT NULL DEFAULT clock_timestamp(),
        PRIMARY KEY (alert_id, account_id)
      )`);
    await q.query(
      `CREATE INDEX withdrawals_pending_idx ON dissemination.withdrawals (created_at) WHERE status = 'pending'`,
    );

    const catalog = loadAccountsCatalog();
    for (const a of catalog.accounts) {
      await q.query(
        `INSERT INTO dissemination.accounts
           (id, platform, handle, display_name, owner_area, regions, enabled, rate_limit_max, rate_limit_duration_ms, concurrency)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10) ON CONFLICT (id) DO NOTHING`,
        [
          a.id,
          a.platform,
          a.handle,
          a.displayName,
          a.ownerArea,
          a.regions,
          a.enabled,
          a.rateLimit.max,
          a.rateLimit.durationMs,
          a.rateLimit.concurrency,
        ],
      );
    }
  }

  async down(q: QueryRunner): Promise<void> {
    for (const t of ['withdrawals', 'alert_withdrawals', 'publications', 'alerts', 'accounts']) {
      await q.query(`DROP TABLE IF EXISTS dissemination.${t}`);
    }
  }
}
