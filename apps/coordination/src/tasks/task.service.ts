import { AuthenticatedUser } from '@alerta-rosa/auth';
import {
  AlertActivated,
  AlertDeactivated,
  AlertUpdated,
  Envelope,
  EscalationTarget,
  TASK_EVENT_TYPES,
  TOPICS,
  TaskAcknowledged,
  TaskAssigned,
  TaskCancelled,
  TaskCompleted,
  TaskEscalated,
  TaskMailFailed,
  TaskMailSent,
  TaskProgressReported,
  TaskState,
  createEnvelope,
  newId,
} from '@alerta-rosa/contracts';
import { ApiError, notFound } from '@alerta-rosa/http';
import { OutboxWriter } from '@alerta-rosa/messaging';
import { SERVICE_RUNTIME, ServiceRuntime } from '@alerta-rosa/runtime';
import { HttpStatus, Inject, Injectable } from '@nestjs/common';
import { DataSource, EntityManager } from 'typeorm';
import { AckLinkSigner } from '../ack/ack-link.signer';
import { AreaDirectory } from '../areas/area-directory';
import { CoordinationConfig } from '../coordination.config';
import {
  renderAssignment,
  renderEscalation,
  renderProgressReminder,
  renderStandDown,
  renderUpdate,
} from '../mail/mail.templates';
import { planTasks } from '../pso/pso.planner';
import { PsoCatalog } from '../pso/pso.catalog';
import { notifyDispatch, rows } from './sql';
import { alertView, insertMail, insertMails, taskView } from './task-mail.factory';
import { AlertRow, OPEN_STATES, TaskRow } from './task.types';

const TARGET_NAMES: Record<EscalationTarget, string> = {
  area_supervisor: 'Supervisión del área',
  duty_officer: 'Oficial de guardia de la Unidad de Género',
  direccion: 'Dirección de la Unidad de Género',
};

export type EscalationOutcome = 'fired' | 'duplicate' | 'not_needed' | 'gone';

/**
 * The PSO tasks of each alert: created from the PSO version in force at activation, moved through
 * assigned → acknowledged → in_progress → done (or cancelled), escalated when not acknowledged in
 * time. Every change, its mails and its tasks.v1 events are written in one transaction.
 */
@Injectable()
export class TaskService {
  private readonly config: CoordinationConfig;

  constructor(
    private readonly dataSource: DataSource,
    private readonly outbox: OutboxWriter,
    private readonly directory: AreaDirectory,
    private readonly catalog: PsoCatalog,
    private readonly signer: AckLinkSigner,
    @Inject(SERVICE_RUNTIME) private readonly runtime: ServiceRuntime<CoordinationConfig>,
  ) {
    this.config = runtime.config;
  }

  // ---- alert events (called inside the inbox transaction) ----

