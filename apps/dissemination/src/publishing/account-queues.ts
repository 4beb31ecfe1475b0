import { createRedisConnection } from '@alerta-rosa/runtime';
import { Job, JobsOptions, Queue, Worker } from 'bullmq';
import IORedis from 'ioredis';
import type { Logger } from 'pino';
import { AccountRow } from '../accounts/account.registry';
import { DisseminationConfig } from '../dissemination.config';

export type PublishingJob =
  { kind: 'post'; publicationId: string } | { kind: 'withdraw'; alertId: string; accountId: string };

export type JobHandler = (
  job: Job<PublishingJob>,
  token: string | undefined,
  worker: Worker<PublishingJob>,
) => Promise<void>;

/** Posts, and deletions (withdrawals), of one account each have their own queue and worker. */
export type LaneKind = 'posts' | 'withdrawals';

interface Lane {
  queue: Queue<PublishingJob>;
  worker: Worker<PublishingJob> | null;
}

interface AccountLanes {
  lanes: Record<LaneKind, Lane>;
  policy: string;
}

export const POST_BACKOFF = 'post-jitter';
export const WITHDRAW_BACKOFF = 'withdraw-jitter';

/** Queue name of an account's posts: one queue per account, so BullMQ's per-queue limiter is a per-account limit. */
export function accountQueueName(accountId: string): string {
  return `account-${accountId}`;
}

/**
 * Queue name of an account's withdrawals. Deletions wait neither for the account's posts (a located
 * notice, a burst of activations) nor for each other: their own worker runs up to WITHDRAWAL_CONCURRENCY
 * at once, under the account's rate-limit policy of its own.
 */
export function withdrawalQueueName(accountId: string): string {
  return `account-${accountId}-withdrawals`;
}

const QUEUE_NAME: Record<LaneKind, (accountId: string) => string> = {
  posts: accountQueueName,
  withdrawals: withdrawalQueueName,
};

/** The lane a job goes to. */
export function laneOf(job: PublishingJob): LaneKind {
  return job.kind === 'withdraw' ? 'withdrawals' : 'posts';
}

/** Exponential backoff with full jitter in [delay/2, delay], capped. */
export function jitteredBackoff(
  attemptsMade: number,
  baseMs: number,
  maxMs: number,
  random = Math.random,
): number {
  const delay = Math.min(maxMs, baseMs * 2 ** Math.max(0, attemptsMade - 1));
  return Math.round(delay / 2 + (random() * delay) / 2);
}

/**
 * The per-account queues and their workers. Each worker runs with the account's own rate limit; the
 * posts worker with the account's concurrency, the withdrawals worker with WITHDRAWAL_CONCURRENCY.
 * `sync` starts and restarts (policy changed) workers as the registry changes.
 */
export class AccountQueues {
  private readonly accounts = new Map<string, AccountLanes>();
  private readonly connection: IORedis;
  private closed = false;

  constructor(
    private readonly config: DisseminationConfig,
    private readonly logger: Logger,
    private readonly handler: JobHandler,
    private readonly runWorkers = true,
  ) {
    this.connection = createRedisConnection(config);
  }

  /**
   * Follows the registry: queues for new accounts, workers (re)started for new accounts and changed
   * policies. Syncs run one after the other: the start-up, the sweep and the admin API may ask at once,
   * and two syncs interleaved would both replace the same worker and leave two running on one lane.
   */
  sync(accounts: AccountRow[]): Promise<void> {
    const run = this.syncing.then(() => this.syncNow(accounts));
    this.syncing = run.catch(() => undefined);
    return run;
  }

  private syncing: Promise<void> = Promise.resolve();

  private async syncNow(accounts: AccountRow[]): Promise<void> {
    if (this.closed) return;
    for (const a of accounts) {
      const policy = `${a.rate_limit_max}:${a.rate_limit_duration_ms}:${a.concurrency}`;
      let entry = this.accounts.get(a.id);
      if (entry && entry.policy === policy) continue;
      const changed = !!entry;
      if (!entry) {
        const lane = (kind: LaneKind): Lane => ({
          queue: new Queue<PublishingJob>(QUEUE_NAME[kind](a.id), {
            connection: this.connection,
            prefix: this.config.QUEUE_PREFIX,
          }),
          worker: null,
        });
        entry = { lanes: { posts: lane('posts'), withdrawals: lane('withdrawals') }, policy };
        this.accounts.set(a.id, entry);
      }
      const lanes = Object.entries(entry.lanes) as [LaneKind, Lane][];
      await Promise.all(lanes.map(([, lane]) => lane.worker?.close()));
      // BullMQ counts a queue's jobs in one key that expires with the window it was opened under: a
      // window of the old policy (an hour for Facebook) whose count is already over a lower new maximum
      // would hold the account's posts until it expired. A changed policy starts a window of its own (a
      // platform that still limits answers 429, and the account waits for its reset as usual).
      // Not resetting it (Redis away) must not leave the account without workers: they start anyway.
      if (changed)
        await Promise.all(
          lanes.map(([kind, lane]) =>
            lane.queue
              .removeRateLimitKey()
              .catch((err: Error) =>
                this.logger.warn({ accountId: a.id, kind, err: err.message }, 'rate window not reset'),
              ),
          ),
        );
      // Disabled accounts keep their workers: their pending posts are cancelled by them, and withdrawals
      // of posts they already made must still run.
      for (const [kind, lane] of lanes)
        lane.worker = this.runWorkers && !this.closed ? this.startWorker(a, kind) : null;
      entry.policy = policy;
    }
  }

