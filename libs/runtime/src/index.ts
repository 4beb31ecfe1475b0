export * from './service-runtime';
export * from './runtime.module';
export * from './bootstrap';
export * from './redis.connection';
