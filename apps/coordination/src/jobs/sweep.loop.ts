import type { Logger } from 'pino';

export interface SweepLoopOptions {
  name: string;
  intervalMs: number;
  logger: Logger;
  run: () => Promise<void>;
  /** First retry after a failed run; doubles on each further failure, capped at `intervalMs`. */
  retryMs?: number;
}

/**
 * Runs a sweep every `intervalMs`, the first at once. A failed sweep (database or Redis away) is
 * never given up: it is logged and retried with capped exponential back-off until it succeeds.
 */
export class SweepLoop {
  private timer: NodeJS.Timeout | null = null;
  private running: Promise<void> | null = null;
  private failures = 0;
  private stopped = true;

  constructor(private readonly options: SweepLoopOptions) {}

  start(): void {
    this.stopped = false;
    this.schedule(0);
  }

  /** No new run starts; resolves once the run in flight (if any) has finished. */
  async stop(): Promise<void> {
    this.stopped = true;
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
    await this.running;
  }

  get stopping(): boolean {
    return this.stopped;
  }

  private schedule(ms: number): void {
    if (this.stopped) return;
    this.timer = setTimeout(() => {
      this.running = this.tick().finally(() => {
        this.running = null;
      });
    }, ms);
    this.timer.unref?.();
  }

  private async tick(): Promise<void> {
    const { name, intervalMs, logger } = this.options;
    try {
      await this.options.run();
      if (this.failures > 0)
        logger.info({ sweep: name, failures: this.failures }, 'reconciler sweep recovered');
      this.failures = 0;
      this.schedule(intervalMs);
    } catch (err) {
      this.failures++;
      const retryInMs = Math.min(intervalMs, (this.options.retryMs ?? 250) * 2 ** (this.failures - 1));
      logger.warn(
        { sweep: name, failures: this.failures, retryInMs, err: (err as Error).message },
        'reconciler sweep failed; retrying',
      );
      this.schedule(retryInMs);
    }
  }
}
