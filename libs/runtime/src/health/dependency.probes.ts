import IORedis from 'ioredis';
import { DataSource } from 'typeorm';
import { withTimeout } from '../metrics/service.metrics';
import { redisUrlsInUse } from '../redis.connection';
import { KafkaOps } from './kafka.ops';

export interface ProbeResult {
  ok: boolean;
  /** How long the dependency took to answer (or to fail). */
  latencyMs: number;
  error?: string;
}

export interface DependencyReport {
  postgres: ProbeResult;
  kafka: ProbeResult;
  /** Only for services that use Redis (BullMQ). */
  redis?: ProbeResult;
}

/**
 * Asks each dependency a trivial question with a deadline: PostgreSQL `SELECT 1`, Kafka a metadata
 * request, Redis `PING` (only when the service has opened a Redis connection). Answers are not cached:
 * a readiness probe must see the dependency as it is now.
 */
export class DependencyProbes {
  private redis: IORedis | null = null;

  constructor(
    private readonly dataSource: DataSource,
    private readonly kafka: KafkaOps,
    private readonly timeoutMs: number,
  ) {}

  async check(): Promise<DependencyReport> {
    const [postgres, kafka, redis] = await Promise.all([
      this.probe('postgres', () => this.dataSource.query('SELECT 1')),
      this.probe('kafka', () => this.kafka.ping()),
      redisUrlsInUse().length ? this.probe('redis', () => this.redisClient().ping()) : undefined,
    ]);
    return { postgres, kafka, ...(redis ? { redis } : {}) };
  }

  static allOk(report: DependencyReport): boolean {
    return Object.values(report).every((r: ProbeResult | undefined) => !r || r.ok);
  }

  async close(): Promise<void> {
    this.redis?.disconnect();
    this.redis = null;
  }

  private async probe(what: string, fn: () => Promise<unknown>): Promise<ProbeResult> {
    const start = Date.now();
    try {
      await withTimeout(fn(), this.timeoutMs, what);
      return { ok: true, latencyMs: Date.now() - start };
    } catch (err) {
      return {
        ok: false,
        latencyMs: Date.now() - start,
        error: String((err as Error).message).slice(0, 300),
      };
    }
  }

  /**
   * Its own connection (BullMQ's wait forever while Redis is away): a command fails after one failed
   * reconnection attempt, and the probe's deadline bounds it anyway.
   */
  private redisClient(): IORedis {
    if (!this.redis) {
      const redis = new IORedis(redisUrlsInUse()[0], {
        maxRetriesPerRequest: 0,
        connectTimeout: this.timeoutMs,
        retryStrategy: (times) => Math.min(times * 200, 2_000),
      });
      // Connection errors surface through the probe's answer; without a listener ioredis would log them.
      redis.on('error', () => undefined);
      this.redis = redis;
    }
    return this.redis;
  }
}