  async onAlertActivated(m: EntityManager, event: Envelope<AlertActivated>): Promise<void> {
    const p = event.payload;
    const activatedAt = new Date(p.activatedAt);
    const pso = this.catalog.inForceAt(activatedAt);
    const plan = planTasks(
      pso,
      this.directory,
      { activatedAt, age: p.ficha.age, municipalityCode: p.ficha.municipalityCode },
      this.config.PSO_TIME_SCALE,
    );
    await rows(
      m,
      `INSERT INTO coordination.alerts (alert_id, folio, version, status, ficha, reported_at, activated_at, pso_version, region_id, minor, mujer_segura)
       VALUES ($1, $2, $3, 'active', $4, $5, $6, $7, $8, $9, $10) ON CONFLICT (alert_id) DO NOTHING RETURNING alert_id`,
      [
        event.alertId,
        p.folio,
        p.version,
        p.ficha,
        p.reportedAt,
        p.activatedAt,
        plan.psoVersion,
        plan.regionId,
        plan.minor,
        plan.mujerSeguraUnit,
      ],
    );
    const alert = await this.alertRow(m, event.alertId);
    const view = alertView(alert, this.directory);
    // One statement for all tasks: the inbox transaction stays short under load.
    const created = await rows<TaskRow>(
      m,
      `INSERT INTO coordination.tasks (id, alert_id, step_id, step_order, pso_version, area_id, area_name, title, instructions,
                                       state, ack_due_at, complete_due_at, escalation_plan)
       SELECT id, alert_id, step_id, step_order, pso_version, area_id, area_name, title, instructions, 'assigned',
              ack_due_at, complete_due_at, escalation_plan
       FROM jsonb_to_recordset($1::jsonb) AS x(id uuid, alert_id uuid, step_id text, step_order int, pso_version text,
            area_id text, area_name text, title text, instructions text, ack_due_at timestamptz,
            complete_due_at timestamptz, escalation_plan jsonb)
       ORDER BY step_order
       ON CONFLICT (alert_id, step_id) DO NOTHING RETURNING *`,
      [
        JSON.stringify(
          plan.tasks.map((t) => ({
            id: newId(),
            alert_id: event.alertId,
            step_id: t.step.id,
            step_order: t.step.order,
            pso_version: plan.psoVersion,
            area_id: t.area.id,
            area_name: t.area.name,
            title: t.step.title,
            instructions: t.step.instructions,
            ack_due_at: t.ackDueAt.toISOString(),
            complete_due_at: t.completeDueAt.toISOString(),
            escalation_plan: t.escalations.map((e) => ({
              level: e.level,
              target: e.target,
              dueAt: e.dueAt.toISOString(),
            })),
          })),
        ),
      ],
    );
    created.sort((a, b) => a.step_order - b.step_order);
    const photoUrl = p.ficha.photoUrl ?? null;
    const emails = new Map(plan.tasks.map((t) => [t.step.id, t.area.emails]));
    await insertMails(
      m,
      created.map((task) => ({
        id: `assign-${task.id}`,
        kind: 'assignment' as const,
        alertId: event.alertId,
        taskId: task.id,
        areaId: task.area_id,
        recipients: emails.get(task.step_id)!,
        rendered: renderAssignment(view, taskView(task, this.ackUrl(task.id)), Boolean(photoUrl)),
        photoUrl,
      })),
    );
    const events: Envelope[] = created.map((task) =>
      createEnvelope<TaskAssigned, string>({
        type: TASK_EVENT_TYPES.assigned,
        alertId: event.alertId,
        producer: 'coordination',
        cause: event,
        payload: {
          taskId: task.id,
          folio: p.folio,
          stepId: task.step_id,
          areaId: task.area_id,
          psoVersion: task.pso_version,
          areaName: task.area_name,
          title: task.title,
          ackDueAt: new Date(task.ack_due_at).toISOString(),
          completeDueAt: new Date(task.complete_due_at).toISOString(),
        },
      }),
    );
    if (events.length) await this.outbox.append(m, TOPICS.tasks, events);
    await notifyDispatch(m);
    this.runtime.logger.info(
      { alertId: event.alertId, folio: p.folio, psoVersion: plan.psoVersion, tasks: events.length },
      'tasks assigned',
    );
  }

  async onAlertUpdated(m: EntityManager, event: Envelope<AlertUpdated>): Promise<void> {
    const p = event.payload;
    const [alert] = await rows<AlertRow>(
      m,
      `UPDATE coordination.alerts SET version = $2, ficha = $3, updated_at = clock_timestamp()
       WHERE alert_id = $1 AND version < $2 RETURNING *`,
      [event.alertId, p.version, p.ficha],
    );
    if (!alert || alert.status !== 'active') return;
    const view = alertView(alert, this.directory);
    const open = await this.openTasks(m, event.alertId);
    const photoUrl = p.ficha.photoUrl ?? null;
    for (const [areaId, tasks] of groupByArea(open)) {
      const area = this.directory.area(areaId);
      await insertMail(m, {
        id: `update-${event.alertId}-v${p.version}-${areaId}`,
        kind: 'update',
        alertId: event.alertId,
        taskId: null,
        areaId,
        recipients: area?.emails ?? this.directory.dutyOfficer.emails,
        rendered: renderUpdate(
          view,
          p.changedFields,
          tasks.map((t) => taskView(t)),
          Boolean(photoUrl),
        ),
        photoUrl,
      });
    }
    await notifyDispatch(m);
  }

