import { randomBytes } from 'crypto';
import { Consumer } from 'kafkajs';
import { TestStack, waitFor } from './stack';

export interface CollectedEvent {
  key: string | null;
  partition: number;
  offset: string;
  event: { eventId: string; type: string; alertId: string; payload: any; [k: string]: unknown };
  raw: string;
  /** performance.now() when this process received it. */
  receivedAt: number;
}

/**
 * Reads a topic from the beginning for the whole test file (one consumer group, joined once), so tests
 * can look at the events each request produced without paying a group join per assertion.
 */
export class TopicCollector {
  readonly events: CollectedEvent[] = [];

  private constructor(private readonly consumer: Consumer) {}

  static async start(stack: TestStack, logical: string): Promise<TopicCollector> {
    const consumer = stack.kafka.consumer({
      groupId: `collector-${stack.id}-${randomBytes(3).toString('hex')}`,
    });
    const collector = new TopicCollector(consumer);
    await consumer.connect();
    await consumer.subscribe({ topic: stack.topic(logical), fromBeginning: true });
    await consumer.run({
      eachMessage: async ({ partition, message }) => {
        const raw = message.value?.toString() ?? '';
        collector.events.push({
          key: message.key?.toString() ?? null,
          partition,
          offset: message.offset,
          event: JSON.parse(raw),
          raw,
          receivedAt: performance.now(),
        });
      },
    });
    return collector;
  }

  of(alertId: string, type?: string): CollectedEvent[] {
    return this.events.filter((e) => e.event.alertId === alertId && (!type || e.event.type === type));
  }

  /** Waits until an alert has `count` events (of a type), then a moment more to catch any extra. */
  async waitFor(alertId: string, count: number, type?: string, settleMs = 500): Promise<CollectedEvent[]> {
    await waitFor(async () => this.of(alertId, type).length >= count, {
      what: `${count} ${type ?? 'events'} of ${alertId} (have ${this.of(alertId, type).length})`,
    });
    await new Promise((r) => setTimeout(r, settleMs));
    return this.of(alertId, type);
  }

  stop(): Promise<void> {
    return this.consumer.disconnect();
  }
}
