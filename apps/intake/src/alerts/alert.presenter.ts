import { Alert } from './alert.entity';

export interface PossibleDuplicate {
  id: string;
  folio: string | null;
}

/** The alert as the API shows it: metadata and the public ficha (the private part has its own endpoint). */
export function presentAlert(alert: Alert, extra: { possibleDuplicates?: PossibleDuplicate[] } = {}) {
  return {
    id: alert.id,
    folio: alert.folio,
    status: alert.status,
    version: alert.version,
    revision: alert.revision,
    activatingBody: alert.activatingBody,
    ficha: alert.ficha,
    reportedAt: alert.reportedAt.toISOString(),
    activatedAt: alert.activatedAt?.toISOString() ?? null,
    deactivatedAt: alert.deactivatedAt?.toISOString() ?? null,
    discardedAt: alert.discardedAt?.toISOString() ?? null,
    closedAt: alert.closedAt?.toISOString() ?? null,
    outcome: alert.outcome,
    createdAt: alert.createdAt.toISOString(),
    updatedAt: alert.updatedAt.toISOString(),
    ...(extra.possibleDuplicates !== undefined ? { possibleDuplicates: extra.possibleDuplicates } : {}),
  };
}
export type AlertView = ReturnType<typeof presentAlert>;
