import { HttpStatus } from '@nestjs/common';
import { ApiError, FieldError } from '@alerta-rosa/http';

export const validationFailed = (fields: FieldError[]) =>
  new ApiError(HttpStatus.BAD_REQUEST, 'VALIDATION_FAILED', 'La solicitud tiene datos inválidos.', fields);

export const alertNotFound = () =>
  new ApiError(HttpStatus.NOT_FOUND, 'ALERT_NOT_FOUND', 'No existe una alerta con ese identificador.');

export const invalidTransition = (message: string) =>
  new ApiError(HttpStatus.CONFLICT, 'INVALID_TRANSITION', message);
