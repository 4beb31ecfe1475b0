/** Logical topic names. Physical names may carry a deployment prefix (see `physicalTopic`). */
export const TOPICS = {
  alerts: 'alerts.v1',
  publications: 'publications.v1',
  tasks: 'tasks.v1',
  /** Written by the tracker: closure decided, closure overdue. */
  tracking: 'tracking.v1',
} as const;

export type LogicalTopic = (typeof TOPICS)[keyof typeof TOPICS];

export const ALL_TOPICS: LogicalTopic[] = Object.values(TOPICS);

/** Dead-letter topic of a topic: where messages go that a consumer could not handle. */
export function dlqTopic(topic: string): string {
  return `${topic}.dlq`;
}

/**
 * A consumer's own redrive topic: `npm run dlq:redrive` puts that consumer's dead letters back there,
 * so only the consumer that failed handles them again (the others already have them).
 */
export function redriveTopic(consumer: string): string {
  return `${consumer}.redrive`;
}

/** Physical topic name for a logical one, given an optional prefix (isolates test runs and environments). */
export function physicalTopic(prefix: string, topic: string): string {
  return prefix ? `${prefix}.${topic}` : topic;
}

/** Logical name of a physical topic, or undefined when it does not carry the prefix. */
export function logicalTopic(prefix: string, physical: string): string | undefined {
  if (!prefix) return physical;
  return physical.startsWith(`${prefix}.`) ? physical.slice(prefix.length + 1) : undefined;
}
