import { z } from 'zod';

/** Public part of the ficha as it travels in alert events (never the private part). New fields must be optional. */
export const publicFichaSchema = z.object({
  fullName: z.string().min(1).max(200),
  age: z.number().int().min(0).max(120),
  municipalityCode: z.string().regex(/^20\d{3}$/),
  municipalityName: z.string().min(1).max(200),
  lastSeenAt: z.string().datetime({ offset: true }),
  lastSeenPlace: z.string().max(500).nullable(),
  description: z.string().max(2000).nullable(),
  /**
   * Public URL of the ficha photo, present only with the family's consent. Intake serves it and
   * deletes it on withdrawal; dissemination attaches it to posts.
   */
  photoUrl: z.string().url().nullable().optional(),
  photoAltText: z.string().max(1000).nullable().optional(),
  // Added with the full ficha (intake issue 3). Optional so events from older producers still decode.
  gender: z.string().max(50).nullable().optional(),
  heightCm: z.number().int().min(30).max(250).nullable().optional(),
  build: z.string().max(100).nullable().optional(),
  complexion: z.string().max(100).nullable().optional(),
  hair: z.string().max(200).nullable().optional(),
  eyes: z.string().max(100).nullable().optional(),
  distinguishingMarks: z.string().max(1000).nullable().optional(),
  clothing: z.string().max(1000).nullable().optional(),
  locality: z.string().max(200).nullable().optional(),
  circumstances: z.string().max(1000).nullable().optional(),
  /** Public contact numbers to print on posts (SSP hotline, 911, 089). */
  contactPhones: z.array(z.string().max(30)).max(5).optional(),
  /** Under 18: also an Alerta Amber case. */
  isMinor: z.boolean().optional(),
  amberFolio: z.string().max(40).nullable().optional(),
  indigenousLanguage: z.string().max(100).nullable().optional(),
  /** The family consented to publishing the photo; photoUrl is only ever set when true. */
  photoConsent: z.boolean().optional(),
  /** Who activated the alert: 'SSP' or an authorised external body such as 'FGEO'. */
  activatingBody: z.string().max(50).optional(),
});
// Not strict: fields added to the public ficha by newer producers are dropped by older consumers
// instead of dead-lettering the event.
export type PublicFicha = z.infer<typeof publicFichaSchema>;

export const ALERT_OUTCOMES = ['localizada_con_vida', 'localizada_sin_vida', 'cancelada'] as const;
export type AlertOutcome = (typeof ALERT_OUTCOMES)[number];

export const alertActivatedSchema = z
  .object({
    folio: z.string().regex(/^AR-\d{4}-\d{4,}$/),
    version: z.number().int().positive(),
    reportedAt: z.string().datetime({ offset: true }),
    activatedAt: z.string().datetime({ offset: true }),
    ficha: publicFichaSchema,
  })
  .strict();
export type AlertActivated = z.infer<typeof alertActivatedSchema>;

export const alertUpdatedSchema = z
  .object({
    folio: z.string(),
    version: z.number().int().positive(),
    changedFields: z.array(z.string()).min(1),
    ficha: publicFichaSchema,
  })
  .strict();
export type AlertUpdated = z.infer<typeof alertUpdatedSchema>;

export const alertDeactivatedSchema = z
  .object({
    folio: z.string(),
    version: z.number().int().positive(),
    outcome: z.enum(ALERT_OUTCOMES),
    deactivatedAt: z.string().datetime({ offset: true }),
  })
  .strict();
export type AlertDeactivated = z.infer<typeof alertDeactivatedSchema>;

/**
 * An administrator closed a deactivated alert by hand (the audited override, with a reason kept in
 * intake's audit log only): consumers stop waiting for the tracker's own closure decision.
 */
export const alertClosureOverriddenSchema = z
  .object({
    folio: z.string(),
    closedAt: z.string().datetime({ offset: true }),
  })
  .strict();
export type AlertClosureOverridden = z.infer<typeof alertClosureOverriddenSchema>;

export const ALERT_EVENT_TYPES = {
  activated: 'AlertActivated',
  updated: 'AlertUpdated',
  deactivated: 'AlertDeactivated',
  closureOverridden: 'AlertClosureOverridden',
} as const;
