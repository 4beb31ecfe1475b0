import { Roles } from '@alerta-rosa/auth';
import { Controller, Get, Query, Res } from '@nestjs/common';
import { Response } from 'express';
import { CommitteeFilters, parseCommitteeQuery, periodKey } from '../committee/committee.query';
import { CommitteeRepository } from '../committee/committee.repository';
import { CommitteeService } from '../committee/committee.service';
import { GeographyCatalog } from '../committee/geography.catalog';
import { oaxacaIso } from '../committee/oaxaca-time';
import { alertColumns, dictionaryCsv, taskColumns, toCsv } from './csv.export';
import { PeriodReportRenderer } from './period-report.renderer';

/** File names say the period in Oaxaca's dates: alertas-2026-01-01_2026-12-01.csv. */
function fileName(stem: string, f: CommitteeFilters, ext: string): string {
  return `${stem}-${oaxacaIso(f.from).slice(0, 10)}_${oaxacaIso(f.to).slice(0, 10)}.${ext}`;
}

function send(res: Response, type: string, name: string, body: string | Buffer): void {
  res.setHeader('Content-Type', type);
  res.setHeader('Content-Disposition', `attachment; filename="${name}"`);
  res.setHeader('Cache-Control', 'no-store');
  res.send(body);
}

/** Exports for the comité (and administration): CSV per alert and per task, their dictionary, the PDF report. */
@Controller('api/v1/committee/export')
@Roles('comite', 'admin')
export class ExportController {
  constructor(
    private readonly committee: CommitteeService,
    private readonly repo: CommitteeRepository,
    private readonly geography: GeographyCatalog,
    private readonly report: PeriodReportRenderer,
  ) {}

  private filters(query: Record<string, unknown>): CommitteeFilters {
    const { limit: _l, offset: _o, ...rest } = query;
    return parseCommitteeQuery(rest, this.geography);
  }

  @Get('alerts.csv')
  async alerts(@Query() query: Record<string, unknown>, @Res() res: Response): Promise<void> {
    const f = this.filters(query);
    const rows = await this.committee.snapshot((sql) => this.repo.alerts(sql, f));
    send(
      res,
      'text/csv; charset=utf-8',
      fileName('alertas', f, 'csv'),
      toCsv(alertColumns(this.geography), rows),
    );
  }

  @Get('tasks.csv')
  async tasks(@Query() query: Record<string, unknown>, @Res() res: Response): Promise<void> {
    const f = this.filters(query);
    const rows = await this.committee.snapshot((sql) => this.repo.tasks(sql, f));
    send(res, 'text/csv; charset=utf-8', fileName('tareas', f, 'csv'), toCsv(taskColumns(), rows));
  }

  @Get('dictionary.csv')
  dictionary(@Res() res: Response): void {
    send(res, 'text/csv; charset=utf-8', 'diccionario.csv', dictionaryCsv(this.geography));
  }

  @Get('report.pdf')
  async pdf(@Query() query: Record<string, unknown>, @Res() res: Response): Promise<void> {
    const f = this.filters(query);
    const { figures, distributions } = await this.committee.report(periodKey(query), f);
    const pdf = await this.report.render({
      figures,
      activatedToLocated: distributions.activatedToLocated,
      locatedToLastPhotoWithdrawn: distributions.locatedToLastPhotoWithdrawn,
      regionName: (id) => this.geography.regionName(id),
      generatedAt: new Date(),
    });
    send(res, 'application/pdf', fileName('informe-comite', f, 'pdf'), pdf);
  }
}
