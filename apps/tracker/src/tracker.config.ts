import { baseConfigSchema, portSchema } from '@alerta-rosa/config';
import { z } from 'zod';

export const trackerConfigSchema = baseConfigSchema.extend({
  PORT: portSchema(3004),
});
export type TrackerConfig = z.infer<typeof trackerConfigSchema>;
