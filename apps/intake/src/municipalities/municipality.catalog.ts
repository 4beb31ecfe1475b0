// The catalogue lives in libs/config (the tracker's CAP areas read it too).
export { MunicipalityCatalog, normalizeName } from '@alerta-rosa/config';
export type { Municipality } from '@alerta-rosa/config';
