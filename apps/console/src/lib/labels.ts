/** Spanish words for the system's states, as the people who use it say them. */
export const ROLE_LABELS: Record<string, string> = {
  operadora: 'Unidad de Género (operadora)',
  area: 'Área operativa',
  comite: 'Comité Estatal',
  admin: 'Administración',
};

export const ALERT_STATUS_LABELS: Record<string, string> = {
  draft: 'borrador',
  active: 'activa',
  deactivated: 'desactivada',
  closed: 'cerrada',
  discarded: 'descartada',
};

export const OUTCOME_LABELS: Record<string, string> = {
  localizada_con_vida: 'localizada con vida',
  localizada_sin_vida: 'localizada sin vida',
  cancelada: 'cancelada (error o duplicado)',
};

export const TASK_STATE_LABELS: Record<string, string> = {
  assigned: 'asignada',
  acknowledged: 'enterada',
  in_progress: 'en curso',
  done: 'concluida',
  cancelled: 'cancelada',
};

export const TILE_LABELS: Record<string, string> = {
  waiting: 'pendiente',
  pending: 'pendiente',
  posted: 'publicada',
  uncertain: 'por confirmar',
  failed: 'fallida',
  cancelled: 'cancelada',
  withdrawn: 'retirada',
};

export const FAILURE_LABELS: Record<string, string> = {
  auth_revoked: 'credenciales revocadas',
  bad_content: 'contenido rechazado por la plataforma',
  not_configured: 'cuenta sin credenciales',
  exhausted: 'reintentos agotados',
};

export const PLATFORM_LABELS: Record<string, string> = {
  x: 'X',
  facebook: 'Facebook',
  webhook: 'Socio (webhook)',
};

export const ESCALATION_LABELS: Record<string, string> = {
  area_supervisor: 'supervisión del área',
  duty_officer: 'oficial de guardia',
  direccion: 'Dirección',
};
