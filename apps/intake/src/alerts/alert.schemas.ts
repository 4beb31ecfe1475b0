import { ALERT_OUTCOMES } from '@alerta-rosa/contracts';
import { z } from 'zod';

/** Text a person typed: trimmed, no control characters, no markup. */
const humanText = (max: number) =>
  z
    .string()
    .trim()
    .min(1)
    .max(max)
    .refine(
      (s) => !/[\u0000-\u0008\u000B\u000C\u000E-\u001F\u007F]/.test(s),
      'Contiene caracteres de control',
    )
    .refine((s) => !/[<>]/.test(s), 'No se permiten los caracteres < ni >');

/** A person's name: letters (any script, with accents), spaces, apostrophes, hyphens and periods. */
const personName = (max: number) =>
  humanText(max).refine(
    (s) => /^[\p{L}\p{M}][\p{L}\p{M} '’.-]*$/u.test(s) && !/--/.test(s),
    'Solo letras, espacios, apóstrofos, guiones y puntos',
  );

const phone = z
  .string()
  .trim()
  .regex(/^\+?[0-9][0-9 ()-]{1,23}$/, 'Número telefónico inválido')
  .refine((s) => s.replace(/\D/g, '').length >= 3, 'Número telefónico inválido');

const EARLIEST = Date.parse('2000-01-01T00:00:00Z');
const pastInstant = z
  .string()
  .datetime({ offset: true })
  .refine((s) => Date.parse(s) <= Date.now() + 60_000, 'La fecha no puede estar en el futuro')
  .refine((s) => Date.parse(s) >= EARLIEST, 'La fecha es anterior al año 2000');

const optionalText = (max: number) => humanText(max).nullable().optional();

/** Public part of the ficha as the operator sends it (municipality by INEGI code or by name). */
const publicFields = {
  fullName: personName(200),
  age: z.number().int().min(0).max(120),
  gender: optionalText(50),
  heightCm: z.number().int().min(30).max(250).nullable().optional(),
  build: optionalText(100),
  complexion: optionalText(100),
  hair: optionalText(200),
  eyes: optionalText(100),
  distinguishingMarks: optionalText(1000),
  clothing: optionalText(1000),
  /** INEGI code of one of Oaxaca's 570 municipalities (20001–20570). */
  municipalityCode: z
    .string()
    .regex(/^20\d{3}$/, 'Clave INEGI de municipio de Oaxaca (20001–20570)')
    .optional(),
  /** Or its name; matched without accents or case («Huajuapan de Leon»). */
  municipalityName: humanText(200).optional(),
  locality: optionalText(200),
  lastSeenAt: pastInstant,
  lastSeenPlace: optionalText(500),
  description: optionalText(2000),
  circumstances: optionalText(1000),
  contactPhones: z.array(phone).min(1).max(5).optional(),
  amberFolio: z
    .string()
    .trim()
    .regex(/^[A-Za-z0-9][A-Za-z0-9/-]{0,39}$/, 'Folio Amber inválido')
    .nullable()
    .optional(),
  indigenousLanguage: optionalText(100),
  photoConsent: z.boolean().optional(),
  photoAltText: optionalText(1000),
  /** 'SSP' or an authorised external body (ACTIVATING_BODIES), e.g. 'FGEO'. */
  activatingBody: z
    .string()
    .regex(/^[A-Z][A-Z0-9-]{1,49}$/, 'Siglas en mayúsculas')
    .optional(),
};

/** Private part: never published, never in events or logs; reading it is audited. */
export const privateFichaSchema = z
  .object({
    reporterName: personName(200).nullable().optional(),
    reporterPhone: phone.nullable().optional(),
    reporterEmail: z.string().trim().email().max(200).nullable().optional(),
    relationship: optionalText(100),
    investigationFolder: optionalText(100),
    healthConditions: optionalText(1000),
    medication: optionalText(1000),
    socialProfiles: z.array(humanText(300)).max(10).nullable().optional(),
    internalNotes: optionalText(4000),
  })
  .strict();
export type PrivateFicha = z.infer<typeof privateFichaSchema>;

export const createAlertSchema = z
  .object({
    ...publicFields,
    reportedAt: pastInstant,
    private: privateFichaSchema.optional(),
    /** true: activate at once (publishes AlertActivated); false or absent: keep as a draft. */
    activate: z.boolean().optional(),
  })
  .strict()
  .refine((v) => v.municipalityCode !== undefined || v.municipalityName !== undefined, {
    path: ['municipalityCode'],
    message: 'Indique el municipio (clave INEGI o nombre)',
  });
export type CreateAlertInput = z.infer<typeof createAlertSchema>;

export const updateAlertSchema = z
  .object({
    ...publicFields,
    reportedAt: pastInstant,
    private: privateFichaSchema.optional(),
  })
  .partial()
  .strict()
  .refine((v) => Object.keys(v).length > 0, { message: 'Indique al menos un campo a actualizar' });
export type UpdateAlertInput = z.infer<typeof updateAlertSchema>;

export const deactivateAlertSchema = z.object({ outcome: z.enum(ALERT_OUTCOMES) }).strict();
export type DeactivateAlertInput = z.infer<typeof deactivateAlertSchema>;

/** The administrator's manual close (an audited override of the tracker's decision) must say why. */
export const closeAlertSchema = z.object({ reason: z.string().trim().min(10).max(1000) }).strict();
export type CloseAlertInput = z.infer<typeof closeAlertSchema>;

/** Bodies of transitions that take no data: empty or `{}`. */
export const emptySchema = z.object({}).strict();

export const listAlertsQuerySchema = z
  .object({
    status: z.enum(['draft', 'active', 'deactivated', 'closed', 'discarded']).optional(),
    limit: z.coerce.number().int().min(1).max(200).default(50),
  })
  .strict();