  async onAlertDeactivated(m: EntityManager, event: Envelope<AlertDeactivated>): Promise<void> {
    const p = event.payload;
    const [alert] = await rows<AlertRow>(
      m,
      `UPDATE coordination.alerts SET status = 'deactivated', version = GREATEST(version, $2), deactivated_at = $3, outcome = $4,
              updated_at = clock_timestamp()
       WHERE alert_id = $1 AND status = 'active' RETURNING *`,
      [event.alertId, p.version, p.deactivatedAt, p.outcome],
    );
    if (!alert) return;
    const cancelled = await rows<TaskRow>(
      m,
      `UPDATE coordination.tasks SET state = 'cancelled', cancelled_at = $2, cancel_reason = 'alert_deactivated',
              timers = CASE WHEN timers IN ('to_schedule', 'scheduled') THEN 'to_clear' ELSE timers END,
              updated_at = clock_timestamp()
       WHERE alert_id = $1 AND state = ANY($3) RETURNING *`,
      [event.alertId, p.deactivatedAt, OPEN_STATES],
    );
    const events = cancelled.map((t) =>
      createEnvelope<TaskCancelled, string>({
        type: TASK_EVENT_TYPES.cancelled,
        alertId: event.alertId,
        producer: 'coordination',
        cause: event,
        payload: {
          ...ref(t, alert.folio),
          cancelledAt: new Date(p.deactivatedAt).toISOString(),
          reason: 'alert_deactivated',
        },
      }),
    );
    if (events.length) await this.outbox.append(m, TOPICS.tasks, events);
    // One stand-down notice per area that had any task on this alert.
    const areas = await rows<{ area_id: string; area_name: string }>(
      m,
      `SELECT DISTINCT area_id, area_name FROM coordination.tasks WHERE alert_id = $1`,
      [event.alertId],
    );
    for (const a of areas) {
      await insertMail(m, {
        id: `standdown-${event.alertId}-${a.area_id}`,
        kind: 'stand_down',
        alertId: event.alertId,
        taskId: null,
        areaId: a.area_id,
        recipients: this.directory.area(a.area_id)?.emails ?? this.directory.dutyOfficer.emails,
        rendered: renderStandDown(alert.folio, a.area_name, p.outcome, new Date(p.deactivatedAt)),
        photoUrl: null,
      });
    }
    await notifyDispatch(m);
    this.runtime.logger.info(
      { alertId: event.alertId, folio: alert.folio, cancelled: cancelled.length },
      'tasks stood down',
    );
  }

  // ---- area actions ----

