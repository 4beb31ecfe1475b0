import {
  ALERT_EVENT_TYPES,
  Envelope,
  PUBLICATION_EVENT_TYPES,
  RECEIPT_EVENT_TYPE,
  TASK_EVENT_TYPES,
  TRACKING_EVENT_TYPES,
} from '@alerta-rosa/contracts';
import { notFound } from '@alerta-rosa/http';
import { InboxContext } from '@alerta-rosa/messaging';
import { Injectable } from '@nestjs/common';
import { DataSource, EntityManager } from 'typeorm';
import { ClosureDecider } from '../closure/closure.decider';
import { Projector } from '../projection/projector';
import { sqlOf } from '../projection/sql';
import { TimelineEntry } from './timeline-entry.entity';
import { TrackedAlert } from './tracked-alert.entity';

const ESCALATION_LABELS: Record<string, string> = {
  area_supervisor: 'supervisión del área',
  duty_officer: 'oficial de guardia de la Unidad de Género',
  direccion: 'Dirección',
};

const MAIL_LABELS: Record<string, string> = {
  assignment: 'asignación',
  update: 'actualización',
  escalation: 'escalamiento',
  stand_down: 'fin de operativo',
  progress_reminder: 'recordatorio de avance',
  account_revoked: 'aviso de cuenta sin acceso',
  withdrawal_delayed: 'aviso de retiro pendiente',
  closure_overdue: 'aviso de cierre vencido',
};

const PUBLICATION_KIND_LABELS: Record<string, string> = {
  activation: 'ficha',
  update: 'actualización',
  located_notice: 'aviso de localización',
};

const PUBLICATION_FAILURE_LABELS: Record<string, string> = {
  auth_revoked: 'credenciales revocadas',
  bad_content: 'contenido rechazado por la plataforma',
  not_configured: 'cuenta sin credenciales',
  exhausted: 'reintentos agotados',
};

/** The deferred-work key of the projection in an inbox transaction. */
const PROJECTION_WORK = 'tracker.projection';

const CONSUMER_LABELS: Record<string, string> = {
  'alerta-rosa.dissemination': 'difusión',
  'alerta-rosa.coordination': 'coordinación',
};

