import { z } from 'zod';

/** A data file under config/ that is missing, malformed or inconsistent; stops the service at start-up. */
export class ConfigDataError extends Error {
  constructor(
    readonly file: string,
    readonly problems: string[],
  ) {
    super(`${file}: ${problems.join('; ')}`);
    this.name = 'ConfigDataError';
  }
}

export function formatZodIssues(error: z.ZodError): string[] {
  return error.issues.map((i) => `${i.path.join('.') || '(file)'}: ${i.message}`);
}