  async acknowledge(
    taskId: string,
    by: { via: 'link' | 'api'; user: AuthenticatedUser | null; linkNonce?: string },
  ): Promise<TaskRow> {
    return this.dataSource.transaction(async (m) => {
      const task = await this.lockTask(m, taskId, by.user);
      if (by.linkNonce) {
        const used = await rows(
          m,
          `INSERT INTO coordination.ack_link_uses (nonce, task_id) VALUES ($1, $2) ON CONFLICT DO NOTHING RETURNING nonce`,
          [by.linkNonce, taskId],
        );
        if (used.length === 0)
          throw new ApiError(HttpStatus.CONFLICT, 'ACK_LINK_USED', 'Este enlace ya fue utilizado.');
      }
      if (task.state === 'cancelled')
        throw closed('TASK_CANCELLED', 'La tarea fue cancelada (la alerta se desactivó).');
      if (task.state !== 'assigned') {
        throw closed('TASK_ALREADY_ACKNOWLEDGED', 'La recepción de esta tarea ya había sido confirmada.');
      }
      const [updated] = await rows<TaskRow>(
        m,
        `UPDATE coordination.tasks SET state = 'acknowledged', acknowledged_at = clock_timestamp(), acknowledged_via = $2,
                acknowledged_by = $3, timers = CASE WHEN timers IN ('to_schedule', 'scheduled') THEN 'to_clear' ELSE timers END,
                updated_at = clock_timestamp()
         WHERE id = $1 RETURNING *`,
        [taskId, by.via, by.user?.id ?? null],
      );
      await this.emit<TaskAcknowledged>(m, updated, TASK_EVENT_TYPES.acknowledged, {
        acknowledgedAt: new Date(updated.acknowledged_at!).toISOString(),
        via: by.via,
        userId: by.user?.id ?? null,
      });
      await notifyDispatch(m);
      return updated;
    });
  }

  async addNote(
    user: AuthenticatedUser,
    taskId: string,
    text: string,
  ): Promise<{ task: TaskRow; noteId: string }> {
    return this.dataSource.transaction(async (m) => {
      const task = await this.lockTask(m, taskId, user);
      this.requireWorkable(task);
      const noteId = newId();
      await m.query(
        `INSERT INTO coordination.task_notes (id, task_id, author_id, body) VALUES ($1, $2, $3, $4)`,
        [noteId, taskId, user.id, text],
      );
      const [updated] = await rows<TaskRow>(
        m,
        `UPDATE coordination.tasks SET state = 'in_progress', started_at = COALESCE(started_at, clock_timestamp()),
                updated_at = clock_timestamp() WHERE id = $1 RETURNING *`,
        [taskId],
      );
      await this.emit<TaskProgressReported>(m, updated, TASK_EVENT_TYPES.progressReported, {
        noteId,
        reportedAt: new Date().toISOString(),
        userId: user.id,
      });
      return { task: updated, noteId };
    });
  }

  async complete(user: AuthenticatedUser, taskId: string): Promise<TaskRow> {
    return this.dataSource.transaction(async (m) => {
      const task = await this.lockTask(m, taskId, user);
      this.requireWorkable(task);
      const [updated] = await rows<TaskRow>(
        m,
        `UPDATE coordination.tasks SET state = 'done', completed_at = clock_timestamp(), completed_by = $2,
                updated_at = clock_timestamp() WHERE id = $1 RETURNING *`,
        [taskId, user.id],
      );
      await this.emit<TaskCompleted>(m, updated, TASK_EVENT_TYPES.completed, {
        completedAt: new Date(updated.completed_at!).toISOString(),
        userId: user.id,
      });
      return updated;
    });
  }

  // ---- timers (called by the queue processors) ----

