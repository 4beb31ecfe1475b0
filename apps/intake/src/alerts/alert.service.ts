import {
  ALERT_EVENT_TYPES,
  AlertActivated,
  AlertClosureOverridden,
  AlertDeactivated,
  AlertUpdated,
  PublicFicha,
  TOPICS,
  createEnvelope,
  newId,
} from '@alerta-rosa/contracts';
import { OutboxWriter } from '@alerta-rosa/messaging';
import { SERVICE_RUNTIME, ServiceRuntime } from '@alerta-rosa/runtime';
import { Inject, Injectable } from '@nestjs/common';
import { DataSource, EntityManager } from 'typeorm';
import { AUDIT, AuditLog } from '../audit/audit.log';
import { Actor } from '../common/actor';
import { alertNotFound } from '../common/errors';
import { checkIfMatch } from '../common/etag';
import { IdempotencyService, StoredResponse, requestHash } from '../idempotency/idempotency.service';
import { IntakeConfig } from '../intake.config';
import { MunicipalityCatalog } from '../municipalities/municipality.catalog';
import { PhotoStorage } from '../photos/photo.storage';
import { Alert, AlertStatus } from './alert.entity';
import { assertTransition } from './alert.lifecycle';
import { AlertView, PossibleDuplicate, presentAlert } from './alert.presenter';
import {
  CloseAlertInput,
  CreateAlertInput,
  DeactivateAlertInput,
  PrivateFicha,
  UpdateAlertInput,
} from './alert.schemas';
import { FichaBuilder, FichaSource, changedPublicFields, duplicateKeyOf } from './ficha.builder';

const SCHEMA = 'intake';

/** What a write request carries besides its body. */
export interface WriteContext {
  actor: Actor;
  correlationId: string;
  idempotencyKey?: string;
  ifMatch?: string;
}

/**
 * The alert aggregate. Every state change, its event (outbox) and its audit entry are written in one
 * transaction, and changes to one alert are serialised by a row lock, so its events leave in the order
 * they happened and a lost race is a clean 409/412 with nothing changed.
 */
@Injectable()
export class AlertService {
  readonly fichas: FichaBuilder;

  constructor(
    private readonly dataSource: DataSource,
    private readonly outbox: OutboxWriter,
    private readonly audit: AuditLog,
    private readonly idempotency: IdempotencyService,
    private readonly storage: PhotoStorage,
    municipalities: MunicipalityCatalog,
    @Inject(SERVICE_RUNTIME) private readonly runtime: ServiceRuntime<IntakeConfig>,
  ) {
    this.fichas = new FichaBuilder(municipalities, runtime.config.ACTIVATING_BODIES);
  }

  // ─── commands ────────────────────────────────────────────────────────────────────────────────

  create(input: CreateAlertInput, ctx: WriteContext): Promise<StoredResponse<AlertView>> {
    return this.idempotent(ctx, 'POST /api/v1/alerts', JSON.stringify(input), async (m) => {
      const { private: privatePart, activate, reportedAt, ...publicInput } = input;
      const ficha = this.fichas.build(publicInput, reportedAt, null);
      const now = new Date();
      const alert = m.create(Alert, {
        id: newId(),
        folio: null,
        status: 'draft',
        version: 1,
        revision: 1,
        ficha,
        activatingBody: ficha.activatingBody ?? 'SSP',
        duplicateKey: duplicateKeyOf(ficha),
        reportedAt: new Date(reportedAt),
        activatedAt: null,
        deactivatedAt: null,
        discardedAt: null,
        closedAt: null,
        outcome: null,
        createdBy: ctx.actor.id,
        updatedBy: ctx.actor.id,
        createdAt: now,
        updatedAt: now,
      });
      await m.insert(Alert, alert);
      await m.query(`INSERT INTO ${SCHEMA}.alert_private (alert_id, data, updated_at) VALUES ($1, $2, $3)`, [
        alert.id,
        JSON.stringify(compactPrivate(privatePart ?? {})),
        now,
      ]);
      await this.audit.record(m, ctx.actor, {
        action: AUDIT.alertCreated,
        alertId: alert.id,
        details: { status: 'draft', privateFields: Object.keys(compactPrivate(privatePart ?? {})) },
      });
      if (activate) await this.activateLocked(m, alert, ctx, now);
      const possibleDuplicates = await this.possibleDuplicates(m, alert);
      return { status: 201, body: presentAlert(alert, { possibleDuplicates }) };
    });
  }

