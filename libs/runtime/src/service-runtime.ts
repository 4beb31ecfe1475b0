import { BaseConfig } from '@alerta-rosa/config';
import { Producer as ServiceName } from '@alerta-rosa/contracts';
import { Kafka } from 'kafkajs';
import type { Logger } from 'pino';
import type { ServiceMetrics } from './metrics/service.metrics';

/** What every service process has once its configuration is valid. */
export interface ServiceRuntime<C extends BaseConfig = BaseConfig> {
  name: ServiceName;
  schema: string;
  config: C;
  logger: Logger;
  kafka: Kafka;
  /** Set once the service consumes Kafka: what its consumer is doing now (for /health). */
  consumerStatus?: () => ConsumerStatus;
  /** The process's Prometheus registry (GET /metrics); created by bootstrap or by RuntimeModule. */
  metrics?: ServiceMetrics;
}

export interface ConsumerStatus {
  state: 'starting' | 'running' | 'recovering' | 'closed';
  /** When it entered that state (ISO 8601). */
  since: string;
  /** Partitions paused while the infrastructure is away (retried without limit). */
  retrying: {
    topic: string;
    partition: number;
    attempts: number;
    since: string;
    retryAt: string;
    lastError: string;
  }[];
}

export const SERVICE_RUNTIME = Symbol('SERVICE_RUNTIME');
