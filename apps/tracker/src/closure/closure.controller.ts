import { Roles } from '@alerta-rosa/auth';
import { Controller, Get, Param } from '@nestjs/common';
import { alertIdPipe } from '../timeline/timeline.controller';
import { ClosureService } from './closure.service';

@Controller('api/v1/alerts')
export class ClosureController {
  constructor(private readonly closure: ClosureService) {}

  /** Closed or not, and what is still missing: accounts with her photo still up, open tasks, each with its age. */
  @Get(':id/closure')
  @Roles('operadora', 'comite', 'admin')
  get(@Param('id', alertIdPipe) id: string) {
    return this.closure.closure(id);
  }
}