  activate(id: string, ctx: WriteContext): Promise<StoredResponse<AlertView>> {
    return this.idempotent(ctx, `POST /api/v1/alerts/${id}/activate`, '', async (m) => {
      const alert = await this.lock(m, id);
      assertTransition(alert.status, 'activate');
      checkIfMatch(ctx.ifMatch, alert.revision);
      await this.activateLocked(m, alert, ctx, new Date());
      return {
        status: 200,
        body: presentAlert(alert, { possibleDuplicates: await this.possibleDuplicates(m, alert) }),
      };
    });
  }

  update(id: string, input: UpdateAlertInput, ctx: WriteContext): Promise<AlertView> {
    return this.withPhotoCleanup(async (withdrawn) => {
      const result = await this.dataSource.transaction(async (m) => {
        const alert = await this.lock(m, id);
        assertTransition(alert.status, 'update');
        checkIfMatch(ctx.ifMatch, alert.revision);
        const { private: privatePart, reportedAt, ...publicInput } = input;
        const base: Partial<FichaSource> = { ...alert.ficha };
        if (publicInput.municipalityCode !== undefined || publicInput.municipalityName !== undefined) {
          delete base.municipalityCode;
          delete base.municipalityName;
        }
        const nextReportedAt = reportedAt ?? alert.reportedAt.toISOString();
        const source = { ...base, ...stripUndefined(publicInput) } as FichaSource;
        // Turning 18 (age corrected) drops a stored Amber folio; only one sent now is an error.
        if (publicInput.amberFolio === undefined && source.age >= 18) source.amberFolio = null;
        let photo = await this.currentPhoto(m, id);
        if (source.photoConsent === false && photo) {
          // Consent withdrawn: the photos come down from our public URLs too.
          withdrawn.push(...(await this.withdrawPhotos(m, id)));
          photo = null;
        }
        const next = this.fichas.build(source, nextReportedAt, photo);
        const privateChanged = privatePart ? await this.mergePrivate(m, id, privatePart) : [];
        const reportedAtChanged = new Date(nextReportedAt).getTime() !== alert.reportedAt.getTime();
        return this.applyChange(m, alert, next, ctx, {
          privateFieldsChanged: privateChanged,
          reportedAt: reportedAtChanged ? new Date(nextReportedAt) : undefined,
          photosWithdrawn: withdrawn.length,
        });
      });
      return result;
    });
  }

  deactivate(id: string, input: DeactivateAlertInput, ctx: WriteContext): Promise<StoredResponse<AlertView>> {
    return this.withPhotoCleanup((withdrawn) =>
      this.idempotent(ctx, `POST /api/v1/alerts/${id}/deactivate`, JSON.stringify(input), async (m) => {
        const alert = await this.lock(m, id);
        assertTransition(alert.status, 'deactivate');
        checkIfMatch(ctx.ifMatch, alert.revision);
        const now = new Date();
        // She was located (or the alert was an error): her photo leaves our public URLs now.
        withdrawn.push(...(await this.withdrawPhotos(m, id)));
        alert.ficha = { ...alert.ficha, photoUrl: null };
        alert.status = 'deactivated';
        alert.version += 1;
        alert.revision += 1;
        alert.outcome = input.outcome;
        alert.deactivatedAt = now;
        alert.updatedAt = now;
        alert.updatedBy = ctx.actor.id;
        await this.save(m, alert);
        const event = createEnvelope<AlertDeactivated, typeof ALERT_EVENT_TYPES.deactivated>({
          type: ALERT_EVENT_TYPES.deactivated,
          alertId: id,
          producer: 'intake',
          correlationId: ctx.correlationId,
          occurredAt: now,
          payload: {
            folio: alert.folio!,
            version: alert.version,
            outcome: input.outcome,
            deactivatedAt: now.toISOString(),
          },
        });
        await this.outbox.append(m, TOPICS.alerts, [event]);
        await this.audit.record(m, ctx.actor, {
          action: AUDIT.alertDeactivated,
          alertId: id,
          details: {
            from: 'active',
            to: 'deactivated',
            outcome: input.outcome,
            version: alert.version,
            eventId: event.eventId,
          },
        });
        this.runtime.logger.info(
          { alertId: id, folio: alert.folio, outcome: alert.outcome },
          'alert deactivated',
        );
        return { status: 200, body: presentAlert(alert) };
      }),
    );
  }

