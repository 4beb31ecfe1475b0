import { authSecretSchema, baseConfigSchema, portSchema } from '@alerta-rosa/config';
import { existsSync } from 'fs';
import { join, resolve } from 'path';
import { z } from 'zod';

const serviceUrl = (fallback: string) =>
  z
    .string()
    .url()
    .refine((v) => /^https?:\/\//.test(v), 'must be an http(s) URL')
    .transform((v) => v.replace(/\/+$/, ''))
    .default(fallback);

/** Default place of the built console: dist/console beside dist/apps (this file runs from dist/apps/gateway/src). */
function defaultConsoleDir(): string {
  return resolve(__dirname, '../../../console');
}

export const gatewayConfigSchema = baseConfigSchema
  .pick({ NODE_ENV: true, LOG_LEVEL: true, KAFKA_BROKERS: true, KAFKA_TOPIC_PREFIX: true })
  .extend({
    PORT: portSchema(3000),
    HOST: z.string().min(1).default('127.0.0.1'),
    /** Verifies access tokens (shared HS256 secret) and derives the stream-ticket key. */
    AUTH_JWT_SECRET: authSecretSchema,
    /** Signs stream tickets; by default derived from AUTH_JWT_SECRET (a different key either way). */
    STREAM_TICKET_SECRET: z.string().min(32, 'at least 32 characters').optional(),
    STREAM_TICKET_TTL_SECONDS: z.coerce.number().int().min(5).max(300).default(30),
    /** `: ping` comment on every open stream this often (keeps proxies and idle connections open). */
    SSE_PING_MS: z.coerce.number().int().min(1_000).max(120_000).default(15_000),
    /** A stream whose client does not read this many bytes is dropped (it reconnects and refetches). */
    SSE_MAX_BUFFERED_BYTES: z.coerce.number().int().min(16_384).default(1_048_576),
    INTAKE_URL: serviceUrl('http://127.0.0.1:3001'),
    DISSEMINATION_URL: serviceUrl('http://127.0.0.1:3002'),
    COORDINATION_URL: serviceUrl('http://127.0.0.1:3003'),
    TRACKER_URL: serviceUrl('http://127.0.0.1:3004'),
    /** How long an upstream may take to start answering (photo processing takes seconds). */
    UPSTREAM_TIMEOUT_MS: z.coerce.number().int().min(1_000).max(600_000).default(60_000),
    /** The built SPA (vite build output). */
    CONSOLE_DIR: z
      .string()
      .default(defaultConsoleDir())
      .refine((dir) => existsSync(join(dir, 'index.html')), 'no index.html there: run npm run build'),
    /** How often topics missing at start (tracking.v1 before the tracker creates it) are looked for again. */
    TOPIC_RECHECK_MS: z.coerce.number().int().min(500).max(600_000).default(30_000),
  });

export type GatewayConfig = z.infer<typeof gatewayConfigSchema>;
