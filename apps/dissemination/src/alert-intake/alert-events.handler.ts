import { Envelope, TOPICS } from '@alerta-rosa/contracts';
import { InboxContext, OutboxWriter, recordReceipt } from '@alerta-rosa/messaging';
import { Controller } from '@nestjs/common';
import { Ctx, EventPattern, Payload } from '@nestjs/microservices';
import { FanOutService } from '../publishing/fan-out.service';
import { PublicationMedia } from '../publishing/publication-media';

/**
 * Takes in alert events (exactly once per event, via the inbox), acknowledges them on publications.v1
 * and fans them out into publication rows, all in the inbox transaction; the posts' image is prepared
 * meanwhile.
 */
@Controller()
export class AlertEventsHandler {
  constructor(
    private readonly outbox: OutboxWriter,
    private readonly fanOut: FanOutService,
    private readonly media: PublicationMedia,
  ) {}

  @EventPattern(TOPICS.alerts)
  async onAlertEvent(@Payload() event: Envelope, @Ctx() ctx: InboxContext): Promise<void> {
    // The card and its X upload start now, beside the transaction that writes the publications.
    this.media.prepare(event);
    await recordReceipt(this.outbox, ctx, 'dissemination', TOPICS.publications, event);
    await this.fanOut.handle(ctx.manager, event);
  }
}
