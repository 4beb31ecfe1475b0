import { CommitNotifier } from '@alerta-rosa/messaging';
import { SERVICE_RUNTIME, ServiceRuntime } from '@alerta-rosa/runtime';
import { BeforeApplicationShutdown, Inject, Injectable, OnApplicationBootstrap } from '@nestjs/common';
import { JobState, Queue } from 'bullmq';
import type { Logger } from 'pino';
import { CoordinationConfig } from '../coordination.config';
import { MailRepository } from '../mail/mail.repository';
import { EscalateTask } from '../tasks/escalate-task.use-case';
import { levelReadiness, nextLevel } from '../tasks/escalation.rule';
import { notifyDispatch } from '../tasks/sql';
import { TaskRepository } from '../tasks/task.repository';
import { CoordinationQueues } from './coordination.queues';
import { mailJobId, progressJobId } from './queue.names';
import { redisCall } from './redis-call';
import { SweepLoop } from './sweep.loop';

/** States in which a job will still run by itself. */
const LIVE: ReadonlySet<JobState | 'unknown'> = new Set([
  'waiting',
  'delayed',
  'active',
  'prioritized',
  'waiting-children',
]);

/**
 * Jobs in Redis are not the truth; the rows in PostgreSQL are. Every RECONCILE_INTERVAL_MS this
 * compares them, in three independent sweeps (one failing — Redis away — does not hold up another):
 *
 * - **escalations** (PostgreSQL only): every level of an unacknowledged task that is due
 *   (escalation.rule) RECONCILE_GRACE_MS ago and has no escalation row is fired here, through the
 *   same use case as its timer job (row lock, due check and the (task, level) key in one transaction).
 *   So an escalation fires even when Redis lost its job, or is away.
 * - **mails**: a mail handed to BullMQ and still `queued` whose job is gone, failed (an infrastructure
 *   failure: a refusal would have marked the row failed) or completed without the row being settled
 *   goes back to the dispatcher, which adds it again under the same job id.
 * - **progress reminders**: likewise, the next reminder of each active alert.
 *
 * A sweep that fails is retried with capped back-off, without end (SweepLoop).
 */
@Injectable()
export class QueueReconciler implements OnApplicationBootstrap, BeforeApplicationShutdown {
  private readonly logger: Logger;
  private readonly loops: SweepLoop[];
  private readonly graceMs: number;

  constructor(
    private readonly tasks: TaskRepository,
    private readonly mails: MailRepository,
    private readonly escalate: EscalateTask,
    private readonly queues: CoordinationQueues,
    private readonly notifier: CommitNotifier,
    @Inject(SERVICE_RUNTIME) runtime: ServiceRuntime<CoordinationConfig>,
  ) {
    this.logger = runtime.logger.child({ component: 'reconciler' });
    this.graceMs = runtime.config.RECONCILE_GRACE_MS;
    const loop = (name: string, run: () => Promise<void>) =>
      new SweepLoop({ name, intervalMs: runtime.config.RECONCILE_INTERVAL_MS, logger: this.logger, run });
    this.loops = [
      loop('escalations', () => this.fireOverdueEscalations()),
      loop('mails', () => this.handOverLostMails()),
      loop('progress', () => this.handOverLostReminders()),
    ];
  }

  onApplicationBootstrap(): void {
    for (const l of this.loops) l.start();
  }

  async beforeApplicationShutdown(): Promise<void> {
    await Promise.all(this.loops.map((l) => l.stop()));
  }

  private get stopping(): boolean {
    return this.loops[0].stopping;
  }

  async fireOverdueEscalations(): Promise<void> {
    const overdue = await this.tasks.unacknowledgedPastDeadline(this.graceMs);
    const cutoff = new Date(Date.now() - this.graceMs);
    for (const task of overdue) {
      if (this.stopping) return;
      const fired = new Map(Object.entries(task.fired).map(([l, at]) => [Number(l), new Date(at)]));
      const level = nextLevel(task.escalation_plan, new Set(fired.keys()));
      if (level === null) continue;
      // Left to its timer job until the grace has passed; the use case checks again under the lock.
      if (!levelReadiness(task.escalation_plan, level, fired, cutoff)?.ready) continue;
      const result = await this.escalate.execute(task.id, level, new Date());
      if (result.outcome === 'fired') {
        this.logger.warn(
          {
            alertId: task.alert_id,
            taskId: task.id,
            level,
            lateMs: result.escalatedAt.getTime() - result.dueAt.getTime(),
          },
          'escalation fired by the reconciler (its timer job did not)',
        );
      }
    }
  }

  async handOverLostMails(): Promise<void> {
    const unsettled = await this.mails.handedOverUnsettled(this.graceMs);
    for (const batch of chunks(unsettled, 50)) {
      if (this.stopping) return;
      const states = await this.statesOf(
        this.queues.mail,
        batch.map((m) => mailJobId(m.id)),
      );
      for (const [i, mail] of batch.entries()) {
        const state = states[i];
        if (LIVE.has(state)) continue;
        await this.removeFinished(this.queues.mail, mailJobId(mail.id), state);
        if (await this.mails.handOverAgain(mail.id, mail.handed_over)) {
          this.logger.warn(
            { mailId: mail.id, jobState: state },
            'mail handed to the queue again (its job was lost)',
          );
        }
      }
    }
  }

  async handOverLostReminders(): Promise<void> {
    const alerts = await this.tasks.progressHandedOver();
    for (const batch of chunks(alerts, 50)) {
      if (this.stopping) return;
      const ids = batch.map((a) => progressJobId(a.alert_id, a.progress_seq));
      const states = await this.statesOf(this.queues.progress, ids);
      for (const [i, alert] of batch.entries()) {
        const state = states[i];
        if (LIVE.has(state)) continue;
        await this.removeFinished(this.queues.progress, ids[i], state);
        const again = await this.tasks.transaction(async (m) => {
          const updated = await this.tasks.handProgressOverAgain(m, alert.alert_id, alert.progress_seq);
          if (updated) notifyDispatch(this.notifier, m);
          return updated;
        });
        if (again) {
          this.logger.warn(
            { alertId: alert.alert_id, seq: alert.progress_seq, jobState: state },
            'progress reminder handed to the queue again (its job was lost)',
          );
        }
      }
    }
  }

  private statesOf(queue: Queue, jobIds: string[]): Promise<(JobState | 'unknown')[]> {
    return redisCall(Promise.all(jobIds.map((id) => queue.getJobState(id))));
  }

  /** A finished job keeps its id taken (BullMQ would ignore the same id added again): remove it first. */
  private async removeFinished(queue: Queue, jobId: string, state: JobState | 'unknown'): Promise<void> {
    if (state !== 'unknown') await redisCall(queue.remove(jobId));
  }
}

function chunks<T>(items: T[], size: number): T[][] {
  const out: T[][] = [];
  for (let i = 0; i < items.length; i += size) out.push(items.slice(i, i + size));
  return out;
}
