import { BaseConfig } from '@alerta-rosa/config';
import IORedis, { RedisOptions } from 'ioredis';

/**
 * ioredis connection for BullMQ. Workers need `maxRetriesPerRequest: null` (a blocked BRPOPLPUSH must
 * not fail after N retries while Redis restarts); reconnects back off up to 2 s.
 */
export function createRedisConnection(
  config: Pick<BaseConfig, 'REDIS_URL'>,
  extra: RedisOptions = {},
): IORedis {
  return new IORedis(config.REDIS_URL, {
    maxRetriesPerRequest: null,
    enableReadyCheck: true,
    retryStrategy: (times) => Math.min(times * 100, 2_000),
    ...extra,
  });
}
