import { Roles } from '@alerta-rosa/auth';
import { ApiError, notFound } from '@alerta-rosa/http';
import { Controller, Get, HttpStatus, Param, ParseUUIDPipe } from '@nestjs/common';
import { DataSource } from 'typeorm';

const uuidPipe = new ParseUUIDPipe({
  exceptionFactory: () =>
    new ApiError(HttpStatus.BAD_REQUEST, 'INVALID_ID', 'Identificador de alerta inválido.'),
});

/** What was posted and withdrawn for an alert, account by account (Comunicación Social, committee). */
@Controller('api/v1/alerts')
export class PublicationController {
  constructor(private readonly db: DataSource) {}

  @Get(':id/publications')
  @Roles('admin', 'operadora', 'comite')
  async list(@Param('id', uuidPipe) alertId: string) {
    const [alert] = await this.db.query(
      `SELECT a.alert_id, a.folio, a.version, a.status, a.outcome, w.requested_at, w.completed_at
         FROM dissemination.alerts a LEFT JOIN dissemination.alert_withdrawals w USING (alert_id)
        WHERE a.alert_id = $1`,
      [alertId],
    );
    if (!alert) throw notFound('ALERT_NOT_FOUND', 'La alerta no existe.');
    const pubs = await this.db.query(
      `SELECT p.id, p.account_id, a.platform, a.handle, a.status AS account_status, p.kind, p.alert_version, p.status,
              p.remote_id, p.remote_url, p.with_image, p.attempts, p.recovered, p.failure_reason, p.last_error,
              p.posted_at, p.failed_at, p.withdrawal_status, p.withdrawn_at, p.may_exist_since, p.retract,
              p.other_remote_ids
         FROM dissemination.publications p JOIN dissemination.accounts a ON a.id = p.account_id
        WHERE p.alert_id = $1 ORDER BY p.alert_version, p.account_id`,
      [alertId],
    );
    const withdrawals = await this.db.query(
      `SELECT account_id, status, attempts, last_error, delayed_reported_at, completed_at
         FROM dissemination.withdrawals WHERE alert_id = $1 ORDER BY account_id`,
      [alertId],
    );
    const iso = (d: Date | null) => d?.toISOString() ?? null;
    return {
      alertId,
      folio: alert.folio,
      status: alert.status,
      outcome: alert.outcome,
      withdrawal: alert.requested_at
        ? {
            requestedAt: iso(alert.requested_at),
            completedAt: iso(alert.completed_at),
            accounts: withdrawals.map((w: any) => ({
              accountId: w.account_id,
              status: w.status,
              attempts: w.attempts,
              lastError: w.last_error,
              reportedDelayedAt: iso(w.delayed_reported_at),
              completedAt: iso(w.completed_at),
            })),
          }
        : null,
      publications: pubs.map((p: any) => ({
        id: p.id,
        accountId: p.account_id,
        platform: p.platform,
        handle: p.handle,
        accountStatus: p.account_status,
        kind: p.kind,
        alertVersion: p.alert_version,
        status: p.status,
        remoteId: p.remote_id,
        remoteUrl: p.remote_url,
        withImage: p.with_image,
        attempts: p.attempts,
        recovered: p.recovered,
        failureReason: p.failure_reason,
        lastError: p.last_error,
        postedAt: iso(p.posted_at),
        failedAt: iso(p.failed_at),
        /** Must come down (alert deactivated, or the photo it carries was withdrawn or replaced). */
        toWithdraw: p.retract,
        withdrawalStatus: p.withdrawal_status,
        withdrawnAt: iso(p.withdrawn_at),
        /** Set while a send that may have posted has not been found: treated as published. */
        mayExistSince: iso(p.may_exist_since),
        otherRemoteIds: p.other_remote_ids,
      })),
    };
  }
}
