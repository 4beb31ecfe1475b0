import { Roles } from '@alerta-rosa/auth';
import { Controller, Get, HttpException, HttpStatus, Inject, Query } from '@nestjs/common';
import { DataSource } from 'typeorm';
import { SERVICE_RUNTIME, ServiceRuntime } from './service-runtime';

/**
 * The messages this service's consumer dead-lettered (its own `dead_letters` table; the message itself
 * is on `<topic>.dlq`), newest first, for the administrator. Keys are alert ids; errors are the
 * handler's message, never the payload.
 */
@Controller('api/v1/dead-letters')
export class DeadLetterController {
  constructor(
    private readonly db: DataSource,
    @Inject(SERVICE_RUNTIME) private readonly runtime: ServiceRuntime,
  ) {}

  @Get()
  @Roles('admin')
  async list(@Query('limit') limit?: string) {
    const n = limit === undefined ? 100 : Number(limit);
    if (!Number.isInteger(n) || n < 1 || n > 500) {
      // Plain HttpException with the shared {code, message} shape (libs/http depends on this library).
      throw new HttpException(
        { code: 'INVALID_LIMIT', message: 'El límite debe ser un entero de 1 a 500.' },
        HttpStatus.BAD_REQUEST,
      );
    }
    const schema = this.runtime.schema;
    const [{ total }] = await this.db.query(`SELECT count(*)::int AS total FROM "${schema}".dead_letters`);
    const rows = await this.db.query(
      `SELECT id, consumer, topic, kafka_partition, kafka_offset, message_key, error, attempts, dead_lettered_at
         FROM "${schema}".dead_letters ORDER BY id DESC LIMIT $1`,
      [n],
    );
    return {
      service: this.runtime.name,
      total,
      items: rows.map((r: any) => ({
        id: Number(r.id),
        consumer: r.consumer,
        topic: r.topic,
        partition: r.kafka_partition,
        offset: String(r.kafka_offset),
        key: r.message_key,
        error: r.error,
        attempts: r.attempts,
        deadLetteredAt: new Date(r.dead_lettered_at).toISOString(),
      })),
    };
  }
}
