import { PublicFicha } from '@alerta-rosa/contracts';
import { CommitNotifier, CommittedWorkLoop } from '@alerta-rosa/messaging';
import { SERVICE_RUNTIME, ServiceRuntime } from '@alerta-rosa/runtime';
import { Inject, Injectable, OnApplicationBootstrap, OnApplicationShutdown } from '@nestjs/common';
import type { Logger } from 'pino';
import { AccountRegistry } from '../accounts/account.registry';
import { DisseminationConfig } from '../dissemination.config';
import { JobsOptions } from 'bullmq';
import { AccountQueues, POST_BACKOFF, PublishingJob, WITHDRAW_BACKOFF } from './account-queues';
import { PENDING_CHANNEL } from './fan-out.service';
import { PublicationMedia } from './publication-media';
import { PublishingService } from './publishing.service';
import { Pool } from 'pg';
import { PreparingClient } from '@alerta-rosa/database';

/** Job id of a post: deterministic, so a second enqueue of the same publication is a no-op. */
export function postJobId(alertId: string, version: number, accountId: string): string {
  return `post-${alertId}-v${version}-${accountId}`;
}

export function withdrawJobId(alertId: string, accountId: string): string {
  return `withdraw-${alertId}-${accountId}`;
}

/**
 * Moves committed work into the account queues. Rows are written by the inbox transaction; this
 * enqueues them after commit (woken once it has committed: at once in this process, by NOTIFY in the
 * others), at start-up
 * (whatever a crash between commit and enqueue left behind), and periodically (a job that vanished or
 * finished without settling its row is enqueued again; the row's status makes re-running it harmless).
 */
@Injectable()
export class PendingDispatcher implements OnApplicationBootstrap, OnApplicationShutdown {
  readonly queues: AccountQueues;
  private readonly logger: Logger;
  private readonly config: DisseminationConfig;
  private readonly loop: CommittedWorkLoop;
  /**
   * The hand-over's own connections: committed work reaches the queues without waiting for a connection
   * behind the jobs it hands over (a deactivation's 30 deletions and 30 notices hold the service's pool).
   */
  private readonly pool: Pool;

  constructor(
    private readonly registry: AccountRegistry,
    private readonly media: PublicationMedia,
    publishing: PublishingService,
    notifier: CommitNotifier,
    @Inject(SERVICE_RUNTIME) runtime: ServiceRuntime<DisseminationConfig>,
  ) {
    this.logger = runtime.logger.child({ component: 'dispatcher' });
    this.config = runtime.config;
    this.queues = new AccountQueues(
      this.config,
      runtime.logger.child({ component: 'queues' }),
      (job, token, worker) => publishing.run(job, token, worker),
    );
    this.pool = new Pool({
      connectionString: this.config.DATABASE_URL,
      max: 2,
      application_name: 'dissemination-dispatcher',
      ...(this.config.DATABASE_PREPARED_STATEMENTS ? { Client: PreparingClient } : {}),
    });
    this.pool.on('error', (err) => this.logger.warn({ err: err.message }, 'dispatcher connection lost'));
    this.loop = new CommittedWorkLoop({
      name: 'dissemination-dispatcher',
      databaseUrl: this.config.DATABASE_URL,
      channel: PENDING_CHANNEL,
      notifier, // this process's commits wake it at once; other replicas' reach it by NOTIFY
      pollIntervalMs: this.config.SWEEP_INTERVAL_MS,
      logger: this.logger,
      run: ({ full }) => this.dispatch(full),
    });
  }

  async onApplicationBootstrap(): Promise<void> {
    const prepared = await this.registry.prepare();
    if (prepared.imported || prepared.reencrypted) this.logger.info(prepared, 'account credentials prepared');
    const accounts = await this.registry.list();
    const unusable = accounts.filter((a) => a.enabled && !a.credentials_ciphertext).map((a) => a.id);
    if (unusable.length)
      this.logger.warn({ accounts: unusable }, 'enabled accounts without credentials get no posts');
    // Cards (and X uploads) of the versions still to be posted start before the workers take their jobs.
    void this.prepareMediaOfPending();
    await this.queues.sync(accounts);
    await this.loop.start();
  }

