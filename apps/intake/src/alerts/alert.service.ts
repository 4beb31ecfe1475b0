import {
  ALERT_EVENT_TYPES,
  AlertActivated,
  AlertDeactivated,
  AlertUpdated,
  PublicFicha,
  TOPICS,
  createEnvelope,
  newId,
} from '@alerta-rosa/contracts';
import { OutboxWriter } from '@alerta-rosa/messaging';
import { SERVICE_RUNTIME, ServiceRuntime } from '@alerta-rosa/runtime';
import { HttpStatus, Inject, Injectable } from '@nestjs/common';
import { DataSource, EntityManager } from 'typeorm';
import { ApiError, conflict, notFound } from '@alerta-rosa/http';
import { MunicipalityCatalog } from '../municipalities/municipality.catalog';
import { Alert } from './alert.entity';
import { ActivateAlertInput, DeactivateAlertInput, UpdateAlertInput } from './alert.schemas';

const SCHEMA = 'intake';

/**
 * The alert aggregate. Every state change and its event are written in one transaction (outbox),
 * and changes to one alert are serialised by a row lock, so its events leave in the order they happened.
 */
@Injectable()
export class AlertService {
  constructor(
    private readonly dataSource: DataSource,
    private readonly outbox: OutboxWriter,
    private readonly municipalities: MunicipalityCatalog,
    @Inject(SERVICE_RUNTIME) private readonly runtime: ServiceRuntime,
  ) {}

  async activate(input: ActivateAlertInput, correlationId: string): Promise<Alert> {
    const ficha = this.toFicha(input);
    const alert = await this.dataSource.transaction(async (m) => {
      const now = new Date();
      const folio = await this.nextFolio(m, now);
      const alert = m.create(Alert, {
        id: newId(),
        folio,
        status: 'active',
        version: 1,
        ficha,
        reportedAt: new Date(input.reportedAt),
        activatedAt: now,
        deactivatedAt: null,
        outcome: null,
        createdAt: now,
        updatedAt: now,
      });
      await m.insert(Alert, alert);
      const event = createEnvelope<AlertActivated, typeof ALERT_EVENT_TYPES.activated>({
        type: ALERT_EVENT_TYPES.activated,
        alertId: alert.id,
        producer: 'intake',
        correlationId,
        occurredAt: now,
        payload: {
          folio,
          version: 1,
          reportedAt: alert.reportedAt.toISOString(),
          activatedAt: now.toISOString(),
          ficha,
        },
      });
      await this.outbox.append(m, TOPICS.alerts, [event]);
      return alert;
    });
    this.runtime.logger.info({ alertId: alert.id, folio: alert.folio }, 'alert activated');
    return alert;
  }

  async update(id: string, input: UpdateAlertInput, correlationId: string): Promise<Alert> {
    const alert = await this.dataSource.transaction(async (m) => {
      const alert = await this.lockAlert(m, id);
      if (alert.status !== 'active') {
        throw conflict('INVALID_TRANSITION', `Solo se puede actualizar una alerta activa (estado actual: ${alert.status}).`);
      }
      const next = this.toFicha({ ...alert.ficha, ...input });
      const changedFields = (Object.keys(next) as (keyof PublicFicha)[]).filter(
        (k) => JSON.stringify(next[k]) !== JSON.stringify(alert.ficha[k]),
      );
      if (changedFields.length === 0) return alert;
      const now = new Date();
      alert.ficha = next;
      alert.version += 1;
      alert.updatedAt = now;
      await m.update(Alert, { id }, { ficha: next, version: alert.version, updatedAt: now });
      const event = createEnvelope<AlertUpdated, typeof ALERT_EVENT_TYPES.updated>({
        type: ALERT_EVENT_TYPES.updated,
        alertId: id,
        producer: 'intake',
        correlationId,
        occurredAt: now,
        payload: { folio: alert.folio, version: alert.version, changedFields, ficha: next },
      });
      await this.outbox.append(m, TOPICS.alerts, [event]);
      return alert;
    });
    this.runtime.logger.info({ alertId: id, folio: alert.folio, version: alert.version }, 'alert updated');
    return alert;
  }

