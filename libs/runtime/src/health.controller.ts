import { Controller, Get, HttpCode, Inject, ServiceUnavailableException } from '@nestjs/common';
import { DataSource } from 'typeorm';
import { Public } from '@alerta-rosa/auth';
import { OutboxRelay } from '@alerta-rosa/messaging';
import { SERVICE_RUNTIME, ServiceRuntime } from './service-runtime';

/** Public: probes carry no token (a service with the global AuthGuard still answers /health). */
@Public()
@Controller('health')
export class HealthController {
  constructor(
    private readonly dataSource: DataSource,
    private readonly relay: OutboxRelay,
    @Inject(SERVICE_RUNTIME) private readonly runtime: ServiceRuntime,
  ) {}

  /** Liveness + readiness: the database answers. Reports whether this replica relays the outbox. */
  @Get()
  @HttpCode(200)
  async check(): Promise<{ status: 'ok'; service: string; outboxRelayLeader: boolean }> {
    try {
      await this.dataSource.query('SELECT 1');
    } catch {
      throw new ServiceUnavailableException({
        code: 'DATABASE_UNAVAILABLE',
        message: 'Base de datos no disponible',
      });
    }
    return { status: 'ok', service: this.runtime.name, outboxRelayLeader: this.relay.isLeader };
  }
}
