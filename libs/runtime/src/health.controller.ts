import { Controller, Get, HttpCode, Inject, ServiceUnavailableException } from '@nestjs/common';
import { DataSource } from 'typeorm';
import { Public } from '@alerta-rosa/auth';
import { OutboxRelay } from '@alerta-rosa/messaging';
import { ConsumerStatus, SERVICE_RUNTIME, ServiceRuntime } from './service-runtime';

/** Public: probes carry no token (a service with the global AuthGuard still answers /health). */
@Public()
@Controller('health')
export class HealthController {
  constructor(
    private readonly dataSource: DataSource,
    private readonly relay: OutboxRelay,
    @Inject(SERVICE_RUNTIME) private readonly runtime: ServiceRuntime,
  ) {}

  /**
   * Liveness + readiness: the database answers. Reports whether this replica relays the outbox and what
   * its Kafka consumer is doing (`degraded` while a consumer kafkajs gave up on is being replaced).
   */
  @Get()
  @HttpCode(200)
  async check(): Promise<{
    status: 'ok' | 'degraded';
    service: string;
    outboxRelayLeader: boolean;
    consumer: ConsumerStatus | null;
  }> {
    try {
      await this.dataSource.query('SELECT 1');
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
    };
  }
}
