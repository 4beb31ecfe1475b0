import { ALL_TOPICS, dlqTopic, physicalTopic } from '@alerta-rosa/contracts';
import { Admin, ConfigResourceTypes, Kafka } from 'kafkajs';

export interface TopicSettings {
  prefix: string;
  partitions: number;
  replicationFactor: number;
  /** More logical topics to create alongside (e.g. a consumer's redrive topic), without a .dlq. */
  extraTopics?: string[];
}

/** Every physical topic the system uses: the event topics and their dead-letter topics. */
export function allPhysicalTopics(prefix: string): string[] {
  return ALL_TOPICS.flatMap((t) => [physicalTopic(prefix, t), physicalTopic(prefix, dlqTopic(t))]);
}

/**
 * min.insync.replicas for a replication factor: RF−1, and never below 1. With acks=all a write then
 * survives the loss of any one broker (RF 3 → 2), and a single-node development broker still accepts.
 */
export function minInsyncReplicas(replicationFactor: number): number {
  return Math.max(1, replicationFactor - 1);
}

/**
 * The configuration every topic must have. Event topics keep their messages forever
 * (`retention.ms=-1`): the tracker's projection can always be rebuilt from the beginning
 * (`npm run tracker:rebuild`); so do dead-letter topics, which hold what still needs a decision.
 */
export function topicConfig(settings: TopicSettings): Record<string, string> {
  return {
    'min.insync.replicas': String(minInsyncReplicas(settings.replicationFactor)),
    'retention.ms': '-1',
  };
}

/**
 * Creates the topics up front (the broker's auto-creation is off) with `topicConfig`, and brings
 * existing topics to it (a topic created before a setting changed, or by hand, is altered and the
 * change logged). Idempotent. Dead-letter topics get the same partitioning so a poisoned message keeps
 * its key's partition. A broker that has just started (or is creating another service's topics at the
 * same moment) may answer metadata requests with "does not host this topic-partition" for a while, so
 * the whole step is retried until every partition has a leader, within `timeoutMs`.
 */
export async function ensureTopics(
  kafka: Kafka,
  settings: TopicSettings,
  timeoutMs = 60_000,
  log?: (msg: string, detail: Record<string, unknown>) => void,
): Promise<string[]> {
  const wanted = [
    ...allPhysicalTopics(settings.prefix),
    ...(settings.extraTopics ?? []).map((t) => physicalTopic(settings.prefix, t)),
  ];
  const config = topicConfig(settings);
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
              configEntries: Object.entries(config).map(([name, value]) => ({ name, value })),
            })),
          })
          .catch((err: { type?: string }) => {
            // Another replica created them in the meantime: fine.
            if (err?.type !== 'TOPIC_ALREADY_EXISTS') throw err;
          });
        missing.forEach((t) => created.add(t));
      }
      await alignTopicConfig(
        admin,
        wanted.filter((t) => existing.has(t)),
        config,
        log,
      );
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

/** kafkajs' ConfigSource value for a setting made on the topic itself (DYNAMIC_TOPIC_CONFIG). */
const DYNAMIC_TOPIC_CONFIG = 1;

/**
 * Reads the existing topics' configuration and alters what differs from `config`. kafkajs has only
 * the legacy AlterConfigs, which replaces a topic's whole dynamic configuration with what it is sent:
 * so the topic's other dynamic settings (e.g. an operator's max.message.bytes) are sent along unchanged.
 */
async function alignTopicConfig(
  admin: Admin,
  topics: string[],
  config: Record<string, string>,
  log?: (msg: string, detail: Record<string, unknown>) => void,
): Promise<void> {
  if (topics.length === 0) return;
  const described = await admin.describeConfigs({
    includeSynonyms: false,
    resources: topics.map((name) => ({ type: ConfigResourceTypes.TOPIC, name })),
  });
  const changes: { name: string; configEntries: { name: string; value: string }[] }[] = [];
  for (const r of described.resources) {
    const effective = new Map(r.configEntries.map((e) => [e.configName, e.configValue]));
    const differing = Object.entries(config).filter(([k, v]) => effective.get(k) !== v);
    if (differing.length === 0) continue;
    const dynamic = Object.fromEntries(
      r.configEntries
        .filter((e) => (e as { configSource?: number }).configSource === DYNAMIC_TOPIC_CONFIG)
        .map((e) => [e.configName, e.configValue]),
    );
    changes.push({
      name: r.resourceName,
      configEntries: Object.entries({ ...dynamic, ...config }).map(([name, value]) => ({ name, value })),
    });
    log?.('kafka topic configuration corrected', {
      topic: r.resourceName,
      was: Object.fromEntries(differing.map(([k]) => [k, effective.get(k) ?? null])),
      now: Object.fromEntries(differing),
    });
  }
  if (changes.length === 0) return;
  await admin.alterConfigs({
    validateOnly: false,
    resources: changes.map((c) => ({ type: ConfigResourceTypes.TOPIC, ...c })),
  });
}
