import { NextFunction, Request, RequestHandler, Response } from 'express';
import { ServiceMetrics } from './service.metrics';

/**
 * Observes every HTTP request's duration in `alerta_rosa_http_request_duration_seconds`, labelled by the
 * route pattern (`/api/v1/alerts/:id`, never the concrete path, so ids do not multiply the series).
 * Requests no route matched are labelled `unmatched`.
 */
export function httpMetricsMiddleware(metrics: ServiceMetrics): RequestHandler {
  return (req: Request, res: Response, next: NextFunction) => {
    const start = process.hrtime.bigint();
    res.once('finish', () => {
      const seconds = Number(process.hrtime.bigint() - start) / 1e9;
      const pattern = (req.route as { path?: unknown } | undefined)?.path;
      const route = typeof pattern === 'string' ? `${req.baseUrl ?? ''}${pattern}` : 'unmatched';
      metrics.httpRequestDuration.observe(
        { method: req.method, route, status_code: String(res.statusCode) },
        seconds,
      );
    });
    next();
  };
}
