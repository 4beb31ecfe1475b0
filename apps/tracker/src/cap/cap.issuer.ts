import { MunicipalityCatalog } from '@alerta-rosa/config';
import {
  ALERT_EVENT_TYPES,
  AlertActivated,
  AlertDeactivated,
  AlertOutcome,
  AlertUpdated,
  Envelope,
  PublicFicha,
} from '@alerta-rosa/contracts';
import { SERVICE_RUNTIME, ServiceRuntime } from '@alerta-rosa/runtime';
import { Inject, Injectable } from '@nestjs/common';
import { DataSource, EntityManager } from 'typeorm';
import { TrackerConfig } from '../tracker.config';
import { CapContentInput, activeInfo, cancelInfo } from './cap-content';
import { wholeSecond } from './cap-datetime';
import { CapInfo, CapMsgType, renderCapXml } from './cap-message.builder';
import { capBaseUrl } from './cap.config';
import { CapAlertState, CapReason, CapRepository } from './cap.repository';

const NOTES: Record<CapReason, (version: number) => string | undefined> = {
  activation: () => undefined,
  update: (v) => `Ficha actualizada (versión ${v}).`,
  renewal: () => 'Renovación de la vigencia: la alerta sigue activa; la ficha no cambió.',
  deactivation: () => 'Alerta desactivada.',
};

/**
 * Issues the CAP 1.2 messages of every alert: `Alert` on activation, `Update` on each public update
 * (and on each renewal of the rolling expiry), `Cancel` on deactivation, each referencing every earlier
 * message of the alert. Built from the events' public ficha only. A message, once issued, is never
 * changed; the next one supersedes it.
 */
@Injectable()
export class CapIssuer {
  private readonly config: TrackerConfig;

  constructor(
    private readonly repository: CapRepository,
    private readonly dataSource: DataSource,
    private readonly municipalities: MunicipalityCatalog,
    @Inject(SERVICE_RUNTIME) runtime: ServiceRuntime<TrackerConfig>,
  ) {
    this.config = runtime.config;
  }

  /** Called for every alerts.v1 event, inside the inbox transaction that records it on the timeline. */
  async onAlertEvent(m: EntityManager, event: Envelope): Promise<void> {
    switch (event.type) {
      case ALERT_EVENT_TYPES.activated: {
        const p = event.payload as AlertActivated;
        return this.issueActive(m, event.alertId, p.folio, p.version, p.ficha, 'activation', event.eventId);
      }
      case ALERT_EVENT_TYPES.updated: {
        const p = event.payload as AlertUpdated;
        return this.issueActive(m, event.alertId, p.folio, p.version, p.ficha, 'update', event.eventId);
      }
      case ALERT_EVENT_TYPES.deactivated: {
        const p = event.payload as AlertDeactivated;
        return this.issueCancel(m, event.alertId, p.version, p.outcome, event.eventId);
      }
      default:
        return;
    }
  }

  /** An `Update` that only moves the expiry on, if the alert is still active and its renewal is due. */
  async renew(alertId: string): Promise<boolean> {
    return this.dataSource.transaction(async (m) => {
      const state = await this.repository.lock(m, alertId);
      const dueBy = Date.now() + this.config.CAP_RENEW_BEFORE_SECONDS * 1000;
      if (!state || state.status !== 'active' || !state.ficha || state.expiresAt.getTime() > dueBy)
        return false;
      await this.issue(m, state, {
        msgType: 'Update',
        reason: 'renewal',
        version: state.version,
        ficha: state.ficha,
        status: 'active',
        outcome: null,
        causeEventId: null,
      });
      return true;
    });
  }

  private async issueActive(
    m: EntityManager,
    alertId: string,
    folio: string,
    version: number,
    ficha: PublicFicha,
    reason: 'activation' | 'update',
    causeEventId: string,
  ): Promise<void> {
    const state = await this.repository.lock(m, alertId);
    // A version already covered (or an event after the Cancel) issues nothing.
    if (state && (state.version >= version || state.status === 'cancelled')) return;
    await this.issue(m, state ?? { alertId, folio, messageCount: 0 }, {
      // The first message of an alert is always an Alert, even if the tracker first hears of an update.
      msgType: state ? 'Update' : 'Alert',
      reason: state ? reason : 'activation',
      version,
      ficha,
      status: 'active',
      outcome: null,
      causeEventId,
    });
  }

  private async issueCancel(
    m: EntityManager,
    alertId: string,
    version: number,
    outcome: AlertOutcome,
    causeEventId: string,
  ): Promise<void> {
    const state = await this.repository.lock(m, alertId);
    // Nothing was issued for it (no activation seen): there is nothing to cancel.
    if (!state || !state.ficha || state.status === 'cancelled' || state.version >= version) return;
    await this.issue(m, state, {
      msgType: 'Cancel',
      reason: 'deactivation',
      version,
      ficha: state.ficha,
      status: 'cancelled',
      outcome,
      causeEventId,
    });
  }

  private async issue(
    m: EntityManager,
    state: Pick<CapAlertState, 'alertId' | 'folio' | 'messageCount'>,
    next: {
      msgType: CapMsgType;
      reason: CapReason;
      version: number;
      ficha: PublicFicha;
      status: 'active' | 'cancelled';
      outcome: AlertOutcome | null;
      causeEventId: string | null;
    },
  ): Promise<void> {
    const c = this.config;
    const references = await this.repository.references(m, state.alertId);
    const last = references[references.length - 1];
    // To the second (CAP has no fractions), and never before the message it supersedes.
    const sent = new Date(Math.max(wholeSecond(new Date()).getTime(), last?.sent.getTime() ?? 0));
    const lifetime = next.status === 'cancelled' ? c.CAP_CANCELLED_VISIBLE_SECONDS : c.CAP_EXPIRES_SECONDS;
    const expires = new Date(sent.getTime() + lifetime * 1000);
    const seat = this.municipalities.byInegiCode(next.ficha.municipalityCode);
    const content: CapContentInput = {
      folio: state.folio,
      ficha: next.ficha,
      expires,
      senderName: c.CAP_SENDER_NAME,
      web: c.CAP_WEB_URL ?? `${capBaseUrl(c)}/cap/alerts.atom`,
      seat: seat ? { lat: seat.lat, lng: seat.lng } : null,
      radiusKm: c.CAP_AREA_RADIUS_KM,
    };
    const info: CapInfo =
      next.msgType === 'Cancel' ? cancelInfo(content, next.outcome!) : activeInfo(content);
    const seq = state.messageCount + 1;
    const identifier = `${state.folio}-m${seq}`;
    const xml = renderCapXml({
      identifier,
      sender: c.CAP_SENDER,
      sent,
      status: c.CAP_STATUS,
      msgType: next.msgType,
      scope: 'Public',
      note: NOTES[next.reason](next.version),
      references,
      incidents: state.folio,
      info: [info],
    });
    await this.repository.record(
      m,
      {
        identifier,
        alertId: state.alertId,
        seq,
        msgType: next.msgType,
        reason: next.reason,
        alertVersion: next.version,
        sender: c.CAP_SENDER,
        sent,
        expires,
        headline: info.headline,
        summary: info.description,
        xml,
        causeEventId: next.causeEventId,
      },
      { folio: state.folio, status: next.status, ficha: next.ficha, outcome: next.outcome },
    );
  }
}
