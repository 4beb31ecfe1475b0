import { z } from 'zod';

/** Platforms an official account can live on. `webhook` covers partner outlets and messaging gateways. */
export const PLATFORMS = ['x', 'facebook', 'webhook'] as const;
export type Platform = (typeof PLATFORMS)[number];

/** What a publication is: the first post of an alert, a follow-up for an update, or the «localizada» notice. */
export const PUBLICATION_KINDS = ['activation', 'update', 'located_notice'] as const;
export type PublicationKind = (typeof PUBLICATION_KINDS)[number];

const publicationRef = {
  publicationId: z.string().uuid(),
  accountId: z.string().min(1),
  platform: z.enum(PLATFORMS),
  handle: z.string().min(1),
  kind: z.enum(PUBLICATION_KINDS),
  alertVersion: z.number().int().positive(),
  folio: z.string(),
};

export const publicationSucceededSchema = z
  .object({
    ...publicationRef,
    remoteId: z.string().min(1),
    remoteUrl: z.string().nullable(),
    withImage: z.boolean(),
    postedAt: z.string().datetime({ offset: true }),
    attempts: z.number().int().min(0),
    /** True when the post was found on the platform after an ambiguous failure instead of being posted again. */
    recovered: z.boolean(),
  })
  .strict();
export type PublicationSucceeded = z.infer<typeof publicationSucceededSchema>;

export const PUBLICATION_FAILURE_REASONS = [
  'auth_revoked',
  'bad_content',
  'not_configured',
  'exhausted',
] as const;
export type PublicationFailureReason = (typeof PUBLICATION_FAILURE_REASONS)[number];

export const publicationFailedSchema = z
  .object({
    ...publicationRef,
    reason: z.enum(PUBLICATION_FAILURE_REASONS),
    /** Short technical reason (no personal data). */
    error: z.string().max(500),
    attempts: z.number().int().min(0),
    failedAt: z.string().datetime({ offset: true }),
  })
  .strict();
export type PublicationFailed = z.infer<typeof publicationFailedSchema>;

export const publicationWithdrawnSchema = z
  .object({
    ...publicationRef,
    remoteId: z.string().min(1),
    withdrawnAt: z.string().datetime({ offset: true }),
  })
  .strict();
export type PublicationWithdrawn = z.infer<typeof publicationWithdrawnSchema>;

/**
 * A send whose outcome is unknown (it ended ambiguously, or the platform refused it as a duplicate of a
 * post already there) and whose post could not be found. It is treated as existing: the withdrawal looks
 * for it and deletes it. Never reported as a failure, since her photo may be up.
 */
export const publicationMayExistSchema = z
  .object({
    ...publicationRef,
    withImage: z.boolean(),
    /** Why it could not be settled (e.g. account refused the look-up); no personal data. */
    reason: z.string().max(500),
    attempts: z.number().int().min(0),
    since: z.string().datetime({ offset: true }),
  })
  .strict();
export type PublicationMayExist = z.infer<typeof publicationMayExistSchema>;

/** A publication that may have existed was looked for, repeatedly, after the platform's lag: it is not there. */
export const publicationConfirmedAbsentSchema = z
  .object({
    ...publicationRef,
    lookups: z.number().int().min(1),
    confirmedAt: z.string().datetime({ offset: true }),
  })
  .strict();
export type PublicationConfirmedAbsent = z.infer<typeof publicationConfirmedAbsentSchema>;

/** A withdrawal on one account keeps failing: reported once, retried until done. */
export const withdrawalDelayedSchema = z
  .object({
    accountId: z.string().min(1),
    platform: z.enum(PLATFORMS),
    handle: z.string().min(1),
    folio: z.string(),
    attempts: z.number().int().min(0),
    error: z.string().max(500),
    reportedAt: z.string().datetime({ offset: true }),
    /** Area that owns the account (areas.yaml id), to be alerted. Optional: absent in older events. */
    ownerArea: z.string().min(1).optional(),
  })
  .strict();
export type WithdrawalDelayed = z.infer<typeof withdrawalDelayedSchema>;

/** Every account confirmed that no post of the alert carrying the ficha remains. */
export const alertWithdrawalCompletedSchema = z
  .object({
    folio: z.string(),
    outcome: z.string(),
    accounts: z.number().int().min(0),
    postsWithdrawn: z.number().int().min(0),
    requestedAt: z.string().datetime({ offset: true }),
    completedAt: z.string().datetime({ offset: true }),
  })
  .strict();
export type AlertWithdrawalCompleted = z.infer<typeof alertWithdrawalCompletedSchema>;

/**
 * A platform refused an account's credentials for the first time (revoked, expired, password changed).
 * The account gets no posts until its credentials are rotated; the owner area must be told at once.
 */
export const accountAuthRevokedSchema = z
  .object({
    accountId: z.string().min(1),
    platform: z.enum(PLATFORMS),
    handle: z.string().min(1),
    /** Area that owns the account (areas.yaml id), to be alerted. */
    ownerArea: z.string().min(1),
    /** The alert whose post discovered it. */
    folio: z.string(),
    /** Short technical reason from the platform (no secrets, no personal data). */
    error: z.string().max(500),
    detectedAt: z.string().datetime({ offset: true }),
  })
  .strict();
export type AccountAuthRevoked = z.infer<typeof accountAuthRevokedSchema>;

export const PUBLICATION_EVENT_TYPES = {
  succeeded: 'PublicationSucceeded',
  failed: 'PublicationFailed',
  withdrawn: 'PublicationWithdrawn',
  mayExist: 'PublicationMayExist',
  confirmedAbsent: 'PublicationConfirmedAbsent',
  withdrawalDelayed: 'PublicationWithdrawalDelayed',
  withdrawalCompleted: 'AlertWithdrawalCompleted',
  accountAuthRevoked: 'AccountAuthRevoked',
} as const;