  /** Fires one escalation level if the task is still unacknowledged; the (task, level) key makes it once-only. */
  async escalate(taskId: string, level: number, firedAt = new Date()): Promise<EscalationOutcome> {
    return this.dataSource.transaction(async (m) => {
      const [task] = await rows<TaskRow & { alert: AlertRow }>(
        m,
        `SELECT t.*, row_to_json(a) AS alert FROM coordination.tasks t JOIN coordination.alerts a USING (alert_id)
         WHERE t.id = $1 FOR UPDATE OF t`,
        [taskId],
      );
      if (!task) return 'gone';
      if (task.state !== 'assigned' || task.alert.status !== 'active') return 'not_needed';
      const step = task.escalation_plan.find((e) => e.level === level);
      if (!step) return 'gone';
      const target = step.target as EscalationTarget;
      const area = this.directory.area(task.area_id);
      const contact = area ? this.directory.contactsFor(target, area) : this.directory.dutyOfficer;
      const inserted = await rows(
        m,
        `INSERT INTO coordination.escalations (task_id, level, target, recipients, due_at, fired_at) VALUES ($1, $2, $3, $4, $5, $6)
         ON CONFLICT (task_id, level) DO NOTHING RETURNING escalated_at`,
        [taskId, level, target, contact.emails, step.dueAt, firedAt],
      );
      if (inserted.length === 0) return 'duplicate';
      const alert = task.alert;
      const view = alertView(alert, this.directory);
      const photoUrl = alert.ficha.photoUrl ?? null;
      await insertMail(m, {
        id: `escalate-${taskId}-l${level}`,
        kind: 'escalation',
        alertId: task.alert_id,
        taskId,
        areaId: task.area_id,
        recipients: contact.emails,
        rendered: renderEscalation(
          view,
          taskView(task),
          {
            level,
            targetName: `${TARGET_NAMES[target]} (${contact.name})`,
            deadlineAt: new Date(task.ack_due_at),
          },
          Boolean(photoUrl),
        ),
        photoUrl,
      });
      await this.emit<TaskEscalated>(
        m,
        task,
        TASK_EVENT_TYPES.escalated,
        {
          level,
          target,
          deadlineAt: new Date(step.dueAt).toISOString(),
          escalatedAt: new Date(inserted[0].escalated_at).toISOString(),
        },
        alert.folio,
      );
      await notifyDispatch(m);
      this.runtime.logger.warn({ alertId: task.alert_id, taskId, level, target }, 'task escalated');
      return 'fired';
    });
  }

  /** Progress reminder number `seq` of an alert: one mail per area with open tasks, then the next is due. */
  async progressReminder(alertId: string, seq: number): Promise<boolean> {
    return this.dataSource.transaction(async (m) => {
      const [alert] = await rows<AlertRow>(
        m,
        `SELECT * FROM coordination.alerts WHERE alert_id = $1 FOR UPDATE`,
        [alertId],
      );
      if (!alert || alert.status !== 'active' || alert.progress_seq !== seq) return false;
      const pso =
        this.catalog.byVersion(alert.pso_version) ?? this.catalog.inForceAt(new Date(alert.activated_at));
      const view = alertView(alert, this.directory);
      for (const [areaId, tasks] of groupByArea(await this.openTasks(m, alertId))) {
        const area = this.directory.area(areaId);
        await insertMail(m, {
          id: `progress-${alertId}-${areaId}-n${seq}`,
          kind: 'progress_reminder',
          alertId,
          taskId: null,
          areaId,
          recipients: area?.emails ?? this.directory.dutyOfficer.emails,
          rendered: renderProgressReminder(
            view,
            tasks[0].area_name,
            pso.progressReports.instructions,
            tasks.map((t) => taskView(t)),
          ),
          photoUrl: null,
        });
      }
      await m.query(
        `UPDATE coordination.alerts SET progress_seq = $2, progress_enqueued = false, updated_at = clock_timestamp() WHERE alert_id = $1`,
        [alertId, seq + 1],
      );
      await notifyDispatch(m);
      return true;
    });
  }

  progressIntervalMs(alert: Pick<AlertRow, 'pso_version' | 'activated_at'>): number {
    const pso =
      this.catalog.byVersion(alert.pso_version) ?? this.catalog.inForceAt(new Date(alert.activated_at));
    return pso.progressReports.everyHours * 3_600_000 * this.config.PSO_TIME_SCALE;
  }

  // ---- mail outcomes (called by the mail processor) ----

