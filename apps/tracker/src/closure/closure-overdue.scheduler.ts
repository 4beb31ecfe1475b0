import { SERVICE_RUNTIME, ServiceRuntime } from '@alerta-rosa/runtime';
import { Inject, Injectable, OnApplicationBootstrap, OnApplicationShutdown } from '@nestjs/common';
import { DataSource } from 'typeorm';
import { sqlOf } from '../projection/sql';
import { TrackerConfig } from '../tracker.config';
import { ClosureDecider } from './closure.decider';
import { ClosureRepository } from './closure.repository';

/**
 * Every CLOSURE_CHECK_INTERVAL_MS, flags the deactivated alerts not closed within
 * CLOSURE_OVERDUE_AFTER_SECONDS: each once (a decision row, taken under the alert's row lock, in the same
 * transaction as its AlertClosureOverdue in the outbox). Replicas skip the rows another one holds.
 */
@Injectable()
export class ClosureOverdueScheduler implements OnApplicationBootstrap, OnApplicationShutdown {
  private timer?: NodeJS.Timeout;
  private running: Promise<void> | null = null;

  constructor(
    private readonly dataSource: DataSource,
    private readonly repo: ClosureRepository,
    private readonly decider: ClosureDecider,
    @Inject(SERVICE_RUNTIME) private readonly runtime: ServiceRuntime<TrackerConfig>,
  ) {}

  onApplicationBootstrap(): void {
    this.timer = setInterval(() => void this.tick(), this.runtime.config.CLOSURE_CHECK_INTERVAL_MS);
    this.timer.unref();
  }

  async onApplicationShutdown(): Promise<void> {
    clearInterval(this.timer);
    await this.running;
  }

  private async tick(): Promise<void> {
    if (this.running) return;
    this.running = this.flagOverdue()
      .catch((err: Error) =>
        this.runtime.logger.warn({ err: err.message }, 'overdue closure check failed; retried next tick'),
      )
      .finally(() => (this.running = null))
      .then(() => undefined);
    await this.running;
  }

  /** Flags what is overdue now; returns how many alerts it flagged. */
  async flagOverdue(): Promise<number> {
    return this.dataSource.transaction(async (m) => {
      const ids = await this.repo.overdueCandidates(
        sqlOf(m),
        this.runtime.config.CLOSURE_OVERDUE_AFTER_SECONDS,
      );
      let flagged = 0;
      for (const id of ids) if (await this.decider.flagOverdue(m, id)) flagged++;
      return flagged;
    });
  }
}
