import {
  ALERT_EVENT_TYPES,
  AlertActivated,
  AlertDeactivated,
  AlertUpdated,
  Envelope,
  TOPICS,
} from '@alerta-rosa/contracts';
import { InboxContext, OutboxWriter, recordReceipt } from '@alerta-rosa/messaging';
import { Controller } from '@nestjs/common';
import { Ctx, EventPattern, Payload } from '@nestjs/microservices';
import { TaskService } from '../tasks/task.service';

/**
 * Takes in alert events (exactly once per event, via the inbox), acknowledges them on tasks.v1 and
 * turns them into PSO tasks, update mails or stand-down, all in the inbox transaction.
 */
@Controller()
export class AlertEventsHandler {
  constructor(
    private readonly outbox: OutboxWriter,
    private readonly tasks: TaskService,
  ) {}

  @EventPattern(TOPICS.alerts)
  async onAlertEvent(@Payload() event: Envelope, @Ctx() ctx: InboxContext): Promise<void> {
    await recordReceipt(this.outbox, ctx, 'coordination', TOPICS.tasks, event);
    switch (event.type) {
      case ALERT_EVENT_TYPES.activated:
        return this.tasks.onAlertActivated(ctx.manager, event as Envelope<AlertActivated>);
      case ALERT_EVENT_TYPES.updated:
        return this.tasks.onAlertUpdated(ctx.manager, event as Envelope<AlertUpdated>);
      case ALERT_EVENT_TYPES.deactivated:
        return this.tasks.onAlertDeactivated(ctx.manager, event as Envelope<AlertDeactivated>);
    }
  }
}