  async mailSent(mailId: string, messageId: string | undefined, attempts: number): Promise<void> {
    await this.dataSource.transaction(async (m) => {
      // One statement: the mail, its task's mail status (assignments), and the folio for the event.
      const [mail] = await rows(
        m,
        `WITH sent AS (
           UPDATE coordination.mails SET status = 'sent', sent_at = clock_timestamp(), message_id = $2, attempts = $3,
                  last_error = NULL
           WHERE id = $1 AND status <> 'sent' RETURNING *
         ), task AS (
           UPDATE coordination.tasks SET mail_status = 'sent', mail_error = NULL, updated_at = clock_timestamp()
           WHERE id = (SELECT task_id FROM sent WHERE kind = 'assignment') RETURNING id
         )
         SELECT sent.*, a.folio FROM sent LEFT JOIN coordination.alerts a USING (alert_id)`,
        [mailId, messageId ?? null, attempts],
      );
      if (!mail) return;
      const folio: string = mail.folio ?? '';
      await this.outbox.append(m, TOPICS.tasks, [
        createEnvelope<TaskMailSent, string>({
          type: TASK_EVENT_TYPES.mailSent,
          alertId: mail.alert_id,
          producer: 'coordination',
          payload: {
            mailId,
            kind: mail.kind,
            folio,
            areaId: mail.area_id,
            taskId: mail.task_id,
            attempts,
            sentAt: new Date(mail.sent_at).toISOString(),
          },
        }),
      ]);
    });
  }

  async mailAttemptFailed(mailId: string, error: string, attempts: number, final: boolean): Promise<void> {
    await this.dataSource.transaction(async (m) => {
      const [mail] = await rows(
        m,
        `UPDATE coordination.mails SET attempts = $2, last_error = $3,
                status = CASE WHEN $4::boolean THEN 'failed' ELSE status END,
                failed_at = CASE WHEN $4::boolean THEN clock_timestamp() ELSE failed_at END
         WHERE id = $1 AND status = 'queued' RETURNING *`,
        [mailId, attempts, error.slice(0, 1000), final],
      );
      if (!mail || !final) return;
      if (mail.task_id && mail.kind === 'assignment') {
        await m.query(
          `UPDATE coordination.tasks SET mail_status = 'failed', mail_error = $2, updated_at = clock_timestamp() WHERE id = $1`,
          [mail.task_id, error.slice(0, 1000)],
        );
      }
      const folio = await this.folioOf(m, mail.alert_id);
      await this.outbox.append(m, TOPICS.tasks, [
        createEnvelope<TaskMailFailed, string>({
          type: TASK_EVENT_TYPES.mailFailed,
          alertId: mail.alert_id,
          producer: 'coordination',
          payload: {
            mailId,
            kind: mail.kind,
            folio,
            areaId: mail.area_id,
            taskId: mail.task_id,
            attempts,
            failedAt: new Date(mail.failed_at).toISOString(),
            error: error.slice(0, 1000),
          },
        }),
      ]);
    });
  }

  // ---- queries ----

  async list(user: AuthenticatedUser, filter: { alertId?: string; state?: TaskState }): Promise<TaskRow[]> {
    const params: unknown[] = [];
    const where: string[] = [];
    if (user.role === 'area') {
      params.push(user.areaId);
      where.push(`area_id = $${params.length}`);
    }
    if (filter.alertId) {
      params.push(filter.alertId);
      where.push(`alert_id = $${params.length}`);
    }
    if (filter.state) {
      params.push(filter.state);
      where.push(`state = $${params.length}`);
    }
    return this.dataSource.query(
      `SELECT * FROM coordination.tasks ${where.length ? `WHERE ${where.join(' AND ')}` : ''}
       ORDER BY created_at DESC, step_order LIMIT 500`,
      params,
    );
  }

  async get(user: AuthenticatedUser | null, taskId: string) {
    const [task] = await this.dataSource.query(`SELECT * FROM coordination.tasks WHERE id = $1`, [taskId]);
    if (!task || (user?.role === 'area' && task.area_id !== user.areaId)) throw taskNotFound();
    const [alert] = await this.dataSource.query(`SELECT folio FROM coordination.alerts WHERE alert_id = $1`, [
      task.alert_id,
    ]);
    const notes = await this.dataSource.query(
      `SELECT id, author_id, body, created_at FROM coordination.task_notes WHERE task_id = $1 ORDER BY created_at`,
      [taskId],
    );
    const escalations = await this.dataSource.query(
      `SELECT level, target, due_at, escalated_at FROM coordination.escalations WHERE task_id = $1 ORDER BY level`,
      [taskId],
    );
    return { task: task as TaskRow, folio: alert?.folio as string, notes, escalations };
  }

