import { z } from 'zod';

/** Settings every service shares. Each service extends this with its own. */
export const baseConfigSchema = z.object({
  NODE_ENV: z.enum(['development', 'test', 'production']).default('development'),
  LOG_LEVEL: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info'),
  DATABASE_URL: z
    .string()
    .url()
    .refine((v) => v.startsWith('postgres://') || v.startsWith('postgresql://'), 'must be a postgres:// URL')
    .default('postgres://postgres@127.0.0.1:5432/alerta_rosa'),
  DATABASE_POOL_SIZE: z.coerce.number().int().min(1).max(100).default(12),
  /** An idle pooled connection is closed after this long; 0 keeps it open (pg's default is 10 s). */
  DATABASE_POOL_IDLE_MS: z.coerce.number().int().min(0).max(86_400_000).default(10_000),
  /** Parameterised statements as named prepared statements (parsed and planned once per connection). */
  DATABASE_PREPARED_STATEMENTS: z
    .enum(['true', 'false'])
    .default('true')
    .transform((v) => v === 'true'),
  KAFKA_BROKERS: z
    .string()
    .default('127.0.0.1:9092')
    .transform((v) => v.split(',').map((s) => s.trim()))
    .refine((list) => list.every((b) => /^[\w.-]+:\d+$/.test(b)), 'must be host:port[,host:port…]'),
  KAFKA_TOPIC_PREFIX: z
    .string()
    .regex(/^[a-zA-Z0-9_-]*$/, 'letters, digits, - and _ only')
    .default(''),
  KAFKA_TOPIC_PARTITIONS: z.coerce.number().int().min(1).max(100).default(6),
  KAFKA_REPLICATION_FACTOR: z.coerce.number().int().min(1).max(5).default(1),
  REDIS_URL: z
    .string()
    .url()
    .refine((v) => v.startsWith('redis://') || v.startsWith('rediss://'), 'must be a redis:// URL')
    .default('redis://127.0.0.1:6379'),
  /** BullMQ key prefix: isolates environments (and test runs) sharing one Redis. */
  QUEUE_PREFIX: z
    .string()
    .regex(/^[a-zA-Z0-9_-]+$/, 'letters, digits, - and _ only')
    .default('alerta-rosa'),
  /** How long before the group gives a dead consumer's partitions to another (broker minimum 6 s). */
  CONSUMER_SESSION_TIMEOUT_MS: z.coerce.number().int().min(6_000).max(300_000).default(10_000),
  CONSUMER_MAX_ATTEMPTS: z.coerce.number().int().min(1).max(20).default(3),
  CONSUMER_RETRY_BACKOFF_MS: z.coerce.number().int().min(0).max(60_000).default(200),
  /** Consecutive events of a partition handled in one transaction (1 = one transaction per event). */
  CONSUMER_GROUP_MAX_EVENTS: z.coerce.number().int().min(1).max(1_000).default(100),
  /** A group closes after this much handling time, so its first event is not held back long. */
  CONSUMER_GROUP_MAX_MS: z.coerce.number().int().min(1).max(1_000).default(20),
  /**
   * While the database or Kafka is away (or a deadlock/serialization failure is reported), a partition
   * is paused and retried without limit: first after this, doubling up to the maximum.
   */
  CONSUMER_TRANSIENT_BACKOFF_MS: z.coerce.number().int().min(10).max(60_000).default(200),
  CONSUMER_TRANSIENT_BACKOFF_MAX_MS: z.coerce.number().int().min(100).max(300_000).default(10_000),
  /** Bound on each outbox-relay statement (a half-open database connection fails within it). */
  RELAY_QUERY_TIMEOUT_MS: z.coerce.number().int().min(500).max(120_000).default(5_000),
  /** The server ends a silent relay session after this (releasing its leader lock to another replica). */
  RELAY_SESSION_IDLE_TIMEOUT_MS: z.coerce.number().int().min(2_000).max(600_000).default(10_000),
  /**
   * Retention (every service, libs/messaging): a scheduled sweep deletes published outbox rows, inbox
   * rows and dead-letter rows older than these ages. Unpublished outbox rows are never deleted.
   */
  RETENTION_SWEEP_INTERVAL_SECONDS: z.coerce.number().int().min(1).max(86_400).default(3_600),
  RETENTION_OUTBOX_HOURS: z.coerce.number().int().min(1).max(87_600).default(168),
  /** Keep inbox rows longer than a consumer group's offsets may be lost (broker offsets.retention, 7 days). */
  RETENTION_INBOX_HOURS: z.coerce.number().int().min(1).max(87_600).default(720),
  RETENTION_DEAD_LETTERS_HOURS: z.coerce.number().int().min(1).max(87_600).default(2_160),
  /** /health/ready and /metrics: how long one dependency probe (PostgreSQL, Kafka, Redis) may take. */
  HEALTH_PROBE_TIMEOUT_MS: z.coerce.number().int().min(100).max(30_000).default(2_000),
  /** /metrics: a gauge whose reading (a query, Kafka, BullMQ) takes longer is left empty for that scrape. */
  METRICS_COLLECT_TIMEOUT_MS: z.coerce.number().int().min(100).max(60_000).default(5_000),
  /** Test-only crash injection; refused in production. */
  FAULT_KILL_AFTER_INBOX_COMMIT: z.coerce.number().int().min(1).optional(),
});

export type BaseConfig = z.infer<typeof baseConfigSchema>;

export class ConfigError extends Error {}

/**
 * Validates the environment against a schema. On failure throws one line naming every bad
 * variable, so that a misconfigured service stops at start-up with a clear reason.
 */
export function parseConfig<S extends z.ZodType>(
  schema: S,
  env: NodeJS.ProcessEnv = process.env,
): z.infer<S> {
  const result = schema.safeParse(env);
  if (!result.success) {
    const problems = result.error.issues.map((i) => `${i.path.join('.') || '(env)'}: ${i.message}`);
    throw new ConfigError(`invalid configuration: ${problems.join('; ')}`);
  }
  const config = result.data as BaseConfig;
  if (config.NODE_ENV === 'production' && config.FAULT_KILL_AFTER_INBOX_COMMIT !== undefined) {
    throw new ConfigError('invalid configuration: FAULT_KILL_AFTER_INBOX_COMMIT: not allowed in production');
  }
  return result.data;
}

/** `parseConfig` for a process entry point: prints the one-line reason and exits 1. */
export function loadConfigOrExit<S extends z.ZodType>(service: string, schema: S): z.infer<S> {
  try {
    return parseConfig(schema);
  } catch (err) {
    if (err instanceof ConfigError) {
      process.stderr.write(`${service}: ${err.message}\n`);
      process.exit(1);
    }
    throw err;
  }
}

/** Shared secret that signs access tokens (HS256); at least 32 characters. */
export const authSecretSchema = z.string().min(32, 'at least 32 characters');

/** Port setting shared by every HTTP-speaking service. */
export const portSchema = (fallback: number) => z.coerce.number().int().min(1).max(65535).default(fallback);