  async deactivate(id: string, input: DeactivateAlertInput, correlationId: string): Promise<Alert> {
    const alert = await this.dataSource.transaction(async (m) => {
      const alert = await this.lockAlert(m, id);
      if (alert.status !== 'active') {
        throw conflict(
          'INVALID_TRANSITION',
          `Solo se puede desactivar una alerta activa (estado actual: ${alert.status}).`,
        );
      }
      const now = new Date();
      alert.status = 'deactivated';
      alert.version += 1;
      alert.outcome = input.outcome;
      alert.deactivatedAt = now;
      alert.updatedAt = now;
      await m.update(
        Alert,
        { id },
        { status: alert.status, version: alert.version, outcome: alert.outcome, deactivatedAt: now, updatedAt: now },
      );
      const event = createEnvelope<AlertDeactivated, typeof ALERT_EVENT_TYPES.deactivated>({
        type: ALERT_EVENT_TYPES.deactivated,
        alertId: id,
        producer: 'intake',
        correlationId,
        occurredAt: now,
        payload: { folio: alert.folio, version: alert.version, outcome: input.outcome, deactivatedAt: now.toISOString() },
      });
      await this.outbox.append(m, TOPICS.alerts, [event]);
      return alert;
    });
    this.runtime.logger.info({ alertId: id, folio: alert.folio, outcome: alert.outcome }, 'alert deactivated');
    return alert;
  }

  async get(id: string): Promise<Alert> {
    const alert = await this.dataSource.getRepository(Alert).findOneBy({ id });
    if (!alert) throw notFound('ALERT_NOT_FOUND', 'No existe una alerta con ese identificador.');
    return alert;
  }

  private async lockAlert(m: EntityManager, id: string): Promise<Alert> {
    const alert = await m.getRepository(Alert).findOne({ where: { id }, lock: { mode: 'pessimistic_write' } });
    if (!alert) throw notFound('ALERT_NOT_FOUND', 'No existe una alerta con ese identificador.');
    return alert;
  }

  private toFicha(input: {
    fullName: string;
    age: number;
    municipalityCode: string;
    lastSeenAt: string;
    lastSeenPlace?: string | null;
    description?: string | null;
  }): PublicFicha {
    const municipality = this.municipalities.byInegiCode(input.municipalityCode);
    if (!municipality) {
      throw new ApiError(HttpStatus.BAD_REQUEST, 'VALIDATION_FAILED', 'La solicitud tiene datos inválidos.', [
        { path: 'municipalityCode', code: 'unknown_municipality', message: 'No es un municipio de Oaxaca' },
      ]);
    }
    return {
      fullName: input.fullName,
      age: input.age,
      municipalityCode: municipality.code,
      municipalityName: municipality.name,
      lastSeenAt: new Date(input.lastSeenAt).toISOString(),
      lastSeenPlace: input.lastSeenPlace ?? null,
      description: input.description ?? null,
    };
  }

  /** AR-<year>-<seq>: year in Oaxaca time, sequence per year without gaps from rolled-back transactions. */
  private async nextFolio(m: EntityManager, now: Date): Promise<string> {
    const year = Number(
      new Intl.DateTimeFormat('en-US', { timeZone: 'America/Mexico_City', year: 'numeric' }).format(now),
    );
    const rows: { last_value: number }[] = await m.query(
      `INSERT INTO "${SCHEMA}".folio_counters (year, last_value) VALUES ($1, 1)
       ON CONFLICT (year) DO UPDATE SET last_value = folio_counters.last_value + 1
       RETURNING last_value`,
      [year],
    );
    return `AR-${year}-${String(rows[0].last_value).padStart(4, '0')}`;
  }
}
