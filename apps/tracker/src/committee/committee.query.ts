import { ALERT_OUTCOMES } from '@alerta-rosa/contracts';
import { ApiError, FieldError } from '@alerta-rosa/http';
import { HttpStatus } from '@nestjs/common';
import { z } from 'zod';
import { GeographyCatalog } from './geography.catalog';
import { OAXACA_TZ, oaxacaMidnight } from './oaxaca-time';

const instant = z
  .string()
  .trim()
  .refine((v) => /^\d{4}-\d{2}-\d{2}(T\d{2}:\d{2}(:\d{2}(\.\d{1,6})?)?(Z|[+-]\d{2}:\d{2}))?$/.test(v), {
    message: 'Fecha inválida: AAAA-MM-DD o fecha y hora ISO 8601 con zona',
  })
  .transform((v) => (v.length === 10 ? oaxacaMidnight(v) : new Date(v)))
  .refine((d) => !Number.isNaN(d.getTime()), { message: 'Fecha inválida' });

const flag = z.enum(['true', 'false']).transform((v) => v === 'true');

export const committeeQuerySchema = z
  .object({
    from: instant.optional(),
    to: instant.optional(),
    outcome: z.enum([...ALERT_OUTCOMES, 'open']).optional(),
    region: z.string().trim().min(1).max(60).optional(),
    municipality: z
      .string()
      .trim()
      .regex(/^20\d{3}$/, { message: 'Clave INEGI de municipio de Oaxaca (20001–20570)' })
      .optional(),
    avgm: flag.optional(),
    minor: flag.optional(),
    activatingBody: z.string().trim().min(1).max(50).optional(),
    limit: z.coerce.number().int().min(1).max(5_000).optional(),
    offset: z.coerce.number().int().min(0).optional(),
  })
  .strict();

export interface CommitteeFilters {
  /** Alerts activated at or after this instant. */
  from: Date;
  /** … and before this one. */
  to: Date;
  outcome?: (typeof ALERT_OUTCOMES)[number] | 'open';
  region?: string;
  municipality?: string;
  avgm?: boolean;
  minor?: boolean;
  activatingBody?: string;
  limit: number;
  offset: number;
}

const MESSAGES: Record<string, string> = {
  invalid_value: 'Valor no permitido',
  unrecognized_keys: 'Parámetro no permitido',
  invalid_format: 'Formato inválido',
  too_small: 'Valor demasiado pequeño',
  too_big: 'Valor demasiado grande',
};

/** Start of the current year in Oaxaca: the default «from». */
export function startOfYearInOaxaca(now = new Date()): Date {
  const year = new Intl.DateTimeFormat('en-US', { timeZone: OAXACA_TZ, year: 'numeric' }).format(now);
  return oaxacaMidnight(`${year}-01-01`);
}

/**
 * Parses the committee's query string: period (from inclusive, to exclusive; a bare date is midnight in
 * Oaxaca; defaults: this year so far) and filters. Bad input is 400 VALIDATION_FAILED naming each parameter.
 */
export function parseCommitteeQuery(
  query: Record<string, unknown>,
  geography: GeographyCatalog,
  now = new Date(),
): CommitteeFilters {
  const parsed = committeeQuerySchema.safeParse(query);
  const fields: FieldError[] = [];
  if (!parsed.success) {
    for (const issue of parsed.error.issues) {
      if (issue.code === 'unrecognized_keys') {
        for (const k of issue.keys)
          fields.push({ path: k, code: 'unrecognized_key', message: MESSAGES.unrecognized_keys });
      } else {
        fields.push({
          path: issue.path.join('.'),
          code: issue.code,
          message: issue.code === 'custom' ? issue.message : (MESSAGES[issue.code] ?? 'Valor inválido'),
        });
      }
    }
  } else {
    const q = parsed.data;
    if (q.region && !geography.regions.some((r) => r.id === q.region))
      fields.push({ path: 'region', code: 'unknown_region', message: 'Región desconocida' });
    if (q.municipality && !geography.municipality(q.municipality))
      fields.push({ path: 'municipality', code: 'unknown_municipality', message: 'Municipio desconocido' });
    if (q.from && q.to && q.from >= q.to)
      fields.push({ path: 'to', code: 'invalid_period', message: '«hasta» debe ser posterior a «desde»' });
  }
  if (fields.length)
    throw new ApiError(
      HttpStatus.BAD_REQUEST,
      'VALIDATION_FAILED',
      'La consulta tiene parámetros inválidos.',
      fields,
    );
  const q = parsed.data!;
  return {
    from: q.from ?? startOfYearInOaxaca(now),
    to: q.to ?? now,
    outcome: q.outcome,
    region: q.region,
    municipality: q.municipality,
    avgm: q.avgm,
    minor: q.minor,
    activatingBody: q.activatingBody,
    limit: q.limit ?? 500,
    offset: q.offset ?? 0,
  };
}

/** The key a period's figures are kept under: its query (paging aside), parameters in a fixed order. */
export function periodKey(query: Record<string, unknown>): string {
  const { limit: _l, offset: _o, ...rest } = query;
  return JSON.stringify(Object.entries(rest).sort(([a], [b]) => (a < b ? -1 : 1)));
}

/** The filters as they are echoed in answers (ISO instants, only what was set). */
export function describeFilters(f: CommitteeFilters) {
  return {
    from: f.from.toISOString(),
    to: f.to.toISOString(),
    ...(f.outcome ? { outcome: f.outcome } : {}),
    ...(f.region ? { region: f.region } : {}),
    ...(f.municipality ? { municipality: f.municipality } : {}),
    ...(f.avgm !== undefined ? { avgm: f.avgm } : {}),
    ...(f.minor !== undefined ? { minor: f.minor } : {}),
    ...(f.activatingBody ? { activatingBody: f.activatingBody } : {}),
  };
}

/** SQL WHERE over tracker.alerts (alias a) for the filters; parameters start at $1. */
export function alertFilterSql(f: CommitteeFilters, alias = 'a'): { where: string; params: unknown[] } {
  const params: unknown[] = [f.from, f.to];
  const clauses = [`${alias}.activated_at >= $1`, `${alias}.activated_at < $2`];
  const add = (clause: (p: string) => string, value: unknown) => {
    params.push(value);
    clauses.push(clause(`$${params.length}`));
  };
  if (f.outcome === 'open') clauses.push(`${alias}.outcome IS NULL`);
  else if (f.outcome) add((p) => `${alias}.outcome = ${p}`, f.outcome);
  if (f.region) add((p) => `${alias}.region_id = ${p}`, f.region);
  if (f.municipality) add((p) => `${alias}.municipality_code = ${p}`, f.municipality);
  if (f.avgm !== undefined) add((p) => `${alias}.avgm = ${p}`, f.avgm);
  if (f.minor !== undefined) add((p) => `${alias}.minor = ${p}`, f.minor);
  if (f.activatingBody) add((p) => `upper(${alias}.activating_body) = upper(${p})`, f.activatingBody);
  return { where: clauses.join(' AND '), params };
}