  /** The versions with photo posts still pending at start-up get their card ahead of their jobs. */
  private async prepareMediaOfPending(): Promise<void> {
    try {
      const versions: { folio: string; ficha: PublicFicha }[] = await this.query(
        `SELECT DISTINCT ON (p.alert_id, p.alert_version) al.folio, COALESCE(v.ficha, al.ficha) AS ficha
           FROM dissemination.publications p
           JOIN dissemination.alerts al ON al.alert_id = p.alert_id
           LEFT JOIN dissemination.alert_versions v ON v.alert_id = p.alert_id AND v.version = p.alert_version
          WHERE p.status = 'pending' AND p.with_image AND NOT p.retract AND al.status = 'active'
            AND p.kind IN ('activation', 'update')
          ORDER BY p.alert_id, p.alert_version DESC
          LIMIT 16`,
        [],
      );
      for (const v of versions) this.media.prepareFicha(v.folio, v.ficha);
    } catch (err) {
      this.logger.debug(
        { err: (err as Error).message },
        'pending media not prepared; the posts render their own',
      );
    }
  }

  async onApplicationShutdown(): Promise<void> {
    await this.loop.stop();
    await this.queues.close();
    await this.pool.end();
  }

  private async query<T>(sql: string, params: unknown[]): Promise<T[]> {
    return (await this.pool.query(sql, params)).rows as T[];
  }

  /** Called after registry changes (admin API) so workers follow the new policy at once. */
  async refreshAccounts(): Promise<void> {
    await this.queues.sync(await this.registry.list());
    void this.loop.wake(true); // full: also revives publications reopened for the account
  }

  /**
   * A notification hands over what was just committed; the start-up run and the periodic sweep also
   * follow account changes made by another replica and re-enqueue rows whose job vanished.
   */
  private async dispatch(full: boolean): Promise<void> {
    this.logger.debug({ full }, 'dispatch run');
    if (full) {
      try {
        await this.queues.sync(await this.registry.list());
      } catch (err) {
        this.logger.warn({ err: (err as Error).message }, 'account sync failed');
      }
    }
    await this.enqueuePending(full);
  }

  /**
   * Withdrawals first: a deactivation's deletions start before its «LOCALIZADA» notices (and any post)
   * compete with them for the database.
   */
  private async enqueuePending(includeStale: boolean): Promise<void> {
    await this.enqueueWithdrawals(includeStale);
    await this.enqueuePosts(includeStale);
  }

