import {
  AlertOutcome,
  PUBLICATION_EVENT_TYPES,
  Platform,
  PublicFicha,
  PublicationFailureReason,
  TOPICS,
  createEnvelope,
} from '@alerta-rosa/contracts';
import { OutboxWriter } from '@alerta-rosa/messaging';
import { SERVICE_RUNTIME, ServiceRuntime } from '@alerta-rosa/runtime';
import { Inject, Injectable } from '@nestjs/common';
import { DelayedError, Job, Worker } from 'bullmq';
import type { Logger } from 'pino';
import { DataSource, EntityManager } from 'typeorm';
import { AccountRegistry, AccountRow } from '../accounts/account.registry';
import { AccountsCatalog } from '../accounts/accounts.catalog';
import { ChannelAccount, ChannelAdapter, PostRequest, RemotePost } from '../channels/channel.adapter';
import { ChannelError, RateLimitedError, TransientError, describeError } from '../channels/channel.errors';
import { FichaCardRenderer } from '../content/ficha-card.renderer';
import { renderAltText, renderPostText } from '../content/post.templates';
import { DisseminationConfig } from '../dissemination.config';
import { PublishingJob } from './account-queues';
import { PENDING_CHANNEL } from './fan-out.service';
import { updateReturning } from './sql';
import {
  PublicationRow,
  accountRevokedEvent,
  causeOf,
  failedEvent,
  succeededEvent,
  withdrawnEvent,
} from './publication.events';

export const CHANNEL_ADAPTERS = Symbol('CHANNEL_ADAPTERS');
export const ACCOUNTS_CATALOG = Symbol('ACCOUNTS_CATALOG');

interface LoadedPublication extends PublicationRow {
  account: AccountRow;
  alert_status: 'active' | 'deactivated';
  ficha: PublicFicha;
  outcome: AlertOutcome | null;
}

const WAIT_MS = 1_000;

/**
 * What a publishing job does. Posting: the DB row is the truth (status, remote id, "a send started");
 * a post is attempted only after claiming the row, and after any attempt that may have posted, the
 * account's recent posts are searched for the publication's marker before posting again.
 * Withdrawal: delete every post with the ficha on one account, then report; retried until done.
 */
@Injectable()
export class PublishingService {
  private readonly logger: Logger;
  private readonly config: DisseminationConfig;

  constructor(
    private readonly db: DataSource,
    private readonly outbox: OutboxWriter,
    private readonly registry: AccountRegistry,
    private readonly cards: FichaCardRenderer,
    @Inject(CHANNEL_ADAPTERS) private readonly adapters: Record<Platform, ChannelAdapter>,
    @Inject(ACCOUNTS_CATALOG) private readonly catalog: AccountsCatalog,
    @Inject(SERVICE_RUNTIME) runtime: ServiceRuntime<DisseminationConfig>,
  ) {
    this.logger = runtime.logger.child({ component: 'publishing' });
    this.config = runtime.config;
  }

  async run(
    job: Job<PublishingJob>,
    token: string | undefined,
    worker: Worker<PublishingJob>,
  ): Promise<void> {
    const data = job.data;
    try {
      if (data.kind === 'post') await this.post(data.publicationId, job, token);
      else await this.withdraw(data.alertId, data.accountId, job, token);
    } catch (err) {
      if (err instanceof RateLimitSignal) {
        // Wait for the platform's reset on this account only, without spending an attempt.
        await worker.rateLimit(err.waitMs);
        throw Worker.RateLimitError();
      }
      throw err;
    }
  }

  // ---------------------------------------------------------------- posting

