export * from './data-source.factory';
export * from './preparing-client';
