import {
  AlertEventReceived,
  Envelope,
  Producer,
  RECEIPT_EVENT_TYPE,
  createEnvelope,
} from '@alerta-rosa/contracts';
import { InboxContext } from '../inbox/inbox.context';
import { OutboxWriter } from '../outbox/outbox.writer';

/**
 * Announces, in the same transaction that recorded the event in the inbox, that this worker has
 * taken in an alert event. The tracker shows these receipts on the alert's timeline.
 */
export async function recordReceipt(
  outbox: OutboxWriter,
  ctx: InboxContext,
  producer: Producer,
  topic: string,
  received: Envelope,
): Promise<Envelope<AlertEventReceived>> {
  const payload = received.payload as { version?: unknown };
  const receipt = createEnvelope<AlertEventReceived, typeof RECEIPT_EVENT_TYPE>({
    type: RECEIPT_EVENT_TYPE,
    alertId: received.alertId,
    producer,
    cause: received,
    payload: {
      consumer: ctx.meta.consumer,
      receivedEventId: received.eventId,
      receivedType: received.type,
      alertVersion: typeof payload?.version === 'number' ? payload.version : null,
    },
  });
  await outbox.append(ctx.manager, topic, [receipt]);
  return receipt;
}