  private startWorker(a: AccountRow, kind: LaneKind): Worker<PublishingJob> {
    const c = this.config;
    const worker: Worker<PublishingJob> = new Worker<PublishingJob>(
      QUEUE_NAME[kind](a.id),
      (job, token) => this.handler(job, token, worker),
      {
        // The queues' connection, shared for commands (BullMQ leaves a connection it was given open and
        // defines its Lua commands on it once); the worker duplicates it for its own blocking fetch. 60
        // workers hold 61 connections instead of 121: half the handshakes and definitions at start.
        connection: this.connection,
        prefix: c.QUEUE_PREFIX,
        concurrency: kind === 'posts' ? a.concurrency : c.WITHDRAWAL_CONCURRENCY,
        limiter: { max: a.rate_limit_max, duration: a.rate_limit_duration_ms },
        lockDuration: c.QUEUE_LOCK_DURATION_MS,
        stalledInterval: c.QUEUE_STALLED_INTERVAL_MS,
        // A worker killed mid-job must never turn the job into a failure: the DB guard and the
        // look-before-repost make re-running it safe.
        maxStalledCount: 1_000,
        settings: {
          backoffStrategy: (attemptsMade: number, type?: string) =>
            jitteredBackoff(
              attemptsMade,
              c.RETRY_BASE_MS,
              type === WITHDRAW_BACKOFF ? c.WITHDRAWAL_RETRY_MAX_MS : c.RETRY_MAX_MS,
            ),
        },
      },
    );
    worker.on('error', (err) =>
      this.logger.warn({ accountId: a.id, kind, err: err.message }, 'worker error'),
    );
    // A job whose worker died (or stalled past its lock) is handed back to the queue: worth knowing after a crash.
    worker.on('stalled', (jobId) =>
      this.logger.info(
        { accountId: a.id, kind, jobId },
        'stalled job taken back (its worker died or stalled)',
      ),
    );
    worker.on('failed', (job, err) =>
      this.logger.warn(
        { accountId: a.id, kind, jobId: job?.id, attemptsMade: job?.attemptsMade, err: err.message },
        'job attempt failed',
      ),
    );
    return worker;
  }

  queue(accountId: string, kind: LaneKind): Queue<PublishingJob> | undefined {
    return this.accounts.get(accountId)?.lanes[kind].queue;
  }

  /**
   * Adds a job to its account's lane. A job id only deduplicates while the job exists: with `revive`,
   * a finished job of the same id is removed first (its row is still pending, e.g. it was interrupted
   * between the platform call and the DB write, so it must run again); with `promote`, a job of that id
   * waiting out a delay runs now (what it waited for has happened).
   */
  async add(
    accountId: string,
    jobId: string,
    data: PublishingJob,
    opts: JobsOptions,
    { revive = false, promote = false } = {},
  ): Promise<boolean> {
    const queue = this.queue(accountId, laneOf(data));
    if (!queue) return false;
    if (revive || promote) {
      const existing = await queue.getJob(jobId);
      const state = existing ? await existing.getState() : null;
      if (revive && (state === 'completed' || state === 'failed'))
        await existing!.remove().catch(() => undefined);
      if (promote && state === 'delayed') {
        await existing!.promote().catch(() => undefined); // it may have started meanwhile
        return true;
      }
    }
    await queue.add(data.kind, data, { ...opts, jobId });
    return true;
  }

  /** Adds many new jobs of one kind to one account's lane in one round trip. */
  async addBulk(
    accountId: string,
    kind: LaneKind,
    jobs: { jobId: string; data: PublishingJob; opts: JobsOptions }[],
  ): Promise<boolean> {
    const queue = this.queue(accountId, kind);
    if (!queue) return false;
    await queue.addBulk(
      jobs.map((j) => ({ name: j.data.kind, data: j.data, opts: { ...j.opts, jobId: j.jobId } })),
    );
    return true;
  }

  async close(): Promise<void> {
    this.closed = true;
    await this.syncing; // a sync under way starts no worker once closed; its closes finish first
    const lanes = [...this.accounts.values()].flatMap((e) => Object.values(e.lanes));
    await Promise.all(lanes.map((l) => l.worker?.close()));
    await Promise.all(lanes.map((l) => l.queue.close()));
    this.connection.disconnect();
  }
}
