import { NextFunction, Request, Response, json } from 'express';
import { ApiErrorBody } from './api-error';

/**
 * JSON bodies only, with a size limit; parser failures answer with the API's error shape
 * (Nest's exception filters do not see errors raised by Express middleware).
 */
export function jsonBody(limit: string) {
  const parse = json({ limit, strict: true });
  return [
    (req: Request, res: Response, next: NextFunction) => {
      const hasBody = ['POST', 'PUT', 'PATCH'].includes(req.method) && req.headers['content-length'] !== '0';
      if (hasBody && req.headers['content-type'] && !req.is('application/json')) {
        res.status(415).json({
          code: 'UNSUPPORTED_MEDIA_TYPE',
          message: 'El cuerpo debe enviarse como application/json.',
        } satisfies ApiErrorBody);
        return;
      }
      next();
    },
    parse,
    (err: { type?: string; status?: number }, _req: Request, res: Response, next: NextFunction) => {
      if (err?.type === 'entity.too.large') {
        res.status(413).json({
          code: 'PAYLOAD_TOO_LARGE',
          message: `El cuerpo de la solicitud excede el límite de ${limit}.`,
        } satisfies ApiErrorBody);
        return;
      }
      if (err?.type === 'entity.parse.failed') {
        res
          .status(400)
          .json({ code: 'MALFORMED_JSON', message: 'El cuerpo no es JSON válido.' } satisfies ApiErrorBody);
        return;
      }
      if (err?.type === 'encoding.unsupported' || err?.type === 'charset.unsupported') {
        res.status(415).json({
          code: 'UNSUPPORTED_MEDIA_TYPE',
          message: 'Codificación no soportada; use UTF-8.',
        } satisfies ApiErrorBody);
        return;
      }
      next(err);
    },
  ];
}
