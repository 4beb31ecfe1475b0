import { Envelope, TOPICS } from '@alerta-rosa/contracts';
import { InboxContext, OutboxWriter, recordReceipt } from '@alerta-rosa/messaging';
import { Controller } from '@nestjs/common';
import { Ctx, EventPattern, Payload } from '@nestjs/microservices';

/** Takes in alert events (exactly once per event, via the inbox) and acknowledges them on tasks.v1. */
@Controller()
export class AlertEventsHandler {
  constructor(private readonly outbox: OutboxWriter) {}

  @EventPattern(TOPICS.alerts)
  async onAlertEvent(@Payload() event: Envelope, @Ctx() ctx: InboxContext): Promise<void> {
    await recordReceipt(this.outbox, ctx, 'coordination', TOPICS.tasks, event);
  }
}
