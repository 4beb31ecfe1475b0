import { notFound } from '@alerta-rosa/http';
import { SERVICE_RUNTIME, ServiceRuntime } from '@alerta-rosa/runtime';
import { Inject, Injectable } from '@nestjs/common';
import { DataSource } from 'typeorm';
import { sqlOf } from '../projection/sql';
import { TrackerConfig } from '../tracker.config';
import { ClosureRepository } from './closure.repository';

const ageSeconds = (since: Date, now: Date) =>
  Math.max(0, Math.round((now.getTime() - since.getTime()) / 1000));

/** GET /api/v1/alerts/:id/closure: whether the alert is closed and, if not, what is still missing. */
@Injectable()
export class ClosureService {
  constructor(
    private readonly dataSource: DataSource,
    private readonly repo: ClosureRepository,
    @Inject(SERVICE_RUNTIME) private readonly runtime: ServiceRuntime<TrackerConfig>,
  ) {}

  async closure(alertId: string) {
    return this.dataSource.transaction('REPEATABLE READ', async (m) => {
      const sql = sqlOf(m);
      const facts = await this.repo.facts(sql, alertId);
      if (!facts) throw notFound('ALERT_NOT_FOUND', 'No hay registro de esa alerta en el seguimiento.');
      const now = new Date();
      const decisions = await this.repo.decisions(sql, alertId);
      const decided = decisions.find((d) => d.kind === 'closed');
      const withdrawalCompleted = Boolean(facts.withdrawal_completed_at);
      const closed = facts.closed_at !== null || decided !== undefined;
      const posts = closed ? [] : await this.repo.missingPhotoPosts(sql, alertId, withdrawalCompleted);
      const tasks = closed ? [] : await this.repo.openTasks(sql, alertId);
      const overdueAfterMs = this.runtime.config.CLOSURE_OVERDUE_AFTER_SECONDS * 1000;
      const overdue =
        facts.closure_overdue_at !== null ||
        decisions.some((d) => d.kind === 'overdue') ||
        (!closed &&
          facts.deactivated_at !== null &&
          now.getTime() - facts.deactivated_at.getTime() > overdueAfterMs);
      return {
        alertId,
        folio: facts.folio,
        status: closed ? 'closed' : facts.status,
        deactivatedAt: facts.deactivated_at?.toISOString() ?? null,
        closedAt: facts.closed_at?.toISOString() ?? null,
        /** `tracker` (closure decided) or `admin` (manual override); null while open. */
        closedBy: facts.closed_by ?? (decided ? 'tracker' : null),
        overdue,
        overdueFlaggedAt: facts.closure_overdue_at?.toISOString() ?? null,
        withdrawalCompleted,
        /** Coordination took in the deactivation (and cancelled the open tasks). */
        coordinationConfirmed: facts.coordination_stood_down_at !== null,
        missing: {
          photoPosts: posts.map((p) => ({
            accountId: p.account_id,
            platform: p.platform,
            handle: p.handle,
            state: p.state,
            since: p.since.toISOString(),
            ageSeconds: ageSeconds(p.since, now),
          })),
          tasks: tasks.map((t) => ({
            taskId: t.task_id,
            areaId: t.area_id,
            areaName: t.area_name,
            state: t.state,
            since: t.since.toISOString(),
            ageSeconds: ageSeconds(t.since, now),
          })),
        },
      };
    });
  }
}
