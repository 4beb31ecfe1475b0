export * from './kafka.factory';
export * from './topics.admin';
export * from './messaging.tables';
export * from './outbox/outbox.writer';
export * from './outbox/outbox.relay';
export * from './inbox/inbox.context';
export * from './inbox/kafka-inbox.server';
export * from './receipt/receipt.recorder';
