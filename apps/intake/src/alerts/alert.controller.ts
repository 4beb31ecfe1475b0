import { Roles } from '@alerta-rosa/auth';
import { ApiError, ZodBodyPipe } from '@alerta-rosa/http';
import {
  Body,
  Controller,
  Get,
  Headers,
  HttpCode,
  HttpStatus,
  Param,
  ParseUUIDPipe,
  Patch,
  PipeTransform,
  Post,
  Query,
  Res,
} from '@nestjs/common';
import {
  ApiBearerAuth,
  ApiBody,
  ApiHeader,
  ApiOperation,
  ApiQuery,
  ApiResponse,
  ApiTags,
} from '@nestjs/swagger';
import { Response } from 'express';
import { Actor, CurrentActor } from '../common/actor';
import { correlationOf } from '../common/correlation';
import { alertEtag } from '../common/etag';
import { validationFailed } from '../common/errors';
import { openApiSchema } from '../common/openapi';
import { IdempotencyService, StoredResponse } from '../idempotency/idempotency.service';
import { AlertView, presentAlert } from './alert.presenter';
import {
  CloseAlertInput,
  CreateAlertInput,
  DeactivateAlertInput,
  UpdateAlertInput,
  closeAlertSchema,
  createAlertSchema,
  deactivateAlertSchema,
  listAlertsQuerySchema,
  updateAlertSchema,
} from './alert.schemas';
import { AlertService, WriteContext } from './alert.service';

export const uuidPipe = new ParseUUIDPipe({
  exceptionFactory: () => new ApiError(HttpStatus.BAD_REQUEST, 'INVALID_ID', 'Identificador inválido.'),
});

const IDEMPOTENCY_HEADER = {
  name: 'Idempotency-Key',
  required: false,
  description: 'Misma clave en 24 h ⇒ misma respuesta, nada nuevo se crea.',
};
const IF_MATCH_HEADER = {
  name: 'If-Match',
  required: false,
  description: 'ETag leído; si cambió: 412 STALE_VERSION.',
};

/** No reason, no manual close: 400 CLOSE_REASON_REQUIRED (other problems with the body: VALIDATION_FAILED). */
class CloseReasonPipe implements PipeTransform<unknown, CloseAlertInput> {
  private readonly schema = new ZodBodyPipe(closeAlertSchema);

  transform(value: unknown): CloseAlertInput {
    const reason = (value as { reason?: unknown } | null | undefined)?.reason;
    if (typeof reason !== 'string' || reason.trim() === '') {
      throw new ApiError(
        HttpStatus.BAD_REQUEST,
        'CLOSE_REASON_REQUIRED',
        'El cierre manual exige un motivo: el sistema cierra la alerta por sí mismo cuando se retiró su fotografía de todas las cuentas y se concluyeron o cancelaron todas las tareas.',
        [{ path: 'reason', code: 'required', message: 'Indique el motivo del cierre manual' }],
      );
    }
    return this.schema.transform(value);
  }
}

/** Writes: the Unidad de Género (operadora) and admin. Reads: every role (drafts only for the writers). */
@ApiTags('alertas')
@ApiBearerAuth()
@Controller('api/v1/alerts')
export class AlertController {
  constructor(private readonly alerts: AlertService) {}

  @Post()
  @Roles('operadora', 'admin')
  @HttpCode(201)
  @ApiOperation({ summary: 'Crea la ficha (borrador) o la activa de inmediato con activate: true' })
  @ApiHeader(IDEMPOTENCY_HEADER)
  @ApiBody({ schema: openApiSchema(createAlertSchema) })
  @ApiResponse({
    status: 201,
    description: 'Alerta creada; possibleDuplicates lista alertas activas con mismo nombre y edad',
  })
  async create(
    @Body(new ZodBodyPipe(createAlertSchema)) body: CreateAlertInput,
    @CurrentActor() actor: Actor,
    @Headers() headers: Record<string, string | undefined>,
    @Res({ passthrough: true }) res: Response,
  ) {
    return reply(res, await this.alerts.create(body, writeContext(actor, headers)));
  }

  @Get()
  @ApiOperation({ summary: 'Lista alertas (los borradores solo para operadora y admin)' })
  @ApiQuery({ name: 'status', required: false })
  @ApiQuery({ name: 'limit', required: false })
  async list(@Query() query: Record<string, unknown>, @CurrentActor() actor: Actor) {
    const parsed = listAlertsQuerySchema.safeParse(query);
    if (!parsed.success) {
      throw validationFailed(
        parsed.error.issues.map((i) => ({
          path: i.path.join('.'),
          code: i.code,
          message: 'Parámetro inválido',
        })),
      );
    }
    const alerts = await this.alerts.list(actor, parsed.data.status, parsed.data.limit);
    return { items: alerts.map((a) => presentAlert(a)) };
  }

  @Get(':id')
  @ApiOperation({ summary: 'Ficha pública y estado; ETag para If-Match' })
  async get(
    @Param('id', uuidPipe) id: string,
    @CurrentActor() actor: Actor,
    @Res({ passthrough: true }) res: Response,
  ) {
    const alert = await this.alerts.get(id, actor);
    res.setHeader('ETag', alertEtag(alert.revision));
    return presentAlert(alert);
  }

