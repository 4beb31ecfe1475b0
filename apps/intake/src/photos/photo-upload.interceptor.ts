import {
  CallHandler,
  ExecutionContext,
  HttpStatus,
  Inject,
  Injectable,
  NestInterceptor,
} from '@nestjs/common';
import { ApiError } from '@alerta-rosa/http';
import { SERVICE_RUNTIME, ServiceRuntime } from '@alerta-rosa/runtime';
import { Request, Response } from 'express';
import multer from 'multer';
import { Observable } from 'rxjs';
import { IntakeConfig } from '../intake.config';

/**
 * Parses a multipart upload with one file in the field «photo» (kept in memory, bounded by
 * PHOTO_MAX_BYTES) and an optional «altText». Runs after the guard, so nobody unauthenticated gets
 * a byte buffered. Multer's errors become the API's stable codes.
 */
@Injectable()
export class PhotoUploadInterceptor implements NestInterceptor {
  private readonly upload: ReturnType<ReturnType<typeof multer>['single']>;

  constructor(@Inject(SERVICE_RUNTIME) runtime: ServiceRuntime<IntakeConfig>) {
    this.upload = multer({
      storage: multer.memoryStorage(),
      limits: { fileSize: runtime.config.PHOTO_MAX_BYTES, files: 1, fields: 4, fieldSize: 4096, parts: 6 },
    }).single('photo');
  }

  async intercept(context: ExecutionContext, next: CallHandler): Promise<Observable<unknown>> {
    const req = context.switchToHttp().getRequest<Request>();
    const res = context.switchToHttp().getResponse<Response>();
    if (!req.is('multipart/form-data')) {
      throw new ApiError(
        HttpStatus.UNSUPPORTED_MEDIA_TYPE,
        'UNSUPPORTED_MEDIA_TYPE',
        'La foto debe enviarse como multipart/form-data en el campo «photo».',
      );
    }
    await new Promise<void>((resolve, reject) =>
      this.upload(req, res, (err: unknown) => (err ? reject(mapMulterError(err)) : resolve())),
    );
    return next.handle();
  }
}

function mapMulterError(err: unknown): ApiError {
  const code = (err as { code?: string }).code;
  switch (code) {
    case 'LIMIT_FILE_SIZE':
      return new ApiError(
        HttpStatus.PAYLOAD_TOO_LARGE,
        'PHOTO_TOO_LARGE',
        'La foto excede el tamaño máximo permitido.',
      );
    case 'LIMIT_UNEXPECTED_FILE':
    case 'LIMIT_FILE_COUNT':
      return new ApiError(
        HttpStatus.BAD_REQUEST,
        'PHOTO_FIELD_INVALID',
        'Envíe un solo archivo, en el campo «photo».',
      );
    case 'LIMIT_PART_COUNT':
    case 'LIMIT_FIELD_COUNT':
    case 'LIMIT_FIELD_KEY':
    case 'LIMIT_FIELD_VALUE':
      return new ApiError(
        HttpStatus.BAD_REQUEST,
        'MALFORMED_MULTIPART',
        'El formulario tiene demasiados campos o campos demasiado largos.',
      );
    default:
      return new ApiError(
        HttpStatus.BAD_REQUEST,
        'MALFORMED_MULTIPART',
        'El cuerpo multipart/form-data no es válido.',
      );
  }
}
