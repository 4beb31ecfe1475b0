import { CommitNotifier, CommittedWorkLoop } from '@alerta-rosa/messaging';
import { SERVICE_RUNTIME, ServiceRuntime } from '@alerta-rosa/runtime';
import { Inject, Injectable, OnApplicationBootstrap, OnApplicationShutdown } from '@nestjs/common';
import { DataSource } from 'typeorm';
import { CoordinationConfig } from '../coordination.config';
import { DISPATCH_CHANNEL, rows } from '../tasks/sql';
import { RemindProgress } from '../tasks/remind-progress.use-case';
import { CoordinationQueues } from './coordination.queues';
import { escalationJobId, mailJobId, progressJobId } from './queue.names';
import { redisCall } from './redis-call';

/**
 * Hands work decided in the database to the BullMQ queues: new mails, escalation timers of new tasks,
 * the next progress reminder of each active alert; and removes the timers of tasks no longer waiting.
 * Woken once a transaction commits (at once in this process, by NOTIFY in the others), and by a poll
 * as a fallback, so that work committed just before a crash is still scheduled after the restart. Adding a job twice is harmless (same job id).
 * Redis calls made while rows are locked are bounded (redisCall): a Redis outage rolls the hand-over
 * back (releasing the rows, e.g. for an acknowledgement) instead of holding them until Redis returns.
 * What was handed over and then lost in Redis is found again by the QueueReconciler.
 */
@Injectable()
export class JobDispatcher implements OnApplicationBootstrap, OnApplicationShutdown {
  private readonly loop: CommittedWorkLoop;

  constructor(
    private readonly dataSource: DataSource,
    private readonly queues: CoordinationQueues,
    private readonly reminders: RemindProgress,
    notifier: CommitNotifier,
    @Inject(SERVICE_RUNTIME) runtime: ServiceRuntime<CoordinationConfig>,
  ) {
    this.loop = new CommittedWorkLoop({
      name: 'coordination-dispatch',
      databaseUrl: runtime.config.DATABASE_URL,
      channel: DISPATCH_CHANNEL,
      notifier, // this process's commits wake it at once; other replicas' reach it by NOTIFY
      pollIntervalMs: runtime.config.DISPATCH_POLL_MS,
      logger: runtime.logger.child({ component: 'dispatcher' }),
      run: () => this.dispatch(),
    });
  }

  async onApplicationBootstrap(): Promise<void> {
    // Not awaited: a Redis that is away at start-up delays the hand-over, not the service.
    void this.loop.start();
  }

  async onApplicationShutdown(): Promise<void> {
    await this.loop.stop();
  }

  private async dispatch(): Promise<void> {
    while (!this.loop.stopping && (await this.dispatchMails())) {
      // drain in batches
    }
    await this.scheduleTimers();
    await this.clearTimers();
    await this.scheduleProgress();
  }

  private async dispatchMails(): Promise<boolean> {
    return this.dataSource.transaction(async (m) => {
      const pending = await rows<{ id: string }>(
        m,
        `SELECT id FROM coordination.mails WHERE enqueued_at IS NULL ORDER BY created_at LIMIT 200 FOR UPDATE SKIP LOCKED`,
      );
      if (pending.length === 0) return false;
      await redisCall(
        this.queues.mail.addBulk(
          pending.map((p) => ({ name: 'send', data: { mailId: p.id }, opts: { jobId: mailJobId(p.id) } })),
        ),
      );
      await m.query(`UPDATE coordination.mails SET enqueued_at = clock_timestamp() WHERE id = ANY($1)`, [
        pending.map((p) => p.id),
      ]);
      return pending.length === 200;
    });
  }

  private async scheduleTimers(): Promise<void> {
    await this.dataSource.transaction(async (m) => {
      const due = await rows<{ id: string; escalation_plan: { level: number; dueAt: string }[] }>(
        m,
        `SELECT id, escalation_plan FROM coordination.tasks WHERE timers = 'to_schedule' LIMIT 500 FOR UPDATE SKIP LOCKED`,
      );
      if (due.length === 0) return;
      const now = Date.now();
      await redisCall(
        this.queues.escalation.addBulk(
          due.flatMap((t) =>
            t.escalation_plan.map((e) => ({
              name: 'check',
              data: { taskId: t.id, level: e.level, dueAt: e.dueAt },
              opts: { jobId: escalationJobId(t.id, e.level), delay: Math.max(0, Date.parse(e.dueAt) - now) },
            })),
          ),
        ),
      );
      await m.query(`UPDATE coordination.tasks SET timers = 'scheduled' WHERE id = ANY($1)`, [
        due.map((t) => t.id),
      ]);
    });
  }

  private async clearTimers(): Promise<void> {
    await this.dataSource.transaction(async (m) => {
      const done = await rows<{ id: string; escalation_plan: { level: number }[] }>(
        m,
        `SELECT id, escalation_plan FROM coordination.tasks WHERE timers = 'to_clear' LIMIT 500 FOR UPDATE SKIP LOCKED`,
      );
      if (done.length === 0) return;
      for (const t of done) {
        // A job being processed right now cannot be removed; it re-checks the task and does nothing.
        await redisCall(
          Promise.all(
            t.escalation_plan.map((e) => this.queues.escalation.remove(escalationJobId(t.id, e.level))),
          ),
        );
      }
      await m.query(`UPDATE coordination.tasks SET timers = 'cleared' WHERE id = ANY($1)`, [
        done.map((t) => t.id),
      ]);
    });
  }

  private async scheduleProgress(): Promise<void> {
    await this.dataSource.transaction(async (m) => {
      const alerts = await rows<{
        alert_id: string;
        progress_seq: number;
        activated_at: Date;
        pso_version: string;
      }>(
        m,
        `SELECT alert_id, progress_seq, activated_at, pso_version FROM coordination.alerts
         WHERE status = 'active' AND NOT progress_enqueued LIMIT 200 FOR UPDATE SKIP LOCKED`,
      );
      if (alerts.length === 0) return;
      const now = Date.now();
      await redisCall(
        this.queues.progress.addBulk(
          alerts.map((a) => {
            const at = new Date(a.activated_at).getTime() + a.progress_seq * this.reminders.intervalMs(a);
            return {
              name: 'remind',
              data: { alertId: a.alert_id, seq: a.progress_seq },
              opts: { jobId: progressJobId(a.alert_id, a.progress_seq), delay: Math.max(0, at - now) },
            };
          }),
        ),
      );
      await m.query(`UPDATE coordination.alerts SET progress_enqueued = true WHERE alert_id = ANY($1)`, [
        alerts.map((a) => a.alert_id),
      ]);
    });
  }
}
