import { Envelope, TOPICS } from '@alerta-rosa/contracts';
import { InboxContext } from '@alerta-rosa/messaging';
import { Controller } from '@nestjs/common';
import { Ctx, EventPattern, Payload } from '@nestjs/microservices';
import { CapIssuer } from '../cap/cap.issuer';
import { TimelineService } from './timeline.service';

/** Every topic feeds the timeline. */
@Controller()
export class TimelineEventsHandler {
  constructor(
    private readonly timeline: TimelineService,
    private readonly cap: CapIssuer,
  ) {}

  @EventPattern(TOPICS.alerts)
  async onAlertEvent(@Payload() event: Envelope, @Ctx() ctx: InboxContext): Promise<void> {
    this.timeline.record(ctx, event);
    // Same transaction: every alert version is also a CAP 1.2 message (apps/tracker/src/cap; its own
    // tables, issued now, while the projection is written at the transaction's end).
    await this.cap.onAlertEvent(ctx.manager, event);
  }

  @EventPattern(TOPICS.publications)
  onPublicationEvent(@Payload() event: Envelope, @Ctx() ctx: InboxContext): void {
    this.timeline.record(ctx, event);
  }

  @EventPattern(TOPICS.tasks)
  onTaskEvent(@Payload() event: Envelope, @Ctx() ctx: InboxContext): void {
    this.timeline.record(ctx, event);
  }

  /** The tracker's own closure events come back through Kafka like any other (and so rebuild alike). */
  @EventPattern(TOPICS.tracking)
  onTrackingEvent(@Payload() event: Envelope, @Ctx() ctx: InboxContext): void {
    this.timeline.record(ctx, event);
  }
}
