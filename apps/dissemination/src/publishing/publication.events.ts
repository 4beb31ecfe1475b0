import {
  AccountAuthRevoked,
  Envelope,
  PUBLICATION_EVENT_TYPES,
  Platform,
  PublicationFailed,
  PublicationFailureReason,
  PublicationKind,
  PublicationSucceeded,
  PublicationWithdrawn,
  createEnvelope,
} from '@alerta-rosa/contracts';

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
  status: 'pending' | 'posted' | 'failed' | 'cancelled';
  send_started_at: Date | null;
  attempts: number;
  remote_id: string | null;
  remote_url: string | null;
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

export function withdrawnEvent(p: PublicationRow, withdrawnAt: Date): Envelope<PublicationWithdrawn> {
  return createEnvelope({
    type: PUBLICATION_EVENT_TYPES.withdrawn,
    alertId: p.alert_id,
    producer: 'dissemination',
    cause: causeOf(p),
    payload: { ...ref(p), remoteId: p.remote_id!, withdrawnAt: withdrawnAt.toISOString() },
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