  private async post(
    publicationId: string,
    job: Job<PublishingJob>,
    token: string | undefined,
  ): Promise<void> {
    const pub = await this.load(publicationId);
    if (!pub || pub.status !== 'pending') return;
    const log = this.logger.child({
      alertId: pub.alert_id,
      folio: pub.folio,
      accountId: pub.account_id,
      publicationId,
    });
    const row = pub.account;
    if (!row.enabled) return void (await this.cancel(pub.id, 'account_disabled'));
    if (row.status === 'auth_revoked')
      return void (await this.fail(pub, 'auth_revoked', row.status_reason ?? 'credentials revoked'));
    const account = this.registry.channelAccount(row);
    if (!account) return void (await this.fail(pub, 'not_configured', 'account has no credentials'));
    const adapter = this.adapters[row.platform];

    try {
      // A previous attempt got as far as the platform's answer: just record the outcome.
      if (pub.remote_id)
        return void (await this.markPosted(pub, { remoteId: pub.remote_id, url: pub.remote_url }, true));
      // A previous attempt may have posted (crash or timeout after sending): look before posting.
      if (pub.send_started_at) {
        const found = await adapter.findByMarker(account, pub.marker);
        if (found) {
          log.info(
            { remoteId: found.remoteId },
            'post found after an interrupted attempt; not posting again',
          );
          return void (await this.markPosted(pub, found, true));
        }
      }
      if (pub.alert_status !== 'active' && pub.kind !== 'located_notice') {
        return void (await this.cancel(pub.id, 'alert_deactivated'));
      }

      let replyTo: string | undefined;
      if (pub.kind === 'update') {
        const parent = await this.threadParent(pub);
        if (parent === 'wait') return this.delay(job, token, WAIT_MS);
        replyTo = parent ?? undefined;
      }
      const request = await this.buildRequest(pub, row);
      if (replyTo) request.replyToRemoteId = replyTo;

      const claimed = await updateReturning<{ attempts: number }>(
        this.db.manager,
        `UPDATE dissemination.publications p SET send_started_at = clock_timestamp(), attempts = p.attempts + 1
           FROM dissemination.alerts a
          WHERE p.id = $1 AND p.status = 'pending' AND p.remote_id IS NULL AND a.alert_id = p.alert_id
            AND (a.status = 'active' OR p.kind = 'located_notice')
          RETURNING p.attempts`,
        [pub.id],
      );
      if (!claimed.length) return; // cancelled by a withdrawal, or taken by another attempt
      pub.attempts = claimed[0].attempts;

      const remote = await adapter.post(account, request, (id) => this.recordRemoteId(pub.id, id));
      await this.markPosted(pub, remote, false);
      log.info({ remoteId: remote.remoteId, attempts: pub.attempts }, 'posted');
    } catch (err) {
      await this.onPostError(err, pub, account, adapter, job, log);
    }
  }

  private async onPostError(
    err: unknown,
    pub: LoadedPublication,
    account: ChannelAccount,
    adapter: ChannelAdapter,
    job: Job<PublishingJob>,
    log: Logger,
  ): Promise<void> {
    if (err instanceof DelayedError) throw err;
    const finalAttempt = job.attemptsMade + 1 >= (job.opts.attempts ?? 1);
    if (!(err instanceof ChannelError)) {
      log.error({ err: describeError(err) }, 'post attempt failed unexpectedly');
      if (finalAttempt) await this.fail(pub, 'exhausted', describeError(err));
      throw err;
    }
    switch (err.kind) {
      case 'rate_limited': {
        await this.clearSendStarted(pub.id);
        const waitMs = Math.max(0, (err as RateLimitedError).resetAt.getTime() - Date.now()) + 50;
        log.warn({ waitMs }, 'rate limited; account waits for the reset');
        throw new RateLimitSignal(waitMs);
      }
      case 'auth_revoked': {
        await this.db.transaction(async (m) => {
          // The first refusal marks the account and tells its owner area (coordination mails them);
          // later refusals on the same account only fail their publications.
          if (await this.registry.markAuthRevoked(m, pub.account_id, err.message)) {
            await this.outbox.append(m, TOPICS.publications, [
              accountRevokedEvent(pub, pub.account.owner_area, err.message, new Date()),
            ]);
            log.error('account credentials revoked; account marked, owner area alerted');
          }
        });
        await this.fail(pub, 'auth_revoked', err.message);
        return;
      }
      case 'bad_content':
        await this.fail(pub, 'bad_content', err.message);
        return;
      case 'ambiguous': {
        log.warn({ err: err.message }, 'ambiguous post failure; looking before retrying');
        let found: RemotePost | null = null;
        try {
          found = await adapter.findByMarker(account, pub.marker);
        } catch (lookErr) {
          log.warn({ err: describeError(lookErr) }, 'look-up after ambiguous failure failed');
        }
        if (found) return void (await this.markPosted(pub, found, true));
        if (finalAttempt) await this.fail(pub, 'exhausted', err.message);
        throw new TransientError(`ambiguous, not found: ${err.message}`);
      }
      case 'transient':
        await this.clearSendStarted(pub.id);
        if (finalAttempt) await this.fail(pub, 'exhausted', err.message);
        throw err;
    }
  }