  // ---- helpers ----

  ackUrl(taskId: string): string {
    const token = this.signer.issue(taskId, this.config.ACK_LINK_TTL_SECONDS);
    if (this.config.ACK_LINK_PAGE_URL) {
      const page = new URL(this.config.ACK_LINK_PAGE_URL);
      page.searchParams.set('token', token);
      return page.toString();
    }
    const base = (this.config.PUBLIC_BASE_URL ?? `http://127.0.0.1:${this.config.PORT}`).replace(/\/+$/, '');
    return `${base}/api/v1/task-links/acknowledge?token=${token}`;
  }

  private async lockTask(m: EntityManager, taskId: string, user: AuthenticatedUser | null): Promise<TaskRow> {
    const [task] = await rows<TaskRow>(m, `SELECT * FROM coordination.tasks WHERE id = $1 FOR UPDATE`, [
      taskId,
    ]);
    // Another area's task answers exactly like a missing one: its existence is not disclosed.
    if (!task || (user?.role === 'area' && task.area_id !== user.areaId)) throw taskNotFound();
    return task;
  }

  private requireWorkable(task: TaskRow): void {
    if (task.state === 'assigned') {
      throw closed('TASK_NOT_ACKNOWLEDGED', 'Primero confirme la recepción de la tarea.');
    }
    if (task.state === 'done' || task.state === 'cancelled') {
      throw closed('TASK_CLOSED', 'La tarea ya está cerrada (concluida o cancelada).');
    }
  }

  private async emit<P>(
    m: EntityManager,
    task: TaskRow,
    type: string,
    extra: Omit<P, 'taskId' | 'folio' | 'stepId' | 'areaId'>,
    knownFolio?: string,
  ) {
    const folio = knownFolio ?? (await this.folioOf(m, task.alert_id));
    await this.outbox.append(m, TOPICS.tasks, [
      createEnvelope<P, string>({
        type,
        alertId: task.alert_id,
        producer: 'coordination',
        payload: { ...ref(task, folio), ...extra } as P,
      }),
    ]);
  }

  private async folioOf(m: EntityManager, alertId: string): Promise<string> {
    const [a] = await rows<{ folio: string }>(
      m,
      `SELECT folio FROM coordination.alerts WHERE alert_id = $1`,
      [alertId],
    );
    return a?.folio ?? '';
  }

  private async alertRow(m: EntityManager, alertId: string): Promise<AlertRow> {
    const [a] = await rows<AlertRow>(m, `SELECT * FROM coordination.alerts WHERE alert_id = $1`, [alertId]);
    return a;
  }

  private openTasks(m: EntityManager, alertId: string): Promise<TaskRow[]> {
    return rows<TaskRow>(
      m,
      `SELECT * FROM coordination.tasks WHERE alert_id = $1 AND state = ANY($2) ORDER BY step_order`,
      [alertId, OPEN_STATES],
    );
  }
}

function ref(t: TaskRow, folio: string) {
  return { taskId: t.id, folio, stepId: t.step_id, areaId: t.area_id };
}

function groupByArea(tasks: TaskRow[]): Map<string, TaskRow[]> {
  const byArea = new Map<string, TaskRow[]>();
  for (const t of tasks) byArea.set(t.area_id, [...(byArea.get(t.area_id) ?? []), t]);
  return byArea;
}

export function taskNotFound(): ApiError {
  return notFound('TASK_NOT_FOUND', 'La tarea no existe o no pertenece a su área.');
}

function closed(code: string, message: string): ApiError {
  return new ApiError(HttpStatus.CONFLICT, code, message);
}
