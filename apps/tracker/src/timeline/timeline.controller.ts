import { Roles } from '@alerta-rosa/auth';
import { ApiError } from '@alerta-rosa/http';
import { Controller, Get, HttpStatus, Param, ParseUUIDPipe } from '@nestjs/common';
import { TimelineService } from './timeline.service';

/** 400 INVALID_ID for anything but a UUID. */
export const alertIdPipe = new ParseUUIDPipe({
  exceptionFactory: () =>
    new ApiError(HttpStatus.BAD_REQUEST, 'INVALID_ID', 'Identificador de alerta inválido.'),
});

@Controller('api/v1/alerts')
export class TimelineController {
  constructor(private readonly timeline: TimelineService) {}

  /** The alert's timeline in the order the tracker recorded it (Unidad de Género, comité, administración). */
  @Get(':id/timeline')
  @Roles('operadora', 'comite', 'admin')
  get(@Param('id', alertIdPipe) id: string) {
    return this.timeline.timeline(id);
  }
}
