import { Kafka, KafkaConfig, logLevel, LogEntry } from 'kafkajs';
import type { Logger } from 'pino';

const LEVELS: Record<number, 'error' | 'warn' | 'info' | 'debug'> = {
  [logLevel.ERROR]: 'error',
  [logLevel.WARN]: 'warn',
  [logLevel.INFO]: 'info',
  [logLevel.DEBUG]: 'debug',
};

/**
 * A kafkajs client that logs through pino and retries connection problems for a while before giving up.
 * `overrides` changes timeouts and retries (probes and metrics want to fail fast instead).
 */
export function createKafka(
  clientId: string,
  brokers: string[],
  logger: Logger,
  overrides: Pick<KafkaConfig, 'connectionTimeout' | 'requestTimeout' | 'retry'> = {},
): Kafka {
  process.env.KAFKAJS_NO_PARTITIONER_WARNING = '1';
  return new Kafka({
    clientId,
    brokers,
    connectionTimeout: 3_000,
    requestTimeout: 10_000,
    retry: { initialRetryTime: 200, maxRetryTime: 5_000, retries: 10 },
    ...overrides,
    logLevel: logLevel.WARN,
    logCreator:
      () =>
      ({ level, log, namespace }: LogEntry) => {
        const { message, ...extra } = log;
        // The broker answers "coordinator loading" for a moment after start; kafkajs retries it.
        let lvl = LEVELS[level] ?? 'info';
        // Our idempotent producers keep kafkajs' bounded retries on purpose: after a failed send the
        // relay (and the DLQ path) drops the producer and makes a new one (new producer id), so the
        // sequence numbers kafkajs warns about never outlive a failure.
        if (/Limiting retries for the idempotent producer/.test(String(message))) lvl = 'debug';
        logger[lvl === 'error' && /coordinator/i.test(String(extra.error ?? '')) ? 'warn' : lvl](
          { namespace, broker: extra.broker, error: extra.error },
          `kafkajs: ${message}`,
        );
      },
  });
}
