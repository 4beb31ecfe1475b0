import { authSecretSchema, baseConfigSchema, portSchema } from '@alerta-rosa/config';
import { z } from 'zod';

const ms = (fallback: number, min = 0) => z.coerce.number().int().min(min).max(86_400_000).default(fallback);
const httpUrl = (fallback: string) =>
  z
    .string()
    .url()
    .refine((v) => /^https?:\/\//.test(v), 'must be an http(s) URL')
    .transform((v) => v.replace(/\/+$/, ''))
    .default(fallback);

/** Development-only credentials key (id `dev`); production must set CREDENTIALS_KEYS. */
const DEV_CREDENTIALS_KEYS = 'dev:ZGV2LW9ubHkta2V5LWZvci1hbGVydGEtcm9zYS0zMmI=';

export const disseminationConfigSchema = baseConfigSchema
  .extend({
    PORT: portSchema(3002),
    AUTH_JWT_SECRET: authSecretSchema,
    /**
     * Kept open (0): alerts are rare, and the first one after a quiet day must not open its 30
     * connections (and fill each one's catalogue caches) while the fan-out waits.
     */
    DATABASE_POOL_IDLE_MS: z.coerce.number().int().min(0).max(86_400_000).default(0),
    /**
     * AES-256-GCM keys for account credentials: `id:base64key[,id:base64key…]`. The first is current
     * (new encryptions, re-encryption at start-up); the others only decrypt (rotation).
     */
    CREDENTIALS_KEYS: z.string().optional(),
    /** JSON file `{ accountId: credentials }` imported (encrypted) for accounts that have none yet. */
    ACCOUNT_CREDENTIALS_FILE: z.string().optional(),
    /** Accounts registry seeded by migration; relative paths resolve under config/. */
    ACCOUNTS_FILE: z.string().default('accounts.yaml'),
    /** Base URLs: the sandboxes by default (dev/test), the real APIs in production. */
    X_API_BASE_URL: httpUrl('http://127.0.0.1:4100'),
    X_UPLOAD_BASE_URL: httpUrl('http://127.0.0.1:4100'),
    FACEBOOK_GRAPH_BASE_URL: httpUrl('http://127.0.0.1:4200'),
    FACEBOOK_GRAPH_VERSION: z
      .string()
      .regex(/^v\d+\.\d+$/)
      .default('v21.0'),
    /** A social API call that takes longer than this is abandoned (and, for a post, treated as ambiguous). */
    CHANNEL_TIMEOUT_MS: ms(10_000, 100),
    PHOTO_FETCH_TIMEOUT_MS: ms(5_000, 100),
    POST_MAX_ATTEMPTS: z.coerce.number().int().min(1).max(100).default(8),
    RETRY_BASE_MS: ms(1_000, 1),
    RETRY_MAX_MS: ms(60_000, 1),
    WITHDRAWAL_RETRY_MAX_MS: ms(300_000, 1),
    /**
     * Withdrawals of one account run on their own queue, this many at once (five alerts deactivated
     * together are withdrawn side by side), under the account's rate-limit policy of their own.
     */
    WITHDRAWAL_CONCURRENCY: z.coerce.number().int().min(1).max(100).default(8),
    /** After this many failed withdrawal attempts on an account, the straggler is reported (and retried on). */
    WITHDRAWAL_STRAGGLER_ATTEMPTS: z.coerce.number().int().min(1).max(1000).default(5),
    /** Periodic reconciliation: pending publications/withdrawals without a job are enqueued again. */
    SWEEP_INTERVAL_MS: ms(10_000, 100),
    /** A pending row enqueued longer ago than this is checked against its job (re-created if gone or finished). */
    REENQUEUE_AFTER_MS: ms(120_000, 100),
    /**
     * Crash recovery: a dead worker's job is handed to a live one once its BullMQ lock lapses (renewed
     * every half of QUEUE_LOCK_DURATION_MS while the job runs) and a stalled check sees it
     * (every QUEUE_STALLED_INTERVAL_MS; a job taken just before the crash is only seen by the second check
     * of the restarted worker, hence the short interval): within lock + interval of the crash. A lock that lapses while
     * its job still runs (a stalled event loop) costs a second run, never a second send: the publication
     * lease below refuses it.
     */
    QUEUE_LOCK_DURATION_MS: ms(3_000, 1_000),
    QUEUE_STALLED_INTERVAL_MS: ms(500, 500),
    /**
     * Lease on a publication while a job works on it (claim token in PostgreSQL, renewed every third
     * of it): a second claimant — e.g. a worker handed the job after a lapsed BullMQ lock — is refused
     * until it expires. A crashed holder blocks its publication for at most this long.
     */
    PUBLICATION_LEASE_MS: ms(3_000, 1_000),
    /**
     * A SIGKILLed worker's partitions go to the group's other members (or to its restarted self) once
     * the broker has missed its heartbeats this long: 6 s, the broker's minimum
     * (group.min.session.timeout.ms), heartbeats every 600 ms. The restarted worker serves its queues
     * meanwhile (readyBeforeConsumerJoins).
     */
    CONSUMER_SESSION_TIMEOUT_MS: z.coerce.number().int().min(6_000).max(300_000).default(6_000),
    /**
     * After a send that may have posted, the account's posts are searched for the marker before posting
     * again; one look-up that finds nothing proves nothing (timelines lag behind writes). Absence is
     * concluded after MARKER_SEARCH_ATTEMPTS look-ups that miss, spaced MARKER_SEARCH_BACKOFF_MS, doubling,
     * at most MARKER_SEARCH_BACKOFF_MAX_MS apart (defaults: 2 + 4 + 8 + 16 s = 30 s after the first miss).
     */
    MARKER_SEARCH_ATTEMPTS: z.coerce.number().int().min(2).max(20).default(5),
    MARKER_SEARCH_BACKOFF_MS: ms(2_000, 100),
    MARKER_SEARCH_BACKOFF_MAX_MS: ms(30_000, 100),
  })
  .refine((c) => c.QUEUE_STALLED_INTERVAL_MS <= c.QUEUE_LOCK_DURATION_MS, {
    path: ['QUEUE_STALLED_INTERVAL_MS'],
    message: 'must be at most QUEUE_LOCK_DURATION_MS',
  })
  .refine((c) => c.MARKER_SEARCH_BACKOFF_MAX_MS >= c.MARKER_SEARCH_BACKOFF_MS, {
    path: ['MARKER_SEARCH_BACKOFF_MAX_MS'],
    message: 'must be at least MARKER_SEARCH_BACKOFF_MS',
  })
  .transform((c) => ({
    ...c,
    CREDENTIALS_KEYS: c.CREDENTIALS_KEYS ?? (c.NODE_ENV === 'production' ? '' : DEV_CREDENTIALS_KEYS),
  }))
  .refine((c) => c.CREDENTIALS_KEYS !== '', {
    path: ['CREDENTIALS_KEYS'],
    message: 'required in production (id:base64-32-byte-key[,…])',
  });
export type DisseminationConfig = z.infer<typeof disseminationConfigSchema>;
