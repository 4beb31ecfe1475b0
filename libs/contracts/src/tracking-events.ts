import { z } from 'zod';

/**
 * Events the tracker publishes on tracking.v1 (through its own outbox) about an alert's closure.
 * They carry folios, times, account ids and counts only: no ficha data.
 */
const instant = z.string().datetime({ offset: true });

/**
 * The tracker decided the alert is closed: it is deactivated, every post that carried her photo is
 * confirmed withdrawn on every account, and every task is completed or cancelled. `closedAt` is the
 * moment the last of those conditions became true (so a rebuild or a late decision gives the same time).
 */
export const alertClosedSchema = z
  .object({
    folio: z.string(),
    outcome: z.string(),
    deactivatedAt: instant,
    closedAt: instant,
  })
  .strict();
export type AlertClosed = z.infer<typeof alertClosedSchema>;

/** What is still missing on a closure that is overdue, account by account (for the mail). */
export const missingPhotoPostSchema = z
  .object({
    accountId: z.string().min(1),
    platform: z.string().min(1),
    handle: z.string().min(1),
    /** `posted`: a post with her photo is known to be up; `may_exist`: a send was ambiguous or a withdrawal is pending. */
    state: z.enum(['posted', 'may_exist']),
  })
  .strict();
export type MissingPhotoPost = z.infer<typeof missingPhotoPostSchema>;

/**
 * A deactivated alert was not closed within the configured time (CLOSURE_OVERDUE_AFTER_SECONDS, 1 h by
 * default). Emitted once per alert; coordination e-mails the Unidad de Género's duty officer.
 */
export const alertClosureOverdueSchema = z
  .object({
    folio: z.string(),
    deactivatedAt: instant,
    flaggedAt: instant,
    /** Accounts where a post with her photo is still up or may exist. */
    missingAccounts: z.array(z.string()),
    openTasks: z.number().int().min(0),
    /** The same accounts with platform, handle and state (added to the agreed contract; optional). */
    missingPhotoPosts: z.array(missingPhotoPostSchema).optional(),
    /** Dissemination has not yet confirmed the withdrawal on every account (optional). */
    withdrawalPending: z.boolean().optional(),
  })
  .strict();
export type AlertClosureOverdue = z.infer<typeof alertClosureOverdueSchema>;

export const TRACKING_EVENT_TYPES = {
  closed: 'AlertClosed',
  closureOverdue: 'AlertClosureOverdue',
} as const;
