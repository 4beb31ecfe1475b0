export * from './topics';
export * from './uuid';
export * from './envelope';
export * from './alert-events';
export * from './receipt-events';
export * from './publication-events';
export * from './event-registry';
export * from './task-events';
