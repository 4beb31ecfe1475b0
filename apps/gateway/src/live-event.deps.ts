// The few shared types the pushed events need (kept in one place so the unit test imports little).
export { ALERT_EVENT_TYPES } from '@alerta-rosa/contracts';
export type { Envelope } from '@alerta-rosa/contracts';
export type { AuthenticatedUser } from '@alerta-rosa/auth';
