import { CommitNotifier } from '@alerta-rosa/messaging';
import { EscalationTarget, TASK_EVENT_TYPES, TaskEscalated } from '@alerta-rosa/contracts';
import { SERVICE_RUNTIME, ServiceRuntime } from '@alerta-rosa/runtime';
import { Inject, Injectable } from '@nestjs/common';
import { AreaDirectory } from '../areas/area-directory';
import { CoordinationConfig } from '../coordination.config';
import { renderEscalation } from '../mail/mail.templates';
import { levelReadiness } from './escalation.rule';
import { notifyDispatch } from './sql';
import { alertView, insertMail, taskView } from './task-mail.factory';
import { TaskRepository } from './task.repository';

const TARGET_NAMES: Record<EscalationTarget, string> = {
  area_supervisor: 'Supervisión del área',
  duty_officer: 'Oficial de guardia de la Unidad de Género',
  direccion: 'Dirección de la Unidad de Género',
};

export type EscalationOutcome =
  | { outcome: 'fired'; dueAt: Date; escalatedAt: Date }
  /** Not yet (escalation.rule): `inMs` from now by the database's clock, at the earliest. */
  | { outcome: 'not_due'; inMs: number; waitingFor: number | null }
  | { outcome: 'duplicate' | 'not_needed' | 'gone' };

/**
 * Fires one escalation level of a task: only while the task is unacknowledged and its alert active,
 * only once the level is due by the database's clock (its deadline, and the chain's order and
 * spacing: escalation.rule.ts), checked under the task's row lock; the (task, level) primary key of
 * coordination.escalations makes it once-only whoever calls (the level's timer job, the reconciler).
 * The escalation, its mail and TaskEscalated are written in one transaction.
 */
@Injectable()
export class EscalateTask {
  constructor(
    private readonly tasks: TaskRepository,
    private readonly directory: AreaDirectory,
    private readonly notifier: CommitNotifier,
    @Inject(SERVICE_RUNTIME) private readonly runtime: ServiceRuntime<CoordinationConfig>,
  ) {}

  async execute(taskId: string, level: number, firedAt = new Date()): Promise<EscalationOutcome> {
    return this.tasks.transaction(async (m) => {
      const task = await this.tasks.lockTaskWithAlert(m, taskId);
      if (!task) return { outcome: 'gone' };
      if (task.state !== 'assigned' || task.alert.status !== 'active') return { outcome: 'not_needed' };
      const step = task.escalation_plan.find((e) => e.level === level);
      if (!step) return { outcome: 'gone' };
      const fired = await this.tasks.firedLevels(m, taskId);
      if (fired.has(level)) return { outcome: 'duplicate' };
      const now = await this.tasks.now(m);
      const readiness = levelReadiness(task.escalation_plan, level, fired, now)!;
      if (!readiness.ready) {
        return {
          outcome: 'not_due',
          inMs: readiness.notBefore.getTime() - now.getTime(),
          waitingFor: readiness.waitingFor,
        };
      }

      const target = step.target as EscalationTarget;
      const area = this.directory.area(task.area_id);
      const contact = area ? this.directory.contactsFor(target, area) : this.directory.dutyOfficer;
      const escalatedAt = await this.tasks.insertEscalation(m, {
        taskId,
        level,
        target,
        recipients: contact.emails,
        dueAt: step.dueAt,
        firedAt,
      });
      if (!escalatedAt) return { outcome: 'duplicate' };
      const alert = task.alert;
      const photoUrl = alert.ficha.photoUrl ?? null;
      await insertMail(m, {
        id: `escalate-${taskId}-l${level}`,
        kind: 'escalation',
        alertId: task.alert_id,
        taskId,
        areaId: task.area_id,
        recipients: contact.emails,
        rendered: renderEscalation(
          alertView(alert, this.directory),
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
      await this.tasks.appendTaskEvent<TaskEscalated>(
        m,
        task,
        TASK_EVENT_TYPES.escalated,
        {
          level,
          target,
          deadlineAt: new Date(step.dueAt).toISOString(),
          escalatedAt: escalatedAt.toISOString(),
        },
        alert.folio,
      );
      notifyDispatch(this.notifier, m);
      this.runtime.logger.warn({ alertId: task.alert_id, taskId, level, target }, 'task escalated');
      return { outcome: 'fired', dueAt: readiness.dueAt, escalatedAt };
    });
  }
}
