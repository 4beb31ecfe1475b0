import { ArgumentsHost, Catch, ExceptionFilter, HttpException, HttpStatus, Inject } from '@nestjs/common';
import { SERVICE_RUNTIME, ServiceRuntime } from '@alerta-rosa/runtime';
import { Response } from 'express';
import { Observable, throwError } from 'rxjs';
import { ApiErrorBody } from './api-error';

/** Every error leaves as `{code, message, fields?}`; unexpected ones are logged and answered 500 without details. */
@Catch()
export class ApiExceptionFilter implements ExceptionFilter {
  constructor(@Inject(SERVICE_RUNTIME) private readonly runtime: ServiceRuntime) {}

  catch(exception: unknown, host: ArgumentsHost): void | Observable<never> {
    // Kafka handlers: let the inbox transport see the real error (retry, then dead-letter).
    if (host.getType() !== 'http') return throwError(() => exception);
    const res = host.switchToHttp().getResponse<Response>();
    if (exception instanceof HttpException) {
      const status = exception.getStatus();
      const body = exception.getResponse();
      if (typeof body === 'object' && body !== null && 'code' in body) {
        res.status(status).json(body);
        return;
      }
      res
        .status(status)
        .json({ code: httpCode(status), message: spanishStatus(status) } satisfies ApiErrorBody);
      return;
    }
    this.runtime.logger.error(
      { err: (exception as Error)?.message, stack: (exception as Error)?.stack },
      'unhandled error',
    );
    res
      .status(HttpStatus.INTERNAL_SERVER_ERROR)
      .json({ code: 'INTERNAL_ERROR', message: 'Error interno; intente de nuevo.' } satisfies ApiErrorBody);
  }
}

function httpCode(status: number): string {
  switch (status) {
    case 404:
      return 'NOT_FOUND';
    case 405:
      return 'METHOD_NOT_ALLOWED';
    default:
      return `HTTP_${status}`;
  }
}

function spanishStatus(status: number): string {
  switch (status) {
    case 404:
      return 'Recurso no encontrado.';
    case 405:
      return 'Método no permitido.';
    default:
      return 'La solicitud no pudo atenderse.';
  }
}
