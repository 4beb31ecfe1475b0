import { Platform } from '@alerta-rosa/contracts';
import { SERVICE_RUNTIME, ServiceRuntime } from '@alerta-rosa/runtime';
import { Inject, Injectable } from '@nestjs/common';
import { readFileSync } from 'fs';
import { DataSource, EntityManager } from 'typeorm';
import { z } from 'zod';
import { ChannelAccount } from '../channels/channel.adapter';
import { DisseminationConfig } from '../dissemination.config';
import { updateReturning } from '../publishing/sql';
import { CredentialsCipher } from './credentials.cipher';

export interface AccountRow {
  id: string;
  platform: Platform;
  handle: string;
  display_name: string;
  owner_area: string;
  regions: string[];
  enabled: boolean;
  rate_limit_max: number;
  rate_limit_duration_ms: number;
  concurrency: number;
  credentials_ciphertext: string | null;
  credentials_key_id: string | null;
  credentials_updated_at: Date | null;
  status: 'ok' | 'auth_revoked';
  status_reason: string | null;
  status_changed_at: Date | null;
  created_at: Date;
  updated_at: Date;
}

/** Credentials each platform needs; checked before they are encrypted. */
export const CREDENTIALS_SCHEMAS: Record<Platform, z.ZodType<Record<string, string>>> = {
  x: z
    .object({
      consumerKey: z.string().min(1),
      consumerSecret: z.string().min(1),
      accessToken: z.string().min(1),
      accessSecret: z.string().min(1),
      userId: z.string().regex(/^\d+$/),
    })
    .strict(),
  facebook: z.object({ pageId: z.string().min(1), pageAccessToken: z.string().min(1) }).strict(),
  webhook: z
    .object({
      url: z
        .string()
        .url()
        .regex(/^https?:\/\//),
      secret: z.string().min(16),
    })
    .strict()
    .transform((c) => ({ ...c, url: c.url.replace(/\/+$/, '') })),
};

/** The public view of an account: never its credentials. */
export function presentAccount(a: AccountRow) {
  return {
    id: a.id,
    platform: a.platform,
    handle: a.handle,
    displayName: a.display_name,
    ownerArea: a.owner_area,
    regions: a.regions,
    enabled: a.enabled,
    rateLimit: { max: a.rate_limit_max, durationMs: a.rate_limit_duration_ms, concurrency: a.concurrency },
    hasCredentials: a.credentials_ciphertext !== null,
    credentialsUpdatedAt: a.credentials_updated_at?.toISOString() ?? null,
    status: a.status,
    statusReason: a.status_reason,
    statusChangedAt: a.status_changed_at?.toISOString() ?? null,
  };
}

/** The account registry: rows in dissemination.accounts, credentials encrypted with AES-256-GCM. */
@Injectable()
export class AccountRegistry {
  readonly cipher: CredentialsCipher;

  constructor(
    private readonly db: DataSource,
    @Inject(SERVICE_RUNTIME) private readonly runtime: ServiceRuntime<DisseminationConfig>,
  ) {
    this.cipher = new CredentialsCipher(runtime.config.CREDENTIALS_KEYS);
  }

  async list(): Promise<AccountRow[]> {
    const rows: AccountRow[] = await this.db.query(`SELECT * FROM dissemination.accounts ORDER BY id`);
    this.listed = rows;
    return rows;
  }

  /**
   * The accounts as last listed (the dispatcher lists them at start, on every sweep and after every
   * admin change): for decisions that may lag a sweep behind, such as which accounts share an upload.
   */
  lastListed(): AccountRow[] {
    return this.listed;
  }

  private listed: AccountRow[] = [];

  async get(id: string, manager: EntityManager = this.db.manager): Promise<AccountRow | undefined> {
    const [row] = await manager.query(`SELECT * FROM dissemination.accounts WHERE id = $1`, [id]);
    return row;
  }

  /** The account with decrypted credentials, for an adapter; null when it has none. */
  channelAccount(row: AccountRow): ChannelAccount | null {
    if (!row.credentials_ciphertext) return null;
    return {
      id: row.id,
      platform: row.platform,
      handle: row.handle,
      credentials: this.cipher.decrypt(row.id, row.credentials_ciphertext),
    };
  }

  validateCredentials(platform: Platform, credentials: unknown): Record<string, string> {
    return CREDENTIALS_SCHEMAS[platform].parse(credentials);
  }

  validateCredentialsSafe(platform: Platform, credentials: unknown): Record<string, string> | null {
    const r = CREDENTIALS_SCHEMAS[platform].safeParse(credentials);
    return r.success ? r.data : null;
  }

  /** Stores new credentials (rotation) and clears a revoked status: the next jobs use them. */
  async setCredentials(
    id: string,
    credentials: Record<string, string>,
    manager: EntityManager = this.db.manager,
  ) {
    const { ciphertext, keyId } = this.cipher.encrypt(id, credentials);
    await manager.query(
      `UPDATE dissemination.accounts
          SET credentials_ciphertext = $2, credentials_key_id = $3, credentials_updated_at = clock_timestamp(),
              status = 'ok', status_reason = NULL,
              status_changed_at = CASE WHEN status = 'ok' THEN status_changed_at ELSE clock_timestamp() END,
              updated_at = clock_timestamp()
        WHERE id = $1`,
      [id, ciphertext, keyId],
    );
  }

  /**
   * An account that can post again (new credentials, re-enabled, credentials added) owes the public the
   * fichas of the alerts still active. Their publications on it that failed for want of credentials,
   * were cancelled while it was disabled, or may exist (a send ended ambiguously and could not be looked
   * up) go back to pending, in version order (updates thread under what gets posted). What an earlier
   * send may have posted is kept (send_started_at, remote ids), so the job looks for it before it could
   * post again. An active alert with no publication on it at all (fanned out while it was disabled or
   * had no credentials) gets one at its current version. `enqueued_at` in the past makes the
   * dispatcher's next full pass replace finished jobs. Nothing happens unless the account can post
   * (enabled, credentials, not marked revoked); with nothing owed it changes nothing.
   */
  async catchUpActiveAlerts(id: string, manager: EntityManager = this.db.manager): Promise<number> {
    const reopened = await updateReturning(
      manager,
      `UPDATE dissemination.publications p
          SET status = 'pending', failure_reason = NULL, last_error = NULL, failed_at = NULL, attempts = 0,
              may_exist_since = NULL, enqueued_at = 'epoch'
         FROM dissemination.alerts al, dissemination.accounts a
        WHERE p.account_id = $1 AND a.id = p.account_id AND a.enabled AND a.status = 'ok'
          AND a.credentials_ciphertext IS NOT NULL
          AND al.alert_id = p.alert_id AND al.status = 'active'
          AND p.kind IN ('activation', 'update') AND NOT p.retract AND p.withdrawal_status = 'none'
          AND ((p.status = 'failed' AND p.failure_reason IN ('auth_revoked', 'not_configured'))
            OR (p.status = 'cancelled' AND p.last_error = 'account_disabled')
            OR p.status = 'may_exist')
        RETURNING p.id`,
      [id],
    );
    const created: unknown[] = await manager.query(
      `INSERT INTO dissemination.publications
         (id, alert_id, alert_version, account_id, kind, folio, marker, with_image, cause_event_id, correlation_id)
       SELECT gen_random_uuid(), al.alert_id, src.alert_version, a.id, src.kind, src.folio, src.marker, src.with_image,
              src.cause_event_id, src.correlation_id
         FROM dissemination.alerts al
         JOIN dissemination.accounts a
           ON a.id = $1 AND a.enabled AND a.status = 'ok' AND a.credentials_ciphertext IS NOT NULL
         JOIN LATERAL (
           SELECT q.alert_version, q.kind, q.folio, q.marker, q.with_image, q.cause_event_id, q.correlation_id
             FROM dissemination.publications q
            WHERE q.alert_id = al.alert_id AND q.kind IN ('activation', 'update')
            ORDER BY q.alert_version DESC LIMIT 1) src ON true
        WHERE al.status = 'active'
          AND NOT EXISTS (SELECT 1 FROM dissemination.publications x
                           WHERE x.alert_id = al.alert_id AND x.account_id = a.id AND x.kind IN ('activation', 'update'))
       ON CONFLICT ON CONSTRAINT publications_once_per_version DO NOTHING
       RETURNING id`,
      [id],
    );
    return reopened.length + created.length;
  }

  async markAuthRevoked(manager: EntityManager, id: string, reason: string): Promise<boolean> {
    const rows = await updateReturning(
      manager,
      `UPDATE dissemination.accounts SET status = 'auth_revoked', status_reason = $2,
              status_changed_at = clock_timestamp(), updated_at = clock_timestamp()
        WHERE id = $1 AND status = 'ok' RETURNING id`,
      [id, reason.slice(0, 300)],
    );
    return rows.length > 0;
  }

  /**
   * Start-up housekeeping: import credentials from ACCOUNT_CREDENTIALS_FILE for accounts that have none,
   * and re-encrypt credentials still under an older key (key rotation).
   */
  async prepare(): Promise<{ imported: number; reencrypted: number }> {
    let imported = 0;
    let reencrypted = 0;
    const file = this.runtime.config.ACCOUNT_CREDENTIALS_FILE;
    const accounts = await this.list();
    if (file) {
      const all = JSON.parse(readFileSync(file, 'utf8')) as Record<string, unknown>;
      for (const a of accounts) {
        if (a.credentials_ciphertext || !(a.id in all)) continue;
        await this.setCredentials(a.id, this.validateCredentials(a.platform, all[a.id]));
        imported++;
      }
    }
    for (const a of accounts) {
      if (!a.credentials_ciphertext || a.credentials_key_id === this.cipher.currentKeyId) continue;
      const plain = this.cipher.decrypt(a.id, a.credentials_ciphertext);
      const { ciphertext, keyId } = this.cipher.encrypt(a.id, plain);
      await this.db.query(
        `UPDATE dissemination.accounts SET credentials_ciphertext = $2, credentials_key_id = $3 WHERE id = $1 AND credentials_ciphertext = $4`,
        [a.id, ciphertext, keyId, a.credentials_ciphertext],
      );
      reencrypted++;
    }
    return { imported, reencrypted };
  }
}
