import {
  AlertClosed,
  AlertClosureOverdue,
  Envelope,
  TOPICS,
  TRACKING_EVENT_TYPES,
  createEnvelope,
} from '@alerta-rosa/contracts';
import { OutboxWriter } from '@alerta-rosa/messaging';
import { SERVICE_RUNTIME, ServiceRuntime } from '@alerta-rosa/runtime';
import { Inject, Injectable } from '@nestjs/common';
import { EntityManager } from 'typeorm';
import { ProjectionResult } from '../projection/projector';
import { sqlOf } from '../projection/sql';
import { ClosureFacts, ClosureRepository } from './closure.repository';

/**
 * The closure rule. An alert is closed when it is deactivated, dissemination confirmed the withdrawal on
 * every account (AlertWithdrawalCompleted), no post that carried her photo is still up or may exist,
 * coordination took in the deactivation (its receipt follows the task cancellations it made) and every
 * task is completed or cancelled. The tracker then emits AlertClosed once, through its own outbox; the
 * closure moment is when the last of those conditions became true.
 */
@Injectable()
export class ClosureDecider {
  constructor(
    private readonly repo: ClosureRepository,
    private readonly outbox: OutboxWriter,
    @Inject(SERVICE_RUNTIME) private readonly runtime: ServiceRuntime,
  ) {}

  /** Called in the inbox transaction after the projection applied an event. */
  async afterProjection(m: EntityManager, result: ProjectionResult): Promise<void> {
    for (const a of result.alerts) {
      // Most events after a deactivation leave a condition unmet: no query for those.
      if (a.status !== 'deactivated' || a.closed) continue;
      if (!a.withdrawalCompleted || !a.coordinationStoodDown || !a.tasksClosed) continue;
      const cause = [...result.applied].reverse().find((e) => e.alertId === a.alertId);
      await this.evaluate(m, a.alertId, cause);
    }
  }

  async evaluate(m: EntityManager, alertId: string, cause?: Envelope): Promise<boolean> {
    const sql = sqlOf(m);
    // The row lock orders this decision against the overdue scheduler's.
    const facts = await this.repo.facts(sql, alertId, true);
    if (!facts || facts.status !== 'deactivated') return false;
    if (!(await this.conditionsMet(m, facts))) return false;
    const closedAt = latest([
      facts.deactivated_at,
      facts.withdrawal_completed_at,
      facts.coordination_stood_down_at,
      facts.last_withdrawn_at,
      facts.last_task_closed_at,
    ]);
    const event = createEnvelope<AlertClosed, typeof TRACKING_EVENT_TYPES.closed>({
      type: TRACKING_EVENT_TYPES.closed,
      alertId,
      producer: 'tracker',
      cause,
      payload: {
        folio: facts.folio ?? '',
        outcome: facts.outcome ?? '',
        deactivatedAt: facts.deactivated_at!.toISOString(),
        closedAt: closedAt.toISOString(),
      },
    });
    if (!(await this.repo.decide(sql, alertId, 'closed', event.eventId))) return false;
    await this.outbox.append(m, TOPICS.tracking, [event]);
    this.runtime.logger.info(
      { alertId, folio: facts.folio, closedAt: event.payload.closedAt },
      'alert closure decided',
    );
    return true;
  }

  private async conditionsMet(m: EntityManager, f: ClosureFacts): Promise<boolean> {
    if (!f.deactivated_at || !f.withdrawal_completed_at || !f.coordination_stood_down_at) return false;
    if (f.tasks_closed < f.tasks_total) return false;
    return (await this.repo.missingPhotoPosts(sqlOf(m), f.alert_id, true)).length === 0;
  }

  /** Flags an overdue closure once: AlertClosureOverdue with what is still missing. */
  async flagOverdue(m: EntityManager, alertId: string): Promise<boolean> {
    const sql = sqlOf(m);
    const facts = await this.repo.facts(sql, alertId);
    if (!facts?.deactivated_at) return false;
    const posts = await this.repo.missingPhotoPosts(sql, alertId, Boolean(facts.withdrawal_completed_at));
    const tasks = await this.repo.openTasks(sql, alertId);
    const event = createEnvelope<AlertClosureOverdue, typeof TRACKING_EVENT_TYPES.closureOverdue>({
      type: TRACKING_EVENT_TYPES.closureOverdue,
      alertId,
      producer: 'tracker',
      payload: {
        folio: facts.folio ?? '',
        deactivatedAt: facts.deactivated_at.toISOString(),
        flaggedAt: new Date().toISOString(),
        missingAccounts: [...new Set(posts.map((p) => p.account_id))],
        openTasks: tasks.length,
        missingPhotoPosts: posts.map((p) => ({
          accountId: p.account_id,
          platform: p.platform,
          handle: p.handle,
          state: p.state,
        })),
        withdrawalPending: !facts.withdrawal_completed_at,
      },
    });
    if (!(await this.repo.decide(sql, alertId, 'overdue', event.eventId))) return false;
    await this.outbox.append(m, TOPICS.tracking, [event]);
    this.runtime.logger.warn(
      {
        alertId,
        folio: facts.folio,
        missingAccounts: event.payload.missingAccounts,
        openTasks: tasks.length,
      },
      'alert closure overdue',
    );
    return true;
  }
}

function latest(dates: (Date | null)[]): Date {
  return new Date(Math.max(...dates.filter((d): d is Date => d !== null).map((d) => d.getTime())));
}
