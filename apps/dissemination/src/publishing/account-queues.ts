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

interface AccountLane {
  queue: Queue<PublishingJob>;
  worker: Worker<PublishingJob> | null;
  policy: string;
}

export const POST_BACKOFF = 'post-jitter';
export const WITHDRAW_BACKOFF = 'withdraw-jitter';

/** Queue name of an account: one queue per account, so BullMQ's per-queue limiter is a per-account limit. */
export function accountQueueName(accountId: string): string {
  return `account-${accountId}`;
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
 * The per-account queues and their workers. Each worker runs with the account's own rate limit and
 * concurrency; `sync` starts, restarts (policy changed) and stops workers as the registry changes.
 */
export class AccountQueues {
  private readonly lanes = new Map<string, AccountLane>();
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

  async sync(accounts: AccountRow[]): Promise<void> {
    if (this.closed) return;
    for (const a of accounts) {
      const policy = `${a.rate_limit_max}:${a.rate_limit_duration_ms}:${a.concurrency}`;
      let lane = this.lanes.get(a.id);
      if (lane && lane.policy === policy) continue;
      if (!lane) {
        lane = {
          queue: new Queue<PublishingJob>(accountQueueName(a.id), {
            connection: this.connection,
            prefix: this.config.QUEUE_PREFIX,
          }),
          worker: null,
          policy,
        };
        this.lanes.set(a.id, lane);
      }
      if (lane.worker) await lane.worker.close();
      // Disabled accounts keep a worker: their pending posts are cancelled by it, and withdrawals of
      // posts they already made must still run.
      lane.worker = this.runWorkers ? this.startWorker(a) : null;
      lane.policy = policy;
    }
  }

  private startWorker(a: AccountRow): Worker<PublishingJob> {
    const c = this.config;
    const worker: Worker<PublishingJob> = new Worker<PublishingJob>(
      accountQueueName(a.id),
      (job, token) => this.handler(job, token, worker),
      {
        connection: createRedisConnection(c),
        prefix: c.QUEUE_PREFIX,
        concurrency: a.concurrency,
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
    worker.on('error', (err) => this.logger.warn({ accountId: a.id, err: err.message }, 'worker error'));
    worker.on('failed', (job, err) =>
      this.logger.warn(
        { accountId: a.id, jobId: job?.id, attemptsMade: job?.attemptsMade, err: err.message },
        'job attempt failed',
      ),
    );
    return worker;
  }

  queue(accountId: string): Queue<PublishingJob> | undefined {
    return this.lanes.get(accountId)?.queue;
  }

  async add(
    accountId: string,
    jobId: string,
    data: PublishingJob,
    opts: JobsOptions,
    revive = false,
  ): Promise<boolean> {
    const queue = this.queue(accountId);
    if (!queue) return false;
    if (revive) {
      // A job id only deduplicates while the job exists; a finished job whose row is still pending
      // (e.g. it was interrupted between the platform call and the DB write) must run again.
      const existing = await queue.getJob(jobId);
      if (existing) {
        const state = await existing.getState();
        if (state === 'completed' || state === 'failed') await existing.remove().catch(() => undefined);
      }
    }
    await queue.add(data.kind, data, { ...opts, jobId });
    return true;
  }

  /** Adds many new jobs to one account's queue in one round trip. */
  async addBulk(
    accountId: string,
    jobs: { jobId: string; data: PublishingJob; opts: JobsOptions }[],
  ): Promise<boolean> {
    const queue = this.queue(accountId);
    if (!queue) return false;
    await queue.addBulk(
      jobs.map((j) => ({ name: j.data.kind, data: j.data, opts: { ...j.opts, jobId: j.jobId } })),
    );
    return true;
  }

  async close(): Promise<void> {
    this.closed = true;
    await Promise.all([...this.lanes.values()].map((l) => l.worker?.close()));
    await Promise.all([...this.lanes.values()].map((l) => l.queue.close()));
    this.connection.disconnect();
  }
}
