import { BaseConfig } from '@alerta-rosa/config';
import type { Queue } from 'bullmq';
import IORedis from 'ioredis';
import { createRedisConnection } from '../redis.connection';

/** BullMQ job states the queue gauges report. */
export const JOB_STATES = [
  'waiting',
  'active',
  'delayed',
  'prioritized',
  'waiting-children',
  'failed',
] as const;
export type JobState = (typeof JOB_STATES)[number];

/**
 * Read-only handles on a service's BullMQ queues, for the /metrics gauges (the service's own code owns the
 * queues and their workers). One connection whose commands fail rather than wait while Redis is away, so
 * a scrape never hangs on it.
 */
export class QueueDepths {
  private connection: IORedis | null = null;
  private readonly queues = new Map<string, Queue>();

  constructor(private readonly config: Pick<BaseConfig, 'REDIS_URL' | 'QUEUE_PREFIX'>) {}

  /** Jobs per state in the named queue. */
  async counts(name: string): Promise<Record<JobState, number>> {
    const counts = await (await this.queue(name)).getJobCounts(...JOB_STATES);
    return Object.fromEntries(JOB_STATES.map((s) => [s, counts[s] ?? 0])) as Record<JobState, number>;
  }

  async close(): Promise<void> {
    await Promise.all([...this.queues.values()].map((q) => q.close().catch(() => undefined)));
    this.queues.clear();
    this.connection?.disconnect();
    this.connection = null;
  }

  private async queue(name: string): Promise<Queue> {
    let queue = this.queues.get(name);
    if (!queue) {
      // Loaded on first use: intake and the tracker, which have no queues, never pay for BullMQ.
      const { Queue } = await import('bullmq');
      this.connection ??= createRedisConnection(this.config, { maxRetriesPerRequest: 1 });
      // Another scrape may have opened it meanwhile.
      queue =
        this.queues.get(name) ??
        new Queue(name, { connection: this.connection, prefix: this.config.QUEUE_PREFIX });
      this.queues.set(name, queue);
    }
    return queue;
  }
}
