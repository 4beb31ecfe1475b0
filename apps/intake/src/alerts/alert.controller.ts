import { Body, Controller, Get, Headers, HttpCode, HttpStatus, Param, ParseUUIDPipe, Patch, Post } from '@nestjs/common';
import { randomUUID } from 'crypto';
import { z } from 'zod';
import { ApiError } from '@alerta-rosa/http';
import { ZodBodyPipe } from '@alerta-rosa/http';
import { Alert } from './alert.entity';
import {
  ActivateAlertInput,
  DeactivateAlertInput,
  UpdateAlertInput,
  activateAlertSchema,
  deactivateAlertSchema,
  updateAlertSchema,
} from './alert.schemas';
import { AlertService } from './alert.service';

const uuidPipe = new ParseUUIDPipe({
  exceptionFactory: () => new ApiError(HttpStatus.BAD_REQUEST, 'INVALID_ID', 'Identificador de alerta inválido.'),
});

@Controller('api/v1/alerts')
export class AlertController {
  constructor(private readonly alerts: AlertService) {}

  /** Activates an alert: stores it and its AlertActivated event in one transaction. */
  @Post()
  @HttpCode(201)
  async activate(
    @Body(new ZodBodyPipe(activateAlertSchema)) body: ActivateAlertInput,
    @Headers('x-correlation-id') correlationId?: string,
  ) {
    return present(await this.alerts.activate(body, correlationOf(correlationId)));
  }

  @Get(':id')
  async get(@Param('id', uuidPipe) id: string) {
    return present(await this.alerts.get(id));
  }

  @Patch(':id')
  async update(
    @Param('id', uuidPipe) id: string,
    @Body(new ZodBodyPipe(updateAlertSchema)) body: UpdateAlertInput,
    @Headers('x-correlation-id') correlationId?: string,
  ) {
    return present(await this.alerts.update(id, body, correlationOf(correlationId)));
  }

  @Post(':id/deactivate')
  @HttpCode(200)
  async deactivate(
    @Param('id', uuidPipe) id: string,
    @Body(new ZodBodyPipe(deactivateAlertSchema)) body: DeactivateAlertInput,
    @Headers('x-correlation-id') correlationId?: string,
  ) {
    return present(await this.alerts.deactivate(id, body, correlationOf(correlationId)));
  }
}

function correlationOf(header?: string): string {
  const parsed = z.string().uuid().safeParse(header?.toLowerCase());
  return parsed.success ? parsed.data : randomUUID();
}

function present(alert: Alert) {
  return {
    id: alert.id,
    folio: alert.folio,
    status: alert.status,
    version: alert.version,
    ficha: alert.ficha,
    reportedAt: alert.reportedAt.toISOString(),
    activatedAt: alert.activatedAt?.toISOString() ?? null,
    deactivatedAt: alert.deactivatedAt?.toISOString() ?? null,
    outcome: alert.outcome,
  };
}
