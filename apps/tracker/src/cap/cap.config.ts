import { ConfigError } from '@alerta-rosa/config';
import { z } from 'zod';

const seconds = (min: number, max: number, fallback: number) =>
  z.coerce.number().int().min(min).max(max).default(fallback);

/** The tracker's CAP 1.2 / Atom settings (docs/cap.md). */
export const capConfigShape = {
  /** CAP `sender`: globally unique identifier of the originator (no spaces, commas, `<` or `&`). */
  CAP_SENDER: z
    .string()
    .regex(/^[^\s,<&]+$/, 'no spaces, commas, < or &')
    .default('alerta-rosa@ssp.oaxaca.gob.mx'),
  CAP_SENDER_NAME: z
    .string()
    .min(1)
    .max(200)
    .default('Secretaría de Seguridad Pública de Oaxaca — Unidad de Género'),
  /** CAP `status`: Actual in production; Exercise or Test for drills and staging. */
  CAP_STATUS: z.enum(['Actual', 'Exercise', 'Test', 'System', 'Draft']).default('Actual'),
  /** Base URL under which /cap/... is reachable from outside (Atom links and ids). Default: this service. */
  CAP_PUBLIC_BASE_URL: z
    .string()
    .url()
    .refine((v) => !v.endsWith('/'), 'without trailing slash')
    .optional(),
  /** `info/web`: the public page with more information. Default: the Atom feed. */
  CAP_WEB_URL: z.string().url().optional(),
  /** Radius (km) of the circle around the municipal seat that forms each message's area. */
  CAP_AREA_RADIUS_KM: z.coerce.number().positive().max(500).default(30),
  /** Rolling expiry: each message of an active alert expires this long after it is sent (default 24 h). */
  CAP_EXPIRES_SECONDS: seconds(60, 7 * 86_400, 86_400),
  /** A renewal Update is issued once the latest message has less than this left (default 2 h). */
  CAP_RENEW_BEFORE_SECONDS: seconds(10, 7 * 86_400, 7_200),
  /** How often the scheduler looks for messages to renew and cancelled alerts to retire (default 60 s). */
  CAP_SCHEDULER_INTERVAL_SECONDS: seconds(1, 3_600, 60),
  /** A cancelled alert stays in the Atom feed this long after its Cancel (default 24 h), then leaves. */
  CAP_CANCELLED_VISIBLE_SECONDS: seconds(60, 7 * 86_400, 86_400),
};

export interface CapConfig {
  CAP_SENDER: string;
  CAP_SENDER_NAME: string;
  CAP_STATUS: 'Actual' | 'Exercise' | 'Test' | 'System' | 'Draft';
  CAP_PUBLIC_BASE_URL?: string;
  CAP_WEB_URL?: string;
  CAP_AREA_RADIUS_KM: number;
  CAP_EXPIRES_SECONDS: number;
  CAP_RENEW_BEFORE_SECONDS: number;
  CAP_SCHEDULER_INTERVAL_SECONDS: number;
  CAP_CANCELLED_VISIBLE_SECONDS: number;
  PORT: number;
}

/** Timings that only make sense together: a renewal must be decided before the message expires. */
export function assertCapTimings(c: CapConfig): void {
  const problems: string[] = [];
  if (c.CAP_RENEW_BEFORE_SECONDS >= c.CAP_EXPIRES_SECONDS) {
    problems.push('CAP_RENEW_BEFORE_SECONDS: must be less than CAP_EXPIRES_SECONDS');
  }
  if (c.CAP_SCHEDULER_INTERVAL_SECONDS * 2 > c.CAP_RENEW_BEFORE_SECONDS) {
    problems.push('CAP_SCHEDULER_INTERVAL_SECONDS: at most half of CAP_RENEW_BEFORE_SECONDS');
  }
  if (problems.length) throw new ConfigError(`invalid configuration: ${problems.join('; ')}`);
}

/** Where the feed and the messages are reachable from outside. */
export function capBaseUrl(c: CapConfig): string {
  return c.CAP_PUBLIC_BASE_URL ?? `http://127.0.0.1:${c.PORT}`;
}
