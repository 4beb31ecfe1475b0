import { CommitNotifier } from '@alerta-rosa/messaging';
import { SERVICE_RUNTIME, ServiceRuntime } from '@alerta-rosa/runtime';
import { Inject, Injectable } from '@nestjs/common';
import { AreaDirectory } from '../areas/area-directory';
import { CoordinationConfig } from '../coordination.config';
import { renderProgressReminder } from '../mail/mail.templates';
import { PsoCatalog } from '../pso/pso.catalog';
import { notifyDispatch } from './sql';
import { alertView, groupByArea, insertMail, taskView } from './task-mail.factory';
import { TaskRepository } from './task.repository';
import { AlertRow } from './task.types';

/** PSO step 8: progress reminder number `seq` of an alert — one mail per area with open tasks — then the next is due. */
@Injectable()
export class RemindProgress {
  constructor(
    private readonly tasks: TaskRepository,
    private readonly directory: AreaDirectory,
    private readonly catalog: PsoCatalog,
    private readonly notifier: CommitNotifier,
    @Inject(SERVICE_RUNTIME) private readonly runtime: ServiceRuntime<CoordinationConfig>,
  ) {}

  async execute(alertId: string, seq: number): Promise<boolean> {
    return this.tasks.transaction(async (m) => {
      const alert = await this.tasks.lockAlert(m, alertId);
      if (!alert || alert.status !== 'active' || alert.progress_seq !== seq) return false;
      const pso = this.psoOf(alert);
      const view = alertView(alert, this.directory);
      for (const [areaId, tasks] of groupByArea(await this.tasks.openTasks(m, alertId))) {
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
      await this.tasks.advanceProgress(m, alertId, seq + 1);
      notifyDispatch(this.notifier, m);
      return true;
    });
  }

  /** Time between two reminders of the alert (its PSO version's, scaled by PSO_TIME_SCALE). */
  intervalMs(alert: Pick<AlertRow, 'pso_version' | 'activated_at'>): number {
    return this.psoOf(alert).progressReports.everyHours * 3_600_000 * this.runtime.config.PSO_TIME_SCALE;
  }

  private psoOf(alert: Pick<AlertRow, 'pso_version' | 'activated_at'>) {
    return this.catalog.byVersion(alert.pso_version) ?? this.catalog.inForceAt(new Date(alert.activated_at));
  }
}
