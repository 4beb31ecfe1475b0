import { ALL_TOPICS, dlqTopic, physicalTopic } from '@alerta-rosa/contracts';
import { Kafka } from 'kafkajs';

export interface TopicSettings {
  prefix: string;
  partitions: number;
  replicationFactor: number;
}

/** Every physical topic the system uses: the event topics and their dead-letter topics. */
export function allPhysicalTopics(prefix: string): string[] {
  return ALL_TOPICS.flatMap((t) => [physicalTopic(prefix, t), physicalTopic(prefix, dlqTopic(t))]);
}

/**
 * Creates the topics up front (the broker's auto-creation is off). Idempotent: existing topics are kept.
 * Dead-letter topics get the same partitioning so a poisoned message keeps its key's partition.
 */
export async function ensureTopics(kafka: Kafka, settings: TopicSettings): Promise<string[]> {
  const admin = kafka.admin();
  await admin.connect();
  try {
    const existing = new Set(await admin.listTopics());
    const missing = allPhysicalTopics(settings.prefix).filter((t) => !existing.has(t));
    if (missing.length > 0) {
      await admin.createTopics({
        waitForLeaders: true,
        topics: missing.map((topic) => ({
          topic,
          numPartitions: settings.partitions,
          replicationFactor: settings.replicationFactor,
          configEntries: [{ name: 'min.insync.replicas', value: '1' }],
        })),
      });
    }
    return missing;
  } finally {
    await admin.disconnect();
  }
}
