import { ALERT_OUTCOMES } from '@alerta-rosa/contracts';
import { z } from 'zod';

/** Text a person typed: trimmed, no control characters, no markup. */
const humanText = (max: number) =>
  z
    .string()
    .trim()
    .min(1)
    .max(max)
    .refine((s) => !/[\u0000-\u0008\u000B\u000C\u000E-\u001F\u007F]/.test(s), 'Contiene caracteres de control')
    .refine((s) => !/[<>]/.test(s), 'No se permiten los caracteres < ni >');

const pastInstant = z
  .string()
  .datetime({ offset: true })
  .refine((s) => Date.parse(s) <= Date.now() + 60_000, 'La fecha no puede estar en el futuro');

const fichaFields = {
  fullName: humanText(200),
  age: z.number().int().min(0).max(120),
  /** INEGI code of one of Oaxaca's 570 municipalities (20001–20570). */
  municipalityCode: z.string().regex(/^20\d{3}$/, 'Clave INEGI de municipio de Oaxaca (20001–20570)'),
  lastSeenAt: pastInstant,
  lastSeenPlace: humanText(500).nullable().optional(),
  description: humanText(2000).nullable().optional(),
};

export const activateAlertSchema = z
  .object({
    ...fichaFields,
    reportedAt: pastInstant,
  })
  .strict()
  .refine((v) => Date.parse(v.lastSeenAt) <= Date.parse(v.reportedAt) + 60_000, {
    path: ['lastSeenAt'],
    message: 'La última vez vista no puede ser posterior al reporte',
  });
export type ActivateAlertInput = z.infer<typeof activateAlertSchema>;

export const updateAlertSchema = z
  .object(fichaFields)
  .partial()
  .strict()
  .refine((v) => Object.keys(v).length > 0, { message: 'Indique al menos un campo a actualizar' });
export type UpdateAlertInput = z.infer<typeof updateAlertSchema>;

export const deactivateAlertSchema = z.object({ outcome: z.enum(ALERT_OUTCOMES) }).strict();
export type DeactivateAlertInput = z.infer<typeof deactivateAlertSchema>;
