import { authSecretSchema, baseConfigSchema, portSchema } from '@alerta-rosa/config';
import { z } from 'zod';
import { capConfigShape } from './cap/cap.config';

export const trackerConfigSchema = baseConfigSchema.extend({
  PORT: portSchema(3004),
  /** Verifies the access tokens intake issues (shared HS256 secret). */
  AUTH_JWT_SECRET: authSecretSchema,
  ...capConfigShape,
  /** A deactivated alert not closed this long after its deactivation is flagged and the duty officer told. */
  CLOSURE_OVERDUE_AFTER_SECONDS: z.coerce
    .number()
    .int()
    .min(1)
    .max(30 * 86_400)
    .default(3_600),
  /** How often the tracker looks for overdue closures. */
  CLOSURE_CHECK_INTERVAL_MS: z.coerce.number().int().min(100).max(3_600_000).default(15_000),
  /** Region directory (Oaxaca's 8 regions and their municipalities), relative to config/. */
  REGIONS_FILE: z.string().default('areas.yaml'),
  /** Municipalities under the 2018 Alerta de Violencia de Género declaration, relative to config/. */
  AVGM_FILE: z.string().default('data/avgm-2018.csv'),
});
export type TrackerConfig = z.infer<typeof trackerConfigSchema>;
