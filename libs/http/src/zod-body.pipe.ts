import { HttpStatus, PipeTransform } from '@nestjs/common';
import { z } from 'zod';
import { ApiError, FieldError } from './api-error';

const MESSAGES: Record<string, string> = {
  invalid_type: 'Tipo de dato inválido',
  too_small: 'Valor demasiado corto o pequeño',
  too_big: 'Valor demasiado largo o grande',
  invalid_format: 'Formato inválido',
  unrecognized_keys: 'Campo no permitido',
  invalid_value: 'Valor no permitido',
  custom: 'Valor inválido',
};

/** Validates a request body against a zod schema; failures become 400 VALIDATION_FAILED with field errors. */
export class ZodBodyPipe<S extends z.ZodType> implements PipeTransform<unknown, z.infer<S>> {
  constructor(private readonly schema: S) {}

  transform(value: unknown): z.infer<S> {
    if (value === undefined || value === null || typeof value !== 'object' || Array.isArray(value)) {
      throw new ApiError(HttpStatus.BAD_REQUEST, 'VALIDATION_FAILED', 'Se esperaba un objeto JSON.', [
        { path: '', code: 'invalid_type', message: 'Se esperaba un objeto JSON' },
      ]);
    }
    const result = this.schema.safeParse(value);
    if (result.success) return result.data;
    const fields: FieldError[] = result.error.issues.flatMap((issue) => {
      if (issue.code === 'unrecognized_keys') {
        return issue.keys.map((k) => ({
          path: [...issue.path, k].join('.'),
          code: 'unrecognized_key',
          message: MESSAGES.unrecognized_keys,
        }));
      }
      const path = issue.path.join('.');
      const custom = issue.code === 'custom' ? issue.message : undefined;
      return [{ path, code: issue.code, message: custom ?? MESSAGES[issue.code] ?? issue.message }];
    });
    throw new ApiError(
      HttpStatus.BAD_REQUEST,
      'VALIDATION_FAILED',
      'La solicitud tiene datos inválidos.',
      fields,
    );
  }
}