  discard(id: string, ctx: WriteContext): Promise<StoredResponse<AlertView>> {
    return this.withPhotoCleanup((withdrawn) =>
      this.idempotent(ctx, `POST /api/v1/alerts/${id}/discard`, '', async (m) => {
        const alert = await this.lock(m, id);
        assertTransition(alert.status, 'discard');
        checkIfMatch(ctx.ifMatch, alert.revision);
        withdrawn.push(...(await this.withdrawPhotos(m, id)));
        await this.transitionQuietly(m, alert, 'discarded', ctx, AUDIT.alertDiscarded);
        return { status: 200, body: presentAlert(alert) };
      }),
    );
  }

  /**
   * deactivated → closed by an administrator: the audited override of the tracker's closure decision
   * (AlertClosed on tracking.v1, see closure/). The reason stays in the audit log; AlertClosureOverridden
   * tells the tracker to stop waiting (and not to flag the closure overdue).
   */
  close(id: string, input: CloseAlertInput, ctx: WriteContext): Promise<StoredResponse<AlertView>> {
    return this.idempotent(ctx, `POST /api/v1/alerts/${id}/close`, JSON.stringify(input), async (m) => {
      const alert = await this.lock(m, id);
      assertTransition(alert.status, 'close');
      checkIfMatch(ctx.ifMatch, alert.revision);
      const now = new Date();
      const event = createEnvelope<AlertClosureOverridden, typeof ALERT_EVENT_TYPES.closureOverridden>({
        type: ALERT_EVENT_TYPES.closureOverridden,
        alertId: id,
        producer: 'intake',
        correlationId: ctx.correlationId,
        occurredAt: now,
        payload: { folio: alert.folio!, closedAt: now.toISOString() },
      });
      await this.outbox.append(m, TOPICS.alerts, [event]);
      await this.transitionQuietly(m, alert, 'closed', ctx, AUDIT.alertClosed, {
        override: true,
        reason: input.reason,
        eventId: event.eventId,
      });
      return { status: 200, body: presentAlert(alert) };
    });
  }

  // ─── queries ─────────────────────────────────────────────────────────────────────────────────

  /** Drafts and discarded drafts belong to the Unidad de Género: other roles do not see them. */
  async get(id: string, actor: Actor): Promise<Alert> {
    const alert = await this.dataSource.getRepository(Alert).findOneBy({ id });
    if (!alert || !visibleTo(actor, alert.status)) throw alertNotFound();
    return alert;
  }

  async list(actor: Actor, status: AlertStatus | undefined, limit: number): Promise<Alert[]> {
    const statuses = status
      ? [status]
      : (['draft', 'active', 'deactivated', 'closed', 'discarded'] as AlertStatus[]);
    const allowed = statuses.filter((s) => visibleTo(actor, s));
    if (!allowed.length) return [];
    return this.dataSource
      .getRepository(Alert)
      .createQueryBuilder('a')
      .where('a.status IN (:...allowed)', { allowed })
      .orderBy('a.created_at', 'DESC')
      .limit(limit)
      .getMany();
  }

  /** The private part; every read is recorded in the audit log (in the same transaction as the read). */
  async readPrivate(
    id: string,
    actor: Actor,
  ): Promise<{ alertId: string; folio: string | null; private: PrivateFicha; purgedAt: string | null }> {
    return this.dataSource.transaction(async (m) => {
      const alert = await m.getRepository(Alert).findOneBy({ id });
      if (!alert) throw alertNotFound();
      const [row]: { data: PrivateFicha; purged_at: Date | null }[] = await m.query(
        `SELECT data, purged_at FROM ${SCHEMA}.alert_private WHERE alert_id = $1`,
        [id],
      );
      await this.audit.record(m, actor, { action: AUDIT.privateRead, alertId: id });
      // After retention (closed + PRIVATE_DATA_RETENTION_DAYS) the part is empty and purgedAt says when.
      return {
        alertId: id,
        folio: alert.folio,
        private: row?.data ?? {},
        purgedAt: row?.purged_at ? new Date(row.purged_at).toISOString() : null,
      };
    });
  }

  // ─── building blocks (also used by PhotoService) ─────────────────────────────────────────────

  async lock(m: EntityManager, id: string): Promise<Alert> {
    const alert = await m
      .getRepository(Alert)
      .findOne({ where: { id }, lock: { mode: 'pessimistic_write' } });
    if (!alert) throw alertNotFound();
    return alert;
  }

