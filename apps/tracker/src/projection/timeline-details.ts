import {
  ALERT_EVENT_TYPES,
  AlertActivated,
  AlertClosureOverridden,
  AlertDeactivated,
  AlertEventReceived,
  AlertUpdated,
  Envelope,
  PUBLICATION_EVENT_TYPES,
  RECEIPT_EVENT_TYPE,
  TASK_EVENT_TYPES,
  TRACKING_EVENT_TYPES,
} from '@alerta-rosa/contracts';

/** What the timeline keeps of an event: facts, never the ficha's personal data. */
export function describeEvent(event: Envelope): { details: Record<string, unknown>; version: number | null } {
  switch (event.type) {
    case ALERT_EVENT_TYPES.activated: {
      const p = event.payload as AlertActivated;
      return {
        version: p.version,
        details: {
          folio: p.folio,
          reportedAt: p.reportedAt,
          activatedAt: p.activatedAt,
          municipalityCode: p.ficha.municipalityCode,
        },
      };
    }
    case ALERT_EVENT_TYPES.updated: {
      const p = event.payload as AlertUpdated;
      return { version: p.version, details: { folio: p.folio, changedFields: p.changedFields } };
    }
    case ALERT_EVENT_TYPES.deactivated: {
      const p = event.payload as AlertDeactivated;
      return {
        version: p.version,
        details: { folio: p.folio, outcome: p.outcome, deactivatedAt: p.deactivatedAt },
      };
    }
    case ALERT_EVENT_TYPES.closureOverridden: {
      const p = event.payload as AlertClosureOverridden;
      return { version: null, details: { folio: p.folio, closedAt: p.closedAt } };
    }
    case RECEIPT_EVENT_TYPE: {
      const p = event.payload as AlertEventReceived;
      return { version: p.alertVersion, details: { ...p } };
    }
    default:
      // Publication events carry account handles, remote ids, reasons and times only (no ficha data).
      if (Object.values(PUBLICATION_EVENT_TYPES).includes(event.type as never)) {
        const p = event.payload as Record<string, unknown>;
        return { version: typeof p.alertVersion === 'number' ? p.alertVersion : null, details: { ...p } };
      }
      // Task events carry ids, states and times only (no ficha data, no note text) by contract.
      // The tracker's own closure events carry folios, times, account ids and counts.
      if (
        Object.values(TASK_EVENT_TYPES).includes(event.type as never) ||
        Object.values(TRACKING_EVENT_TYPES).includes(event.type as never)
      ) {
        return { version: null, details: { ...(event.payload as Record<string, unknown>) } };
      }
      return { version: null, details: {} };
  }
}
