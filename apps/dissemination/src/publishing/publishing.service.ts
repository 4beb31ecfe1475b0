import { Injectable } from '@nestjs/common';
import { DelayedError, Job, Worker } from 'bullmq';
import { PublishingJob } from './account-queues';
import { PostPublication, RateLimitSignal, RunAgain } from './post-publication';
import { WithdrawAlert } from './withdraw-alert';

/**
 * What a publishing job does: post one publication, or withdraw an alert's posts from one account.
 * The use cases decide; this turns their answers into BullMQ's terms (run again later without
 * spending an attempt; pause the account's queue on a 429).
 */
@Injectable()
export class PublishingService {
  constructor(
    private readonly postPublication: PostPublication,
    private readonly withdrawAlert: WithdrawAlert,
  ) {}

  async run(
    job: Job<PublishingJob>,
    token: string | undefined,
    worker: Worker<PublishingJob>,
  ): Promise<void> {
    const data = job.data;
    let outcome: void | RunAgain;
    try {
      outcome =
        data.kind === 'post'
          ? await this.postPublication.run(data.publicationId, job)
          : await this.withdrawAlert.run(data.alertId, data.accountId);
    } catch (err) {
      if (err instanceof RateLimitSignal) {
        // Wait for the platform's reset on this account only, without spending an attempt.
        await worker.rateLimit(err.waitMs);
        throw Worker.RateLimitError();
      }
      throw err;
    }
    if (outcome instanceof RunAgain) {
      await job.moveToDelayed(Date.now() + outcome.ms, token);
      throw new DelayedError();
    }
  }
}