  private async buildRequest(pub: LoadedPublication, account: AccountRow): Promise<PostRequest> {
    const phones = this.catalog.contact.phones;
    const text = renderPostText({
      kind: pub.kind,
      platform: account.platform,
      folio: pub.folio,
      version: pub.alert_version,
      ficha: pub.ficha,
      accountRegions: account.regions,
      phones,
      outcome: pub.outcome,
    });
    const request: PostRequest = {
      text,
      marker: pub.marker,
      idempotencyKey: `post-${pub.alert_id}-v${pub.alert_version}-${pub.account_id}`,
      data: { folio: pub.folio, kind: pub.kind, alertVersion: pub.alert_version },
    };
    if (pub.with_image) {
      const png = await this.cards.render(`${pub.alert_id}:${pub.alert_version}`, {
        folio: pub.folio,
        ficha: pub.ficha,
        phones,
      });
      request.image = {
        png,
        altText: renderAltText(pub.folio, pub.ficha, phones, Boolean(pub.ficha.photoUrl)),
      };
    }
    return request;
  }

  /** The latest earlier post of this alert on the account (updates thread under it); 'wait' while it is pending. */
  private async threadParent(pub: LoadedPublication): Promise<string | null | 'wait'> {
    const [prev] = await this.db.query(
      `SELECT status, remote_id FROM dissemination.publications
        WHERE alert_id = $1 AND account_id = $2 AND alert_version < $3 AND kind IN ('activation', 'update')
          AND status IN ('pending', 'posted')
        ORDER BY alert_version DESC LIMIT 1`,
      [pub.alert_id, pub.account_id, pub.alert_version],
    );
    if (!prev) return null;
    return prev.status === 'pending' ? 'wait' : prev.remote_id;
  }

  private async delay(job: Job<PublishingJob>, token: string | undefined, ms: number): Promise<never> {
    await job.moveToDelayed(Date.now() + ms, token);
    throw new DelayedError();
  }

  private async recordRemoteId(id: string, remoteId: string): Promise<void> {
    await this.db.query(
      `UPDATE dissemination.publications SET remote_id = $2 WHERE id = $1 AND remote_id IS NULL`,
      [id, remoteId],
    );
  }

  private async clearSendStarted(id: string): Promise<void> {
    await this.db.query(
      `UPDATE dissemination.publications SET send_started_at = NULL WHERE id = $1 AND status = 'pending' AND remote_id IS NULL`,
      [id],
    );
  }

  private async markPosted(pub: LoadedPublication, remote: RemotePost, recovered: boolean): Promise<void> {
    await this.db.transaction(async (m) => {
      const rows = await updateReturning(
        m,
        `UPDATE dissemination.publications
            SET status = 'posted', remote_id = $2, remote_url = $3, posted_at = clock_timestamp(), recovered = $4
          WHERE id = $1 AND status = 'pending' RETURNING posted_at, attempts`,
        [pub.id, remote.remoteId, remote.url, recovered],
      );
      if (!rows.length) return;
      pub.attempts = rows[0].attempts;
      await this.outbox.append(m, TOPICS.publications, [
        succeededEvent(pub, remote, rows[0].posted_at, recovered),
      ]);
      // Posted after the alert was deactivated (found by a look-up): make sure the withdrawal covers it.
      if (pub.with_image) {
        const reopened = await m.query(
          `INSERT INTO dissemination.withdrawals (alert_id, account_id)
           SELECT alert_id, $2 FROM dissemination.alert_withdrawals WHERE alert_id = $1
           ON CONFLICT (alert_id, account_id) DO UPDATE SET status = 'pending', completed_at = NULL, enqueued_at = NULL
           RETURNING account_id`,
          [pub.alert_id, pub.account_id],
        );
        if (reopened.length) await m.query(`SELECT pg_notify($1, '')`, [PENDING_CHANNEL]);
      }
    });
  }

