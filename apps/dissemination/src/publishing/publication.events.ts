import {
  AccountAuthRevoked,
  Envelope,
  PUBLICATION_EVENT_TYPES,
  Platform,
  PublicationConfirmedAbsent,
  PublicationFailed,
  PublicationFailureReason,
  PublicationKind,
  PublicationMayExist,
  PublicationSucceeded,
  PublicationWithdrawn,
  createEnvelope,
} from '@alerta-rosa/contracts';

/**
 * pending: not settled yet. posted: the post exists (remote id recorded). may_exist: a send may have
 * posted and the post was not found; treated as existing (withdrawn by looking it up). failed /
 * cancelled: nothing was posted — only ever set when no send may have posted.
 */
export type PublicationStatus = 'pending' | 'posted' | 'may_exist' | 'failed' | 'cancelled';

/** A publication row joined with what the events and adapters need. */
export interface PublicationRow {
  id: string;
  alert_id: string;
  alert_version: number;
  account_id: string;
  kind: PublicationKind;
  folio: string;
  marker: string;
  with_image: boolean;
  status: PublicationStatus;
  send_started_at: Date | null;
  attempts: number;
  remote_id: string | null;
  remote_url: string | null;
  other_remote_ids: string[];
  send_ended_at: Date | null;
  marker_misses: number;
  last_marker_miss_at: Date | null;
  duplicate_refused: boolean;
  may_exist_since: Date | null;
  retract: boolean;
  withdrawal_status: 'none' | 'withdrawn' | 'absent';
  claim_token: string | null;
  claim_expires_at: Date | null;
  cause_event_id: string;
  correlation_id: string;
  platform: Platform;
  handle: string;
}

function ref(p: PublicationRow) {
  return {
    publicationId: p.id,
    accountId: p.account_id,
    platform: p.platform,
    handle: p.handle,
    kind: p.kind,
    alertVersion: p.alert_version,
    folio: p.folio,
  };
}

export function causeOf(row: { cause_event_id: string; correlation_id: string }) {
  return { eventId: row.cause_event_id, correlationId: row.correlation_id };
}

export function succeededEvent(
  p: PublicationRow,
  remote: { remoteId: string; url: string | null },
  postedAt: Date,
  recovered: boolean,
): Envelope<PublicationSucceeded> {
  return createEnvelope({
    type: PUBLICATION_EVENT_TYPES.succeeded,
    alertId: p.alert_id,
    producer: 'dissemination',
    cause: causeOf(p),
    payload: {
      ...ref(p),
      remoteId: remote.remoteId,
      remoteUrl: remote.url,
      withImage: p.with_image,
      postedAt: postedAt.toISOString(),
      attempts: p.attempts,
      recovered,
    },
  });
}

export function failedEvent(
  p: PublicationRow,
  reason: PublicationFailureReason,
  error: string,
): Envelope<PublicationFailed> {
  return createEnvelope({
    type: PUBLICATION_EVENT_TYPES.failed,
    alertId: p.alert_id,
    producer: 'dissemination',
    cause: causeOf(p),
    payload: {
      ...ref(p),
      reason,
      error: error.slice(0, 500),
      attempts: p.attempts,
      failedAt: new Date().toISOString(),
    },
  });
}

export function withdrawnEvent(
  p: PublicationRow,
  remoteId: string,
  withdrawnAt: Date,
): Envelope<PublicationWithdrawn> {
  return createEnvelope({
    type: PUBLICATION_EVENT_TYPES.withdrawn,
    alertId: p.alert_id,
    producer: 'dissemination',
    cause: causeOf(p),
    payload: { ...ref(p), remoteId, withdrawnAt: withdrawnAt.toISOString() },
  });
}

export function mayExistEvent(p: PublicationRow, reason: string, since: Date): Envelope<PublicationMayExist> {
  return createEnvelope({
    type: PUBLICATION_EVENT_TYPES.mayExist,
    alertId: p.alert_id,
    producer: 'dissemination',
    cause: causeOf(p),
    payload: {
      ...ref(p),
      withImage: p.with_image,
      reason: reason.slice(0, 500),
      attempts: p.attempts,
      since: since.toISOString(),
    },
  });
}

export function confirmedAbsentEvent(
  p: PublicationRow,
  lookups: number,
  confirmedAt: Date,
): Envelope<PublicationConfirmedAbsent> {
  return createEnvelope({
    type: PUBLICATION_EVENT_TYPES.confirmedAbsent,
    alertId: p.alert_id,
    producer: 'dissemination',
    cause: causeOf(p),
    payload: { ...ref(p), lookups, confirmedAt: confirmedAt.toISOString() },
  });
}

export function accountRevokedEvent(
  p: PublicationRow,
  ownerArea: string,
  error: string,
  detectedAt: Date,
): Envelope<AccountAuthRevoked> {
  return createEnvelope({
    type: PUBLICATION_EVENT_TYPES.accountAuthRevoked,
    alertId: p.alert_id,
    producer: 'dissemination',
    cause: causeOf(p),
    payload: {
      accountId: p.account_id,
      platform: p.platform,
      handle: p.handle,
      ownerArea,
      folio: p.folio,
      error: error.slice(0, 500),
      detectedAt: detectedAt.toISOString(),
    },
  });
}
