export * from './service-runtime';
export * from './runtime.module';
export * from './bootstrap';
export * from './redis.connection';
export * from './metrics/service.metrics';
export * from './health/kafka.ops';
export * from './health/dependency.probes';
export * from './retention.scheduler';
