import { z } from 'zod';
import {
  ALERT_EVENT_TYPES,
  alertActivatedSchema,
  alertClosureOverriddenSchema,
  alertDeactivatedSchema,
  alertUpdatedSchema,
} from './alert-events';
import { Envelope, envelopeSchema } from './envelope';
import {
  PUBLICATION_EVENT_TYPES,
  accountAuthRevokedSchema,
  alertWithdrawalCompletedSchema,
  publicationConfirmedAbsentSchema,
  publicationFailedSchema,
  publicationMayExistSchema,
  publicationSucceededSchema,
  publicationWithdrawnSchema,
  withdrawalDelayedSchema,
} from './publication-events';
import { RECEIPT_EVENT_TYPE, alertEventReceivedSchema } from './receipt-events';
import {
  TASK_EVENT_TYPES,
  taskAcknowledgedSchema,
  taskAssignedSchema,
  taskCancelledSchema,
  taskCompletedSchema,
  taskEscalatedSchema,
  taskMailDelayedSchema,
  taskMailFailedSchema,
  taskMailSentSchema,
  taskProgressReportedSchema,
} from './task-events';
import { TRACKING_EVENT_TYPES, alertClosedSchema, alertClosureOverdueSchema } from './tracking-events';

/** Payload schema per event type and schema version. */
const PAYLOAD_SCHEMAS: Record<string, Record<number, z.ZodType>> = {
  [ALERT_EVENT_TYPES.activated]: { 1: alertActivatedSchema },
  [ALERT_EVENT_TYPES.updated]: { 1: alertUpdatedSchema },
  [ALERT_EVENT_TYPES.deactivated]: { 1: alertDeactivatedSchema },
  [ALERT_EVENT_TYPES.closureOverridden]: { 1: alertClosureOverriddenSchema },
  [RECEIPT_EVENT_TYPE]: { 1: alertEventReceivedSchema },
  [PUBLICATION_EVENT_TYPES.succeeded]: { 1: publicationSucceededSchema },
  [PUBLICATION_EVENT_TYPES.failed]: { 1: publicationFailedSchema },
  [PUBLICATION_EVENT_TYPES.withdrawn]: { 1: publicationWithdrawnSchema },
  [PUBLICATION_EVENT_TYPES.mayExist]: { 1: publicationMayExistSchema },
  [PUBLICATION_EVENT_TYPES.confirmedAbsent]: { 1: publicationConfirmedAbsentSchema },
  [PUBLICATION_EVENT_TYPES.withdrawalDelayed]: { 1: withdrawalDelayedSchema },
  [PUBLICATION_EVENT_TYPES.withdrawalCompleted]: { 1: alertWithdrawalCompletedSchema },
  [PUBLICATION_EVENT_TYPES.accountAuthRevoked]: { 1: accountAuthRevokedSchema },
  [TASK_EVENT_TYPES.assigned]: { 1: taskAssignedSchema },
  [TASK_EVENT_TYPES.acknowledged]: { 1: taskAcknowledgedSchema },
  [TASK_EVENT_TYPES.progressReported]: { 1: taskProgressReportedSchema },
  [TASK_EVENT_TYPES.completed]: { 1: taskCompletedSchema },
  [TASK_EVENT_TYPES.cancelled]: { 1: taskCancelledSchema },
  [TASK_EVENT_TYPES.escalated]: { 1: taskEscalatedSchema },
  [TASK_EVENT_TYPES.mailSent]: { 1: taskMailSentSchema },
  [TASK_EVENT_TYPES.mailFailed]: { 1: taskMailFailedSchema },
  [TASK_EVENT_TYPES.mailDelayed]: { 1: taskMailDelayedSchema },
  [TRACKING_EVENT_TYPES.closed]: { 1: alertClosedSchema },
  [TRACKING_EVENT_TYPES.closureOverdue]: { 1: alertClosureOverdueSchema },
};

export class EventDecodeError extends Error {
  constructor(
    message: string,
    readonly reason: 'not_json' | 'bad_envelope' | 'bad_payload' | 'unknown_schema_version',
  ) {
    super(message);
    this.name = 'EventDecodeError';
  }
}

export function isKnownEventType(type: string): boolean {
  return type in PAYLOAD_SCHEMAS;
}

/**
 * Decodes and validates a raw message value. Unknown event types pass with their payload
 * unchecked (newer producers may add types); known types must match their schema.
 */
export function decodeEvent(raw: Buffer | string | null): Envelope {
  if (raw === null) throw new EventDecodeError('empty message value', 'not_json');
  let json: unknown;
  try {
    json = JSON.parse(typeof raw === 'string' ? raw : raw.toString('utf8'));
  } catch (err) {
    throw new EventDecodeError(`value is not JSON: ${(err as Error).message}`, 'not_json');
  }
  const envelope = envelopeSchema.safeParse(json);
  if (!envelope.success) {
    throw new EventDecodeError(`invalid envelope: ${z.prettifyError(envelope.error)}`, 'bad_envelope');
  }
  const versions = PAYLOAD_SCHEMAS[envelope.data.type];
  if (!versions) return envelope.data as Envelope;
  const schema = versions[envelope.data.schemaVersion];
  if (!schema) {
    throw new EventDecodeError(
      `no schema for ${envelope.data.type} v${envelope.data.schemaVersion}`,
      'unknown_schema_version',
    );
  }
  const payload = schema.safeParse(envelope.data.payload);
  if (!payload.success) {
    throw new EventDecodeError(
      `invalid ${envelope.data.type} payload: ${z.prettifyError(payload.error)}`,
      'bad_payload',
    );
  }
  return { ...envelope.data, payload: payload.data } as Envelope;
}

/** Serialises an envelope after checking it, so a producer can never publish what consumers would refuse. */
export function encodeEvent(envelope: Envelope): string {
  const text = JSON.stringify(envelope);
  decodeEvent(text);
  return text;
}
