import { randomBytes } from 'crypto';
import { authSecretSchema, baseConfigSchema, portSchema } from '@alerta-rosa/config';
import { z } from 'zod';

const optionalText = z
  .string()
  .optional()
  .transform((v) => (v && v.trim() ? v.trim() : undefined));

export const coordinationConfigSchema = baseConfigSchema
  .extend({
    PORT: portSchema(3003),
    /**
     * Verifies access tokens (shared with the service that issues them). Required in production; in
     * development and tests a missing secret becomes a random one (no token then verifies).
     */
    AUTH_JWT_SECRET: authSecretSchema.optional(),
    /** Signs the one-click acknowledge links (HMAC-SHA256). Defaults to a key derived from AUTH_JWT_SECRET. */
    ACK_LINK_SECRET: authSecretSchema.optional(),
    ACK_LINK_TTL_SECONDS: z.coerce
      .number()
      .int()
      .min(10)
      .max(30 * 86_400)
      .default(86_400),
    /** Base URL under which area users reach this service (the acknowledge links point here). */
    PUBLIC_BASE_URL: z.string().url().optional(),
    /**
     * The console's page that confirms an acknowledge link (e.g. http://127.0.0.1:3000/acuse): when set,
     * mails link there (`?token=…`) and the page calls this service's link API; otherwise they link to
     * the small HTML pages this service serves itself.
     */
    ACK_LINK_PAGE_URL: z.string().url().optional(),
    /** SMTP relay, e.g. smtp://user:pass@relay:587 or smtps://relay:465. */
    SMTP_URL: z
      .string()
      .url()
      .refine((v) => /^smtps?:\/\//.test(v), 'must be an smtp:// or smtps:// URL')
      .default('smtp://127.0.0.1:1025'),
    SMTP_POOL_MAX_CONNECTIONS: z.coerce.number().int().min(1).max(50).default(5),
    SMTP_TLS_REJECT_UNAUTHORIZED: z
      .enum(['true', 'false'])
      .default('true')
      .transform((v) => v === 'true'),
    MAIL_FROM: z.string().min(3).default('Alerta Rosa SSP Oaxaca <alerta-rosa@ssp-oaxaca.example>'),
    /**
     * Transient failures (relay away, timeouts) are retried without limit; after this many attempts the
     * mail is reported delayed (TaskMailDelayed, the task's mail shows `delayed`). Only a permanent SMTP
     * refusal (5xx) gives a mail up.
     */
    MAIL_DELAYED_AFTER_ATTEMPTS: z.coerce.number().int().min(1).max(1_000).default(5),
    /** Retries back off exponentially from MAIL_BACKOFF_MS, capped at MAIL_BACKOFF_MAX_MS. */
    MAIL_BACKOFF_MS: z.coerce.number().int().min(10).max(600_000).default(1_000),
    MAIL_BACKOFF_MAX_MS: z.coerce.number().int().min(100).max(3_600_000).default(60_000),
    /**
     * A send's claim on its mail (renewed every third of it while the send is in flight): how soon a
     * mail whose worker died mid-send can be sent by another.
     */
    MAIL_SEND_LEASE_MS: z.coerce.number().int().min(1_000).max(600_000).default(15_000),
    /** No longer used (mails are not given up on transient failures): set, it is reported at start-up. */
    MAIL_MAX_ATTEMPTS: z.string().optional(),
    MAIL_CONCURRENCY: z.coerce.number().int().min(1).max(100).default(10),
    /** Optional DKIM signing: all three or none. */
    DKIM_DOMAIN: optionalText,
    DKIM_SELECTOR: optionalText,
    DKIM_PRIVATE_KEY: optionalText,
    /** Multiplies every PSO deadline and interval (1 = real time; tests use e.g. 0.005). */
    PSO_TIME_SCALE: z.coerce.number().positive().max(1_000).default(1),
    /** Folder holding the PSO versions (*.yaml) and file of the area directory, relative to config/. */
    PSO_DIR: z.string().default('pso'),
    AREAS_FILE: z.string().default('areas.yaml'),
    /** BullMQ lock/stall check: how soon a job held by a dead worker is taken up again. */
    QUEUE_LOCK_MS: z.coerce.number().int().min(1_000).max(300_000).default(30_000),
    /** Fallback sweep of work not yet handed to the queues (normally woken by NOTIFY). */
    DISPATCH_POLL_MS: z.coerce.number().int().min(100).max(300_000).default(5_000),
    /**
     * Reconciler: how often PostgreSQL is compared with the queues (overdue escalations fired, mails and
     * progress reminders whose job vanished or died handed over again). On a failed sweep (database or
     * Redis away) it retries with back-off capped at this interval.
     */
    RECONCILE_INTERVAL_MS: z.coerce.number().int().min(100).max(600_000).default(15_000),
    /** How long past a deadline or a hand-over the reconciler leaves the queue to act before it does. */
    RECONCILE_GRACE_MS: z.coerce.number().int().min(0).max(600_000).default(5_000),
    /** Test-only crash injection: SIGKILL right after the Nth escalation commit. Refused in production. */
    FAULT_KILL_AFTER_ESCALATION_COMMIT: z.coerce.number().int().min(1).optional(),
  })
  .superRefine((c, ctx) => {
    if (c.NODE_ENV === 'production' && !c.PUBLIC_BASE_URL) {
      ctx.addIssue({
        code: 'custom',
        path: ['PUBLIC_BASE_URL'],
        message: 'required in production (acknowledge links)',
      });
    }
    if (c.NODE_ENV === 'production' && !c.AUTH_JWT_SECRET) {
      ctx.addIssue({ code: 'custom', path: ['AUTH_JWT_SECRET'], message: 'required in production' });
    }
    const dkim = [c.DKIM_DOMAIN, c.DKIM_SELECTOR, c.DKIM_PRIVATE_KEY].filter(Boolean).length;
    if (dkim !== 0 && dkim !== 3) {
      ctx.addIssue({
        code: 'custom',
        path: ['DKIM_DOMAIN'],
        message: 'set DKIM_DOMAIN, DKIM_SELECTOR and DKIM_PRIVATE_KEY together',
      });
    }
    if (c.MAIL_BACKOFF_MAX_MS < c.MAIL_BACKOFF_MS) {
      ctx.addIssue({
        code: 'custom',
        path: ['MAIL_BACKOFF_MAX_MS'],
        message: 'must not be smaller than MAIL_BACKOFF_MS',
      });
    }
    if (c.NODE_ENV === 'production' && c.FAULT_KILL_AFTER_ESCALATION_COMMIT !== undefined) {
      ctx.addIssue({
        code: 'custom',
        path: ['FAULT_KILL_AFTER_ESCALATION_COMMIT'],
        message: 'not allowed in production',
      });
    }
  })
  .transform((c) => ({ ...c, AUTH_JWT_SECRET: c.AUTH_JWT_SECRET ?? randomBytes(32).toString('hex') }));
export type CoordinationConfig = z.infer<typeof coordinationConfigSchema>;
