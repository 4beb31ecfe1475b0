import { Envelope, TOPICS } from '@alerta-rosa/contracts';
import { InboxContext, OutboxWriter, recordReceipt } from '@alerta-rosa/messaging';
import { Controller } from '@nestjs/common';
import { Ctx, EventPattern, Payload } from '@nestjs/microservices';
import { FanOutService } from '../publishing/fan-out.service';

/**
 * Takes in alert events (exactly once per event, via the inbox), acknowledges them on publications.v1
 * and fans them out into publication rows, all in the inbox transaction.
 */
@Controller()
export class AlertEventsHandler {
  constructor(
    private readonly outbox: OutboxWriter,
    private readonly fanOut: FanOutService,
  ) {}

  @EventPattern(TOPICS.alerts)
  async onAlertEvent(@Payload() event: Envelope, @Ctx() ctx: InboxContext): Promise<void> {
    await recordReceipt(this.outbox, ctx, 'dissemination', TOPICS.publications, event);
    await this.fanOut.handle(ctx.manager, event);
  }
}