  /**
   * Stores a new public ficha (and whatever else changed): bumps the revision; while active, also the
   * version, with an AlertUpdated naming the changed fields. Nothing changed: nothing written.
   */
  async applyChange(
    m: EntityManager,
    alert: Alert,
    next: PublicFicha,
    ctx: WriteContext,
    extra: { privateFieldsChanged?: string[]; reportedAt?: Date; photosWithdrawn?: number; photoId?: string },
  ): Promise<AlertView> {
    const changedFields = changedPublicFields(alert.ficha, next);
    const privateFieldsChanged = extra.privateFieldsChanged ?? [];
    if (!changedFields.length && !privateFieldsChanged.length && !extra.reportedAt && !extra.photoId) {
      return presentAlert(alert);
    }
    const now = new Date();
    alert.ficha = next;
    alert.activatingBody = next.activatingBody ?? alert.activatingBody;
    alert.duplicateKey = duplicateKeyOf(next);
    if (extra.reportedAt) alert.reportedAt = extra.reportedAt;
    alert.revision += 1;
    alert.updatedAt = now;
    alert.updatedBy = ctx.actor.id;
    let eventId: string | undefined;
    if (alert.status === 'active' && changedFields.length) {
      alert.version += 1;
      const event = createEnvelope<AlertUpdated, typeof ALERT_EVENT_TYPES.updated>({
        type: ALERT_EVENT_TYPES.updated,
        alertId: alert.id,
        producer: 'intake',
        correlationId: ctx.correlationId,
        occurredAt: now,
        payload: { folio: alert.folio!, version: alert.version, changedFields, ficha: next },
      });
      await this.outbox.append(m, TOPICS.alerts, [event]);
      eventId = event.eventId;
    }
    await this.save(m, alert);
    await this.audit.record(m, ctx.actor, {
      action: extra.photoId ? AUDIT.photoAdded : AUDIT.alertUpdated,
      alertId: alert.id,
      targetId: extra.photoId ?? null,
      details: {
        status: alert.status,
        changedFields,
        privateFieldsChanged,
        ...(extra.reportedAt ? { reportedAtChanged: true } : {}),
        ...(extra.photosWithdrawn ? { photosWithdrawn: extra.photosWithdrawn } : {}),
        version: alert.version,
        ...(eventId ? { eventId } : {}),
      },
    });
    this.runtime.logger.info(
      { alertId: alert.id, folio: alert.folio, version: alert.version, revision: alert.revision },
      'alert updated',
    );
    return presentAlert(alert);
  }

  /** The newest stored photo of an alert, if any. */
  async currentPhoto(m: EntityManager, alertId: string): Promise<{ id: string; url: string } | null> {
    const [row]: { id: string }[] = await m.query(
      `SELECT id FROM ${SCHEMA}.photos WHERE alert_id = $1 AND status = 'stored' ORDER BY created_at DESC, id DESC LIMIT 1`,
      [alertId],
    );
    return row ? { id: row.id, url: this.storage.publicUrl(row.id, 'full') } : null;
  }

  /** Marks photos withdrawn (they stop being served at once); the caller deletes their files after commit. */
  async withdrawPhotos(m: EntityManager, alertId: string, photoId?: string): Promise<string[]> {
    // TypeORM answers UPDATE … RETURNING with [rows, affectedCount].
    const [rows]: [{ id: string }[], number] = await m.query(
      `UPDATE ${SCHEMA}.photos SET status = 'withdrawn', withdrawn_at = clock_timestamp()
       WHERE alert_id = $1 AND status = 'stored' AND ($2::uuid IS NULL OR id = $2::uuid) RETURNING id`,
      [alertId, photoId ?? null],
    );
    return rows.map((r) => r.id);
  }

  /** Runs `work`, then deletes the files of photos it withdrew (only once its transaction committed). */
  async withPhotoCleanup<T>(work: (withdrawn: string[]) => Promise<T>): Promise<T> {
    const withdrawn: string[] = [];
    const result = await work(withdrawn);
    for (const photoId of withdrawn) {
      await this.storage
        .remove(photoId)
        .catch((err: Error) =>
          this.runtime.logger.error(
            { photoId, err: err.message },
            'photo files not deleted; swept at next start',
          ),
        );
    }
    return result;
  }

  idempotent<T>(
    ctx: WriteContext,
    scope: string,
    body: string | Buffer,
    work: (m: EntityManager) => Promise<{ status: number; body: T }>,
  ): Promise<StoredResponse<T>> {
    return this.idempotency.run(
      ctx.actor.id ?? 'anonymous',
      ctx.idempotencyKey,
      scope,
      requestHash(scope, body),
      work,
    );
  }

  // ─── internals ───────────────────────────────────────────────────────────────────────────────