/** Spanish label of a timeline entry, as the committee reads it. */
export function labelFor(entry: Pick<TimelineEntry, 'eventType' | 'details'>): string {
  switch (entry.eventType) {
    case ALERT_EVENT_TYPES.activated:
      return 'Alerta activada';
    case ALERT_EVENT_TYPES.updated:
      return 'Ficha actualizada';
    case ALERT_EVENT_TYPES.deactivated:
      return 'Alerta desactivada';
    case ALERT_EVENT_TYPES.closureOverridden:
      return 'Alerta cerrada por la administración (cierre manual con motivo registrado)';
    case TRACKING_EVENT_TYPES.closed:
      return 'Alerta cerrada: retiro confirmado en todas las cuentas y todas las tareas concluidas o canceladas';
    case TRACKING_EVENT_TYPES.closureOverdue: {
      const accounts = (entry.details.missingAccounts as string[] | undefined) ?? [];
      return `Cierre vencido: ${accounts.length ? `publicaciones pendientes de retiro en ${accounts.join(', ')}` : 'sin publicaciones pendientes conocidas'}; ${String(entry.details.openTasks)} tareas abiertas; se avisa al oficial de guardia`;
    }
    case RECEIPT_EVENT_TYPE: {
      const consumer = String(entry.details.consumer ?? '');
      return `Recibida por ${CONSUMER_LABELS[consumer] ?? consumer}`;
    }
    case TASK_EVENT_TYPES.assigned:
      return `Tarea asignada: ${String(entry.details.areaName ?? entry.details.areaId)}`;
    case TASK_EVENT_TYPES.acknowledged:
      return `Acuse de recibo de ${String(entry.details.areaId)}${entry.details.via === 'link' ? ' (enlace por correo)' : ''}`;
    case TASK_EVENT_TYPES.progressReported:
      return `Avance reportado por ${String(entry.details.areaId)}`;
    case TASK_EVENT_TYPES.completed:
      return `Tarea concluida por ${String(entry.details.areaId)}`;
    case TASK_EVENT_TYPES.cancelled:
      return `Tarea cancelada (${String(entry.details.areaId)})`;
    case TASK_EVENT_TYPES.escalated:
      return `Escalamiento nivel ${String(entry.details.level)} a ${ESCALATION_LABELS[String(entry.details.target)] ?? entry.details.target} (${String(entry.details.areaId)})`;
    case TASK_EVENT_TYPES.mailSent:
      return `Correo de ${MAIL_LABELS[String(entry.details.kind)] ?? entry.details.kind} enviado a ${String(entry.details.areaId)}`;
    case TASK_EVENT_TYPES.mailFailed:
      return `Correo de ${MAIL_LABELS[String(entry.details.kind)] ?? entry.details.kind} fallido para ${String(entry.details.areaId)}`;
    case TASK_EVENT_TYPES.mailDelayed:
      return `Correo de ${MAIL_LABELS[String(entry.details.kind)] ?? entry.details.kind} demorado para ${String(entry.details.areaId)} (${String(entry.details.attempts)} intentos; se sigue reintentando)`;
    case PUBLICATION_EVENT_TYPES.succeeded:
      return `Publicada (${PUBLICATION_KIND_LABELS[String(entry.details.kind)] ?? entry.details.kind}) en ${String(entry.details.handle)}${entry.details.recovered ? ' — encontrada tras una falla ambigua, sin duplicar' : ''}`;
    case PUBLICATION_EVENT_TYPES.failed:
      return `Publicación fallida en ${String(entry.details.handle)}: ${PUBLICATION_FAILURE_LABELS[String(entry.details.reason)] ?? entry.details.reason}`;
    case PUBLICATION_EVENT_TYPES.withdrawn:
      return `Publicación retirada de ${String(entry.details.handle)}`;
    case PUBLICATION_EVENT_TYPES.mayExist:
      return `Publicación posiblemente hecha en ${String(entry.details.handle)} (envío sin respuesta, no encontrada aún): se trata como publicada y se retirará`;
    case PUBLICATION_EVENT_TYPES.confirmedAbsent:
      return `Sin publicación en ${String(entry.details.handle)}: se buscó ${String(entry.details.lookups)} veces y no existe`;
    case PUBLICATION_EVENT_TYPES.withdrawalDelayed:
      return `Retiro demorado en ${String(entry.details.handle)} (${String(entry.details.attempts)} intentos; se sigue reintentando)`;
    case PUBLICATION_EVENT_TYPES.accountAuthRevoked:
      return `Credenciales revocadas en ${String(entry.details.handle)}: la cuenta deja de publicar hasta renovarlas; se avisa al área responsable (${String(entry.details.ownerArea)})`;
    case PUBLICATION_EVENT_TYPES.withdrawalCompleted:
      return `Retiro completo: ${String(entry.details.postsWithdrawn)} publicaciones en ${String(entry.details.accounts)} cuentas`;
    default:
      return entry.eventType;
  }
}

@Injectable()
export class TimelineService {
  constructor(
    private readonly dataSource: DataSource,
    private readonly projector: Projector,
    private readonly closure: ClosureDecider,
  ) {}

  /**
   * Records an event on its alert's timeline and in the projection, then lets the closure rule look at
   * the alerts the events could have closed: at the end of the inbox transaction, for every event it
   * handles at once (a group of consecutive events of a partition: one statement per table for the
   * group instead of four per event), in the order consumed, as tracker:rebuild applies them.
   */
  record(ctx: InboxContext, event: Envelope): void {
    const m = ctx.manager;
    ctx.defer(PROJECTION_WORK, event, (events) => this.project(m, events));
  }

  private async project(m: EntityManager, events: Envelope[]): Promise<void> {
    const result = await this.projector.apply(sqlOf(m, true), events);
    await this.closure.afterProjection(m, result);
  }

  async timeline(alertId: string) {
    // One snapshot for the alert's state and its entries, so the two always agree (events commit in
    // between otherwise: a version behind its own last entry).
    const { alert, entries } = await this.dataSource.transaction('REPEATABLE READ', async (m) => ({
      alert: await m.getRepository(TrackedAlert).findOneBy({ alertId }),
      entries: await m.getRepository(TimelineEntry).find({ where: { alertId }, order: { seq: 'ASC' } }),
    }));
    if (!alert && entries.length === 0) {
      throw notFound('ALERT_NOT_FOUND', 'No hay registro de esa alerta en el seguimiento.');
    }
    return {
      alertId,
      folio: alert?.folio ?? null,
      status: alert?.status ?? null,
      version: alert?.version ?? null,
      outcome: alert?.outcome ?? null,
      entries: entries.map((e) => ({
        seq: Number(e.seq),
        eventId: e.eventId,
        type: e.eventType,
        label: labelFor(e),
        source: e.source,
        alertVersion: e.alertVersion,
        occurredAt: e.occurredAt.toISOString(),
        recordedAt: e.recordedAt.toISOString(),
        details: e.details,
      })),
    };
  }
}
