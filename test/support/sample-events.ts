import { ALERT_EVENT_TYPES, createEnvelope, newId } from '@alerta-rosa/contracts';

/** A valid public ficha, as intake publishes it (fixed values, for unit tests of the event layer). */
export const sampleFicha = {
  fullName: 'Luisa Hernández',
  age: 16,
  municipalityCode: '20039',
  municipalityName: 'Heroica Ciudad de Huajuapan de León',
  lastSeenAt: '2026-11-27T18:00:00.000Z',
  lastSeenPlace: null,
  description: null,
};

/** A valid AlertActivated envelope for a new alert. */
export function sampleActivation() {
  return createEnvelope({
    type: ALERT_EVENT_TYPES.activated,
    alertId: newId(),
    producer: 'intake',
    payload: {
      folio: 'AR-2026-0042',
      version: 1,
      reportedAt: '2026-11-27T19:00:00.000Z',
      activatedAt: '2026-11-27T19:05:00.000Z',
      ficha: sampleFicha,
    },
  });
}