  private async fail(pub: LoadedPublication, reason: PublicationFailureReason, error: string): Promise<void> {
    await this.db.transaction(async (m) => {
      const rows = await updateReturning(
        m,
        `UPDATE dissemination.publications
            SET status = 'failed', failure_reason = $2, last_error = $3, failed_at = clock_timestamp()
          WHERE id = $1 AND status = 'pending' RETURNING attempts`,
        [pub.id, reason, error.slice(0, 500)],
      );
      if (!rows.length) return;
      pub.attempts = rows[0].attempts;
      await this.outbox.append(m, TOPICS.publications, [failedEvent(pub, reason, error)]);
    });
    this.logger.warn(
      { alertId: pub.alert_id, folio: pub.folio, accountId: pub.account_id, reason },
      'publication failed',
    );
  }

  private async cancel(id: string, why: string): Promise<void> {
    await this.db.query(
      `UPDATE dissemination.publications SET status = 'cancelled', last_error = $2
        WHERE id = $1 AND status = 'pending' AND remote_id IS NULL`,
      [id, why],
    );
  }

  private async load(id: string, m: EntityManager = this.db.manager): Promise<LoadedPublication | undefined> {
    const [row] = await m.query(
      `SELECT p.*, a.platform, a.handle, to_jsonb(a) AS account, al.status AS alert_status, al.ficha, al.outcome
         FROM dissemination.publications p
         JOIN dissemination.accounts a ON a.id = p.account_id
         JOIN dissemination.alerts al ON al.alert_id = p.alert_id
        WHERE p.id = $1`,
      [id],
    );
    return row;
  }

  // ---------------------------------------------------------------- withdrawal

  private async withdraw(
    alertId: string,
    accountId: string,
    job: Job<PublishingJob>,
    token: string | undefined,
  ) {
    const [w] = await this.db.query(
      `SELECT w.*, aw.outcome, aw.cause_event_id, aw.correlation_id, aw.requested_at
         FROM dissemination.withdrawals w JOIN dissemination.alert_withdrawals aw USING (alert_id)
        WHERE w.alert_id = $1 AND w.account_id = $2`,
      [alertId, accountId],
    );
    if (!w || w.status === 'done') return;
    const log = this.logger.child({ alertId, accountId });
    // Posts not yet started will never start; posts in flight must land (or not) before we can delete.
    await this.db.query(
      `UPDATE dissemination.publications SET status = 'cancelled', last_error = 'alert_deactivated'
        WHERE alert_id = $1 AND account_id = $2 AND status = 'pending' AND kind <> 'located_notice'
          AND send_started_at IS NULL AND remote_id IS NULL`,
      [alertId, accountId],
    );
    const [inFlight] = await this.db.query(
      `SELECT count(*)::int AS n FROM dissemination.publications
        WHERE alert_id = $1 AND account_id = $2 AND status = 'pending' AND kind <> 'located_notice'`,
      [alertId, accountId],
    );
    if (inFlight.n > 0) return this.delay(job, token, WAIT_MS);

    const row = (await this.registry.get(accountId))!;
    try {
      const toDelete: PublicationRow[] = await this.db.query(
        `SELECT p.*, a.platform, a.handle FROM dissemination.publications p
           JOIN dissemination.accounts a ON a.id = p.account_id
          WHERE p.alert_id = $1 AND p.account_id = $2 AND p.status = 'posted' AND p.with_image
            AND p.withdrawal_status = 'none'
          ORDER BY p.alert_version DESC`,
        [alertId, accountId],
      );
      if (toDelete.length) {
        if (row.status === 'auth_revoked')
          throw new TransientError(`account credentials revoked: ${row.status_reason ?? ''}`);
        const account = this.registry.channelAccount(row);
        if (!account) throw new TransientError('account has no credentials');
        for (const pub of toDelete) {
          await this.adapters[row.platform].delete(account, pub.remote_id!);
          await this.db.transaction(async (m) => {
            const rows = await updateReturning(
              m,
              `UPDATE dissemination.publications SET withdrawal_status = 'withdrawn', withdrawn_at = clock_timestamp()
                WHERE id = $1 AND withdrawal_status = 'none' RETURNING withdrawn_at`,
              [pub.id],
            );
            if (rows.length)
              await this.outbox.append(m, TOPICS.publications, [withdrawnEvent(pub, rows[0].withdrawn_at)]);
          });
          log.info({ publicationId: pub.id, remoteId: pub.remote_id }, 'post withdrawn');
        }
      }
      await this.completeAccountWithdrawal(alertId, accountId, w);
    } catch (err) {
      if (err instanceof ChannelError && err.kind === 'rate_limited') {
        throw new RateLimitSignal(Math.max(0, (err as RateLimitedError).resetAt.getTime() - Date.now()) + 50);
      }
      await this.recordWithdrawalFailure(alertId, row, w, err);
      throw err;
    }
  }

