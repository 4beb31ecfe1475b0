import { AlertClosed, Envelope, TOPICS, TRACKING_EVENT_TYPES } from '@alerta-rosa/contracts';
import { InboxContext } from '@alerta-rosa/messaging';
import { SERVICE_RUNTIME, ServiceRuntime } from '@alerta-rosa/runtime';
import { Controller, Inject, Injectable } from '@nestjs/common';
import { Ctx, EventPattern, Payload } from '@nestjs/microservices';
import { EntityManager } from 'typeorm';
import { Alert } from '../alerts/alert.entity';
import { AUDIT, AuditLog } from '../audit/audit.log';
import { Actor } from '../common/actor';

/** Who closes an alert when the tracker decided it (the audit log's actor). */
export const TRACKER_ACTOR: Actor = { id: 'tracker', role: null, areaId: null, ip: null };

/**
 * The tracker decides closure (deactivated, her photo withdrawn everywhere, every task closed) and says so
 * on tracking.v1; intake moves the alert deactivated → closed at that moment, audited with actor «tracker»,
 * in the inbox transaction (once per event). An alert an administrator already closed by hand stays as is.
 */
@Injectable()
export class TrackerClosureService {
  constructor(
    private readonly audit: AuditLog,
    @Inject(SERVICE_RUNTIME) private readonly runtime: ServiceRuntime,
  ) {}

  async onAlertClosed(m: EntityManager, event: Envelope<AlertClosed>): Promise<void> {
    const alert = await m
      .getRepository(Alert)
      .findOne({ where: { id: event.alertId }, lock: { mode: 'pessimistic_write' } });
    const log = { alertId: event.alertId, folio: event.payload.folio, eventId: event.eventId };
    if (!alert) {
      this.runtime.logger.warn(log, 'tracker closed an alert intake does not have; ignored');
      return;
    }
    if (alert.status === 'closed') {
      this.runtime.logger.info(log, 'tracker closure for an alert already closed (manual override); kept');
      return;
    }
    if (alert.status !== 'deactivated') {
      this.runtime.logger.warn(
        { ...log, status: alert.status },
        'tracker closure for an alert not deactivated; ignored',
      );
      return;
    }
    const closedAt = new Date(event.payload.closedAt);
    await m.update(
      Alert,
      { id: alert.id },
      {
        status: 'closed',
        closedAt,
        revision: alert.revision + 1,
        updatedAt: new Date(),
        updatedBy: TRACKER_ACTOR.id,
      },
    );
    await this.audit.record(m, TRACKER_ACTOR, {
      action: AUDIT.alertClosed,
      alertId: alert.id,
      details: {
        from: 'deactivated',
        to: 'closed',
        by: 'tracker',
        closedAt: closedAt.toISOString(),
        eventId: event.eventId,
      },
    });
    this.runtime.logger.info(log, 'alert closed (tracker)');
  }
}

/** tracking.v1: intake acts on AlertClosed; AlertClosureOverdue is for coordination. */
@Controller()
export class TrackerClosureHandler {
  constructor(private readonly closure: TrackerClosureService) {}

  @EventPattern(TOPICS.tracking)
  async onTrackingEvent(@Payload() event: Envelope, @Ctx() ctx: InboxContext): Promise<void> {
    if (event.type === TRACKING_EVENT_TYPES.closed)
      await this.closure.onAlertClosed(ctx.manager, event as Envelope<AlertClosed>);
  }
}
