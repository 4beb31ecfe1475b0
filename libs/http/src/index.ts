export * from './api-error';
export * from './api-exception.filter';
export * from './json-body.middleware';
export * from './zod-body.pipe';
