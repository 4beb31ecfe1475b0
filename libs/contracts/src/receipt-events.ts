import { z } from 'zod';

/**
 * Emitted by a worker when it has durably taken in an alert event. The tracker puts these on
 * the timeline so the Unidad de Género can see that each worker has the alert.
 */
export const alertEventReceivedSchema = z
  .object({
    consumer: z.string().min(1),
    receivedEventId: z.string().uuid(),
    receivedType: z.string().min(1),
    alertVersion: z.number().int().positive().nullable(),
  })
  .strict();
export type AlertEventReceived = z.infer<typeof alertEventReceivedSchema>;

export const RECEIPT_EVENT_TYPE = 'AlertEventReceived';