  private async activateLocked(m: EntityManager, alert: Alert, ctx: WriteContext, now: Date): Promise<void> {
    alert.folio = await this.nextFolio(m, now);
    alert.status = 'active';
    alert.version = 1;
    alert.revision += 1;
    alert.activatedAt = now;
    alert.updatedAt = now;
    alert.updatedBy = ctx.actor.id;
    await this.save(m, alert);
    const event = createEnvelope<AlertActivated, typeof ALERT_EVENT_TYPES.activated>({
      type: ALERT_EVENT_TYPES.activated,
      alertId: alert.id,
      producer: 'intake',
      correlationId: ctx.correlationId,
      occurredAt: now,
      payload: {
        folio: alert.folio,
        version: 1,
        reportedAt: alert.reportedAt.toISOString(),
        activatedAt: now.toISOString(),
        ficha: alert.ficha,
      },
    });
    await this.outbox.append(m, TOPICS.alerts, [event]);
    await this.audit.record(m, ctx.actor, {
      action: AUDIT.alertActivated,
      alertId: alert.id,
      details: {
        from: 'draft',
        to: 'active',
        folio: alert.folio,
        activatingBody: alert.activatingBody,
        eventId: event.eventId,
      },
    });
    this.runtime.logger.info({ alertId: alert.id, folio: alert.folio }, 'alert activated');
  }

  private async transitionQuietly(
    m: EntityManager,
    alert: Alert,
    to: 'discarded' | 'closed',
    ctx: WriteContext,
    action: string,
    details: Record<string, unknown> = {},
  ): Promise<void> {
    const from = alert.status;
    const now = new Date();
    alert.status = to;
    alert.revision += 1;
    alert.updatedAt = now;
    alert.updatedBy = ctx.actor.id;
    if (to === 'discarded') {
      alert.discardedAt = now;
      alert.ficha = { ...alert.ficha, photoUrl: null };
    } else alert.closedAt = now;
    await this.save(m, alert);
    await this.audit.record(m, ctx.actor, { action, alertId: alert.id, details: { from, to, ...details } });
    this.runtime.logger.info({ alertId: alert.id, folio: alert.folio, status: to }, `alert ${to}`);
  }

  private async save(m: EntityManager, alert: Alert): Promise<void> {
    const { id, createdAt: _c, createdBy: _b, ...fields } = alert;
    await m.update(Alert, { id }, fields);
  }

  private async possibleDuplicates(m: EntityManager, alert: Alert): Promise<PossibleDuplicate[]> {
    return m.query(
      `SELECT id, folio FROM ${SCHEMA}.alerts WHERE status = 'active' AND duplicate_key = $1 AND id <> $2 ORDER BY activated_at`,
      [alert.duplicateKey, alert.id],
    );
  }

  /** Merges a private-part patch (null clears a field); returns the names of fields that changed. */
  private async mergePrivate(m: EntityManager, alertId: string, patch: PrivateFicha): Promise<string[]> {
    const [row]: { data: Record<string, unknown> }[] = await m.query(
      `SELECT data FROM ${SCHEMA}.alert_private WHERE alert_id = $1 FOR UPDATE`,
      [alertId],
    );
    const current = row?.data ?? {};
    const next: Record<string, unknown> = { ...current };
    for (const [k, v] of Object.entries(patch)) {
      if (v === undefined) continue;
      if (v === null) delete next[k];
      else next[k] = v;
    }
    const changed = [...new Set([...Object.keys(current), ...Object.keys(next)])].filter(
      (k) => JSON.stringify(current[k]) !== JSON.stringify(next[k]),
    );
    if (changed.length) {
      await m.query(
        `INSERT INTO ${SCHEMA}.alert_private (alert_id, data, updated_at) VALUES ($1, $2, clock_timestamp())
         ON CONFLICT (alert_id) DO UPDATE SET data = EXCLUDED.data, updated_at = EXCLUDED.updated_at`,
        [alertId, JSON.stringify(next)],
      );
    }
    return changed;
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

function visibleTo(actor: Actor, status: AlertStatus): boolean {
  if (actor.role === 'operadora' || actor.role === 'admin') return true;
  return status !== 'draft' && status !== 'discarded';
}

function compactPrivate(p: PrivateFicha): Record<string, unknown> {
  return Object.fromEntries(Object.entries(p).filter(([, v]) => v !== undefined && v !== null));
}

function stripUndefined<T extends object>(o: T): Partial<T> {
  return Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined)) as Partial<T>;
}
