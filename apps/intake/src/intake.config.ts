import { baseConfigSchema, portSchema } from '@alerta-rosa/config';
import { z } from 'zod';

export const intakeConfigSchema = baseConfigSchema.extend({
  PORT: portSchema(3001),
  /** Largest accepted JSON body (photos travel separately). */
  INTAKE_JSON_LIMIT: z.string().regex(/^\d+(kb|mb)$/i, 'e.g. 256kb').default('256kb'),
});
export type IntakeConfig = z.infer<typeof intakeConfigSchema>;
