import { baseConfigSchema, portSchema } from '@alerta-rosa/config';
import { z } from 'zod';

export const coordinationConfigSchema = baseConfigSchema.extend({
  PORT: portSchema(3003),
});
export type CoordinationConfig = z.infer<typeof coordinationConfigSchema>;
