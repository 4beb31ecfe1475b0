import { baseConfigSchema, portSchema } from '@alerta-rosa/config';
import { z } from 'zod';

export const disseminationConfigSchema = baseConfigSchema.extend({
  PORT: portSchema(3002),
});
export type DisseminationConfig = z.infer<typeof disseminationConfigSchema>;
