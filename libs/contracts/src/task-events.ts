import { z } from 'zod';

/**
 * Events coordination publishes on tasks.v1 about the PSO tasks of an alert. Payloads carry ids,
 * states and times only: no ficha data and no note text (notes can hold personal data).
 */
const instant = z.string().datetime({ offset: true });
const taskRef = {
  taskId: z.string().uuid(),
  folio: z.string(),
  stepId: z.string().min(1),
  areaId: z.string().min(1),
};

export const TASK_STATES = ['assigned', 'acknowledged', 'in_progress', 'done', 'cancelled'] as const;
export type TaskState = (typeof TASK_STATES)[number];

export const ESCALATION_TARGETS = ['area_supervisor', 'duty_officer', 'direccion'] as const;
export type EscalationTarget = (typeof ESCALATION_TARGETS)[number];

export const MAIL_KINDS = [
  'assignment',
  'update',
  'escalation',
  'stand_down',
  'progress_reminder',
  /** To an account's owner area: a platform refused the account's credentials. */
  'account_revoked',
  /** To an account's owner area: the ficha could not yet be withdrawn from the account. */
  'withdrawal_delayed',
  /** To the Unidad de Género's duty officer: a deactivated alert is still not closed (tracker). */
  'closure_overdue',
] as const;
export type MailKind = (typeof MAIL_KINDS)[number];

export const taskAssignedSchema = z
  .object({
    ...taskRef,
    psoVersion: z.string().min(1),
    areaName: z.string().min(1),
    title: z.string().min(1),
    ackDueAt: instant,
    completeDueAt: instant,
  })
  .strict();
export type TaskAssigned = z.infer<typeof taskAssignedSchema>;

export const taskAcknowledgedSchema = z
  .object({
    ...taskRef,
    acknowledgedAt: instant,
    /** `link`: the one-click e-mail link; `api`: a signed-in area user. */
    via: z.enum(['link', 'api']),
    userId: z.string().nullable(),
  })
  .strict();
export type TaskAcknowledged = z.infer<typeof taskAcknowledgedSchema>;

export const taskProgressReportedSchema = z
  .object({ ...taskRef, noteId: z.string().min(1), reportedAt: instant, userId: z.string() })
  .strict();
export type TaskProgressReported = z.infer<typeof taskProgressReportedSchema>;

export const taskCompletedSchema = z
  .object({ ...taskRef, completedAt: instant, userId: z.string() })
  .strict();
export type TaskCompleted = z.infer<typeof taskCompletedSchema>;

export const taskCancelledSchema = z
  .object({ ...taskRef, cancelledAt: instant, reason: z.enum(['alert_deactivated']) })
  .strict();
export type TaskCancelled = z.infer<typeof taskCancelledSchema>;

export const taskEscalatedSchema = z
  .object({
    ...taskRef,
    level: z.number().int().positive(),
    target: z.enum(ESCALATION_TARGETS),
    deadlineAt: instant,
    escalatedAt: instant,
  })
  .strict();
export type TaskEscalated = z.infer<typeof taskEscalatedSchema>;

const mailRef = {
  mailId: z.string().min(1),
  kind: z.enum(MAIL_KINDS),
  folio: z.string(),
  areaId: z.string().min(1),
  taskId: z.string().uuid().nullable(),
  attempts: z.number().int().min(0),
};

export const taskMailSentSchema = z.object({ ...mailRef, sentAt: instant }).strict();
export type TaskMailSent = z.infer<typeof taskMailSentSchema>;

export const taskMailFailedSchema = z
  .object({ ...mailRef, failedAt: instant, error: z.string().max(1000) })
  .strict();
export type TaskMailFailed = z.infer<typeof taskMailFailedSchema>;

/**
 * The relay has not accepted the mail after several attempts (it is away, or timing out). Reported
 * once per mail; it is still being retried and is delivered when the relay returns (TaskMailSent).
 */
export const taskMailDelayedSchema = z
  .object({ ...mailRef, since: instant, delayedAt: instant, error: z.string().max(1000) })
  .strict();
export type TaskMailDelayed = z.infer<typeof taskMailDelayedSchema>;

export const TASK_EVENT_TYPES = {
  assigned: 'TaskAssigned',
  acknowledged: 'TaskAcknowledged',
  progressReported: 'TaskProgressReported',
  completed: 'TaskCompleted',
  cancelled: 'TaskCancelled',
  escalated: 'TaskEscalated',
  mailSent: 'TaskMailSent',
  mailFailed: 'TaskMailFailed',
  mailDelayed: 'TaskMailDelayed',
} as const;
