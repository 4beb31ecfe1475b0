export * from './auth.types';
export * from './access-token.verifier';
export * from './auth.guard';
export * from './auth.module';
