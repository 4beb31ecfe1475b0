import { CommitNotifier } from '@alerta-rosa/messaging';
import { AuthenticatedUser } from '@alerta-rosa/auth';
import {
  AlertActivated,
  AlertDeactivated,
  AlertUpdated,
  Envelope,
  TASK_EVENT_TYPES,
  TaskAcknowledged,
  TaskAssigned,
  TaskCancelled,
  TaskCompleted,
  TaskProgressReported,
  TaskState,
  createEnvelope,
  newId,
} from '@alerta-rosa/contracts';
import { ApiError, notFound } from '@alerta-rosa/http';
import { SERVICE_RUNTIME, ServiceRuntime } from '@alerta-rosa/runtime';
import { HttpStatus, Inject, Injectable } from '@nestjs/common';
import { DataSource, EntityManager } from 'typeorm';
import { AckLinkSigner } from '../ack/ack-link.signer';
import { AreaDirectory } from '../areas/area-directory';
import { CoordinationConfig } from '../coordination.config';
import { renderAssignment, renderStandDown, renderUpdate } from '../mail/mail.templates';
import { planTasks } from '../pso/pso.planner';
import { PsoCatalog } from '../pso/pso.catalog';
import { notifyDispatch, rows } from './sql';
import { alertView, groupByArea, insertMail, insertMails, taskView } from './task-mail.factory';
import { TaskRepository, taskRef } from './task.repository';
import { AlertRow, OPEN_STATES, TaskRow } from './task.types';

/**
 * The PSO tasks of each alert: created from the PSO version in force at activation, moved through
 * assigned → acknowledged → in_progress → done (or cancelled). Every change, its mails and its
 * tasks.v1 events are written in one transaction. Timers and mail outcomes are use cases of their own
 * (escalate-task, remind-progress, record-mail-outcome); the SQL they share is in task.repository.ts.
 */
@Injectable()
export class TaskService {
  private readonly config: CoordinationConfig;

  constructor(
    private readonly dataSource: DataSource,
    private readonly tasks: TaskRepository,
    private readonly directory: AreaDirectory,
    private readonly catalog: PsoCatalog,
    private readonly signer: AckLinkSigner,
    private readonly notifier: CommitNotifier,
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
    const alert = await this.tasks.alert(m, event.alertId);
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
    await this.tasks.appendEvents(m, events);
    notifyDispatch(this.notifier, m);
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
    const open = await this.tasks.openTasks(m, event.alertId);
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
    notifyDispatch(this.notifier, m);
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
          ...taskRef(t, alert.folio),
          cancelledAt: new Date(p.deactivatedAt).toISOString(),
          reason: 'alert_deactivated',
        },
      }),
    );
    await this.tasks.appendEvents(m, events);
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
    notifyDispatch(this.notifier, m);
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
      await this.tasks.appendTaskEvent<TaskAcknowledged>(m, updated, TASK_EVENT_TYPES.acknowledged, {
        acknowledgedAt: new Date(updated.acknowledged_at!).toISOString(),
        via: by.via,
        userId: by.user?.id ?? null,
      });
      notifyDispatch(this.notifier, m);
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
      await this.tasks.appendTaskEvent<TaskProgressReported>(m, updated, TASK_EVENT_TYPES.progressReported, {
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
      await this.tasks.appendTaskEvent<TaskCompleted>(m, updated, TASK_EVENT_TYPES.completed, {
        completedAt: new Date(updated.completed_at!).toISOString(),
        userId: user.id,
      });
      return updated;
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
}

export function taskNotFound(): ApiError {
  return notFound('TASK_NOT_FOUND', 'La tarea no existe o no pertenece a su área.');
}

function closed(code: string, message: string): ApiError {
  return new ApiError(HttpStatus.CONFLICT, code, message);
}
