import {
  ALERT_EVENT_TYPES,
  AlertActivated,
  AlertDeactivated,
  AlertOutcome,
  AlertUpdated,
  PublicFicha,
  createEnvelope,
  encodeEvent,
  newId,
} from '@alerta-rosa/contracts';
import { Kafka, Producer } from 'kafkajs';

let folioSeq = Math.floor(Math.random() * 5_000) + 1_000;

/**
 * Produces well-formed alert events (as intake would) straight to the alerts topic, keyed by alert id.
 * Lets coordination be driven without the intake service.
 */
export class AlertEventProducer {
  private producer: Producer | null = null;
  private readonly versions = new Map<string, { folio: string; version: number; ficha: PublicFicha }>();

  constructor(
    private readonly kafka: Kafka,
    private readonly topic: string,
  ) {}

  async connect(): Promise<void> {
    this.producer = this.kafka.producer({ allowAutoTopicCreation: false });
    await this.producer.connect();
  }

  async disconnect(): Promise<void> {
    await this.producer?.disconnect();
  }

  async activate(
    ficha: Partial<PublicFicha> = {},
    activatedAt = new Date(),
  ): Promise<{ alertId: string; folio: string; activatedAt: Date; eventId: string }> {
    const alertId = newId();
    const folio = `AR-${activatedAt.getUTCFullYear()}-${String(folioSeq++).padStart(4, '0')}`;
    const full: PublicFicha = {
      fullName: 'Daniela Ruiz Santiago',
      age: 24,
      municipalityCode: '20067',
      municipalityName: 'Oaxaca de Juárez',
      lastSeenAt: new Date(activatedAt.getTime() - 5 * 3_600_000).toISOString(),
      lastSeenPlace: 'Mercado Benito Juárez',
      description: 'Vestía blusa blanca y pantalón de mezclilla.',
      ...ficha,
    };
    const event = createEnvelope<AlertActivated, string>({
      type: ALERT_EVENT_TYPES.activated,
      alertId,
      producer: 'intake',
      occurredAt: activatedAt,
      payload: {
        folio,
        version: 1,
        reportedAt: new Date(activatedAt.getTime() - 3_600_000).toISOString(),
        activatedAt: activatedAt.toISOString(),
        ficha: full,
      },
    });
    await this.send(event);
    this.versions.set(alertId, { folio, version: 1, ficha: full });
    return { alertId, folio, activatedAt, eventId: event.eventId };
  }

  async update(alertId: string, changes: Partial<PublicFicha>): Promise<number> {
    const state = this.versions.get(alertId)!;
    state.version += 1;
    state.ficha = { ...state.ficha, ...changes };
    await this.send(
      createEnvelope<AlertUpdated, string>({
        type: ALERT_EVENT_TYPES.updated,
        alertId,
        producer: 'intake',
        payload: {
          folio: state.folio,
          version: state.version,
          changedFields: Object.keys(changes),
          ficha: state.ficha,
        },
      }),
    );
    return state.version;
  }

  async deactivate(alertId: string, outcome: AlertOutcome = 'localizada_con_vida'): Promise<void> {
    const state = this.versions.get(alertId)!;
    state.version += 1;
    await this.send(
      createEnvelope<AlertDeactivated, string>({
        type: ALERT_EVENT_TYPES.deactivated,
        alertId,
        producer: 'intake',
        payload: {
          folio: state.folio,
          version: state.version,
          outcome,
          deactivatedAt: new Date().toISOString(),
        },
      }),
    );
  }

  private async send(event: { alertId: string } & Parameters<typeof encodeEvent>[0]): Promise<void> {
    await this.producer!.send({
      topic: this.topic,
      acks: -1,
      messages: [{ key: event.alertId, value: encodeEvent(event) }],
    });
  }
}
