import { Public } from '@alerta-rosa/auth';
import { Controller, Get, Res } from '@nestjs/common';
import { Response } from 'express';
import { ServiceMetrics } from './service.metrics';

/** Prometheus scrape endpoint (text exposition format). Public, like /health: it carries no personal data. */
@Public()
@Controller('metrics')
export class MetricsController {
  constructor(private readonly metrics: ServiceMetrics) {}

  @Get()
  async scrape(@Res() res: Response): Promise<void> {
    const body = await this.metrics.render();
    res.status(200).setHeader('Content-Type', this.metrics.contentType);
    res.end(body);
  }
}
