import { PeriodicJob, SERVICE_RUNTIME, ServiceRuntime } from '@alerta-rosa/runtime';
import { Inject, Injectable, OnApplicationBootstrap, OnApplicationShutdown } from '@nestjs/common';
import { TrackerConfig } from '../tracker.config';
import { CapIssuer } from './cap.issuer';
import { CapRepository } from './cap.repository';

/**
 * The rolling expiry. CAP readers need `expires`, but an Alerta Rosa stays active until she is found:
 * every CAP_SCHEDULER_INTERVAL_SECONDS this job issues a renewal `Update` for each active alert whose
 * latest message expires within CAP_RENEW_BEFORE_SECONDS, and retires the cancelled alerts that have
 * been out of the feed for CAP_CANCELLED_VISIBLE_SECONDS. Several tracker replicas may run it: each
 * renewal re-checks under the alert's row lock, so one is issued, not two.
 */
@Injectable()
export class CapScheduler implements OnApplicationBootstrap, OnApplicationShutdown {
  private job?: PeriodicJob<{ renewed: number; retired: number }>;

  constructor(
    private readonly issuer: CapIssuer,
    private readonly repository: CapRepository,
    @Inject(SERVICE_RUNTIME) private readonly runtime: ServiceRuntime<TrackerConfig>,
  ) {}

  onApplicationBootstrap(): void {
    const { config, logger } = this.runtime;
    this.job = new PeriodicJob(
      'cap scheduler',
      config.CAP_SCHEDULER_INTERVAL_SECONDS * 1000,
      () => this.runOnce(),
      logger,
      ({ renewed, retired }) => {
        if (renewed || retired) logger.info({ renewed, retired }, 'cap: expiry renewed / alerts retired');
      },
    );
    this.job.start();
  }

  async onApplicationShutdown(): Promise<void> {
    await this.job?.stop();
  }

  /** One pass: renew what is due, retire what has left the feed. */
  async runOnce(): Promise<{ renewed: number; retired: number }> {
    const c = this.runtime.config;
    let renewed = 0;
    for (const alertId of await this.repository.dueForRenewal(c.CAP_RENEW_BEFORE_SECONDS)) {
      if (this.job?.isStopped) break;
      if (await this.issuer.renew(alertId)) renewed++;
    }
    const retired = await this.repository.retireLeft(c.CAP_CANCELLED_VISIBLE_SECONDS);
    return { renewed, retired };
  }
}
