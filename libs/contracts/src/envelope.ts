import { z } from 'zod';
import { newId } from './uuid';

/** Who may produce events. */
export const PRODUCERS = ['intake', 'dissemination', 'coordination', 'tracker'] as const;
export type Producer = (typeof PRODUCERS)[number];

const uuid = z.string().uuid();

/**
 * The envelope every event travels in. `payload` is validated separately, by `type`
 * (see `event-registry.ts`), so that a consumer can still route or dead-letter an event
 * whose payload it does not understand.
 */
export const envelopeSchema = z
  .object({
    eventId: uuid,
    type: z.string().min(1).max(100),
    schemaVersion: z.number().int().positive(),
    occurredAt: z.string().datetime({ offset: true }),
    alertId: uuid,
    correlationId: uuid,
    causationId: uuid.nullable(),
    producer: z.enum(PRODUCERS),
    payload: z.unknown(),
  })
  .strict();

export type Envelope<TPayload = unknown, TType extends string = string> = Omit<
  z.infer<typeof envelopeSchema>,
  'payload' | 'type'
> & { type: TType; payload: TPayload };

export interface NewEnvelope<TPayload, TType extends string> {
  type: TType;
  schemaVersion?: number;
  alertId: string;
  payload: TPayload;
  producer: Producer;
  /** The event (or request) that caused this one; its correlation id is carried over. */
  cause?: Pick<Envelope, 'eventId' | 'correlationId'>;
  correlationId?: string;
  occurredAt?: Date;
}

export function createEnvelope<TPayload, TType extends string>(
  input: NewEnvelope<TPayload, TType>,
): Envelope<TPayload, TType> {
  const eventId = newId();
  return {
    eventId,
    type: input.type,
    schemaVersion: input.schemaVersion ?? 1,
    occurredAt: (input.occurredAt ?? new Date()).toISOString(),
    alertId: input.alertId,
    correlationId: input.cause?.correlationId ?? input.correlationId ?? eventId,
    causationId: input.cause?.eventId ?? null,
    producer: input.producer,
    payload: input.payload,
  };
}
