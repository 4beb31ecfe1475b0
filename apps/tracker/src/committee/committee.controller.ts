import { Roles } from '@alerta-rosa/auth';
import { Controller, Get, Headers, Param, Query } from '@nestjs/common';
import { alertIdPipe } from '../timeline/timeline.controller';
import { parseCommitteeQuery, periodKey } from './committee.query';
import { CommitteeService } from './committee.service';
import { GeographyCatalog } from './geography.catalog';

/** The Comité Estatal's read-only view (administration too): per alert and per period, every figure defined. */
@Controller('api/v1/committee')
@Roles('comite', 'admin')
export class CommitteeController {
  constructor(
    private readonly committee: CommitteeService,
    private readonly geography: GeographyCatalog,
  ) {}

  /** Alerts of the period (activated from «from» to «to») with filters, each with its figures. */
  @Get('alerts')
  alerts(@Query() query: Record<string, unknown>) {
    return this.committee.alerts(parseCommitteeQuery(query, this.geography));
  }

  @Get('alerts/:id')
  alert(@Param('id', alertIdPipe) id: string) {
    return this.committee.alert(id);
  }

  /** The period's figures: counts, median and p90 of every duration, shares, accounts, areas. */
  @Get('period')
  period(@Query() query: Record<string, unknown>, @Headers('cache-control') cacheControl?: string) {
    const { limit: _l, offset: _o, ...rest } = query;
    const filters = parseCommitteeQuery(rest, this.geography);
    return this.committee.periodCached(periodKey(query), filters, /no-cache/i.test(cacheControl ?? ''));
  }
}
