import { authSecretSchema, baseConfigSchema, portSchema } from '@alerta-rosa/config';
import { z } from 'zod';

const csv = (pattern: RegExp, message: string) =>
  z
    .string()
    .transform((v) =>
      v
        .split(',')
        .map((s) => s.trim())
        .filter(Boolean),
    )
    .refine((list) => list.every((s) => pattern.test(s)), message);

export const intakeConfigSchema = baseConfigSchema
  .extend({
    PORT: portSchema(3001),
    /** Kept open (0): an activation after a quiet day does not open its connections first. */
    DATABASE_POOL_IDLE_MS: z.coerce.number().int().min(0).max(86_400_000).default(0),
    /** Largest accepted JSON body (photos travel separately, as multipart). */
    INTAKE_JSON_LIMIT: z
      .string()
      .regex(/^\d+(kb|mb)$/i, 'e.g. 256kb')
      .default('256kb'),
    /** Shared HS256 secret of access tokens; intake signs them, every service verifies them. */
    AUTH_JWT_SECRET: authSecretSchema,
    ACCESS_TOKEN_TTL_SECONDS: z.coerce.number().int().min(30).max(3600).default(900),
    REFRESH_TOKEN_TTL_SECONDS: z.coerce
      .number()
      .int()
      .min(60)
      .max(30 * 86400)
      .default(12 * 3600),
    /** Login throttling: attempts per client IP, and failed attempts per username, within the window. */
    LOGIN_MAX_ATTEMPTS_PER_IP: z.coerce.number().int().min(1).max(100_000).default(30),
    LOGIN_MAX_FAILURES_PER_USER: z.coerce.number().int().min(1).max(1000).default(5),
    LOGIN_WINDOW_SECONDS: z.coerce.number().int().min(1).max(86400).default(900),
    /** Express 'trust proxy' (hops): set when intake runs behind a reverse proxy, so the audit sees client IPs. */
    TRUST_PROXY: z.coerce.number().int().min(0).max(10).default(0),
    /** Origins allowed by CORS (comma-separated); empty disables CORS. */
    CORS_ORIGINS: csv(/^https?:\/\/[^\s/,]+$/, 'comma-separated http(s)://host[:port] origins').default([]),
    /** Directory where normalised photo variants are stored (served at /public/photos/...). */
    PHOTO_DIR: z.string().min(1).default('var/photos'),
    /** Base URL under which /public/photos/... is reachable from outside (posts, CAP feed). */
    PUBLIC_BASE_URL: z
      .string()
      .url()
      .refine((v) => !v.endsWith('/'), 'without trailing slash')
      .optional(),
    PHOTO_MAX_BYTES: z.coerce
      .number()
      .int()
      .min(1024)
      .max(50 * 1024 * 1024)
      .default(10 * 1024 * 1024),
    /** Largest decoded image (width × height) accepted; refuses decompression bombs before decoding. */
    PHOTO_MAX_PIXELS: z.coerce.number().int().min(10_000).max(200_000_000).default(40_000_000),
    /** Bodies that may activate an alert besides the SSP itself (DOMAIN.md: FGEO in some periods). */
    ACTIVATING_BODIES: csv(/^[A-Z][A-Z0-9-]{1,49}$/, 'comma-separated upper-case acronyms').default([
      'SSP',
      'FGEO',
    ]),
    /** How long an Idempotency-Key keeps answering with its first result. */
    IDEMPOTENCY_TTL_HOURS: z.coerce.number().int().min(1).max(168).default(24),
    /** Days after closure (or a draft's discard) before the private part of the ficha is purged. */
    PRIVATE_DATA_RETENTION_DAYS: z.coerce.number().int().min(0).max(3_650).default(90),
    /** Serve the OpenAPI document and Swagger UI at /api/docs. */
    API_DOCS_ENABLED: z
      .enum(['true', 'false'])
      .default('true')
      .transform((v) => v === 'true'),
  })
  .superRefine((c, ctx) => {
    // The photo URL travels in events and posts: a localhost default would publish dead links.
    if (c.NODE_ENV === 'production' && !c.PUBLIC_BASE_URL) {
      ctx.addIssue({
        code: 'custom',
        path: ['PUBLIC_BASE_URL'],
        message: 'required in production (public photo links in posts and the CAP feed)',
      });
    }
  })
  .transform((c) => ({
    ...c,
    PUBLIC_BASE_URL: c.PUBLIC_BASE_URL ?? `http://127.0.0.1:${c.PORT}`,
    ACTIVATING_BODIES: c.ACTIVATING_BODIES.includes('SSP')
      ? c.ACTIVATING_BODIES
      : ['SSP', ...c.ACTIVATING_BODIES],
  }));
export type IntakeConfig = z.infer<typeof intakeConfigSchema>;
