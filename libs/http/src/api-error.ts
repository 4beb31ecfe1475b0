import { HttpException, HttpStatus } from '@nestjs/common';

export interface FieldError {
  path: string;
  code: string;
  message: string;
}

/** Body of every error answer: a stable code, a Spanish message, and field errors where they apply. */
export interface ApiErrorBody {
  code: string;
  message: string;
  fields?: FieldError[];
}

export class ApiError extends HttpException {
  constructor(status: HttpStatus, code: string, message: string, fields?: FieldError[]) {
    super({ code, message, ...(fields ? { fields } : {}) } satisfies ApiErrorBody, status);
  }
}

export const notFound = (code: string, message: string) => new ApiError(HttpStatus.NOT_FOUND, code, message);
export const conflict = (code: string, message: string) => new ApiError(HttpStatus.CONFLICT, code, message);
