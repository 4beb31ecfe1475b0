import { invalidTransition } from '../common/errors';
import { AlertStatus } from './alert.entity';

/**
 * draft ──activate──▶ active ──update*──▶ active ──deactivate(outcome)──▶ deactivated ──close──▶ closed
 *   └─discard──▶ discarded
 * Updates (ficha, private part, photos) are allowed while draft or active.
 */
export const ALLOWED_FROM = {
  activate: ['draft'],
  discard: ['draft'],
  update: ['draft', 'active'],
  deactivate: ['active'],
  close: ['deactivated'],
} as const satisfies Record<string, readonly AlertStatus[]>;
export type AlertAction = keyof typeof ALLOWED_FROM;

const STATUS_ES: Record<AlertStatus, string> = {
  draft: 'borrador',
  active: 'activa',
  deactivated: 'desactivada',
  closed: 'cerrada',
  discarded: 'descartada',
};
const ACTION_ES: Record<AlertAction, string> = {
  activate: 'activar',
  discard: 'descartar',
  update: 'modificar',
  deactivate: 'desactivar',
  close: 'cerrar',
};

/** Throws 409 INVALID_TRANSITION unless `action` is allowed from `status`. */
export function assertTransition(status: AlertStatus, action: AlertAction): void {
  if (!(ALLOWED_FROM[action] as readonly AlertStatus[]).includes(status)) {
    throw invalidTransition(`No se puede ${ACTION_ES[action]} una alerta en estado «${STATUS_ES[status]}».`);
  }
}