  private async completeAccountWithdrawal(
    alertId: string,
    accountId: string,
    w: Record<string, any>,
  ): Promise<void> {
    await this.db.transaction(async (m) => {
      await m.query(
        `UPDATE dissemination.withdrawals SET status = 'done', completed_at = clock_timestamp()
          WHERE alert_id = $1 AND account_id = $2 AND status = 'pending'`,
        [alertId, accountId],
      );
      // Serialise the "last one" check across accounts finishing at the same time.
      const [aw] = await m.query(
        `SELECT * FROM dissemination.alert_withdrawals WHERE alert_id = $1 FOR UPDATE`,
        [alertId],
      );
      if (aw.completed_at) return;
      const [left] = await m.query(
        `SELECT count(*) FILTER (WHERE status = 'pending')::int AS pending, count(*)::int AS accounts
           FROM dissemination.withdrawals WHERE alert_id = $1`,
        [alertId],
      );
      if (left.pending > 0) return;
      const [{ folio }] = await m.query(`SELECT folio FROM dissemination.alerts WHERE alert_id = $1`, [
        alertId,
      ]);
      const [{ n }] = await m.query(
        `SELECT count(*)::int AS n FROM dissemination.publications WHERE alert_id = $1 AND withdrawal_status = 'withdrawn'`,
        [alertId],
      );
      const [{ now }] = await updateReturning(
        m,
        `UPDATE dissemination.alert_withdrawals SET completed_at = clock_timestamp() WHERE alert_id = $1 RETURNING completed_at AS now`,
        [alertId],
      );
      await this.outbox.append(m, TOPICS.publications, [
        createEnvelope({
          type: PUBLICATION_EVENT_TYPES.withdrawalCompleted,
          alertId,
          producer: 'dissemination',
          cause: causeOf(w as { cause_event_id: string; correlation_id: string }),
          payload: {
            folio,
            outcome: aw.outcome,
            accounts: left.accounts,
            postsWithdrawn: n,
            requestedAt: new Date(aw.requested_at).toISOString(),
            completedAt: new Date(now).toISOString(),
          },
        }),
      ]);
      this.logger.info(
        { alertId, folio, accounts: left.accounts, postsWithdrawn: n },
        'withdrawal complete on every account',
      );
    });
  }

  private async recordWithdrawalFailure(
    alertId: string,
    account: AccountRow,
    w: Record<string, any>,
    err: unknown,
  ) {
    const error = describeError(err);
    await this.db.transaction(async (m) => {
      const rows = await updateReturning(
        m,
        `UPDATE dissemination.withdrawals SET attempts = attempts + 1, last_error = $3
          WHERE alert_id = $1 AND account_id = $2 RETURNING attempts, delayed_reported_at`,
        [alertId, account.id, error],
      );
      const r = rows[0];
      if (!r || r.delayed_reported_at || r.attempts < this.config.WITHDRAWAL_STRAGGLER_ATTEMPTS) return;
      await m.query(
        `UPDATE dissemination.withdrawals SET delayed_reported_at = clock_timestamp() WHERE alert_id = $1 AND account_id = $2`,
        [alertId, account.id],
      );
      const [{ folio }] = await m.query(`SELECT folio FROM dissemination.alerts WHERE alert_id = $1`, [
        alertId,
      ]);
      await this.outbox.append(m, TOPICS.publications, [
        createEnvelope({
          type: PUBLICATION_EVENT_TYPES.withdrawalDelayed,
          alertId,
          producer: 'dissemination',
          cause: causeOf(w as { cause_event_id: string; correlation_id: string }),
          payload: {
            accountId: account.id,
            platform: account.platform,
            handle: account.handle,
            folio,
            attempts: r.attempts,
            error,
            reportedAt: new Date().toISOString(),
            ownerArea: account.owner_area,
          },
        }),
      ]);
    });
    this.logger.warn({ alertId, accountId: account.id, err: error }, 'withdrawal attempt failed; will retry');
  }
}

/** Internal: a 429 was met; the worker must pause this account's queue for `waitMs`. */
class RateLimitSignal extends Error {
  constructor(readonly waitMs: number) {
    super(`rate limited for ${waitMs} ms`);
  }
}