  private async enqueuePosts(includeStale: boolean): Promise<void> {
    const staleMs = this.config.REENQUEUE_AFTER_MS;
    const posts: {
      id: string;
      alert_id: string;
      alert_version: number;
      account_id: string;
      enqueued_at: Date | null;
    }[] = await this.query(
      `SELECT p.id, p.alert_id, p.alert_version, p.account_id, p.enqueued_at
           FROM dissemination.publications p JOIN dissemination.accounts a ON a.id = p.account_id
          WHERE p.status = 'pending' AND a.enabled
            -- A «LOCALIZADA» notice waits for the account's withdrawal round: the deletions of her photo
            -- run first, with nothing else of the account's competing with them. Not behind a round that
            -- has failed once: a straggling account gets its notice as before (and a refused notice is how
            -- revoked credentials are noticed and reported).
            AND NOT (p.kind = 'located_notice' AND EXISTS (
                  SELECT 1 FROM dissemination.withdrawals w
                   WHERE w.alert_id = p.alert_id AND w.account_id = p.account_id AND w.status = 'pending'
                     AND w.attempts = 0))
            AND (p.enqueued_at IS NULL OR ($1 AND p.enqueued_at < clock_timestamp() - make_interval(secs => $2::float / 1000)))
          ORDER BY p.created_at LIMIT 5000`,
      [includeStale, staleMs],
    );
    const postOpts = {
      attempts: this.config.POST_MAX_ATTEMPTS,
      backoff: { type: POST_BACKOFF },
      removeOnComplete: { age: 7 * 86_400 },
      removeOnFail: { age: 30 * 86_400 },
    };
    const fresh = new Map<string, { jobId: string; data: PublishingJob; opts: JobsOptions }[]>();
    const stale: typeof posts = [];
    for (const p of posts) {
      const jobId = postJobId(p.alert_id, p.alert_version, p.account_id);
      if (p.enqueued_at !== null) stale.push(p);
      else
        fresh.set(p.account_id, [
          ...(fresh.get(p.account_id) ?? []),
          { jobId, data: { kind: 'post', publicationId: p.id }, opts: postOpts },
        ]);
    }
    // New work first, in one round trip per account; then the check of old rows against their jobs (all at
    // once: on a loaded machine many rows are old, and one after the other they held the loop for seconds).
    await Promise.all(
      [...fresh.entries()].map(([accountId, jobs]) => this.queues.addBulk(accountId, 'posts', jobs)),
    );
    await Promise.all(
      stale.map((p) =>
        this.queues.add(
          p.account_id,
          postJobId(p.alert_id, p.alert_version, p.account_id),
          { kind: 'post', publicationId: p.id },
          postOpts,
          { revive: true },
        ),
      ),
    );
    if (posts.length) {
      await this.query(
        `UPDATE dissemination.publications SET enqueued_at = clock_timestamp() WHERE id = ANY($1)`,
        [posts.map((p) => p.id)],
      );
      this.logger.debug({ count: posts.length }, 'publications enqueued');
    }
  }

  /**
   * Every account's withdrawal job at once (deactivation starts all the deletions together), then one
   * statement marks them enqueued.
   */
  private async enqueueWithdrawals(includeStale: boolean): Promise<void> {
    const withdrawals: { alert_id: string; account_id: string }[] = await this.query(
      `SELECT alert_id, account_id FROM dissemination.withdrawals
        WHERE status = 'pending'
          AND (enqueued_at IS NULL OR ($1 AND enqueued_at < clock_timestamp() - make_interval(secs => $2::float / 1000)))
        ORDER BY created_at LIMIT 5000`,
      [includeStale, this.config.REENQUEUE_AFTER_MS],
    );
    if (!withdrawals.length) return;
    const opts: JobsOptions = {
      // Retried until done; stragglers are reported (PublicationWithdrawalDelayed) along the way.
      attempts: 1_000_000,
      backoff: { type: WITHDRAW_BACKOFF },
      removeOnComplete: { age: 7 * 86_400 },
    };
    await Promise.all(
      withdrawals.map((w) =>
        this.queues.add(
          w.account_id,
          withdrawJobId(w.alert_id, w.account_id),
          { kind: 'withdraw', alertId: w.alert_id, accountId: w.account_id },
          opts,
          // A round can be opened again after it completed (photo changed, then deactivation; a post
          // found after the round): its finished job must make way for a new one. A round waiting out
          // a retry because a send was in flight is handed over again when that send settles: it runs
          // at once instead of at the end of its backoff.
          { revive: true, promote: true },
        ),
      ),
    );
    await this.query(
      `UPDATE dissemination.withdrawals w SET enqueued_at = clock_timestamp()
         FROM unnest($1::uuid[], $2::text[]) AS x(alert_id, account_id)
        WHERE w.alert_id = x.alert_id AND w.account_id = x.account_id`,
      [withdrawals.map((w) => w.alert_id), withdrawals.map((w) => w.account_id)],
    );
    this.logger.debug({ count: withdrawals.length }, 'withdrawals enqueued');
  }
}
