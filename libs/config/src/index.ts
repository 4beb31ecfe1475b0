export * from './config.loader';
export * from './config-files';
export * from './municipality.catalog';
