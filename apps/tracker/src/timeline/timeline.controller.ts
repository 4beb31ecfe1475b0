import { ApiError } from '@alerta-rosa/http';
import { Controller, Get, HttpStatus, Param, ParseUUIDPipe } from '@nestjs/common';
import { TimelineService } from './timeline.service';

@Controller('api/v1/alerts')
export class TimelineController {
  constructor(private readonly timeline: TimelineService) {}

  /** The alert's timeline in the order the tracker recorded it. */
  @Get(':id/timeline')
  get(
    @Param(
      'id',
      new ParseUUIDPipe({
        exceptionFactory: () =>
          new ApiError(HttpStatus.BAD_REQUEST, 'INVALID_ID', 'Identificador de alerta inválido.'),
      }),
    )
    id: string,
  ) {
    return this.timeline.timeline(id);
  }
}
