import { randomUUID } from 'crypto';
import { z } from 'zod';

export function correlationOf(header?: string): string {
  const parsed = z.string().uuid().safeParse(header?.toLowerCase());
  return parsed.success ? parsed.data : randomUUID();
}
