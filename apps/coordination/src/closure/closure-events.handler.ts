import { AlertClosureOverdue, Envelope, TOPICS, TRACKING_EVENT_TYPES } from '@alerta-rosa/contracts';
import { CommitNotifier, InboxContext } from '@alerta-rosa/messaging';
import { Controller, Injectable } from '@nestjs/common';
import { Ctx, EventPattern, Payload } from '@nestjs/microservices';
import { EntityManager } from 'typeorm';
import { AreaDirectory } from '../areas/area-directory';
import { notifyDispatch } from '../tasks/sql';
import { insertMail } from '../tasks/task-mail.factory';
import { renderClosureOverdue } from './closure-overdue.mail';

/**
 * The tracker flags a deactivated alert whose closure is overdue: the Unidad de Género's duty officer is
 * e-mailed once per alert (the mail id comes from the alert, so a re-sent or repeated flag mails nobody
 * twice), through the same durable mail queue as the PSO mails.
 */
@Injectable()
export class ClosureOverdueService {
  constructor(
    private readonly directory: AreaDirectory,
    private readonly notifier: CommitNotifier,
  ) {}

  async onClosureOverdue(m: EntityManager, event: Envelope<AlertClosureOverdue>): Promise<void> {
    const officer = this.directory.dutyOfficer;
    const inserted = await insertMail(m, {
      id: `closure-overdue-${event.alertId}`,
      kind: 'closure_overdue',
      alertId: event.alertId,
      taskId: null,
      areaId: 'duty-officer',
      recipients: officer.emails,
      rendered: renderClosureOverdue({ ...event.payload, officerName: officer.name }),
      photoUrl: null,
    });
    if (inserted) notifyDispatch(this.notifier, m);
  }
}

/** tracking.v1: coordination acts on AlertClosureOverdue; the rest is skipped. */
@Controller()
export class ClosureEventsHandler {
  constructor(private readonly closure: ClosureOverdueService) {}

  @EventPattern(TOPICS.tracking)
  async onTrackingEvent(@Payload() event: Envelope, @Ctx() ctx: InboxContext): Promise<void> {
    if (event.type === TRACKING_EVENT_TYPES.closureOverdue)
      await this.closure.onClosureOverdue(ctx.manager, event as Envelope<AlertClosureOverdue>);
  }
}
