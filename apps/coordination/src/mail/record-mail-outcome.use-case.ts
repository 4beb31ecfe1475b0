import {
  TASK_EVENT_TYPES,
  TaskMailDelayed,
  TaskMailFailed,
  TaskMailSent,
  createEnvelope,
} from '@alerta-rosa/contracts';
import { SERVICE_RUNTIME, ServiceRuntime } from '@alerta-rosa/runtime';
import { Inject, Injectable } from '@nestjs/common';
import { CoordinationConfig } from '../coordination.config';
import { TaskRepository } from '../tasks/task.repository';
import { MailRepository, MailRow } from './mail.repository';

/**
 * What became of an attempt to send a mail, recorded with its tasks.v1 event in one transaction:
 * accepted (TaskMailSent); refused for good by the relay (TaskMailFailed: given up, shown on the
 * task); or a transient failure (counted; after MAIL_DELAYED_AFTER_ATTEMPTS, TaskMailDelayed once and
 * the task shows `delayed`) — the mail stays queued and is retried until the relay takes it.
 */
@Injectable()
export class RecordMailOutcome {
  private readonly delayedAfter: number;

  constructor(
    private readonly mails: MailRepository,
    private readonly tasks: TaskRepository,
    @Inject(SERVICE_RUNTIME) runtime: ServiceRuntime<CoordinationConfig>,
  ) {
    this.delayedAfter = runtime.config.MAIL_DELAYED_AFTER_ATTEMPTS;
  }

  async sent(mailId: string, messageId: string | undefined): Promise<void> {
    await this.mails.transaction(async (m) => {
      const mail = await this.mails.markSent(m, mailId, messageId);
      if (!mail) return;
      await this.tasks.appendEvents(m, [
        createEnvelope<TaskMailSent, string>({
          type: TASK_EVENT_TYPES.mailSent,
          alertId: mail.alert_id,
          producer: 'coordination',
          payload: { ...mailRef(mail, mail.folio ?? ''), sentAt: new Date(mail.sent_at!).toISOString() },
        }),
      ]);
    });
  }

  /** Counts the attempt and releases the send's claim; returns the attempts so far and whether this one made the mail «delayed». */
  async transientFailure(
    mailId: string,
    claimToken: string,
    error: string,
  ): Promise<{ attempts: number; delayed: boolean } | null> {
    return this.mails.transaction(async (m) => {
      const mail = await this.mails.recordTransientFailure(m, mailId, claimToken, error, this.delayedAfter);
      if (!mail) return null;
      if (mail.newly_delayed) {
        if (mail.task_id && mail.kind === 'assignment') {
          await this.mails.setTaskMailStatus(m, mail.task_id, 'delayed', error);
        }
        await this.tasks.appendEvents(m, [
          createEnvelope<TaskMailDelayed, string>({
            type: TASK_EVENT_TYPES.mailDelayed,
            alertId: mail.alert_id,
            producer: 'coordination',
            payload: {
              ...mailRef(mail, await this.tasks.folioOf(m, mail.alert_id)),
              since: new Date(mail.created_at).toISOString(),
              delayedAt: new Date(mail.delayed_at!).toISOString(),
              error: error.slice(0, 1000),
            },
          }),
        ]);
      }
      return { attempts: mail.attempts, delayed: mail.newly_delayed };
    });
  }

  async refused(mailId: string, error: string): Promise<void> {
    await this.mails.transaction(async (m) => {
      const mail = await this.mails.markRefused(m, mailId, error);
      if (!mail) return;
      if (mail.task_id && mail.kind === 'assignment') {
        await this.mails.setTaskMailStatus(m, mail.task_id, 'failed', error);
      }
      await this.tasks.appendEvents(m, [
        createEnvelope<TaskMailFailed, string>({
          type: TASK_EVENT_TYPES.mailFailed,
          alertId: mail.alert_id,
          producer: 'coordination',
          payload: {
            ...mailRef(mail, await this.tasks.folioOf(m, mail.alert_id)),
            failedAt: new Date(mail.failed_at!).toISOString(),
            error: error.slice(0, 1000),
          },
        }),
      ]);
    });
  }
}

function mailRef(mail: MailRow, folio: string) {
  return {
    mailId: mail.id,
    kind: mail.kind,
    folio,
    areaId: mail.area_id,
    taskId: mail.task_id,
    attempts: mail.attempts,
  };
}