  @Get(':id/private')
  @Roles('operadora', 'admin')
  @ApiOperation({ summary: 'Parte privada de la ficha (cada lectura queda en la bitácora)' })
  async getPrivate(
    @Param('id', uuidPipe) id: string,
    @CurrentActor() actor: Actor,
    @Res({ passthrough: true }) res: Response,
  ) {
    res.setHeader('Cache-Control', 'no-store');
    return this.alerts.readPrivate(id, actor);
  }

  @Patch(':id')
  @Roles('operadora', 'admin')
  @ApiOperation({ summary: 'Modifica la ficha (borrador o activa); activa ⇒ nueva versión y AlertUpdated' })
  @ApiHeader(IF_MATCH_HEADER)
  @ApiBody({ schema: openApiSchema(updateAlertSchema) })
  async update(
    @Param('id', uuidPipe) id: string,
    @Body(new ZodBodyPipe(updateAlertSchema)) body: UpdateAlertInput,
    @CurrentActor() actor: Actor,
    @Headers() headers: Record<string, string | undefined>,
    @Res({ passthrough: true }) res: Response,
  ) {
    const view = await this.alerts.update(id, body, writeContext(actor, headers));
    res.setHeader('ETag', alertEtag(view.revision));
    return view;
  }

  @Post(':id/activate')
  @Roles('operadora', 'admin')
  @HttpCode(200)
  @ApiOperation({ summary: 'borrador → activa: asigna folio y publica AlertActivated' })
  @ApiHeader(IDEMPOTENCY_HEADER)
  @ApiHeader(IF_MATCH_HEADER)
  async activate(
    @Param('id', uuidPipe) id: string,
    @CurrentActor() actor: Actor,
    @Headers() headers: Record<string, string | undefined>,
    @Res({ passthrough: true }) res: Response,
  ) {
    return reply(res, await this.alerts.activate(id, writeContext(actor, headers)));
  }

  @Post(':id/discard')
  @Roles('operadora', 'admin')
  @HttpCode(200)
  @ApiOperation({ summary: 'Descarta un borrador (nunca publicado: sin evento)' })
  @ApiHeader(IDEMPOTENCY_HEADER)
  @ApiHeader(IF_MATCH_HEADER)
  async discard(
    @Param('id', uuidPipe) id: string,
    @CurrentActor() actor: Actor,
    @Headers() headers: Record<string, string | undefined>,
    @Res({ passthrough: true }) res: Response,
  ) {
    return reply(res, await this.alerts.discard(id, writeContext(actor, headers)));
  }

  @Post(':id/deactivate')
  @Roles('operadora', 'admin')
  @HttpCode(200)
  @ApiOperation({
    summary: 'activa → desactivada con resultado; retira las fotos y publica AlertDeactivated',
  })
  @ApiHeader(IDEMPOTENCY_HEADER)
  @ApiHeader(IF_MATCH_HEADER)
  @ApiBody({ schema: openApiSchema(deactivateAlertSchema) })
  async deactivate(
    @Param('id', uuidPipe) id: string,
    @Body(new ZodBodyPipe(deactivateAlertSchema)) body: DeactivateAlertInput,
    @CurrentActor() actor: Actor,
    @Headers() headers: Record<string, string | undefined>,
    @Res({ passthrough: true }) res: Response,
  ) {
    return reply(res, await this.alerts.deactivate(id, body, writeContext(actor, headers)));
  }

  @Post(':id/close')
  @Roles('admin')
  @HttpCode(200)
  @ApiOperation({
    summary:
      'desactivada → cerrada a mano: solo como excepción al cierre que decide el tracker; exige motivo y queda en la bitácora',
  })
  @ApiHeader(IDEMPOTENCY_HEADER)
  @ApiHeader(IF_MATCH_HEADER)
  @ApiBody({ schema: openApiSchema(closeAlertSchema) })
  async close(
    @Param('id', uuidPipe) id: string,
    @Body(new CloseReasonPipe()) body: CloseAlertInput,
    @CurrentActor() actor: Actor,
    @Headers() headers: Record<string, string | undefined>,
    @Res({ passthrough: true }) res: Response,
  ) {
    return reply(res, await this.alerts.close(id, body, writeContext(actor, headers)));
  }
}

export function writeContext(actor: Actor, headers: Record<string, string | undefined>): WriteContext {
  return {
    actor,
    correlationId: correlationOf(headers['x-correlation-id']),
    idempotencyKey: IdempotencyService.validateKey(headers['idempotency-key']),
    ifMatch: headers['if-match'],
  };
}

/** Sends a (possibly replayed) stored answer with its status, ETag and the replay marker. */
export function reply<T>(res: Response, result: StoredResponse<T>): T {
  res.status(result.status);
  const revision = (result.body as Partial<AlertView>)?.revision;
  if (typeof revision === 'number') res.setHeader('ETag', alertEtag(revision));
  if (result.replayed) res.setHeader('Idempotent-Replayed', 'true');
  return result.body;
}
