import { ALL_TOPICS, physicalTopic } from '@alerta-rosa/contracts';
import { createKafka } from '@alerta-rosa/messaging';
import { Admin, Kafka } from 'kafkajs';
import type { Logger } from 'pino';

export interface PartitionLag {
  group: string;
  topic: string;
  partition: number;
  /** Messages on the partition the group has not committed yet. */
  lag: number;
}

/** Prefix of the consumer groups of one deployment (`<KAFKA_TOPIC_PREFIX>.alerta-rosa.<service>`). */
export function deploymentGroupPrefix(topicPrefix: string): string {
  return physicalTopic(topicPrefix, 'alerta-rosa.');
}

/**
 * Kafka as operations sees it: "does the cluster answer?" and "how far behind is each consumer group?".
 * Uses its own client with short timeouts and no retries, so a probe or a scrape fails fast while the
 * broker is away instead of waiting out the service's patient producer/consumer retries.
 */
export class KafkaOps {
  private readonly kafka: Kafka;
  private admin: Admin | null = null;
  private connecting: Promise<Admin> | null = null;

  constructor(
    clientId: string,
    brokers: string[],
    logger: Logger,
    private readonly topicPrefix: string,
    timeoutMs: number,
  ) {
    // Its failures are reported through /health/ready and /metrics; the service's own clients
    // already log the outage, so this one stays quiet.
    this.kafka = createKafka(
      clientId,
      brokers,
      logger.child({ component: 'kafka-ops' }, { level: 'fatal' }),
      {
        connectionTimeout: Math.min(timeoutMs, 3_000),
        requestTimeout: timeoutMs,
        retry: { retries: 0 },
      },
    );
  }

  /** Resolves when the cluster answers a metadata request. */
  async ping(): Promise<void> {
    await this.withAdmin((admin) => admin.describeCluster());
  }

  /**
   * Lag of every consumer group of this deployment on every topic it has committed offsets for, per
   * partition. Partitions the group has never committed count from the partition's first offset
   * (the consumers start from the beginning).
   */
  async consumerLag(): Promise<PartitionLag[]> {
    return this.withAdmin(async (admin) => {
      const prefix = deploymentGroupPrefix(this.topicPrefix);
      const { groups } = await admin.listGroups();
      const mine = groups.map((g) => g.groupId).filter((g) => g.startsWith(prefix));
      if (mine.length === 0) return [];
      const topics = ALL_TOPICS.map((t) => physicalTopic(this.topicPrefix, t));
      const watermarks = new Map<string, Map<number, { low: number; high: number }>>();
      for (const topic of topics) {
        const offsets = await admin.fetchTopicOffsets(topic);
        watermarks.set(
          topic,
          new Map(offsets.map((o) => [o.partition, { low: Number(o.low), high: Number(o.high) }])),
        );
      }
      const lags: PartitionLag[] = [];
      for (const group of mine.sort()) {
        const committed = await admin.fetchOffsets({ groupId: group, topics });
        for (const { topic, partitions } of committed) {
          // A topic the group never committed on is one it does not consume (or has not started on).
          if (!partitions.some((p) => Number(p.offset) >= 0)) continue;
          const marks = watermarks.get(topic);
          for (const p of partitions) {
            const mark = marks?.get(p.partition);
            if (!mark) continue;
            const offset = Number(p.offset);
            const from = offset >= 0 ? Math.max(offset, mark.low) : mark.low;
            lags.push({ group, topic, partition: p.partition, lag: Math.max(0, mark.high - from) });
          }
        }
      }
      return lags;
    });
  }

  async close(): Promise<void> {
    const admin = this.admin;
    this.admin = null;
    await admin?.disconnect().catch(() => undefined);
  }

  private async withAdmin<T>(fn: (admin: Admin) => Promise<T>): Promise<T> {
    const admin = await this.connect();
    try {
      return await fn(admin);
    } catch (err) {
      // A broken connection is not reused: the next call connects afresh (the broker may be back).
      if (this.admin === admin) {
        this.admin = null;
        await admin.disconnect().catch(() => undefined);
      }
      throw err;
    }
  }

  private connect(): Promise<Admin> {
    if (this.admin) return Promise.resolve(this.admin);
    this.connecting ??= (async () => {
      const admin = this.kafka.admin({ retry: { retries: 0 } });
      try {
        await admin.connect();
        this.admin = admin;
        return admin;
      } catch (err) {
        await admin.disconnect().catch(() => undefined);
        throw err;
      } finally {
        this.connecting = null;
      }
    })();
    return this.connecting;
  }
}
