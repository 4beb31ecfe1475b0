import { RetentionScheduler, SERVICE_RUNTIME, ServiceRuntime } from '@alerta-rosa/runtime';
import { Inject, Injectable, OnModuleInit } from '@nestjs/common';
import { DataSource } from 'typeorm';
import { AUDIT, AuditLog } from '../audit/audit.log';
import { Actor } from '../common/actor';
import { IntakeConfig } from '../intake.config';

/** The actor the audit log names for purges: the scheduled job, not a person. */
export const RETENTION_ACTOR: Actor = { id: 'retention', role: null, areaId: null, ip: null };

/**
 * Empties the private part of the ficha (reporting person, relationship, carpeta, health, social
 * profiles, notes) once an alert has been closed — or a draft discarded — for PRIVATE_DATA_RETENTION_DAYS.
 * Each purge is audited (which fields, when the alert was closed) in the same transaction. Everything
 * the figures rest on stays: the public ficha, the lifecycle times, the outcome, the audit log, and the
 * tracker's timeline (which never held private data).
 */
@Injectable()
export class PrivateDataRetention implements OnModuleInit {
  constructor(
    private readonly dataSource: DataSource,
    private readonly audit: AuditLog,
    private readonly scheduler: RetentionScheduler,
    @Inject(SERVICE_RUNTIME) private readonly runtime: ServiceRuntime<IntakeConfig>,
  ) {}

  onModuleInit(): void {
    this.scheduler.register('alert_private', async () => ({ purged: await this.purgeDue() }));
  }

  /** Purges every private part that is due, in small transactions; returns how many were purged. */
  async purgeDue(): Promise<number> {
    let total = 0;
    for (;;) {
      const n = await this.purgeBatch(50);
      total += n;
      if (n < 50) return total;
    }
  }

  private purgeBatch(limit: number): Promise<number> {
    const days = this.runtime.config.PRIVATE_DATA_RETENTION_DAYS;
    return this.dataSource.transaction(async (m) => {
      const due: { alert_id: string; status: string; ended_at: Date; data: Record<string, unknown> }[] =
        await m.query(
          `SELECT p.alert_id, a.status, coalesce(a.closed_at, a.discarded_at) AS ended_at, p.data
           FROM intake.alert_private p JOIN intake.alerts a ON a.id = p.alert_id
           WHERE p.purged_at IS NULL
             AND ((a.status = 'closed' AND a.closed_at < clock_timestamp() - make_interval(days => $1))
               OR (a.status = 'discarded' AND a.discarded_at < clock_timestamp() - make_interval(days => $1)))
           ORDER BY p.alert_id
           LIMIT $2
           FOR UPDATE OF p SKIP LOCKED`,
          [days, limit],
        );
      for (const row of due) {
        await m.query(
          `UPDATE intake.alert_private SET data = '{}'::jsonb, purged_at = clock_timestamp(), updated_at = clock_timestamp()
           WHERE alert_id = $1`,
          [row.alert_id],
        );
        await this.audit.record(m, RETENTION_ACTOR, {
          action: AUDIT.privatePurged,
          alertId: row.alert_id,
          details: {
            // Names of the fields that held data, never their values.
            fields: Object.keys(row.data ?? {}).sort(),
            status: row.status,
            endedAt: new Date(row.ended_at).toISOString(),
            retentionDays: days,
          },
        });
      }
      if (due.length)
        this.runtime.logger.info({ count: due.length }, 'private parts of closed alerts purged');
      return due.length;
    });
  }
}
