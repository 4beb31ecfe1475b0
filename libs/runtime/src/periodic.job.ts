import type { Logger } from 'pino';

/**
 * Runs `work` every `intervalMs` (the first run after `firstDelayMs`), never two runs at once. A failed
 * run is logged and tried again at the next interval; `stop` waits for the run in flight.
 */
export class PeriodicJob<T> {
  private timer?: NodeJS.Timeout;
  private first?: NodeJS.Timeout;
  private running: Promise<void> | null = null;
  private stopped = false;

  constructor(
    private readonly name: string,
    private readonly intervalMs: number,
    private readonly work: () => Promise<T>,
    private readonly logger: Logger,
    /** Called with a run's result (e.g. to log what it did). */
    private readonly done: (result: T) => void = () => undefined,
  ) {}

  start(firstDelayMs = 0): void {
    this.first = setTimeout(() => this.tick(), firstDelayMs);
    this.first.unref();
    this.timer = setInterval(() => this.tick(), this.intervalMs);
    this.timer.unref();
  }

  get isStopped(): boolean {
    return this.stopped;
  }

  async stop(): Promise<void> {
    this.stopped = true;
    clearTimeout(this.first);
    clearInterval(this.timer);
    await this.running;
  }

  private tick(): void {
    if (this.stopped || this.running) return;
    this.running = this.work()
      .then((result) => this.done(result))
      .catch((err: Error) =>
        this.logger.warn(
          { err: err.message, job: this.name },
          `${this.name} failed; tried again at the next interval`,
        ),
      )
      .finally(() => {
        this.running = null;
      });
  }
}
