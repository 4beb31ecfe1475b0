import { Controller, Get, HttpCode, Inject, Res, ServiceUnavailableException } from '@nestjs/common';
import { Response } from 'express';
import { DataSource } from 'typeorm';
import { Public } from '@alerta-rosa/auth';
import { OutboxRelay } from '@alerta-rosa/messaging';
import { DeadLetterSummary, deadLetterSummary } from './health/dead-letters.summary';
import { DependencyProbes, DependencyReport } from './health/dependency.probes';
import { ConsumerStatus, SERVICE_RUNTIME, ServiceRuntime } from './service-runtime';

/** Public: probes carry no token (a service with the global AuthGuard still answers /health). */
@Public()
@Controller('health')
export class HealthController {
  constructor(
    private readonly dataSource: DataSource,
    private readonly relay: OutboxRelay,
    private readonly probes: DependencyProbes,
    @Inject(SERVICE_RUNTIME) private readonly runtime: ServiceRuntime,
  ) {}

  /**
   * The overview: the database answers (503 otherwise). Reports whether this replica relays the outbox,
   * what its Kafka consumer is doing (`degraded` while a consumer kafkajs gave up on is being replaced)
   * and the dead letters the service has recorded.
   */
  @Get()
  @HttpCode(200)
  async check(): Promise<{
    status: 'ok' | 'degraded';
    service: string;
    outboxRelayLeader: boolean;
    consumer: ConsumerStatus | null;
    deadLetters: DeadLetterSummary;
  }> {
    let deadLetters: DeadLetterSummary;
    try {
      deadLetters = await deadLetterSummary(this.dataSource, this.runtime.schema);
    } catch {
      throw new ServiceUnavailableException({
        code: 'DATABASE_UNAVAILABLE',
        message: 'Base de datos no disponible',
      });
    }
    const consumer = this.runtime.consumerStatus?.() ?? null;
    return {
      status: consumer?.state === 'recovering' || consumer?.retrying.length ? 'degraded' : 'ok',
      service: this.runtime.name,
      outboxRelayLeader: this.relay.isLeader,
      consumer,
      deadLetters,
    };
  }

  /** Liveness: the process runs and its event loop answers. Dependencies do not matter here. */
  @Get('live')
  @HttpCode(200)
  live(): { status: 'alive'; service: string; pid: number; uptimeSeconds: number } {
    return {
      status: 'alive',
      service: this.runtime.name,
      pid: process.pid,
      uptimeSeconds: Math.round(process.uptime()),
    };
  }

  /**
   * Readiness: 200 only while PostgreSQL, Kafka and (where the service uses it) Redis answer;
   * 503 otherwise, naming the dependency that does not.
   */
  @Get('ready')
  async ready(@Res({ passthrough: true }) res: Response): Promise<{
    status: 'ready' | 'not_ready';
    service: string;
    checks: DependencyReport;
    consumer: ConsumerStatus | null;
  }> {
    const checks = await this.probes.check();
    const ok = DependencyProbes.allOk(checks);
    res.status(ok ? 200 : 503);
    return {
      status: ok ? 'ready' : 'not_ready',
      service: this.runtime.name,
      checks,
      consumer: this.runtime.consumerStatus?.() ?? null,
    };
  }
}
