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

function isDlqTopic(physical: string): boolean {
  return physical.endsWith(dlqTopic(''));
}

/**
 * Creates the topics up front (the broker's auto-creation is off). Idempotent: existing topics are kept.
 * Dead-letter topics get the same partitioning so a poisoned message keeps its key's partition.
 * A broker that has just started (or is creating another service's topics at the same moment) may answer
 * metadata requests with "does not host this topic-partition" for a while, so the whole step is retried
 * until every partition has a leader, within `timeoutMs`.
 */
export async function ensureTopics(
  kafka: Kafka,
  settings: TopicSettings,
  timeoutMs = 60_000,
): Promise<string[]> {
  const wanted = allPhysicalTopics(settings.prefix);
  const deadline = Date.now() + timeoutMs;
  const created = new Set<string>();
  for (let attempt = 1; ; attempt++) {
    const admin = kafka.admin();
    try {
      await admin.connect();
      const existing = new Set(await admin.listTopics());
      const missing = wanted.filter((t) => !existing.has(t));
      if (missing.length > 0) {
        await admin
          .createTopics({
            waitForLeaders: false,
            topics: missing.map((topic) => ({
              topic,
              numPartitions: settings.partitions,
              replicationFactor: settings.replicationFactor,
              configEntries: [
                { name: 'min.insync.replicas', value: '1' },
                // Event topics are the system's record: kept for ever, so the tracker can be rebuilt
                // from them (npm run tracker:rebuild). Dead-letter topics keep the broker's default.
                ...(isDlqTopic(topic) ? [] : [{ name: 'retention.ms', value: '-1' }]),
              ],
            })),
          })
          .catch((err: { type?: string }) => {
            // Another replica created them in the meantime: fine.
            if (err?.type !== 'TOPIC_ALREADY_EXISTS') throw err;
          });
        missing.forEach((t) => created.add(t));
      }
      const metadata = await admin.fetchTopicMetadata({ topics: wanted });
      const leaderless = metadata.topics.filter(
        (t) => t.partitions.length === 0 || t.partitions.some((p) => p.leader < 0),
      );
      if (leaderless.length === 0) return [...created];
      throw new Error(`topics without leaders yet: ${leaderless.map((t) => t.name).join(', ')}`);
    } catch (err) {
      if (Date.now() > deadline) throw err;
      await new Promise((r) => setTimeout(r, Math.min(2_000, 250 * attempt)));
    } finally {
      await admin.disconnect().catch(() => undefined);
    }
  }
}
