import { BaseConfig } from '@alerta-rosa/config';
import IORedis, { RedisOptions } from 'ioredis';

/** Redis URLs this process has opened connections to (readiness probes Redis only where it is used). */
const redisInUse = new Set<string>();

/**
 * ioredis connection for BullMQ. Workers need `maxRetriesPerRequest: null` (a blocked BRPOPLPUSH must
 * not fail after N retries while Redis restarts); reconnects back off up to 2 s.
 */
export function createRedisConnection(
  config: Pick<BaseConfig, 'REDIS_URL'>,
  extra: RedisOptions = {},
): IORedis {
  redisInUse.add(config.REDIS_URL);
  return new IORedis(config.REDIS_URL, {
    maxRetriesPerRequest: null,
    enableReadyCheck: true,
    retryStrategy: (times) => Math.min(times * 100, 2_000),
    ...extra,
  });
}

/** The Redis URLs the service has connected to through `createRedisConnection`, if any. */
export function redisUrlsInUse(): string[] {
  return [...redisInUse];
}
