import { authSecretSchema, baseConfigSchema, portSchema } from '@alerta-rosa/config';
import { z } from 'zod';
import { capConfigShape } from './cap/cap.config';

export const trackerConfigSchema = baseConfigSchema.extend({
  PORT: portSchema(3004),
  /** Verifies the access tokens intake issues (shared HS256 secret). */
  AUTH_JWT_SECRET: authSecretSchema,
  ...capConfigShape,
});
export type TrackerConfig = z.infer<typeof trackerConfigSchema>;
